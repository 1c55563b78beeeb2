"""The procedure catalogue (TTHC): ~1,400 procedures with codes in the real format.

A few real procedures head each sector; the rest are generated from each sector's fields,
so every unit has a realistic spread of procedures, popular ones (Zipf weights) and rare
ones. Each carries the publication metadata the 766 transparency group scores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

from .units import DEFAULT_PROVINCE, LEVEL_COMMUNE, LEVEL_DISTRICT, LEVEL_PROVINCE, Unit

ONLINE_FULL, ONLINE_PARTIAL, ONLINE_NONE = "toan-trinh", "mot-phan", "khong"
CATALOGUE_SIZE = 1_400


@dataclass(frozen=True)
class Procedure:
    code: str  # MaTTHC
    name: str
    field_code: str  # MaLinhVuc
    field_name: str
    level: int
    handling_days: int  # statutory, in working days
    fee: int  # VND; 0 when free
    full_online: bool  # toàn trình
    sector: str  # which units handle it (a department's sector, "district" or "commune")
    online_level: str = ONLINE_PARTIAL
    popularity: float = 1.0  # relative share of the sector's dossiers
    decision_date: date = date(2023, 1, 1)  # announcement decision (quyết định công bố)
    legal_basis_effective: date = date(2023, 1, 1)  # when the legal basis took effect
    published_date: date = date(2023, 1, 1)  # put on the portal (công khai)
    content_complete: bool = True  # all mandatory parts published


def _p(code, name, field_code, field_name, level, days, fee, full_online, sector):
    # The province's code is appended by catalogue(): 1.001234.000.00.00.H40
    return Procedure(
        f"{code}.000.00.00", name, field_code, field_name, level, days, fee,
        full_online, sector,
    )  # fmt: skip


P, D, C = LEVEL_PROVINCE, LEVEL_DISTRICT, LEVEL_COMMUNE
_REAL: tuple[Procedure, ...] = (
    # Sở Tư pháp
    _p("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú "
       "tại Việt Nam", "G12-TP01", "Lý lịch tư pháp", P, 10, 200_000, True, "tu-phap"),
    _p("1.001877", "Đăng ký hoạt động Văn phòng công chứng", "G12-TP02", "Công chứng", P, 10,
       1_000_000, False, "tu-phap"),
    _p("2.000908", "Cấp bản sao trích lục hộ tịch", "G12-TP03", "Hộ tịch", P, 1, 8_000, True,
       "tu-phap"),
    # Sở Xây dựng
    _p("1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp I, cấp II", "G13-XD01",
       "Hoạt động xây dựng", P, 20, 150_000, False, "xay-dung"),
    _p("1.009987", "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III", "G13-XD01",
       "Hoạt động xây dựng", P, 20, 300_000, True, "xay-dung"),
    _p("1.011131", "Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở", "G13-XD02",
       "Quản lý chất lượng công trình", P, 30, 0, False, "xay-dung"),
    # Sở Tài nguyên và Môi trường
    _p("1.003560", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
       "G14-TN01", "Đất đai", P, 10, 0, False, "tai-nguyen"),
    _p("1.004253", "Cấp giấy phép khai thác, sử dụng nước dưới đất", "G14-TN02", "Tài nguyên nước",
       P, 30, 600_000, False, "tai-nguyen"),
    _p("1.010727", "Thẩm định báo cáo đánh giá tác động môi trường", "G14-TN03", "Môi trường", P,
       30, 5_000_000, False, "tai-nguyen"),
    # Sở Lao động - Thương binh và Xã hội
    _p("1.000459", "Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại Việt Nam",
       "G15-LD01", "Việc làm", P, 5, 400_000, True, "lao-dong"),
    _p("1.002440", "Giải quyết chế độ trợ cấp một lần đối với người có công với cách mạng",
       "G15-LD02", "Người có công", P, 12, 0, False, "lao-dong"),
    _p("1.001865", "Cấp giấy phép hoạt động dịch vụ việc làm", "G15-LD01", "Việc làm", P, 7,
       1_500_000, True, "lao-dong"),
    # Sở Giao thông vận tải
    _p("1.002809", "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "G16-GT01",
       "Đường bộ", P, 5, 135_000, True, "giao-thong"),
    _p("1.002861", "Cấp giấy phép kinh doanh vận tải bằng xe ô tô", "G16-GT01", "Đường bộ", P, 5,
       0, True, "giao-thong"),
    _p("1.002856", "Cấp phù hiệu xe ô tô kinh doanh vận tải", "G16-GT01", "Đường bộ", P, 2, 0,
       True, "giao-thong"),
    # Sở Nông nghiệp và Phát triển nông thôn
    _p("1.003003", "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông lâm thủy sản",
       "G17-NN01", "Quản lý chất lượng nông lâm thủy sản", P, 15, 700_000, False, "nong-nghiep"),
    _p("1.004344", "Cấp giấy phép khai thác thủy sản", "G17-NN02", "Thủy sản", P, 6, 40_000,
       False, "nong-nghiep"),
    _p("1.007916", "Cấp giấy chứng nhận kiểm dịch thực vật nội địa", "G17-NN03", "Bảo vệ thực vật",
       P, 3, 0, True, "nong-nghiep"),
    # Sở Kế hoạch và Đầu tư
    _p("2.001610", "Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên",
       "G18-KH01", "Thành lập và hoạt động của doanh nghiệp", P, 3, 50_000, True, "ke-hoach"),
    _p("2.002038", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "G18-KH01",
       "Thành lập và hoạt động của doanh nghiệp", P, 3, 50_000, True, "ke-hoach"),
    _p("1.009645", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", "G18-KH02",
       "Đầu tư tại Việt Nam", P, 35, 0, False, "ke-hoach"),
    # Sở Y tế
    _p("1.012269", "Cấp mới giấy phép hành nghề khám bệnh, chữa bệnh", "G19-YT01",
       "Khám bệnh, chữa bệnh", P, 20, 360_000, False, "y-te"),
    _p("1.012284", "Cấp giấy phép hoạt động đối với phòng khám đa khoa", "G19-YT01",
       "Khám bệnh, chữa bệnh", P, 30, 5_700_000, False, "y-te"),
    _p("1.004616", "Cấp Chứng chỉ hành nghề dược", "G19-YT02", "Dược phẩm", P, 20, 500_000, True,
       "y-te"),
    # Sở Công Thương
    _p("2.000633", "Cấp giấy phép bán lẻ rượu", "G04-01", "Lưu thông hàng hóa", P, 10, 0, True,
       "cong-thuong"),
    # Commune People's Committees
    _p("1.001193", "Đăng ký khai sinh", "G22-01", "Hộ tịch", C, 1, 0, True, "commune"),
    _p("1.000894", "Đăng ký kết hôn", "G22-01", "Hộ tịch", C, 1, 0, False, "commune"),
    _p("1.000656", "Đăng ký khai tử", "G22-01", "Hộ tịch", C, 1, 0, True, "commune"),
    _p("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "G22-02", "Chứng thực", C, 1,
       10_000, False, "commune"),
    # Shared by every district-level People's Committee
    _p("2.000720", "Đăng ký thành lập hộ kinh doanh", "G20-HU01", "Thành lập và hoạt động của hộ "
       "kinh doanh", D, 3, 100_000, True, "district"),
    _p("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "G20-HU02", "Hoạt động xây dựng", D,
       15, 75_000, False, "district"),
    _p("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "G20-HU03", "Chứng thực", D,
       1, 2_000, False, "district"),
    _p("1.001695", "Đăng ký kết hôn có yếu tố nước ngoài", "G20-HU04", "Hộ tịch", D, 10, 1_000_000,
       False, "district"),
    _p("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hàng tháng", "G20-HU05",
       "Bảo trợ xã hội", D, 15, 0, False, "district"),
    _p("1.004227", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "G20-HU06", "Đất đai", D,
       20, 100_000, False, "district"),
)  # fmt: skip
del P, D, C


# sector -> (field code prefix, [field names]) for the generated part of the catalogue.
SECTOR_FIELDS = {
    "van-phong": ("G01", ["Kiểm soát thủ tục hành chính"]),
    "noi-vu": ("G02", ["Tổ chức cán bộ", "Thi đua, khen thưởng", "Tôn giáo"]),
    "tai-chinh": ("G03", ["Quản lý giá", "Quản lý công sản", "Tài chính doanh nghiệp"]),
    "cong-thuong": ("G04", ["Lưu thông hàng hóa", "Điện", "Hóa chất", "An toàn thực phẩm"]),
    "giao-duc": ("G05", ["Giáo dục và Đào tạo", "Văn bằng, chứng chỉ"]),
    "van-hoa": ("G06", ["Văn hóa", "Thể dục thể thao", "Gia đình"]),
    "du-lich": ("G07", ["Lữ hành", "Cơ sở lưu trú du lịch"]),
    "thong-tin": ("G08", ["Báo chí", "Xuất bản, in và phát hành", "Viễn thông"]),
    "khoa-hoc": ("G09", ["Tiêu chuẩn đo lường chất lượng", "Hoạt động khoa học công nghệ"]),
    "dan-toc": ("G10", ["Công tác dân tộc"]),
    "thanh-tra": ("G11", ["Giải quyết khiếu nại", "Tiếp công dân"]),
    "tu-phap": ("G12", ["Lý lịch tư pháp", "Công chứng", "Hộ tịch", "Luật sư", "Đấu giá"]),
    "xay-dung": ("G13", ["Hoạt động xây dựng", "Nhà ở", "Quy hoạch xây dựng"]),
    "tai-nguyen": ("G14", ["Đất đai", "Tài nguyên nước", "Môi trường", "Khoáng sản"]),
    "lao-dong": ("G15", ["Việc làm", "Người có công", "Giáo dục nghề nghiệp", "Bảo trợ xã hội"]),
    "giao-thong": ("G16", ["Đường bộ", "Đường thủy nội địa", "Đăng kiểm"]),
    "nong-nghiep": ("G17", ["Trồng trọt", "Chăn nuôi", "Thú y", "Lâm nghiệp", "Thủy lợi"]),
    "ke-hoach": ("G18", ["Thành lập và hoạt động của doanh nghiệp", "Đầu tư tại Việt Nam"]),
    "y-te": ("G19", ["Khám bệnh, chữa bệnh", "Dược phẩm", "An toàn thực phẩm", "Y tế dự phòng"]),
    "kinh-te": ("G21", ["Quản lý khu kinh tế", "Đầu tư trong khu công nghiệp"]),
    "district": ("G20", ["Hộ tịch", "Chứng thực", "Đất đai", "Bảo trợ xã hội", "Xây dựng"]),
    "commune": ("G22", ["Hộ tịch", "Chứng thực", "Người có công", "Bảo trợ xã hội", "Đất đai"]),
}
# How much of the catalogue each sector holds (the big ones, land and justice, lead).
SECTOR_SIZES = {
    "van-phong": 10, "noi-vu": 60, "tai-chinh": 40, "cong-thuong": 110, "giao-duc": 70,
    "van-hoa": 60, "du-lich": 25, "thong-tin": 40, "khoa-hoc": 45, "dan-toc": 5,
    "thanh-tra": 10, "tu-phap": 130, "xay-dung": 60, "tai-nguyen": 90, "lao-dong": 80,
    "giao-thong": 80, "nong-nghiep": 110, "ke-hoach": 80, "y-te": 95, "kinh-te": 30,
    "district": 100, "commune": 70,
}  # fmt: skip
VERBS = (
    "Cấp", "Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Đăng ký", "Thu hồi", "Công nhận",
    "Thẩm định", "Phê duyệt", "Xác nhận", "Chấp thuận",
)  # fmt: skip
OBJECTS = (
    "giấy phép", "giấy chứng nhận", "chứng chỉ hành nghề", "giấy xác nhận", "quyết định",
    "hồ sơ", "phương án", "văn bản chấp thuận",
)  # fmt: skip
HANDLING_DAYS = (1, 2, 3, 5, 5, 7, 10, 10, 12, 15, 15, 20, 20, 30)
FEES = (0, 0, 0, 0, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
LEGAL_BASES = ("Luật", "Nghị định", "Thông tư", "Quyết định")


def _level(sector: str) -> int:
    return {"district": LEVEL_DISTRICT, "commune": LEVEL_COMMUNE}.get(sector, LEVEL_PROVINCE)


def _publication(rng: random.Random) -> dict:
    """Announced within ~20 days of the legal basis taking effect (some late), published on
    the portal within days of the announcement (some late), mandatory parts mostly present."""
    effective = date(2019, 1, 1) + timedelta(days=rng.randrange(5 * 365))
    decision = effective - timedelta(days=rng.randint(-45, 20))
    published = decision + timedelta(days=rng.choice((0, 1, 2, 3, 5, 10, 30)))
    return {
        "decision_date": decision,
        "legal_basis_effective": effective,
        "published_date": published,
        "content_complete": rng.random() < 0.95,
    }


@cache
def catalogue(province: str = DEFAULT_PROVINCE) -> tuple[Procedure, ...]:
    """A province's whole catalogue: the real procedures above, then generated ones per
    sector. Codes end with the province's code, as the portal's do."""
    rng = random.Random(f"catalogue|{province}")
    real = [_with_publication(replace(p, code=f"{p.code}.{province}"), rng) for p in _REAL]
    used = {p.code.split(".")[1] for p in real}
    result = list(real)
    for sector, size in SECTOR_SIZES.items():
        prefix, fields = SECTOR_FIELDS[sector]
        have = sum(1 for p in real if p.sector == sector)
        for i in range(max(0, size - have)):
            number = rng.randrange(1_000, 13_000)
            while f"{number:06d}" in used:
                number = rng.randrange(1_000, 13_000)
            used.add(f"{number:06d}")
            field_index = i % len(fields)
            online = rng.choices(
                (ONLINE_FULL, ONLINE_PARTIAL, ONLINE_NONE), weights=(0.55, 0.41, 0.04)
            )[0]
            result.append(
                Procedure(
                    code=f"{rng.choice('12')}.{number:06d}.000.00.00.{province}",
                    name=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} "
                    f"{fields[field_index].lower()} ({i + 1})",
                    field_code=f"{prefix}-{field_index + 1:02d}",
                    field_name=fields[field_index],
                    level=_level(sector),
                    handling_days=rng.choice(HANDLING_DAYS),
                    fee=rng.choice(FEES),
                    full_online=online == ONLINE_FULL,
                    sector=sector,
                    online_level=online,
                    popularity=1.0 / (i + 2) ** 1.1,
                    **_publication(rng),
                )
            )
    return tuple(result)


def _with_publication(p: Procedure, rng: random.Random) -> Procedure:
    online = ONLINE_FULL if p.full_online else ONLINE_PARTIAL
    return replace(p, online_level=online, popularity=1.0, **_publication(rng))


@cache
def procedures_for_sectors(
    sectors: tuple[str, ...], province: str = DEFAULT_PROVINCE
) -> tuple[tuple[Procedure, ...], tuple[float, ...]]:
    """A unit's procedures and their cumulative popularity (for rng.choices' cum_weights)."""
    chosen = tuple(p for p in catalogue(province) if p.sector in sectors)
    total = 0.0
    cumulative = []
    for p in chosen:
        total += p.popularity
        cumulative.append(total)
    return chosen, tuple(cumulative)


def procedures_for(
    unit: Unit, province: str = DEFAULT_PROVINCE
) -> tuple[tuple[Procedure, ...], tuple[float, ...]]:
    return procedures_for_sectors(unit.sectors, province)

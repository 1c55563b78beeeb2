"""The province's agencies and procedure catalogue (a scaled-down Nghệ An).

Kept as plain data so the later, realistic catalogue (about 1,400 procedures, communes,
mergers with valid-from/valid-to) can replace the lists without touching the lifecycle code.
"""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "H40"
PROVINCE_NAME = "Nghệ An"

LEVEL_PROVINCE = 1
LEVEL_DISTRICT = 2


@dataclass(frozen=True)
class Agency:
    code: str  # DonViXuLy, e.g. H40.12
    name: str
    sign: str  # abbreviation used in document numbers, e.g. STP in 125/CV-STP
    level: int
    volume_weight: float  # share of the province's daily dossiers
    channel_weights: tuple[float, float, float]  # KenhThucHien 1 direct, 2 online, 3 postal
    late_rate: float  # share of dossiers that end after the appointment date
    apology_rate: float  # share of late dossiers that get an apology letter
    digitized_rate: float  # share of dossiers with digitized components
    saturday_service: bool  # the counter opens on Saturday mornings
    leader_title: str


@dataclass(frozen=True)
class Procedure:
    code: str  # MaTTHC
    name: str
    field_code: str  # MaLinhVuc
    field_name: str
    level: int
    handling_days: int  # statutory, in working days
    fee: int  # VND; 0 when free
    full_online: bool  # toàn trình (else một phần)
    sector: str  # which department's procedures these are ("district" for district ones)


def _dept(code, name, sign, weight, channels, late, apology, digitized, saturday=False):
    return Agency(
        code, name, sign, LEVEL_PROVINCE, weight, channels, late, apology, digitized, saturday,
        "Giám đốc",
    )  # fmt: skip


def _district(code, name, sign, weight, channels, late, apology, digitized, saturday=False):
    return Agency(
        code, name, sign, LEVEL_DISTRICT, weight, channels, late, apology, digitized, saturday,
        "Chủ tịch",
    )  # fmt: skip


# Sector keys tie provincial departments to their procedures.
DEPARTMENT_SECTORS = {
    "H40.12": "tu-phap",
    "H40.13": "xay-dung",
    "H40.14": "tai-nguyen",
    "H40.15": "lao-dong",
    "H40.16": "giao-thong",
    "H40.17": "nong-nghiep",
    "H40.18": "ke-hoach",
    "H40.19": "y-te",
}

AGENCIES: tuple[Agency, ...] = (
    _dept("H40.12", "Sở Tư pháp", "STP", 0.09, (0.45, 0.50, 0.05), 0.06, 0.9, 0.55, True),
    _dept("H40.13", "Sở Xây dựng", "SXD", 0.05, (0.60, 0.35, 0.05), 0.22, 0.6, 0.30),
    _dept(
        "H40.14", "Sở Tài nguyên và Môi trường", "STNMT", 0.10, (0.75, 0.20, 0.05), 0.25, 0.5, 0.25
    ),  # fmt: skip
    _dept(
        "H40.15",
        "Sở Lao động - Thương binh và Xã hội",
        "SLĐTBXH",
        0.06,
        (0.55, 0.40, 0.05),
        0.12,
        0.8,
        0.35,
    ),  # fmt: skip
    _dept(
        "H40.16", "Sở Giao thông vận tải", "SGTVT", 0.14, (0.30, 0.65, 0.05), 0.08, 0.9, 0.60, True
    ),  # fmt: skip
    _dept(
        "H40.17",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "SNNPTNT",
        0.04,
        (0.70, 0.25, 0.05),
        0.15,
        0.7,
        0.20,
    ),  # fmt: skip
    _dept("H40.18", "Sở Kế hoạch và Đầu tư", "SKHĐT", 0.10, (0.10, 0.88, 0.02), 0.05, 0.9, 0.70),
    _dept("H40.19", "Sở Y tế", "SYT", 0.06, (0.50, 0.45, 0.05), 0.14, 0.7, 0.40),
    _district("H40.41", "UBND huyện Kỳ Sơn", "UBND-KS", 0.05, (0.92, 0.07, 0.01), 0.20, 0.4, 0.10),
    _district(
        "H40.42", "UBND huyện Tương Dương", "UBND-TD", 0.05, (0.90, 0.09, 0.01), 0.18, 0.5, 0.12
    ),  # fmt: skip
    _district(
        "H40.43", "UBND huyện Quế Phong", "UBND-QP", 0.05, (0.88, 0.11, 0.01), 0.17, 0.5, 0.12
    ),  # fmt: skip
    _district(
        "H40.44", "UBND huyện Quỳ Châu", "UBND-QC", 0.05, (0.85, 0.14, 0.01), 0.15, 0.6, 0.15
    ),  # fmt: skip
    _district("H40.45", "UBND huyện Tân Kỳ", "UBND-TK", 0.07, (0.70, 0.28, 0.02), 0.12, 0.7, 0.25),
    _district(
        "H40.46", "UBND thị xã Cửa Lò", "UBND-CL", 0.09, (0.40, 0.57, 0.03), 0.08, 0.8, 0.45, True
    ),  # fmt: skip
)


def _p(code, name, field_code, field_name, level, days, fee, full_online, sector):
    return Procedure(
        f"{code}.000.00.00.{PROVINCE_CODE}", name, field_code, field_name, level, days, fee,
        full_online, sector,
    )  # fmt: skip


P, D = LEVEL_PROVINCE, LEVEL_DISTRICT
PROCEDURES: tuple[Procedure, ...] = (
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
    _p("2.000633", "Cấp giấy phép bán lẻ rượu", "G20-HU07", "Lưu thông hàng hóa trong nước", D, 10,
       0, True, "district"),
)  # fmt: skip
del P, D


def procedures_for(agency: Agency) -> tuple[Procedure, ...]:
    sector = DEPARTMENT_SECTORS.get(agency.code, "district")
    return tuple(p for p in PROCEDURES if p.sector == sector)

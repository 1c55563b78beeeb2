"""A province's handling units with their history: Nghệ An's shape, and Quảng Trị's.

Nghệ An until 30/6/2025: ~20 provincial departments, 21 district-level People's Committees and
412 communes. From 1/7/2025 the two-tier structure: 14 departments (some merged) and 130
communes (the districts are abolished, their communes merged). Quảng Trị has the same
departments, 10 districts and 117 communes, then 78 communes. Unit codes carry the province
code (H40.12, H45.12), as the real systems' codes do. A merger is a dated event: the old unit
is valid until the day before, the new one from that day, and `successor` maps old to new,
so a quarter is always reported under the units that existed then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cache

REFORM_DATE = date(2025, 7, 1)  # two-tier local government
EARLIEST = date(2000, 1, 1)
OPEN_END = date(9999, 12, 31)

LEVEL_PROVINCE, LEVEL_DISTRICT, LEVEL_COMMUNE = 1, 2, 3
KIND_DEPARTMENT, KIND_DISTRICT, KIND_COMMUNE = "department", "district", "commune"

# Shares of the province's dossiers by kind of unit, before and after the reform.
VOLUME_BEFORE = {KIND_DEPARTMENT: 0.40, KIND_DISTRICT: 0.35, KIND_COMMUNE: 0.25}
VOLUME_AFTER = {KIND_DEPARTMENT: 0.40, KIND_COMMUNE: 0.60}


@dataclass(frozen=True)
class Unit:
    code: str  # DonViXuLy, e.g. H40.12
    name: str
    sign: str  # abbreviation in document numbers (125/CV-STP)
    kind: str  # department | district | commune
    sectors: tuple[str, ...]  # which procedures it handles (catalogue sectors)
    valid_from: date
    valid_to: date  # last day, inclusive
    volume: float  # share of the province's daily dossiers while it exists
    parent: str | None = None  # a commune's district (before the reform)
    successor: str | None = None  # the unit that took it over at the reform

    @property
    def level(self) -> int:
        return {KIND_DEPARTMENT: LEVEL_PROVINCE, KIND_DISTRICT: LEVEL_DISTRICT}.get(
            self.kind, LEVEL_COMMUNE
        )

    @property
    def leader_title(self) -> str:
        return "Giám đốc" if self.kind == KIND_DEPARTMENT else "Chủ tịch"

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


# (code suffix, name, sign, sectors, relative volume, suffix of the department it merges into)
DEPARTMENTS_BEFORE = (
    ("01", "Văn phòng UBND tỉnh", "VPUBND", ("van-phong",), 0.2, None),
    ("02", "Sở Nội vụ", "SNV", ("noi-vu",), 0.6, None),
    ("03", "Sở Tài chính", "STC", ("tai-chinh",), 0.5, None),
    ("04", "Sở Công Thương", "SCT", ("cong-thuong",), 1.0, None),
    ("05", "Sở Giáo dục và Đào tạo", "SGDĐT", ("giao-duc",), 0.6, None),
    ("06", "Sở Văn hóa và Thể thao", "SVHTT", ("van-hoa",), 0.4, "31"),
    ("07", "Sở Du lịch", "SDL", ("du-lich",), 0.3, "31"),
    ("08", "Sở Thông tin và Truyền thông", "STTTT", ("thong-tin",), 0.3, "09"),
    ("09", "Sở Khoa học và Công nghệ", "SKHCN", ("khoa-hoc",), 0.3, None),
    ("10", "Ban Dân tộc", "BDT", ("dan-toc",), 0.1, "32"),
    ("11", "Thanh tra tỉnh", "TTr", ("thanh-tra",), 0.1, None),
    ("12", "Sở Tư pháp", "STP", ("tu-phap",), 1.6, None),
    ("13", "Sở Xây dựng", "SXD", ("xay-dung",), 0.9, None),
    ("14", "Sở Tài nguyên và Môi trường", "STNMT", ("tai-nguyen",), 1.8, "33"),
    ("15", "Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", ("lao-dong",), 1.1, "02"),
    ("16", "Sở Giao thông vận tải", "SGTVT", ("giao-thong",), 2.6, "13"),
    ("17", "Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT", ("nong-nghiep",), 0.8,
     "33"),
    ("18", "Sở Kế hoạch và Đầu tư", "SKHĐT", ("ke-hoach",), 1.8, "03"),
    ("19", "Sở Y tế", "SYT", ("y-te",), 1.1, None),
    ("20", "Ban Quản lý Khu kinh tế Đông Nam", "BQLKKT", ("kinh-te",), 0.3, None),
)  # fmt: skip
# Departments created by the 2025 mergers (the absorbing ones above keep their codes).
DEPARTMENTS_CREATED = (
    ("31", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", 0.7),
    ("32", "Sở Dân tộc và Tôn giáo", "SDTTG", 0.1),
    ("33", "Sở Nông nghiệp và Môi trường", "SNNMT", 2.6),
)

# (name, sign, relative volume): Nghệ An's 21 district-level units, codes H40.41 - H40.61.
NGHE_AN_DISTRICTS = (
    ("UBND thành phố Vinh", "UBND-TPV", 3.0),
    ("UBND thị xã Cửa Lò", "UBND-CL", 0.9),
    ("UBND thị xã Thái Hòa", "UBND-TH", 0.8),
    ("UBND thị xã Hoàng Mai", "UBND-HM", 0.9),
    ("UBND huyện Anh Sơn", "UBND-AS", 0.9),
    ("UBND huyện Con Cuông", "UBND-CC", 0.6),
    ("UBND huyện Diễn Châu", "UBND-DC", 1.6),
    ("UBND huyện Đô Lương", "UBND-ĐL", 1.3),
    ("UBND huyện Hưng Nguyên", "UBND-HN", 1.0),
    ("UBND huyện Kỳ Sơn", "UBND-KS", 0.75),
    ("UBND huyện Nam Đàn", "UBND-NĐ", 1.0),
    ("UBND huyện Nghi Lộc", "UBND-NL", 1.3),
    ("UBND huyện Nghĩa Đàn", "UBND-NgĐ", 0.9),
    ("UBND huyện Quế Phong", "UBND-QP", 0.75),
    ("UBND huyện Quỳ Châu", "UBND-QC", 0.75),
    ("UBND huyện Quỳ Hợp", "UBND-QH", 0.9),
    ("UBND huyện Quỳnh Lưu", "UBND-QL", 1.6),
    ("UBND huyện Tân Kỳ", "UBND-TK", 1.0),
    ("UBND huyện Thanh Chương", "UBND-TC", 1.4),
    ("UBND huyện Tương Dương", "UBND-TD", 0.75),
    ("UBND huyện Yên Thành", "UBND-YT", 1.5),
)
QUANG_TRI_DISTRICTS = (
    ("UBND thành phố Đông Hà", "UBND-ĐH", 2.0),
    ("UBND thị xã Quảng Trị", "UBND-QT", 0.6),
    ("UBND huyện Vĩnh Linh", "UBND-VL", 1.2),
    ("UBND huyện Gio Linh", "UBND-GL", 1.1),
    ("UBND huyện Cam Lộ", "UBND-CL", 0.8),
    ("UBND huyện Triệu Phong", "UBND-TP", 1.2),
    ("UBND huyện Hải Lăng", "UBND-HL", 1.1),
    ("UBND huyện Hướng Hóa", "UBND-HH", 1.0),
    ("UBND huyện Đakrông", "UBND-ĐKR", 0.6),
    ("UBND huyện Cồn Cỏ", "UBND-CCo", 0.1),
)


@dataclass(frozen=True)
class Province:
    code: str  # the national portal's province code (H40)
    name: str  # Nghệ An
    districts: tuple[tuple[str, str, float], ...]
    communes_before: int
    communes_after: int
    wards_after: int  # of the communes after the reform, phường (the rest xã)


PROVINCES = {
    "H40": Province("H40", "Nghệ An", NGHE_AN_DISTRICTS, 412, 130, 11),
    "H45": Province("H45", "Quảng Trị", QUANG_TRI_DISTRICTS, 117, 78, 8),
}
DEFAULT_PROVINCE = "H40"


def province(code: str) -> Province:
    try:
        return PROVINCES[code]
    except KeyError:
        raise ValueError(f"no synthetic province {code!r}; known: {', '.join(PROVINCES)}") from None


_SYLLABLES = (
    "An", "Bình", "Châu", "Diễn", "Đông", "Giang", "Hòa", "Hưng", "Hợp", "Khánh", "Kim", "Lạc",
    "Lam", "Liên", "Long", "Minh", "Mỹ", "Nam", "Nghĩa", "Ngọc", "Phong", "Phú", "Phúc", "Quang",
    "Quỳnh", "Sơn", "Tân", "Thanh", "Thành", "Thịnh", "Thọ", "Thuận", "Tiến", "Trung", "Trường",
    "Văn", "Vinh", "Xuân", "Yên", "Hải", "Hồng", "Lĩnh", "Đức", "Tường", "Mai", "Hạnh",
)  # fmt: skip


def _place_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(_SYLLABLES)} {rng.choice(_SYLLABLES)}"
        if name.split()[0] != name.split()[1] and name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _weights(rng: random.Random, count: int) -> list[float]:
    raw = [rng.lognormvariate(0, 0.5) for _ in range(count)]
    total = sum(raw)
    return [w / total for w in raw]


@cache
def build_units(code: str = DEFAULT_PROVINCE) -> tuple[Unit, ...]:
    """Every period of every unit of province `code` (a surviving department has two: before
    and after the reform, when it takes over merged partners' sectors). Not random: a
    province's map is fixed; the commune names are drawn once from a fixed rng."""
    place = province(code)
    districts, communes_before, communes_after = (
        place.districts,
        place.communes_before,
        place.communes_after,
    )
    rng = random.Random(f"units|{code}")
    day_before = date.fromordinal(REFORM_DATE.toordinal() - 1)
    units: list[Unit] = []

    dept_total = sum(row[4] for row in DEPARTMENTS_BEFORE)
    after: dict[str, tuple[str, str, list[str], float]] = {}  # code -> name, sign, sectors, w
    for suffix, name, sign, _sectors, _weight, target in DEPARTMENTS_BEFORE:
        if target is None:
            after[suffix] = (name, sign, [], 0.0)
    for suffix, name, sign, _weight in DEPARTMENTS_CREATED:
        after[suffix] = (name, sign, [], 0.0)
    for suffix, _, _, sectors, weight, target in DEPARTMENTS_BEFORE:
        name, sign, merged_sectors, total = after[target or suffix]
        after[target or suffix] = (name, sign, merged_sectors + list(sectors), total + weight)
    for suffix, name, sign, sectors, weight, target in DEPARTMENTS_BEFORE:
        units.append(
            Unit(
                f"{code}.{suffix}", name, sign, KIND_DEPARTMENT, sectors, EARLIEST, day_before,
                VOLUME_BEFORE[KIND_DEPARTMENT] * weight / dept_total,
                successor=f"{code}.{target or suffix}",
            )
        )  # fmt: skip
    for suffix, (name, sign, sectors, weight) in after.items():
        units.append(
            Unit(
                f"{code}.{suffix}", name, sign, KIND_DEPARTMENT, tuple(sectors), REFORM_DATE,
                OPEN_END, VOLUME_AFTER[KIND_DEPARTMENT] * weight / dept_total,
            )
        )  # fmt: skip

    new_codes = [f"{code}.{101 + i}" for i in range(communes_after)]
    district_total = sum(weight for *_, weight in districts)
    for i, (name, sign, weight) in enumerate(districts):
        units.append(
            Unit(
                f"{code}.{41 + i}", name, sign, KIND_DISTRICT, ("district",), EARLIEST,
                day_before, VOLUME_BEFORE[KIND_DISTRICT] * weight / district_total,
                successor=new_codes[i * communes_after // len(districts)],
            )
        )  # fmt: skip

    old_names = _place_names(rng, communes_before)
    old_weights = _weights(rng, communes_before)
    index = 0
    for d in range(len(districts)):
        count = communes_before // len(districts) + (d < communes_before % len(districts))
        for number in range(1, count + 1):
            units.append(
                Unit(
                    f"{code}.{41 + d}.{number:02d}", f"UBND xã {old_names[index]}",
                    f"UBND-X{index + 1:03d}", KIND_COMMUNE, ("commune",), EARLIEST, day_before,
                    VOLUME_BEFORE[KIND_COMMUNE] * old_weights[index],
                    parent=f"{code}.{41 + d}",
                    successor=new_codes[index * communes_after // communes_before],
                )
            )  # fmt: skip
            index += 1

    new_names = _place_names(random.Random(f"units|{code}|2025"), communes_after)
    new_weights = _weights(rng, communes_after)
    for i, (unit_code, name, weight) in enumerate(
        zip(new_codes, new_names, new_weights, strict=True)
    ):
        kind_word = "phường" if i < place.wards_after else "xã"
        units.append(
            Unit(
                unit_code, f"UBND {kind_word} {name}", f"UBND-{unit_code[-3:]}", KIND_COMMUNE,
                ("commune", "district"), REFORM_DATE, OPEN_END,
                VOLUME_AFTER[KIND_COMMUNE] * weight,
            )
        )  # fmt: skip
    return tuple(units)


def units_on(day: date, code: str = DEFAULT_PROVINCE) -> tuple[Unit, ...]:
    return tuple(u for u in build_units(code) if u.active_on(day))

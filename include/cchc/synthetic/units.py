"""The province's handling units with their history: Nghệ An's shape.

Until 30/6/2025: ~20 provincial departments, 21 district-level People's Committees and 412
communes. From 1/7/2025 the two-tier structure: 14 departments (some merged) and 130 communes
(the districts are abolished, their communes merged). A merger is a dated event: the old unit
is valid until the day before, the new one from that day, and `successor` maps old to new,
so a quarter is always reported under the units that existed then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

PROVINCE_CODE = "H40"
PROVINCE_NAME = "Nghệ An"
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


# (code, name, sign, sectors, relative volume, code of the department it merges into or None)
DEPARTMENTS_BEFORE = (
    ("H40.01", "Văn phòng UBND tỉnh", "VPUBND", ("van-phong",), 0.2, None),
    ("H40.02", "Sở Nội vụ", "SNV", ("noi-vu",), 0.6, None),
    ("H40.03", "Sở Tài chính", "STC", ("tai-chinh",), 0.5, None),
    ("H40.04", "Sở Công Thương", "SCT", ("cong-thuong",), 1.0, None),
    ("H40.05", "Sở Giáo dục và Đào tạo", "SGDĐT", ("giao-duc",), 0.6, None),
    ("H40.06", "Sở Văn hóa và Thể thao", "SVHTT", ("van-hoa",), 0.4, "H40.31"),
    ("H40.07", "Sở Du lịch", "SDL", ("du-lich",), 0.3, "H40.31"),
    ("H40.08", "Sở Thông tin và Truyền thông", "STTTT", ("thong-tin",), 0.3, "H40.09"),
    ("H40.09", "Sở Khoa học và Công nghệ", "SKHCN", ("khoa-hoc",), 0.3, None),
    ("H40.10", "Ban Dân tộc", "BDT", ("dan-toc",), 0.1, "H40.32"),
    ("H40.11", "Thanh tra tỉnh", "TTr", ("thanh-tra",), 0.1, None),
    ("H40.12", "Sở Tư pháp", "STP", ("tu-phap",), 1.6, None),
    ("H40.13", "Sở Xây dựng", "SXD", ("xay-dung",), 0.9, None),
    ("H40.14", "Sở Tài nguyên và Môi trường", "STNMT", ("tai-nguyen",), 1.8, "H40.33"),
    ("H40.15", "Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", ("lao-dong",), 1.1, "H40.02"),
    ("H40.16", "Sở Giao thông vận tải", "SGTVT", ("giao-thong",), 2.6, "H40.13"),
    ("H40.17", "Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT", ("nong-nghiep",), 0.8,
     "H40.33"),
    ("H40.18", "Sở Kế hoạch và Đầu tư", "SKHĐT", ("ke-hoach",), 1.8, "H40.03"),
    ("H40.19", "Sở Y tế", "SYT", ("y-te",), 1.1, None),
    ("H40.20", "Ban Quản lý Khu kinh tế Đông Nam", "BQLKKT", ("kinh-te",), 0.3, None),
)  # fmt: skip
# Departments created by the 2025 mergers (the absorbing ones above keep their codes).
DEPARTMENTS_CREATED = (
    ("H40.31", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", 0.7),
    ("H40.32", "Sở Dân tộc và Tôn giáo", "SDTTG", 0.1),
    ("H40.33", "Sở Nông nghiệp và Môi trường", "SNNMT", 2.6),
)

# (name, sign, relative volume): the 21 district-level units, codes H40.41 - H40.61.
DISTRICTS = (
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
COMMUNES_BEFORE = 412
COMMUNES_AFTER = 130
WARDS_AFTER = 11  # of the 130, phường (the rest xã)

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


def build_units() -> tuple[Unit, ...]:
    """Every period of every unit (a surviving department has two: before and after the
    reform, when it takes over merged partners' sectors). Not random: a province's map is
    fixed; the commune names are drawn once from a fixed rng."""
    rng = random.Random(f"units|{PROVINCE_CODE}")
    day_before = date.fromordinal(REFORM_DATE.toordinal() - 1)
    units: list[Unit] = []

    dept_total = sum(row[4] for row in DEPARTMENTS_BEFORE)
    after: dict[str, tuple[str, str, list[str], float]] = {}  # code -> name, sign, sectors, w
    for code, name, sign, _sectors, _weight, target in DEPARTMENTS_BEFORE:
        if target is None:
            after[code] = (name, sign, [], 0.0)
    for code, name, sign, _weight in DEPARTMENTS_CREATED:
        after[code] = (name, sign, [], 0.0)
    for code, _, _, sectors, weight, target in DEPARTMENTS_BEFORE:
        name, sign, merged_sectors, total = after[target or code]
        after[target or code] = (name, sign, merged_sectors + list(sectors), total + weight)
    for code, name, sign, sectors, weight, target in DEPARTMENTS_BEFORE:
        units.append(
            Unit(
                code, name, sign, KIND_DEPARTMENT, sectors, EARLIEST, day_before,
                VOLUME_BEFORE[KIND_DEPARTMENT] * weight / dept_total, successor=target or code,
            )
        )  # fmt: skip
    for code, (name, sign, sectors, weight) in after.items():
        units.append(
            Unit(
                code, name, sign, KIND_DEPARTMENT, tuple(sectors), REFORM_DATE, OPEN_END,
                VOLUME_AFTER[KIND_DEPARTMENT] * weight / dept_total,
            )
        )  # fmt: skip

    new_codes = [f"{PROVINCE_CODE}.{101 + i}" for i in range(COMMUNES_AFTER)]
    district_total = sum(weight for *_, weight in DISTRICTS)
    for i, (name, sign, weight) in enumerate(DISTRICTS):
        units.append(
            Unit(
                f"{PROVINCE_CODE}.{41 + i}", name, sign, KIND_DISTRICT, ("district",), EARLIEST,
                day_before, VOLUME_BEFORE[KIND_DISTRICT] * weight / district_total,
                successor=new_codes[i * COMMUNES_AFTER // len(DISTRICTS)],
            )
        )  # fmt: skip

    old_names = _place_names(rng, COMMUNES_BEFORE)
    old_weights = _weights(rng, COMMUNES_BEFORE)
    index = 0
    for d in range(len(DISTRICTS)):
        count = COMMUNES_BEFORE // len(DISTRICTS) + (d < COMMUNES_BEFORE % len(DISTRICTS))
        for number in range(1, count + 1):
            units.append(
                Unit(
                    f"{PROVINCE_CODE}.{41 + d}.{number:02d}", f"UBND xã {old_names[index]}",
                    f"UBND-X{index + 1:03d}", KIND_COMMUNE, ("commune",), EARLIEST, day_before,
                    VOLUME_BEFORE[KIND_COMMUNE] * old_weights[index],
                    parent=f"{PROVINCE_CODE}.{41 + d}",
                    successor=new_codes[index * COMMUNES_AFTER // COMMUNES_BEFORE],
                )
            )  # fmt: skip
            index += 1

    new_names = _place_names(random.Random(f"units|{PROVINCE_CODE}|2025"), COMMUNES_AFTER)
    new_weights = _weights(rng, COMMUNES_AFTER)
    for i, (code, name, weight) in enumerate(zip(new_codes, new_names, new_weights, strict=True)):
        kind_word = "phường" if i < WARDS_AFTER else "xã"
        units.append(
            Unit(
                code, f"UBND {kind_word} {name}", f"UBND-{code[-3:]}", KIND_COMMUNE,
                ("commune", "district"), REFORM_DATE, OPEN_END,
                VOLUME_AFTER[KIND_COMMUNE] * weight,
            )
        )  # fmt: skip
    return tuple(units)


UNITS: tuple[Unit, ...] = build_units()


def units_on(day: date) -> tuple[Unit, ...]:
    return tuple(u for u in UNITS if u.active_on(day))

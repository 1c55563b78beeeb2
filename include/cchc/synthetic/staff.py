"""The officials of each agency who appear in handling steps and sign documents."""

from __future__ import annotations

import random
from dataclasses import dataclass

from faker import Faker

from .people import PeopleFactory
from .units import LEVEL_PROVINCE
from .units import Unit as Agency

ONE_STOP_UNIT = "Bộ phận Tiếp nhận và Trả kết quả"


@dataclass(frozen=True)
class Official:
    name: str
    title: str
    unit: str


@dataclass(frozen=True)
class AgencyStaff:
    receivers: tuple[Official, ...]
    specialists: tuple[Official, ...]
    leaders: tuple[Official, ...]  # the head first, then deputies

    def pick(self, rng: random.Random, role: str) -> Official:
        return rng.choice(getattr(self, role))


def build_staff(agency: Agency, seed: int) -> AgencyStaff:
    # Own rng per agency: the staff stay the same whatever range or scale is generated.
    rng = random.Random(f"{seed}|staff|{agency.code}")
    faker = Faker("vi_VN")
    faker.seed_instance(rng.getrandbits(64))
    people = PeopleFactory(rng, faker)
    provincial = agency.level == LEVEL_PROVINCE
    specialist_unit = "Phòng Chuyên môn" if provincial else "Phòng Tư pháp - Hành chính"
    leader_unit = "Ban Giám đốc" if provincial else "Lãnh đạo UBND"
    deputy_title = f"Phó {agency.leader_title[0].lower()}{agency.leader_title[1:]}"
    return AgencyStaff(
        receivers=tuple(
            Official(people.person_name(), "Công chức tiếp nhận", ONE_STOP_UNIT) for _ in range(3)
        ),
        specialists=tuple(
            Official(people.person_name(), "Chuyên viên", specialist_unit) for _ in range(4)
        ),
        leaders=(
            Official(people.person_name(), agency.leader_title, leader_unit),
            Official(people.person_name(), deputy_title, leader_unit),
            Official(people.person_name(), deputy_title, leader_unit),
        ),
    )

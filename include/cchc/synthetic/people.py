"""Well-formed fake applicants and officials: Vietnamese names in family-middle-given order,
12-digit CCCD, mobile numbers, e-mail addresses. Personal data, but none of it real."""

from __future__ import annotations

import random
import unicodedata

from faker import Faker

# Nghệ An's CCCD place-of-birth code, and a few neighbours for people born elsewhere.
HOME_PROVINCE_ID = "040"
OTHER_PROVINCE_IDS = ("038", "042", "044", "001", "079")

MOBILE_PREFIXES = ("03", "05", "07", "08", "09")
MALE_MIDDLE = ("Văn", "Đức", "Hữu", "Xuân", "Quang", "Minh", "Công", "Đình", "Thanh", "Ngọc")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Minh", "Phương", "Kim")
BUSINESS_FORMS = ("Công ty TNHH", "Công ty TNHH MTV", "Công ty Cổ phần", "Hợp tác xã")
BUSINESS_WORDS = (
    "Xây dựng",
    "Thương mại",
    "Vận tải",
    "Dược phẩm",
    "Nông sản",
    "Du lịch",
    "Môi trường",
    "Đầu tư",
    "Dịch vụ",
    "Thực phẩm",
)
BUSINESS_PLACES = ("Nghệ An", "Vinh", "Cửa Lò", "Bắc Trung Bộ", "Hồng Lam", "Sông Lam", "Phủ Quỳ")
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com")


def ascii_fold(text: str) -> str:
    """Strip Vietnamese diacritics (đ has no decomposition, so map it by hand)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class PeopleFactory:
    """Draws everything from the given rng and faker, so a seeded caller gets the same people."""

    def __init__(self, rng: random.Random, faker: Faker) -> None:
        self.rng = rng
        self.faker = faker

    def person_name(self, female: bool | None = None) -> str:
        if female is None:
            female = self.rng.random() < 0.5
        family = self.faker.last_name()
        middle = self.rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
        given = self.faker.first_name_female() if female else self.faker.first_name_male()
        # Faker's vi_VN given names can carry two words; keep the last as the given name.
        return unicodedata.normalize("NFC", f"{family} {middle} {given.split()[-1]}")

    def cccd(self, female: bool, birth_year: int) -> str:
        province = (
            HOME_PROVINCE_ID if self.rng.random() < 0.9 else self.rng.choice(OTHER_PROVINCE_IDS)
        )
        # 4th digit: sex and century (0/1 male/female born 1900s, 2/3 born 2000s).
        century_sex = (0 if birth_year < 2000 else 2) + (1 if female else 0)
        serial = self.rng.randrange(1_000_000)
        return f"{province}{century_sex}{birth_year % 100:02d}{serial:06d}"

    def phone(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(100_000_000):08d}"

    def email(self, name: str) -> str:
        parts = ascii_fold(name).lower().split()
        local = f"{parts[-1]}{''.join(p[0] for p in parts[:-1])}{self.rng.randrange(1, 9999)}"
        return f"{local}@{self.rng.choice(EMAIL_DOMAINS)}"

    def business_name(self) -> str:
        form = self.rng.choice(BUSINESS_FORMS)
        return f"{form} {self.rng.choice(BUSINESS_WORDS)} {self.rng.choice(BUSINESS_PLACES)}"

    def tax_code(self) -> str:
        # Enterprise codes registered in Nghệ An start with 29.
        return f"29{self.rng.randrange(100_000_000):08d}"

    def applicant(self, applicant_type: int) -> dict:
        """The applicant fields of a dossier, in contract order."""
        female = self.rng.random() < 0.5
        person = self.person_name(female)
        birth_year = self.rng.randint(1950, 2006)
        cccd = self.cccd(female, birth_year)
        if applicant_type == 2:  # business: the holder is the enterprise, ids of its representative
            holder, holder_id = self.business_name(), self.tax_code()
        else:
            holder, holder_id = person, cccd
        return {
            "ChuHoSo": holder,
            "LoaiDoiTuong": applicant_type,
            "SoGiayToChuHoSo": holder_id,
            "SoDienThoai": self.phone(),
            "Email": self.email(person) if self.rng.random() < 0.55 else None,
            "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": cccd}],
        }

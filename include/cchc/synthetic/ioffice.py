"""I-Office outgoing documents: apology letters for late dossiers and everyday documents.

Documents are numbered per issuing body in issue order, restarting each 1 January, so they
are queued until the generator has passed their issue time (`OutgoingRegister.due_before`).
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .staff import AgencyStaff
from .timeutil import office_time, office_time_after, stamp
from .units import Unit as Agency
from .versions import DossierLife, Version
from .workdays import WorkingCalendar

TYPE_SIGNS = {"CV": "CV", "QD": "QĐ", "TB": "TB", "TXL": "TXL"}
ORDINARY_TYPES = (("CV", 0.65), ("QD", 0.2), ("TB", 0.15))
ORDINARY_SUBJECTS = {
    "CV": (
        "Về việc triển khai nhiệm vụ cải cách hành chính năm {year}",
        "Về việc báo cáo kết quả giải quyết thủ tục hành chính",
        "Về việc đôn đốc số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        "Về việc tăng cường kỷ luật, kỷ cương hành chính",
    ),
    "QD": (
        "Quyết định ban hành quy chế làm việc",
        "Quyết định phê duyệt kế hoạch kiểm soát thủ tục hành chính năm {year}",
    ),
    "TB": ("Thông báo kết luận của Giám đốc tại cuộc họp giao ban", "Thông báo lịch tiếp công dân"),
}
UNSIGNED_RATE = 0.03
# Documents an agency issues per working day at scale 1.0.
DOCUMENTS_PER_DAY_AT_FULL_SCALE = 60


@dataclass(order=True)
class _Pending:
    issued_at: datetime
    doc_id: str
    agency_code: str = field(compare=False)
    agency_sign: str = field(compare=False)
    fields: dict = field(compare=False)


def _document_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class OutgoingRegister:
    def __init__(
        self, calendar: WorkingCalendar, first_day: date, unsigned_rate: float = UNSIGNED_RATE
    ) -> None:
        self.cal = calendar
        self.unsigned_rate = unsigned_rate
        self._queue: list[_Pending] = []
        self._numbers: dict[tuple[str, int], int] = {}
        self._first_day = first_day

    def _next_number(self, agency_code: str, year: int) -> int:
        key = (agency_code, year)
        if key not in self._numbers:
            # Numbers already used this year before the generated range began (a rough guess).
            elapsed = (
                (self._first_day - date(year, 1, 1)).days if self._first_day.year == year else 0
            )
            self._numbers[key] = max(0, elapsed) * 2
        self._numbers[key] += 1
        return self._numbers[key]

    def _queue_document(
        self,
        rng: random.Random,
        agency: Agency,
        staff: AgencyStaff,
        issued_at: datetime,
        doc_type: str,
        subject: str,
        dossier_code: str | None,
    ) -> None:
        signer = staff.leaders[0] if rng.random() < 0.4 else rng.choice(staff.leaders[1:])
        fields = {
            "LoaiVanBan": doc_type,
            "TrichYeu": subject,
            "NgayBanHanh": stamp(issued_at),
            "DonViBanHanh": agency.code,
            "NguoiKy": signer.name,
            "ChucVuNguoiKy": signer.title,
            "DoKhan": rng.choices((0, 1, 2, 3), weights=(0.85, 0.1, 0.04, 0.01))[0],
            "CoChuKySo": rng.random() >= self.unsigned_rate,
            "MaHoSoLienQuan": dossier_code,
        }
        heapq.heappush(
            self._queue, _Pending(issued_at, _document_id(rng), agency.code, agency.sign, fields)
        )

    def add_apology(
        self,
        rng: random.Random,
        agency: Agency,
        staff: AgencyStaff,
        life: DossierLife,
        apology_rate: float,
    ) -> bool:
        """Mẫu 04: written before the appointment is missed, sometimes only after it.
        Returns whether a letter was written."""
        if not life.late or life.due_at is None or rng.random() >= apology_rate:
            return False
        due_day = life.due_at.date()
        if rng.random() < 0.7:
            day = due_day if rng.random() < 0.5 else self._previous_working_day(due_day)
        else:
            day = self.cal.add_working_days(due_day, rng.randint(1, 3))
        received_at = life.versions[0].at if life.versions else None
        issued_at = office_time(rng, day)
        if received_at is not None and issued_at <= received_at:
            issued_at = office_time_after(rng, received_at.date(), received_at)
        subject = f"Thư xin lỗi và hẹn lại ngày trả kết quả giải quyết hồ sơ {life.code}"
        self._queue_document(rng, agency, staff, issued_at, "TXL", subject, life.code)
        return True

    def add_ordinary_day(
        self, rng: random.Random, agency: Agency, staff: AgencyStaff, day: date, scale: float
    ) -> None:
        mean = DOCUMENTS_PER_DAY_AT_FULL_SCALE * scale * agency.volume * 10
        count = int(mean * rng.uniform(0.6, 1.4) + rng.random())
        for _ in range(count):
            doc_type = rng.choices(*zip(*ORDINARY_TYPES, strict=True))[0]
            subject = rng.choice(ORDINARY_SUBJECTS[doc_type]).format(year=day.year)
            self._queue_document(rng, agency, staff, office_time(rng, day), doc_type, subject, None)

    def _previous_working_day(self, day: date) -> date:
        day -= timedelta(days=1)
        while not self.cal.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def due_before(self, moment: datetime) -> Iterator[Version]:
        """Number and release, in issue order, every queued document issued before `moment`."""
        while self._queue and self._queue[0].issued_at < moment:
            pending = heapq.heappop(self._queue)
            year = pending.issued_at.year
            number = self._next_number(pending.agency_code, year)
            doc_type = pending.fields["LoaiVanBan"]
            yield Version(
                pending.issued_at,
                {
                    "MaVanBan": pending.doc_id,
                    "SoKyHieu": f"{number}/{TYPE_SIGNS[doc_type]}-{pending.agency_sign}",
                    **pending.fields,
                    "NgayCapNhat": stamp(pending.issued_at),
                },
            )


INCOMING_SENDERS = ("UBND tỉnh Nghệ An", "Bộ Nội vụ", "Văn phòng Chính phủ", "Sở Tài chính")
INCOMING_DUE_WORKING_DAYS = {0: 10, 1: 5, 2: 3, 3: 1}  # by urgency DoKhan


def incoming_versions(
    rng: random.Random,
    agency: Agency,
    staff: AgencyStaff,
    number: int,
    day: date,
    calendar: WorkingCalendar,
    horizon: datetime,
    overdue_rate: float,
) -> tuple[list[Version], bool]:
    """A văn bản đến: registered on arrival, assigned, then completed (on time or late).
    Returns its versions and whether it ends (or stays open) past its due date."""
    arrived_at = office_time(rng, day)
    urgency = rng.choices((0, 1, 2, 3), weights=(0.8, 0.12, 0.06, 0.02))[0]
    due = calendar.add_working_days(day, INCOMING_DUE_WORKING_DAYS[urgency])
    due_at = datetime.combine(due, datetime.min.time().replace(hour=17))
    overdue = rng.random() < overdue_rate
    assignee = staff.pick(rng, "specialists")
    leader = staff.leaders[0]
    key = f"VBD-{agency.code}-{day:%y%m%d}-{number:03d}"
    base = {
        "MaVanBanDen": key,
        "SoDen": number,
        "SoKyHieu": f"{rng.randint(1, 3000)}/UBND-VX",
        "CoQuanBanHanh": rng.choice(INCOMING_SENDERS),
        "LoaiVanBan": rng.choice(("CV", "QD", "TB")),
        "TrichYeu": rng.choice(ORDINARY_SUBJECTS["CV"]).format(year=day.year),
        "NgayBanHanh": stamp(arrived_at - timedelta(days=rng.randint(1, 4))),
        "NgayDen": stamp(arrived_at),
        "DoKhan": urgency,
        "HanXuLy": stamp(due_at),
        "DonViNhan": agency.code,
        "TrangThai": 1,  # 1 waiting, 2 being handled, 3 completed
        "NgayHoanThanh": None,
        "QuaTrinhXuLyVanBan": [],
        "NgayCapNhat": stamp(arrived_at),
    }
    assigned_at = office_time_after(rng, day, arrived_at)
    trail = [
        {"NguoiXuLy": leader.name, "ChucDanh": leader.title, "ThoiDiem": stamp(assigned_at),
         "NoiDung": f"Giao {assignee.name} xử lý", "TrangThai": "Đã phân công"},
    ]  # fmt: skip
    if overdue:
        done_day = calendar.add_working_days(due, rng.randint(1, 6))
    else:
        done_day = calendar.add_working_days(
            day, rng.randint(0, INCOMING_DUE_WORKING_DAYS[urgency])
        )
    done_at = office_time_after(rng, done_day, assigned_at)
    if done_at.date() == due and done_at > due_at and not overdue:
        done_at = due_at - timedelta(minutes=5)
    versions = [Version(arrived_at, base)]
    if assigned_at < horizon:
        versions.append(
            Version(assigned_at, {**base, "TrangThai": 2, "QuaTrinhXuLyVanBan": list(trail),
                                  "NgayCapNhat": stamp(assigned_at)})
        )  # fmt: skip
    if done_at < horizon and done_at > assigned_at:
        trail.append({"NguoiXuLy": assignee.name, "ChucDanh": assignee.title,
                      "ThoiDiem": stamp(done_at), "NoiDung": "Đã xử lý, báo cáo lãnh đạo",
                      "TrangThai": "Hoàn thành"})  # fmt: skip
        versions.append(
            Version(done_at, {**base, "TrangThai": 3, "NgayHoanThanh": stamp(done_at),
                              "QuaTrinhXuLyVanBan": trail, "NgayCapNhat": stamp(done_at)})
        )  # fmt: skip
    return versions, overdue and due_at < horizon

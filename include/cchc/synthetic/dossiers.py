"""One dossier's life in the one-stop system, from receipt to its end, as a list of versions.

The whole life is simulated (it may run past the generated range); the caller keeps only the
versions written before the range ends, which is how some dossiers stay open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .catalog import Agency, Procedure
from .people import PeopleFactory
from .staff import AgencyStaff, Official
from .timeutil import office_time, office_time_after, stamp
from .workdays import WorkingCalendar

RECEIVED, NOT_RECEIVED, IN_PROGRESS, WAITING_SUPPLEMENT = 2, 3, 4, 5
WITHDRAWN, STOPPED, HANDLED, RETURNED = 7, 8, 9, 10

STEP_DEADLINE_TIME = time(17, 0)
LATE_EXTRA_WORKING_DAYS = (1, 1, 1, 2, 2, 3, 4, 5, 7, 10)
RETURN_DELAY_WORKING_DAYS = (0, 0, 0, 1, 1, 2, 3, 5)


@dataclass
class Version:
    at: datetime
    payload: dict


@dataclass
class DossierLife:
    code: str
    versions: list[Version] = field(default_factory=list)  # only those before the horizon
    late: bool = False
    due_at: datetime | None = None  # the appointment in force when the dossier ended


@dataclass
class _Event:
    at: datetime
    status: int | None = None  # None: a handling step that writes no version of its own
    step: dict | None = None
    updates: dict = field(default_factory=dict)
    supplement: dict | None = None  # opens (or completes, same dict) a supplement request


def _step(
    official: Official, start: datetime, deadline: datetime, done: datetime, what: str, outcome: str
) -> dict:
    return {
        "NguoiXuLy": official.name,
        "ChucDanh": official.title,
        "PhongBanXuLy": official.unit,
        "ThoiDiemXuLy": stamp(done),
        "NoiDungXuLy": what,
        "TrangThai": outcome,
        "NgayBatDau": stamp(start),
        "NgayKetThucTheoQuyDinh": stamp(deadline),
    }


class DossierSimulator:
    """Simulates dossiers of one agency; every draw comes from the rng it is given."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        agency: Agency,
        staff: AgencyStaff,
        rng: random.Random,
        people: PeopleFactory,
    ) -> None:
        self.cal = calendar
        self.agency = agency
        self.staff = staff
        self.rng = rng
        self.people = people

    # --- static attributes -------------------------------------------------------------
    def _channel(self, procedure: Procedure) -> int:
        direct, online, postal = self.agency.channel_weights
        if procedure.full_online:
            online *= 1.5
        return self.rng.choices((1, 2, 3), weights=(direct, online, postal))[0]

    def _applicant_type(self, procedure: Procedure) -> int:
        business_share = 0.85 if procedure.sector == "ke-hoach" else 0.08
        return self.rng.choices(
            (1, 2, 3, 4), weights=(0.96 - business_share, business_share, 0.02, 0.02)
        )[0]

    def _submitted_at(self, channel: int, received_at: datetime) -> datetime:
        if channel == 2:  # online: sent any time, picked up by an officer later
            return received_at - timedelta(minutes=self.rng.randint(10, 40 * 60))
        if channel == 3:  # postal: in the mail for a few days
            return received_at - timedelta(
                days=self.rng.randint(1, 3), minutes=self.rng.randint(0, 600)
            )
        return received_at - timedelta(minutes=self.rng.randint(0, 15))

    def _payment(self, procedure: Procedure, channel: int) -> int:
        if procedure.fee == 0 or channel != 2:
            return 0
        return self.rng.choices((0, 1, 2), weights=(0.5, 0.3, 0.2))[0]

    # --- the life ------------------------------------------------------------------------
    def simulate(
        self, procedure: Procedure, code: str, received_at: datetime, horizon: datetime
    ) -> DossierLife:
        rng, cal = self.rng, self.cal
        channel = self._channel(procedure)
        applicant = self.people.applicant(self._applicant_type(procedure))
        days = procedure.handling_days
        due_date = cal.add_working_days(received_at.date(), days)
        due_at = datetime.combine(due_date, received_at.time())

        base = {
            "MaHoSo": code,
            "MaTTHC": procedure.code,
            "TenTTHC": procedure.name,
            "MaLinhVuc": procedure.field_code,
            "TenLinhVuc": procedure.field_name,
            "CapThucHien": procedure.level,
            "KenhThucHien": channel,
            **applicant,
            "NgayNopHoSo": stamp(self._submitted_at(channel, received_at)),
            "NgayTiepNhan": stamp(received_at),
            "NgayHenTra": stamp(due_at),
            "NgayKetThucXuLy": None,
            "NgayTra": None,
            "NgayTuChoi": None,
            "TrangThaiHoSo": RECEIVED,
            "DonViXuLy": self.agency.code,
            "TenDonViXuLy": self.agency.name,
            "HoSoCoThanhPhanSoHoa": int(rng.random() < self.agency.digitized_rate),
            "DuocThanhToanTrucTuyen": self._payment(procedure, channel),
            "QuaTrinhXuLy": [],
            "DanhSachHoSoBoSung": [],
            "NgayCapNhat": None,
        }

        receiver = self.staff.pick(rng, "receivers")
        specialist = self.staff.pick(rng, "specialists")
        leader = self.staff.pick(rng, "leaders")
        review_deadline = self._deadline(received_at.date(), round(days * 0.7))
        approve_deadline = self._deadline(received_at.date(), round(days * 0.9))

        events = [
            _Event(
                received_at,
                RECEIVED,
                _step(
                    receiver,
                    received_at,
                    received_at,
                    received_at,
                    "Tiếp nhận hồ sơ",
                    "Đã tiếp nhận",
                ),
            )
        ]
        if rng.random() < 0.7:
            forward_at = office_time_after(rng, received_at.date(), received_at)
        else:
            forward_at = office_time(rng, cal.next_working_day(received_at.date()))
        events.append(
            _Event(
                forward_at,
                IN_PROGRESS,
                _step(
                    receiver,
                    received_at,
                    datetime.combine(received_at.date(), STEP_DEADLINE_TIME),
                    forward_at,
                    "Chuyển hồ sơ đến phòng chuyên môn",
                    "Đã chuyển xử lý",
                ),
            )
        )
        last = forward_at

        # Supplement requests: the waiting time does not count, so each pushes the appointment.
        supplements = rng.choices((0, 1, 2), weights=(0.88, 0.09, 0.03))[0]
        outcome = rng.choices(
            (HANDLED, NOT_RECEIVED, WITHDRAWN, STOPPED), weights=(0.955, 0.02, 0.015, 0.01)
        )[0]
        for index in range(supplements):
            offset = rng.randint(0, max(0, days // 2))
            request_at = office_time_after(rng, cal.add_working_days(last.date(), offset), last)
            request = {
                "NgayBoSung": stamp(request_at),
                "NgayTiepNhanBoSung": None,
                "NgayHenTraTruoc": stamp(due_at),
                "NgayHenTraMoi": None,
            }
            events.append(
                _Event(
                    request_at,
                    WAITING_SUPPLEMENT,
                    _step(
                        specialist,
                        last,
                        review_deadline,
                        request_at,
                        "Yêu cầu bổ sung hồ sơ",
                        "Chờ bổ sung",
                    ),
                    supplement=request,
                )
            )
            last = request_at
            if outcome == WITHDRAWN and index == supplements - 1:
                break  # the applicant gives up instead of supplementing
            waited = rng.randint(1, 6)
            resumed_at = office_time_after(
                rng, cal.add_working_days(request_at.date(), waited), request_at
            )
            due_at = datetime.combine(cal.add_working_days(due_at.date(), waited), due_at.time())
            completed = {
                **request,
                "NgayTiepNhanBoSung": stamp(resumed_at),
                "NgayHenTraMoi": stamp(due_at),
            }
            events.append(
                _Event(
                    resumed_at,
                    IN_PROGRESS,
                    _step(
                        receiver,
                        request_at,
                        resumed_at,
                        resumed_at,
                        "Tiếp nhận hồ sơ bổ sung",
                        "Đã bổ sung",
                    ),
                    updates={"NgayHenTra": stamp(due_at)},
                    supplement=completed,
                )
            )
            last = resumed_at

        life = DossierLife(code=code)
        if outcome == HANDLED:
            late = rng.random() < self.agency.late_rate or supplements > 1
            end_at = self._handled_at(last, due_at, late)
            review_at = last + (end_at - last) * rng.uniform(0.4, 0.8)
            review_at = review_at.replace(microsecond=0)
            events.append(
                _Event(
                    review_at,
                    None,
                    _step(
                        specialist,
                        last,
                        review_deadline,
                        review_at,
                        "Thẩm định hồ sơ",
                        "Đã thẩm định",
                    ),
                )
            )
            events.append(
                _Event(
                    end_at,
                    HANDLED,
                    _step(
                        leader,
                        review_at,
                        approve_deadline,
                        end_at,
                        "Phê duyệt kết quả",
                        "Đã phê duyệt",
                    ),
                    updates={"NgayKetThucXuLy": stamp(end_at)},
                )
            )
            if rng.random() < 0.75:
                delay = rng.choice(RETURN_DELAY_WORKING_DAYS)
                returned_at = office_time_after(
                    rng, cal.add_working_days(end_at.date(), delay), end_at
                )
                events.append(
                    _Event(
                        returned_at,
                        RETURNED,
                        _step(
                            receiver,
                            end_at,
                            due_at,
                            returned_at,
                            "Trả kết quả cho tổ chức, cá nhân",
                            "Đã trả kết quả",
                        ),
                        updates={"NgayTra": stamp(returned_at)},
                    )
                )
            life.late = end_at.date() > due_at.date() or supplements > 1
        elif outcome != WITHDRAWN or supplements == 0:
            ended_at = office_time_after(
                rng, cal.add_working_days(last.date(), rng.randint(0, max(1, days // 2))), last
            )
            what, result, official, updates = {
                NOT_RECEIVED: (
                    "Từ chối giải quyết hồ sơ",
                    "Từ chối",
                    specialist,
                    {"NgayTuChoi": stamp(ended_at)},
                ),
                WITHDRAWN: ("Tổ chức, cá nhân rút hồ sơ", "Đã rút hồ sơ", receiver, {}),
                STOPPED: (
                    "Dừng xử lý hồ sơ",
                    "Dừng xử lý",
                    leader,
                    {"NgayKetThucXuLy": stamp(ended_at)},
                ),
            }[outcome]
            events.append(
                _Event(
                    ended_at,
                    outcome,
                    _step(official, last, due_at, ended_at, what, result),
                    updates=updates,
                )
            )
        else:  # withdrawn while waiting for the supplement
            withdrawn_at = office_time_after(rng, cal.add_working_days(last.date(), 3), last)
            events.append(
                _Event(
                    withdrawn_at,
                    WITHDRAWN,
                    _step(
                        receiver,
                        last,
                        due_at,
                        withdrawn_at,
                        "Tổ chức, cá nhân rút hồ sơ",
                        "Đã rút hồ sơ",
                    ),
                )
            )
        life.due_at = due_at
        life.versions = self._replay(base, events, horizon)
        return life

    def _deadline(self, start: date, working_days: int) -> datetime:
        return datetime.combine(self.cal.add_working_days(start, working_days), STEP_DEADLINE_TIME)

    def _handled_at(self, last: datetime, due_at: datetime, late: bool) -> datetime:
        rng, cal = self.rng, self.cal
        if late:
            day = cal.add_working_days(due_at.date(), rng.choice(LATE_EXTRA_WORKING_DAYS))
            return office_time_after(rng, day, last)
        room = cal.working_days_between(last.date(), due_at.date())
        day = cal.add_working_days(last.date(), rng.randint(0, room)) if room > 0 else last.date()
        moment = office_time_after(rng, day, last)
        if moment.date() == due_at.date() and moment > due_at:
            moment = max(
                last + timedelta(minutes=1), due_at - timedelta(minutes=rng.randint(1, 60))
            )
        return moment

    @staticmethod
    def _replay(base: dict, events: list[_Event], horizon: datetime) -> list[Version]:
        """Apply the events in time order, writing a version at each status change."""
        state = dict(base)
        steps: list[dict] = []
        supplements: list[dict] = []
        versions: list[Version] = []
        previous: datetime | None = None
        for event in sorted(events, key=lambda e: e.at):
            at = event.at
            if previous is not None and at <= previous:
                at = previous + timedelta(seconds=1)  # one version per second per record
            if at >= horizon:
                break
            if event.step is not None:
                steps.append(event.step)
            if event.supplement is not None:
                if supplements and supplements[-1]["NgayBoSung"] == event.supplement["NgayBoSung"]:
                    supplements[-1] = event.supplement
                else:
                    supplements.append(event.supplement)
            state.update(event.updates)
            if event.status is None:
                continue
            state["TrangThaiHoSo"] = event.status
            state["QuaTrinhXuLy"] = list(steps)
            state["DanhSachHoSoBoSung"] = list(supplements)
            state["NgayCapNhat"] = stamp(at)
            versions.append(Version(at, dict(state)))
            previous = at
        return versions

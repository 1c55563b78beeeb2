"""One dossier's life in the one-stop system, from receipt to its end, as a list of versions.

The whole life is simulated (it may run past the generated range); the caller keeps only the
versions written before the range ends, which is how some dossiers stay open.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from . import dossier_payload as payload
from .catalog import Procedure
from .people import PeopleFactory
from .profiles import Behaviour
from .slowness import APPROVAL, REVIEW, AgencyPace, supplement_requests
from .staff import AgencyStaff, Official
from .timeutil import office_time, office_time_after, stamp
from .units import Unit
from .versions import DossierLife, Event, replay
from .workdays import WorkingCalendar

RECEIVED, NOT_RECEIVED, IN_PROGRESS, WAITING_SUPPLEMENT = 2, 3, 4, 5
WITHDRAWN, STOPPED, HANDLED, RETURNED = 7, 8, 9, 10

STEP_DEADLINE_TIME = time(17, 0)
RETURN_DELAY_WORKING_DAYS = (0, 0, 0, 1, 1, 2, 3, 5)


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
        agency: Unit,
        behaviour: Behaviour,
        staff: AgencyStaff,
        rng: random.Random,
        people: PeopleFactory,
    ) -> None:
        self.cal = calendar
        self.agency = agency
        self.behaviour = behaviour
        self.staff = staff
        self.rng = rng
        self.people = people
        self.pace = AgencyPace(agency, behaviour)

    # --- the life ------------------------------------------------------------------------
    def simulate(
        self,
        procedure: Procedure,
        code: str,
        received_at: datetime,
        horizon: datetime,
        channel: int,
        max_supplements: int = 2,
    ) -> DossierLife:
        rng, cal = self.rng, self.cal
        applicant = self.people.applicant(payload.applicant_type(rng, procedure))
        days = procedure.handling_days
        due_date = cal.add_working_days(received_at.date(), days)
        due_at = datetime.combine(due_date, received_at.time())

        digitized = rng.random() < self.behaviour.digitized_rate
        paid_online = payload.online_payment(rng, procedure, channel)
        base = {
            "MaHoSo": code,
            "MaTTHC": procedure.code,
            "TenTTHC": procedure.name,
            "MaLinhVuc": procedure.field_code,
            "TenLinhVuc": procedure.field_name,
            "CapThucHien": procedure.level,
            "KenhThucHien": channel,
            **applicant,
            "TaiKhoanDuocXacThucVoiVNeID": int(channel == 2 and rng.random() < 0.8),
            "NgayNopHoSo": stamp(payload.submitted_at(rng, channel, received_at)),
            "NgayTiepNhan": stamp(received_at),
            "NgayHenTra": stamp(due_at),
            "NgayKetThucXuLy": None,
            "NgayTra": None,
            "NgayTuChoi": None,
            "TrangThaiHoSo": RECEIVED,
            "DonViXuLy": self.agency.code,
            "TenDonViXuLy": self.agency.name,
            "HoSoCoThanhPhanSoHoa": int(digitized),
            "DuocThanhToanTrucTuyen": paid_online,
            "TaiLieuNop": payload.components(rng, code, digitized),
            "QuaTrinhXuLy": [],
            "DanhSachHoSoBoSung": [],
            "DanhSachLePhi": payload.fees(procedure, paid_online),
            "DanhSachGiayToKetQua": [],
            "NgayCapNhat": None,
        }

        receiver = self.staff.pick(rng, "receivers")
        specialist = self.staff.pick(rng, "specialists")
        leader = self.staff.pick(rng, "leaders")
        review_deadline = self._deadline(received_at.date(), round(days * 0.7))
        approve_deadline = self._deadline(received_at.date(), round(days * 0.9))

        events = [
            Event(
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
            Event(
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
        supplements = min(max_supplements, supplement_requests(rng, self.pace, procedure))
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
                Event(
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
                Event(
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

        life = DossierLife(code=code, procedure_code=procedure.code, channel=channel)
        if outcome == HANDLED:
            consulted_at, review_at, end_at = self._handling_times(procedure, last, due_at)
            if consulted_at is not None:
                events.append(
                    Event(
                        consulted_at,
                        IN_PROGRESS,
                        _step(
                            specialist,
                            last,
                            review_deadline,
                            consulted_at,
                            "Chuyển hồ sơ xin ý kiến cơ quan, đơn vị liên quan",
                            "Đã chuyển xin ý kiến",
                        ),
                    )
                )
            events.append(
                Event(
                    review_at,
                    IN_PROGRESS,  # the hand-over to the leader is written, as the systems do
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
                Event(
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
                    updates={
                        "NgayKetThucXuLy": stamp(end_at),
                        "DanhSachGiayToKetQua": payload.electronic_results(rng, code),
                    },
                )
            )
            life.ended_at = end_at
            if rng.random() < 0.75:
                delay = rng.choice(RETURN_DELAY_WORKING_DAYS)
                returned_at = office_time_after(
                    rng, cal.add_working_days(end_at.date(), delay), end_at
                )
                events.append(
                    Event(
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
            if outcome != WITHDRAWN:
                life.ended_at = ended_at
            events.append(
                Event(
                    ended_at,
                    outcome,
                    _step(official, last, due_at, ended_at, what, result),
                    updates=updates,
                )
            )
        else:  # withdrawn while waiting for the supplement
            withdrawn_at = office_time_after(rng, cal.add_working_days(last.date(), 3), last)
            events.append(
                Event(
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
        life.versions = replay(base, events, horizon)
        return life

    def _deadline(self, start: date, working_days: int) -> datetime:
        return datetime.combine(self.cal.add_working_days(start, working_days), STEP_DEADLINE_TIME)

    def _handling_times(
        self, procedure: Procedure, last: datetime, due_at: datetime
    ) -> tuple[datetime | None, datetime, datetime]:
        """When the review asks another agency's opinion (None: it does not), when it ends,
        and when the approval ends: each step's working days drawn from the agency's, the
        procedure's and the step's pace (slowness.py); a late end is what these durations
        add up to, not a coin toss."""
        rng, cal = self.rng, self.cal
        consulted_at = None
        consultation = self.pace.consultation(rng, procedure)
        review_days = self.pace.step_days(rng, cal, procedure, REVIEW, last.date())
        if consultation is not None:
            asked_after, opinion_days = consultation
            consulted_at = office_time_after(
                rng, cal.add_working_days(last.date(), asked_after), last
            )
            review_days += asked_after + opinion_days
        review_day = cal.add_working_days(last.date(), review_days)
        review_at = office_time_after(rng, review_day, consulted_at or last)
        approval_days = self.pace.handover_days(rng, procedure) + self.pace.step_days(
            rng, cal, procedure, APPROVAL, review_day
        )
        end_day = cal.add_working_days(review_day, approval_days)
        end_at = office_time_after(rng, end_day, review_at)
        if end_at.date() == due_at.date() and end_at > due_at:
            # finished on the due day: before the appointment's hour, as counters close
            end_at = max(
                review_at + timedelta(minutes=1), due_at - timedelta(minutes=rng.randint(1, 60))
            )
        return consulted_at, review_at, end_at

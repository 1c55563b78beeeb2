"""What one agency's digest says, read from the marts (as the transformer login).

Sections: dossiers at risk (open, not yet late, flagged by `mart_dossiers_at_risk`), apology
letters due (late dossiers still without a Mẫu 04 letter), data-entry flags of the month's
records from the latest quality run (to correct before the month closes), and the Decision
766 components of the latest period against the thresholds, with the previous period beside
them. Units only: no officer appears (docs/personal-data.md); a code that is no registered
unit gets no digest, since it names nobody who could act on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from cchc.exports.rule_impact import describe, name
from cchc.exports.tables import COUNT, DATE, RATIO, Column, Table

AT_RISK = "marts.mart_dossiers_at_risk"
SCORES = "marts.mart_qd766_scores"


@dataclass(frozen=True)
class Week:
    """The ISO week a digest is for (Monday to Sunday)."""

    monday: date

    @classmethod
    def of(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass
class Component:
    """One component in the latest closed period, the closed period before it (the trend) and
    the period still running (to date: shown, never graded or alerted on, as it moves)."""

    code: str
    name: str
    max_points: Decimal
    period: str
    points: Decimal | None
    previous_period: str | None = None
    previous_points: Decimal | None = None
    to_date_points: Decimal | None = None
    numerator: int | None = None
    denominator: int | None = None
    previous_numerator: int | None = None
    previous_denominator: int | None = None

    def _share(self, points: Decimal | None) -> Decimal | None:
        return None if points is None or not self.max_points else points / self.max_points

    @property
    def share(self) -> Decimal | None:
        return self._share(self.points)

    @property
    def previous_share(self) -> Decimal | None:
        return self._share(self.previous_points)

    @property
    def to_date_share(self) -> Decimal | None:
        return self._share(self.to_date_points)


@dataclass
class AgencyDigest:
    province: str
    agency_code: str
    agency_name: str
    week: Week
    as_of: date
    thresholds: tuple[Decimal, ...]
    at_risk: Table
    apologies: Table
    flags: Table
    components: list[Component] = field(default_factory=list)

    def status(self, share: Decimal | None) -> str:
        """The grade of a share of maximum points against the thresholds, in Vietnamese."""
        if share is None:
            return "Chưa chấm điểm"
        low, high = self.thresholds[0], self.thresholds[-1]
        if share >= high:
            return "Đạt"
        return "Cần cải thiện" if share >= low else "Dưới ngưỡng"

    def component_table(self) -> Table:
        rows = []
        for c in self.components:
            trend = (
                None if c.share is None or c.previous_share is None else c.share - c.previous_share
            )
            rows.append((c.name, c.code, c.period, c.points, c.max_points, c.share,
                         self.status(c.share), c.previous_share, trend,
                         c.to_date_share))  # fmt: skip
        return Table("components", "Chỉ số Quyết định 766 của đơn vị so với ngưỡng",
                     "Decision 766 components against the thresholds", COMPONENT_COLUMNS, rows,
                     None if rows else "Chưa có điểm Quyết định 766 của đơn vị")  # fmt: skip

    def tables(self) -> list[Table]:
        return [self.at_risk, self.apologies, self.flags, self.component_table()]


AT_RISK_COLUMNS = [
    Column("dossier_code", "Mã hồ sơ", "Dossier code"),
    Column("procedure_code", "Mã thủ tục", "Procedure code"),
    Column("received_at", "Ngày tiếp nhận", "Received", DATE),
    Column("due_date", "Hạn trả kết quả", "Due date", DATE),
    Column("working_days_left", "Số ngày làm việc còn lại", "Working days left", COUNT),
    Column("holding_step", "Bước đang xử lý", "Step holding it"),
    Column("holding_agency_code", "Đơn vị đang giữ hồ sơ", "Agency holding it"),
    Column("risk_probability", "Xác suất trễ hạn", "Risk probability", RATIO),
    Column("risk_reason", "Lý do cảnh báo", "Reason", None, 45),
]
APOLOGY_COLUMNS = [
    Column("dossier_code", "Mã hồ sơ", "Dossier code"),
    Column("procedure_code", "Mã thủ tục", "Procedure code"),
    Column("due_date", "Hạn trả kết quả", "Due date", DATE),
    Column("working_days_late", "Số ngày làm việc quá hạn", "Working days late", COUNT),
    Column("holding_agency_code", "Đơn vị đang giữ hồ sơ", "Agency holding it"),
    Column("action", "Việc cần làm", "Action", None, 45),
]
FLAG_COLUMNS = [
    Column("record_key", "Mã bản ghi", "Record key"),
    Column("entity", "Loại bản ghi", "Entity"),
    Column("rule_name", "Lỗi", "Rule"),
    Column("rule_description", "Cần sửa", "What to correct", None, 50),
    Column("period_month", "Tháng", "Month", "mm/yyyy"),
]
COMPONENT_COLUMNS = [
    Column("component_name", "Thành phần chỉ số", "Component", None, 40),
    Column("component_code", "Mã", "Code"),
    Column("period", "Kỳ", "Period"),
    Column("points", "Điểm", "Points", "0.00"),
    Column("max_points", "Điểm tối đa", "Max points", "0.00"),
    Column("share", "Tỷ lệ đạt", "Share of max", RATIO),
    Column("status", "Đánh giá", "Grade"),
    Column("previous_share", "Tỷ lệ kỳ trước", "Previous share", RATIO),
    Column("trend", "Thay đổi so với kỳ trước", "Change", "+0.0%;-0.0%;0.0%"),
    Column("to_date_share", "Kỳ hiện tại (tạm tính)", "Current period to date", RATIO),
]
ENTITY_VI = {
    "dossiers": "Hồ sơ",
    "administrative_units": "Đơn vị hành chính",
    "dossier_syncs": "Đồng bộ hồ sơ lên Cổng DVCQG",
    "procedures": "Thủ tục hành chính",
    "payments": "Thanh toán trực tuyến",
    "ratings": "Đánh giá hài lòng",
    "petitions": "Phản ánh, kiến nghị",
    "evaluations": "Đánh giá Bộ chỉ số",
    "outgoing_documents": "Văn bản đi",
    "incoming_documents": "Văn bản đến",
}


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", [relation]).fetchone()[0]


def as_of_date(conn: psycopg.Connection, province: str, fallback: date) -> date:
    """The night the early-warning mart was built for (its data horizon)."""
    if _exists(conn, AT_RISK):
        row = conn.execute(f"select max(as_of_date) from {AT_RISK} where province_code = %s",
                           [province]).fetchone()  # fmt: skip
        if row[0] is not None:
            return row[0]
    return fallback


def agencies(conn: psycopg.Connection, province: str) -> list[tuple[str, str]]:
    """The province's registered units that have something to report: dossiers open at risk or
    late, or 766 scores."""
    sources = []
    if _exists(conn, AT_RISK):
        sources.append(f"select agency_code from {AT_RISK} where province_code = %(p)s"
                       " and (is_at_risk or is_late)")  # fmt: skip
    if _exists(conn, SCORES):
        sources.append(f"select scope_code from {SCORES} where province_code = %(p)s"
                       " and scope_kind = 'agency'")  # fmt: skip
    if not sources:
        return []
    return conn.execute(
        f"""
        select a.agency_code, a.agency_name from marts.dim_agencies a
        where a.province_code = %(p)s and a.is_known_unit
          and a.agency_code in ({" union ".join(sources)})
        order by a.agency_code
        """,
        {"p": province},
    ).fetchall()


def read_at_risk(conn, province: str, agency: str) -> Table:
    rows = []
    if _exists(conn, AT_RISK):
        rows = conn.execute(
            f"""
            select dossier_code, procedure_code, (received_at at time zone 'Asia/Ho_Chi_Minh')::date,
                   due_date, working_days_left, holding_step, holding_agency_code,
                   risk_probability, risk_reason
            from {AT_RISK}
            where province_code = %s and agency_code = %s and is_at_risk and not is_late
            order by working_days_left, due_date, dossier_code
            """,
            [province, agency],
        ).fetchall()
    return Table("at_risk", "Hồ sơ có nguy cơ trễ hạn trong tuần", "Dossiers at risk this week",
                 AT_RISK_COLUMNS, rows,
                 None if rows else "Không có hồ sơ có nguy cơ trễ hạn")  # fmt: skip


def read_apologies(conn, province: str, agency: str) -> Table:
    rows = []
    if _exists(conn, AT_RISK):
        rows = conn.execute(
            f"""
            select dossier_code, procedure_code, due_date, -working_days_left,
                   holding_agency_code,
                   'Ban hành thư xin lỗi (Mẫu 04) và hẹn lại ngày trả kết quả'
            from {AT_RISK}
            where province_code = %s and agency_code = %s
              and (is_late_without_apology or (apology_letter_due and not has_apology_letter))
            order by working_days_left, dossier_code
            """,
            [province, agency],
        ).fetchall()
    return Table("apologies", "Thư xin lỗi cần ban hành (Mẫu 04)", "Apology letters due",
                 APOLOGY_COLUMNS, rows,
                 None if rows else "Không có hồ sơ quá hạn chưa có thư xin lỗi")  # fmt: skip


def months_open(as_of: date, close_day: int) -> list[date]:
    """The months whose records may still be corrected: the current one, and the one before
    until its report closes on day `close_day` of the month after."""
    current = as_of.replace(day=1)
    previous = (current - timedelta(days=1)).replace(day=1)
    return [current, previous] if as_of.day <= close_day else [current]


def read_flags(conn, province: str, agency: str, months: list[date]) -> Table:
    """Data-entry flags of the latest run of each checked entity on the agency's records of
    `months`: the errors still to correct before the month's report is drawn up."""
    rows = []
    if _exists(conn, "dq.record_flags") and _exists(conn, "dq.validation_runs"):
        found = conn.execute(
            """
            with latest as (
                select distinct on (source, entity) source, entity, run_id
                from dq.validation_runs where source is not null and entity is not null
                order by source, entity, validated_at desc, run_id desc
            )
            select distinct f.record_key, f.entity, f.rule_id, f.period_month
            from dq.record_flags f join latest l using (source, entity, run_id)
            where f.province_code = %s and f.agency_code = %s and f.severity = 'data_entry'
              and f.period_month = any(%s)
            order by f.record_key, f.rule_id
            """,
            [province, agency, months],
        ).fetchall()
        rows = [(key, ENTITY_VI.get(entity, "Loại bản ghi khác"), name(rule), describe(rule), period)
                for key, entity, rule, period in found]  # fmt: skip
    return Table("flags", "Bản ghi cần sửa trước khi khóa số liệu tháng",
                 "Records to correct before the month closes", FLAG_COLUMNS, rows,
                 None if rows else "Không có bản ghi bị gắn cờ lỗi nhập liệu trong tháng")  # fmt: skip


def read_components(conn, province: str, agency: str, as_of: date, grain: str = "month"
                    ) -> list[Component]:  # fmt: skip
    """The agency's components in the latest period closed by `as_of`, the closed period
    before it for the trend, and the period still running, to date."""
    if not _exists(conn, SCORES):
        return []
    starts = [r[0] for r in conn.execute(
        f"""select distinct period_start from {SCORES} where province_code = %s
            and scope_kind = 'agency' and scope_code = %s and period_grain = %s
            and period_start <= %s order by 1 desc limit 3""",
        [province, agency, grain, as_of],
    )]  # fmt: skip
    running = [p for p in starts if _open(p, grain, as_of)][:1]
    closed = [p for p in starts if not _open(p, grain, as_of)][:2]
    if not closed:
        return []
    rows = conn.execute(
        f"""
        select component_code, min(component_name), period_start, min(period_label),
               min(points), min(max_points), min(numerator), min(denominator)
        from {SCORES}
        where province_code = %s and scope_kind = 'agency' and scope_code = %s
          and period_grain = %s and period_start = any(%s)
        group by component_code, period_start
        """,
        [province, agency, grain, running + closed],
    ).fetchall()
    by_period = {p: {r[0]: r for r in rows if r[2] == p} for p in running + closed}
    previous = by_period[closed[1]] if len(closed) > 1 else {}
    to_date = by_period[running[0]] if running else {}
    components = []
    for code, r in sorted(by_period[closed[0]].items()):
        before, now = previous.get(code), to_date.get(code)
        components.append(Component(
            code, r[1], r[5], r[3], r[4],
            before[3] if before else None, before[4] if before else None,
            now[4] if now else None,
            numerator=r[6], denominator=r[7],
            previous_numerator=before[6] if before else None,
            previous_denominator=before[7] if before else None,
        ))  # fmt: skip
    return components


def _open(period_start: date, grain: str, as_of: date) -> bool:
    """Whether the period goes on after `as_of` (month and quarter grains)."""
    months = {"month": 1, "quarter": 3}.get(grain, 12)
    index = period_start.year * 12 + period_start.month - 1 + months
    end = date(index // 12, index % 12 + 1, 1) - timedelta(days=1)
    return as_of < end


def read_digest(conn, province: str, agency: str, agency_name: str, week: Week, as_of: date,
                thresholds: tuple[Decimal, ...], close_day: int = 5) -> AgencyDigest:  # fmt: skip
    return AgencyDigest(
        province=province,
        agency_code=agency,
        agency_name=agency_name,
        week=week,
        as_of=as_of,
        thresholds=thresholds,
        at_risk=read_at_risk(conn, province, agency),
        apologies=read_apologies(conn, province, agency),
        flags=read_flags(conn, province, agency, months_open(as_of, close_day)),
        components=read_components(conn, province, agency, as_of),
    )

"""Restatements: a period's 766 figures that changed after they were exported or published.

Each quarterly export appends to `marts.qd766_figure_snapshots` the monthly figures it
exported (ours, from mart_qd766_scores) and the portal's as published (mart_qd766_official),
only the cells that are new or changed since their last snapshot. The table is only ever
appended to, so every figure once exported or published stays, with when it was taken.
A restatement is a cell whose figures differ between two snapshots, or between its last
snapshot and the data now (a late edit since).
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg

from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, relation_exists, require
from cchc.exports.tables import COUNT, POINTS, Column, Table

SNAPSHOTS = "marts.qd766_figure_snapshots"
DDL = f"""
create table if not exists {SNAPSHOTS} (
    taken_at timestamptz not null,
    origin text not null,  -- 'export': our figures as exported; 'portal': as published
    province_code text not null,
    scope_code text not null,
    period_start date not null,
    component_code text not null,
    numerator numeric,
    denominator numeric,
    points numeric
);
create index if not exists qd766_figure_snapshots_cell_ix
    on {SNAPSHOTS} (province_code, period_start, scope_code, component_code, taken_at);
comment on table {SNAPSHOTS} is
    'Số liệu 766 đã xuất hoặc đã công bố, theo lần chụp (chỉ ghi thêm, không sửa, không xóa)';
"""
# Our figures and the portal's, now, by cell (month grain, agencies and the province).
CURRENT = {
    "export": "select province_code, scope_code, period_start, component_code, numerator,"
    " denominator, points from marts.mart_qd766_scores where period_grain = 'month'"
    " and scope_kind in ('agency', 'province', 'unregistered_code')",
    "portal": "select province_code, scope_code, period_start, component_code, numerator,"
    " denominator, official_points from marts.mart_qd766_official where not is_group_total"
    " and official_points is not null",
}
SOURCES = ("marts.mart_qd766_scores", "marts.mart_qd766_official")
ORIGINS_VI = {"export": "Số liệu đã xuất (của hệ thống)", "portal": "Điểm Cổng DVCQG đã công bố"}


def _latest_sql(origin: str) -> str:
    return f"""
        select distinct on (province_code, scope_code, period_start, component_code)
            province_code, scope_code, period_start, component_code, numerator, denominator,
            points, taken_at
        from {SNAPSHOTS} where origin = '{origin}'
        order by province_code, scope_code, period_start, component_code, taken_at desc
    """


def record_snapshot(
    conn: psycopg.Connection, province: str, start: date, end: date, taken_at: datetime
) -> int:
    """Append the cells of months [start, end) that are new or changed; returns how many
    (none while the marts are not built)."""
    if not all(relation_exists(conn, m) for m in SOURCES):
        return 0
    conn.execute(DDL)
    added = 0
    for origin, current in CURRENT.items():
        cursor = conn.execute(
            f"""
            insert into {SNAPSHOTS}
            select %s, %s, now_.*
            from ({current}) as now_ (province_code, scope_code, period_start, component_code,
                                      numerator, denominator, points)
            left join ({_latest_sql(origin)}) as last
                using (province_code, scope_code, period_start, component_code)
            where now_.province_code = %s and now_.period_start >= %s and now_.period_start < %s
                and (last.scope_code is null
                     or (now_.numerator, now_.denominator, now_.points)
                        is distinct from (last.numerator, last.denominator, last.points))
            """,
            (taken_at, origin, province, start, end),
        )
        added += cursor.rowcount
    conn.commit()
    return added


COLUMNS = [
    Column("origin", "Nguồn số liệu", "Figures of"),
    Column("scope_code", "Mã đơn vị", "Unit code"),
    Column("period_start", "Tháng", "Month", "dd/mm/yyyy"),
    Column("component_code", "Mã chỉ số", "Component"),
    Column("taken_at", "Ngày xuất/công bố", "Exported or published on", "dd/mm/yyyy"),
    Column("points_then", "Điểm khi xuất/công bố", "Points then", POINTS),
    Column("restated_at", "Ngày phát hiện thay đổi", "Change seen on", "dd/mm/yyyy"),
    Column("points_after", "Điểm sau thay đổi", "Points after", POINTS),
    Column("points_change", "Chênh lệch điểm", "Change in points", POINTS),
    Column("numerator_then", "Tử số khi xuất", "Numerator then", COUNT),
    Column("numerator_after", "Tử số sau", "Numerator after", COUNT),
    Column("denominator_then", "Mẫu số khi xuất", "Denominator then", COUNT),
    Column("denominator_after", "Mẫu số sau", "Denominator after", COUNT),
]


def read_restatements(
    conn: psycopg.Connection, quarter: Quarter, province: str, now: datetime
) -> Table:
    """Every change of a figure after it was first exported or published: between two
    snapshots, and between the last snapshot and the data now (`now`: today's date)."""
    calendar = quarter.as_calendar()
    title = ("Số liệu 766 đã điều chỉnh sau khi xuất/công bố", "766 figures restated")
    try:
        for relation in (SNAPSHOTS, *SOURCES):
            require(conn, relation, [])
    except MissingSource:
        return Table("qd766_dieu_chinh", *title, COLUMNS, [],
                     "Chưa có lần xuất nào được lưu để so sánh")  # fmt: skip
    rows = []
    for origin, current in CURRENT.items():
        rows += conn.execute(
            f"""
            with history as (
                select origin, scope_code, period_start, component_code, taken_at, numerator,
                    denominator, points
                from {SNAPSHOTS}
                where origin = %s and province_code = %s and period_start between %s and %s
                union all
                -- the data now, as one more snapshot of each cell already snapshotted
                select %s, c.scope_code, c.period_start, c.component_code, %s,
                    c.numerator, c.denominator, c.points
                from ({current}) as c (province_code, scope_code, period_start, component_code,
                                       numerator, denominator, points)
                where c.province_code = %s and c.period_start between %s and %s
                    and exists (select from {SNAPSHOTS} s where s.origin = %s
                                and s.province_code = c.province_code
                                and s.scope_code = c.scope_code
                                and s.period_start = c.period_start
                                and s.component_code = c.component_code)
            ),
            paired as (
                select *,
                    lead(taken_at) over cell as after_at,
                    lead(points) over cell as points_after,
                    lead(numerator) over cell as numerator_after,
                    lead(denominator) over cell as denominator_after
                from history
                window cell as (partition by scope_code, period_start, component_code
                                order by taken_at)
            )
            select origin, scope_code, period_start, component_code, taken_at, points,
                after_at, points_after, points_after - points, numerator, numerator_after,
                denominator, denominator_after
            from paired
            where after_at is not null
                and (numerator, denominator, points)
                    is distinct from (numerator_after, denominator_after, points_after)
            order by scope_code, period_start, component_code, taken_at
            """,
            (origin, province, calendar.start, calendar.end, origin, now, province,
             calendar.start, calendar.end, origin),
        ).fetchall()  # fmt: skip
    vi = [(ORIGINS_VI[r[0]], *r[1:]) for r in rows]
    note = None if vi else f"Không có số liệu nào thay đổi sau khi xuất/công bố ({calendar.label})"
    return Table("qd766_dieu_chinh", *title, COLUMNS, vi, note)

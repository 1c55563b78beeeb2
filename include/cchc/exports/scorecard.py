"""Decision 766 scorecard for a calendar quarter: agencies × the six groups, components, charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, require, select
from cchc.exports.tables import COUNT, POINTS, RATIO, Column, Table

MART = "marts.mart_qd766_scores"
# (code, Vietnamese name, max points): Decision 766, domain §4.1, in the decision's order.
GROUPS = (
    ("CKMB", "Công khai, minh bạch", 18),
    ("TDGQ", "Tiến độ giải quyết", 20),
    ("DVCTT", "Dịch vụ công trực tuyến", 12),
    ("TTTT", "Thanh toán trực tuyến", 10),
    ("MDSH", "Mức độ số hóa hồ sơ", 22),
    ("MDHL", "Mức độ hài lòng", 18),
)
COMPONENT_COLUMNS = [
    "scope_kind", "scope_code", "scope_name", "group_code", "component_code", "component_name",
    "numerator", "denominator", "ratio", "points", "max_points", "is_estimate", "measure_basis",
    "group_points", "total_points", "total_max_points", "rank_in_period",
]  # fmt: skip


@dataclass
class Scores:
    quarter: Quarter  # always the calendar quarter: the 766 index has no legal quarters
    rows: list[dict]
    previous: list[dict]
    note: str | None = None


def read_scores(conn: psycopg.Connection, quarter: Quarter, province: str) -> Scores:
    calendar = quarter.as_calendar()

    def fetch(q: Quarter) -> list[dict]:
        require(conn, MART, ["province_code"])
        rows = select(conn, MART, COMPONENT_COLUMNS,
                      where="province_code = %s and period_grain = 'quarter' and period_label = %s",
                      params=[province, q.label],
                      order_by="scope_kind desc, scope_code, component_code")  # fmt: skip
        return [dict(zip(COMPONENT_COLUMNS, r, strict=True)) for r in rows]

    try:
        rows, previous = fetch(calendar), fetch(calendar.previous())
    except MissingSource as missing:
        return Scores(calendar, [], [], missing.note())
    note = None if rows else f"Chưa có điểm 766 cho {calendar.label} · no 766 scores yet"
    if quarter.is_legal:
        legal = "Chỉ số 766 tính theo quý dương lịch · the 766 index uses calendar quarters"
        note = " · ".join(n for n in (legal, note) if n)
    return Scores(calendar, rows, previous, note)


def _by_scope(rows: list[dict]) -> dict[tuple[str, str], dict]:
    scopes: dict[tuple[str, str], dict] = {}
    for r in rows:
        scope = scopes.setdefault(
            (r["scope_kind"], r["scope_code"]),
            {"name": r["scope_name"], "total": r["total_points"], "max": r["total_max_points"],
             "rank": r["rank_in_period"], "groups": {}},
        )  # fmt: skip
        scope["groups"][r["group_code"]] = r["group_points"]
    return scopes


def scorecard_table(scores: Scores) -> Table:
    current, previous = _by_scope(scores.rows), _by_scope(scores.previous)
    # Province first, then agencies by rank (ties by code): the order the letters use.
    order = sorted(current, key=lambda k: (k[0] != "province", current[k]["rank"] or 0, k[1]))
    rows = []
    for key in order:
        s = current[key]
        before = previous.get(key, {}).get("total")
        change = None if before is None or s["total"] is None else s["total"] - before
        name = s["name"] or ("Toàn tỉnh" if key[0] == "province" else key[1])
        groups = [s["groups"].get(code) for code, *_ in GROUPS]
        rows.append((key[1], name, *groups, s["total"], s["max"], s["rank"], before, change))
    columns = [
        Column("scope_code", "Mã đơn vị", "Scope code"),
        Column("scope_name", "Tên cơ quan, đơn vị", "Agency", width=40),
        *[
            Column(code.lower(), f"{name} ({mx})", f"{code} ({mx} points)", POINTS)
            for code, name, mx in GROUPS
        ],  # fmt: skip
        Column("total_points", "Tổng điểm", "Total points", POINTS),
        Column("total_max_points", "Điểm tối đa đã tính", "Max of groups computed", POINTS),
        Column("rank", "Xếp hạng", "Rank", COUNT),
        Column("previous_total", "Tổng điểm quý trước", "Previous quarter total", POINTS),
        Column(
            "change",
            "Tăng (+)/giảm (−) so với quý trước",
            "Change vs previous quarter",
            "+0.00;[Red]-0.00;0.00",
        ),  # fmt: skip
    ]
    return Table("qd766_bang_diem", f"Bảng điểm Chỉ số 766 — {scores.quarter.label}",
                 "Decision 766 scorecard", columns, rows, scores.note)  # fmt: skip


def components_table(scores: Scores) -> Table:
    keys = ["scope_code", "scope_name", "group_code", "component_code", "component_name",
            "numerator", "denominator", "ratio", "points", "max_points", "is_estimate",
            "measure_basis"]  # fmt: skip
    rows = [
        tuple("Ước tính" if k == "is_estimate" and r[k] else ("" if k == "is_estimate" else r[k])
              for k in keys)
        for r in sorted(scores.rows, key=lambda r: (r["scope_kind"] != "province",
                                                    r["scope_code"], r["component_code"]))
    ]  # fmt: skip
    columns = [
        Column("scope_code", "Mã đơn vị", "Scope code"),
        Column("scope_name", "Tên cơ quan, đơn vị", "Agency", width=32),
        Column("group_code", "Nhóm", "Group"),
        Column("component_code", "Mã thành phần", "Component"),
        Column("component_name", "Tên thành phần", "Component name", width=48),
        Column("numerator", "Tử số", "Numerator", COUNT),
        Column("denominator", "Mẫu số", "Denominator", COUNT),
        Column("ratio", "Tỷ lệ", "Ratio", RATIO),
        Column("points", "Điểm", "Points", POINTS),
        Column("max_points", "Điểm tối đa", "Max points", POINTS),
        Column("is_estimate", "Ước tính", "Estimated"),
        Column("measure_basis", "Cách tính", "Basis", width=60),
    ]
    return Table("qd766_thanh_phan", "Chỉ số 766 — điểm thành phần",
                 "Decision 766 components", columns, rows, scores.note)  # fmt: skip


def tables(scores: Scores) -> list[Table]:
    return [scorecard_table(scores), components_table(scores)]


def write_workbook(path: Path, scores: Scores, freshness: Freshness) -> None:
    card, components = tables(scores)
    book = wb.new_workbook(path, f"Chỉ số 766 — {scores.quarter.label}")
    fm = wb.Formats(book)
    for table, flag in ((card, None), (components, "is_estimate")):
        sheet = book.add_worksheet("Bảng điểm" if table is card else "Thành phần")
        last = len(table.columns) - 1
        sheet.merge_range(0, 0, 0, last, table.title_vi.upper(), fm.title)
        sheet.merge_range(1, 0, 1, last, f"Kỳ đánh giá: {scores.quarter.title_vi()}", fm.subtitle)
        row = wb.write_banner(sheet, fm, 2, last, freshness.warning_vi())
        if flag:
            sheet.merge_range(row, 0, row, last, "Ô tô màu: thành phần ước tính (công thức chính"
                              " thức chưa công bố) · shaded: estimated component", fm.note)  # fmt: skip
            row += 1
        top = row + 1
        wb.write_table(sheet, fm, table, row + 1, flag_column=flag)
        sheet.freeze_panes(top + 2 + (1 if table.note else 0), 2)
    _charts(book, fm, card)
    book.close()


def _charts(book, fm: wb.Formats, card: Table) -> None:
    """Two charts from a data block on their own sheet: province groups, agencies' totals."""
    sheet = book.add_worksheet("Biểu đồ")
    sheet.write_row(0, 0, ["Nhóm chỉ số", "Điểm", "Điểm tối đa"], fm.header)
    province = card.rows[0] if card.rows else None
    for i, (_code, name, mx) in enumerate(GROUPS, start=1):
        value = province[2 + i - 1] if province else None
        sheet.write_row(i, 0, [name, float(value) if value is not None else 0, mx])
    groups = book.add_chart({"type": "bar"})
    for col, label in ((1, "Điểm"), (2, "Điểm tối đa")):
        groups.add_series({"name": label, "categories": ["Biểu đồ", 1, 0, len(GROUPS), 0],
                           "values": ["Biểu đồ", 1, col, len(GROUPS), col]})  # fmt: skip
    groups.set_title({"name": "Điểm theo nhóm chỉ số — toàn tỉnh"})
    groups.set_size({"width": 720, "height": 360})
    sheet.insert_chart("E2", groups)
    # Provincial departments and districts only: hundreds of communes would be unreadable.
    agencies = [r for r in card.rows[1:] if r[0].count(".") == 1 and r[-5] is not None]
    start = len(GROUPS) + 3
    sheet.write_row(start, 0, ["Cơ quan, đơn vị", "Tổng điểm"], fm.header)
    for i, r in enumerate(agencies, start=start + 1):
        sheet.write_row(i, 0, [r[1], float(r[-5])])
    if agencies:
        totals = book.add_chart({"type": "bar"})
        totals.add_series({"name": "Tổng điểm",
                           "categories": ["Biểu đồ", start + 1, 0, start + len(agencies), 0],
                           "values": ["Biểu đồ", start + 1, 1, start + len(agencies), 1]})  # fmt: skip
        totals.set_title({"name": "Tổng điểm 766 — sở, ngành và cấp huyện"})
        totals.set_legend({"none": True})
        totals.set_size({"width": 720, "height": max(360, 18 * len(agencies))})
        sheet.insert_chart("E22", totals)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 2, 12)

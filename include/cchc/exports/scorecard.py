"""Decision 766 scorecard for a calendar quarter: agencies × the six groups, components, charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.readiness import DRAFT_MARK
from cchc.exports.sources import MissingSource, require, select
from cchc.exports.tables import COUNT, POINTS, RATIO, Column, Table

MART = "marts.mart_qd766_scores"
BOUNDS_MART = "marts.mart_qd766_bounds"
BOUNDS_COLUMNS = ["scope_kind", "scope_code", "component_code", "bounds_status", "points_low",
                  "points_high", "points_at_stake", "points_estimate", "flagged_records"]  # fmt: skip
AT_STAKE = "Điểm có thể sai lệch"
AT_STAKE_NOTE = (
    f"{AT_STAKE}: số điểm có thể thay đổi nếu mọi hồ sơ bị gắn cờ lỗi nhập liệu đều sai theo"
    " hướng bất lợi nhất hoặc có lợi nhất (điểm cao nhất − điểm thấp nhất, cộng các thành phần);"
    " không phải điểm bị trừ. Bằng 0: không có hồ sơ bị gắn cờ, hoặc không có quy tắc kiểm tra"
    " nhập liệu nào ảnh hưởng thành phần đó (danh mục thủ tục, đồng bộ lên Cổng, phản ánh kiến"
    " nghị). Để trống: thành phần không được chấm điểm."
)
# dbt var qd766_min_dossiers_ranked (dbt_project.yml): the mart ranks no unit below it.
MIN_DOSSIERS_RANKED = 10
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
    "group_points", "total_points", "total_max_points", "rank_in_period", "unit_level",
    "dossiers_received", "rank_status",
]  # fmt: skip
# The portal ranks each level apart: departments, districts (until 30/6/2025), communes.
LEVELS = {1: "Sở, ban, ngành", 2: "Cấp huyện", 3: "Cấp xã"}
INVALID_CODE = "Mã đơn vị không hợp lệ"
INVALID_CODE_NOTE = "Lỗi nhập liệu: mã không có trong danh mục đơn vị; hồ sơ vẫn tính vào toàn tỉnh"


@dataclass
class Scores:
    quarter: Quarter  # always the calendar quarter: the 766 index has no legal quarters
    rows: list[dict]
    previous: list[dict]
    note: str | None = None
    # (scope_kind, scope_code, component_code) -> its row of mart_qd766_bounds
    bounds: dict[tuple[str, str, str], dict] = field(default_factory=dict)


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
    note = None if rows else f"Chưa có điểm Chỉ số 766 cho {calendar.label}"
    if quarter.is_legal:
        legal = "Chỉ số 766 tính theo quý dương lịch"
        note = " · ".join(n for n in (legal, note) if n)
    bounds, missing_bounds = read_bounds(conn, calendar, province)
    if missing_bounds and rows:
        note = " · ".join(n for n in (note, missing_bounds) if n)
    return Scores(calendar, rows, previous, note, bounds)


def read_bounds(
    conn: psycopg.Connection, quarter: Quarter, province: str
) -> tuple[dict[tuple[str, str, str], dict], str | None]:
    """The quarter's bounds by scope and component, and a note when the mart is missing."""
    try:
        require(conn, BOUNDS_MART, ["province_code", "period_grain", "period_label",
                                    *BOUNDS_COLUMNS])  # fmt: skip
    except MissingSource as missing:
        return {}, missing.note()
    rows = select(conn, BOUNDS_MART, BOUNDS_COLUMNS,
                  where="province_code = %s and period_grain = 'quarter' and period_label = %s",
                  params=[province, quarter.label])  # fmt: skip
    bounds = [dict(zip(BOUNDS_COLUMNS, r, strict=True)) for r in rows]
    return {(b["scope_kind"], b["scope_code"], b["component_code"]): b for b in bounds}, None


def at_stake_by_scope(scores: Scores) -> dict[tuple[str, str], Decimal]:
    """Points at stake of each scope: the sum over its components with bounds (a scope none of
    whose components has bounds is left out: blank, not 0)."""
    stakes: dict[tuple[str, str], Decimal] = {}
    for (kind, code, _component), b in scores.bounds.items():
        if b["points_at_stake"] is not None:
            stakes[(kind, code)] = stakes.get((kind, code), Decimal(0)) + b["points_at_stake"]
    return stakes


def _by_scope(rows: list[dict]) -> dict[tuple[str, str], dict]:
    scopes: dict[tuple[str, str], dict] = {}
    for r in rows:
        scope = scopes.setdefault(
            (r["scope_kind"], r["scope_code"]),
            {"name": r["scope_name"], "total": r["total_points"], "max": r["total_max_points"],
             "rank": r["rank_in_period"], "level": r["unit_level"],
             "dossiers": r["dossiers_received"], "status": r["rank_status"], "groups": {}},
        )  # fmt: skip
        scope["groups"][r["group_code"]] = r["group_points"]
    return scopes


def _scope_order(key: tuple[str, str], scope: dict) -> tuple:
    """Province first; then each level's ranked units by rank, then its units below the minimum;
    unregistered codes last: the order the portal publishes, errors apart."""
    kind = {"province": 0, "agency": 1, "unregistered_code": 2}.get(key[0], 3)
    ranked = scope["status"] != "ranked"
    return (kind, scope["level"] or 0, ranked, scope["rank"] or 0, key[1])


def minimum_ranked_note(rows: list[dict]) -> str | None:
    """What the table says about units it does not rank (None when every unit is ranked)."""
    below = [r for r in rows if r["rank_status"] == "below_minimum"]
    if not below:
        return None
    fewest_ranked = min((r["dossiers_received"] for r in rows if r["rank_status"] == "ranked"),
                        default=None)  # fmt: skip
    most_below = max(r["dossiers_received"] for r in below)
    return (f"Đơn vị có dưới {MIN_DOSSIERS_RANKED} hồ sơ tiếp nhận trong kỳ được chấm điểm nhưng"
            f" không xếp hạng (nhiều nhất {most_below} hồ sơ"
            + (f"; đơn vị được xếp hạng có ít nhất {fewest_ranked}" if fewest_ranked else "")
            + ").")  # fmt: skip


def scorecard_table(scores: Scores) -> Table:
    current, previous = _by_scope(scores.rows), _by_scope(scores.previous)
    stakes = at_stake_by_scope(scores)
    order = sorted(current, key=lambda k: _scope_order(k, current[k]))
    rows = []
    for key in order:
        s = current[key]
        level = LEVELS.get(s["level"], "") if key[0] == "agency" else ""
        if key[0] == "unregistered_code":
            # Not a unit: no points, no rank; its dossiers are counted so the totals add up.
            rows.append((key[1], INVALID_CODE, level, s["dossiers"], *[None] * len(GROUPS),
                         None, None, None, None, None, None, INVALID_CODE_NOTE))  # fmt: skip
            continue
        before = previous.get(key, {}).get("total")
        change = None if before is None or s["total"] is None else s["total"] - before
        name = s["name"] or ("Toàn tỉnh" if key[0] == "province" else key[1])
        groups = [s["groups"].get(code) for code, *_ in GROUPS]
        note = (f"Chưa xếp hạng: dưới {MIN_DOSSIERS_RANKED} hồ sơ"
                if s["status"] == "below_minimum" else None)  # fmt: skip
        rank = s["rank"] if s["status"] in ("ranked", "province") else None
        rows.append((key[1], name, level, s["dossiers"], *groups, s["total"], stakes.get(key),
                     s["max"], rank, before, change, note))  # fmt: skip
    columns = [
        Column("scope_code", "Mã đơn vị", "Scope code"),
        Column("scope_name", "Tên cơ quan, đơn vị", "Agency", width=40),
        Column("unit_level", "Cấp đơn vị", "Level", width=15),  # "Sở, ban, ngành" on one line
        Column("dossiers_received", "Số hồ sơ tiếp nhận", "Dossiers received", COUNT),
        *[
            Column(code.lower(), f"{name} ({mx})", f"{code} ({mx} points)", POINTS)
            for code, name, mx in GROUPS
        ],  # fmt: skip
        Column("total_points", "Tổng điểm", "Total points", POINTS),
        Column("points_at_stake", AT_STAKE, "Points at stake (flagged records)", POINTS),
        Column("total_max_points", "Điểm tối đa đã tính", "Max of groups computed", POINTS),
        Column("rank", "Xếp hạng trong cấp", "Rank within the level", COUNT),
        Column("previous_total", "Tổng điểm quý trước", "Previous quarter total", POINTS),
        Column(
            "change",
            "Tăng (+)/giảm (−) so với quý trước",
            "Change vs previous quarter",
            "+0.00;[Red]-0.00;0.00",
        ),  # fmt: skip
        Column("remark", "Ghi chú", "Remark", width=24),  # wraps: the table fits A4 readably
    ]
    stake_note = AT_STAKE_NOTE if scores.bounds else None
    note = " · ".join(
        n for n in (scores.note, minimum_ranked_note(_first_rows(scores.rows)), stake_note) if n
    )
    return Table("qd766_bang_diem", f"Bảng điểm Chỉ số 766 — {scores.quarter.label}",
                 "Decision 766 scorecard", columns, rows, note or None)  # fmt: skip


def _first_rows(rows: list[dict]) -> list[dict]:
    """One row per scope (the mart is one row per component)."""
    return list({(r["scope_kind"], r["scope_code"]): r for r in rows}.values())


def components_table(scores: Scores) -> Table:
    keys = ["scope_code", "scope_name", "group_code", "component_code", "component_name",
            "numerator", "denominator", "ratio", "points", "max_points", "points_low",
            "points_high", "points_at_stake", "is_estimate", "measure_basis"]  # fmt: skip

    def cell(r: dict, key: str):
        if key == "is_estimate":
            return "Ước tính" if r[key] else ""
        if key == "scope_name" and not r[key] and r["scope_kind"] == "province":
            return "Toàn tỉnh"  # as the scorecard names it
        if key in r:
            return r[key]
        # the bounds (mart_qd766_bounds): empty when the component has none
        bounds = scores.bounds.get((r["scope_kind"], r["scope_code"], r["component_code"]), {})
        return bounds.get(key)

    # Units' components only: an unregistered code is no unit and has no score to explain.
    rows = [
        tuple(cell(r, k) for k in keys)
        for r in sorted(scores.rows, key=lambda r: (r["scope_kind"] != "province",
                                                    r["scope_code"], r["component_code"]))
        if r["scope_kind"] != "unregistered_code"
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
        Column("points_low", "Điểm thấp nhất", "Lowest points (flagged records wrong)", POINTS),
        Column("points_high", "Điểm cao nhất", "Highest points (flagged records wrong)", POINTS),
        Column("points_at_stake", AT_STAKE, "Points at stake", POINTS),
        Column("is_estimate", "Ước tính", "Estimated"),
        Column("measure_basis", "Cách tính", "Basis", width=60),
    ]
    note = " · ".join(n for n in (scores.note, AT_STAKE_NOTE if scores.bounds else None) if n)
    return Table("qd766_thanh_phan", "Chỉ số 766 — điểm thành phần",
                 "Decision 766 components", columns, rows, note or None)  # fmt: skip


def tables(scores: Scores) -> list[Table]:
    return [scorecard_table(scores), components_table(scores)]


def write_workbook(path: Path, scores: Scores, freshness: Freshness,
                   causes: Table | None = None) -> None:  # fmt: skip
    card, components = tables(scores)
    title = f"Chỉ số 766 — {scores.quarter.label}"
    book = wb.new_workbook(path, title)
    fm = wb.Formats(book)
    period = f"Kỳ đánh giá: {scores.quarter.title_vi()}"
    _table_sheet(book, fm, "Bảng điểm", card, [period, freshness.as_of_vi()], freshness)
    _components_sheet(book, fm, components, [period, freshness.as_of_vi()], freshness,
                      _levels(scores))  # fmt: skip
    if causes is not None:  # why the portal's points differ from ours, per component
        _table_sheet(book, fm, "Nguyên nhân chênh lệch", causes,
                     [period, freshness.as_of_vi()], freshness)  # fmt: skip
    _charts(book, fm, card, freshness)
    book.close()


def _table_sheet(book, fm: wb.Formats, name: str, table: Table, lines: list[str],
                 freshness: Freshness, *, flag: str | None = None, note: str | None = None,
                 rows: list[tuple] | None = None):  # fmt: skip
    sheet = book.add_worksheet(name)
    last = len(table.columns) - 1
    row = wb.write_title_block(sheet, fm, last, table.title_vi, lines)
    row = wb.write_banner(sheet, fm, row, last, freshness.warning_vi(), note,
                          sum(wb.column_widths(table)))  # fmt: skip
    header = row + 1 + (1 if table.note else 0)
    end = wb.write_table(sheet, fm, table, row + 1, flag_column=flag, rows=rows)
    sheet.freeze_panes(header + 1, 2)
    wb.print_setup(sheet, title=table.title_vi, horizon=freshness.as_of_vi(),
                   repeat=(header, header))  # fmt: skip
    return sheet, header, end


def _levels(scores: Scores) -> dict[str, int]:
    """Each scope's level as the mart defines it (unit_level): 0 the province, 1 departments,
    2 districts, 3 communes; a unit of unknown level is taken as a commune (printed last)."""
    return {r["scope_code"]: 0 if r["scope_kind"] == "province" else (r["unit_level"] or 3)
            for r in scores.rows}  # fmt: skip


def _components_sheet(book, fm: wb.Formats, components: Table, lines: list[str],
                      freshness: Freshness, levels: dict[str, int]) -> None:  # fmt: skip
    """Components of the province, the departments and the districts first: the printed
    pages; the communes' components follow for the screen (and are in the CSV)."""
    table = components.without("measure_basis")
    code, component = (table.columns.index(c) for c in _columns(table, "scope_code",
                                                                   "component_code"))  # fmt: skip
    rows = sorted(table.rows, key=lambda r: (levels.get(r[code], 3), r[code], r[component]))
    printed = sum(1 for r in rows if levels.get(r[code], 3) < 3)
    note = "Ô tô màu: thành phần ước tính (công thức chính thức chưa công bố)."
    if printed < len(rows):
        note += (" Bản in gồm toàn tỉnh, các sở, ban, ngành và cấp huyện; điểm thành phần cấp xã"
                 " ở các dòng sau vùng in và trong tệp CSV điểm thành phần đi kèm.")  # fmt: skip
    sheet, header, end = _table_sheet(book, fm, "Thành phần", table, lines, freshness,
                                      flag="is_estimate", note=note, rows=rows)  # fmt: skip
    if printed < len(rows):
        sheet.print_area(0, 0, header + printed, len(table.columns) - 1)


def _columns(table: Table, *keys: str) -> list[Column]:
    by_key = {c.key: c for c in table.columns}
    return [by_key[k] for k in keys]


CHART_PAGE_ROW = 20  # below the groups' chart (340 px, about 17 rows)


def _charts(book, fm: wb.Formats, card: Table, freshness: Freshness) -> None:
    """Two charts from a data block on their own sheet: province groups, agencies' totals;
    a draft's chart titles start with its mark."""
    mark = f"{DRAFT_MARK} — " if freshness.draft else ""
    sheet = book.add_worksheet("Biểu đồ")
    sheet.write_row(0, 0, ["Nhóm chỉ số", "Điểm", "Điểm tối đa"], fm.header)
    province = card.rows[0] if card.rows else None
    first_group = card.columns.index(_columns(card, GROUPS[0][0].lower())[0])
    for i, (_code, name, mx) in enumerate(GROUPS, start=1):
        value = province[first_group + i - 1] if province else None
        sheet.write_row(i, 0, [name, float(value) if value is not None else 0, mx], fm.text)
    axis_font = {"name": wb.FONT, "size": 9}
    groups = book.add_chart({"type": "bar"})
    for col, label in ((1, "Điểm"), (2, "Điểm tối đa")):
        groups.add_series({"name": label, "categories": ["Biểu đồ", 1, 0, len(GROUPS), 0],
                           "values": ["Biểu đồ", 1, col, len(GROUPS), col]})  # fmt: skip
    groups.set_title({"name": f"{mark}Điểm theo nhóm chỉ số — toàn tỉnh",
                      "name_font": {"name": wb.FONT, "size": 12}})  # fmt: skip
    groups.set_legend({"position": "bottom", "font": axis_font})
    groups.set_x_axis({"num_font": axis_font})
    groups.set_y_axis({"num_font": axis_font})
    groups.set_size({"width": 760, "height": 340})
    groups.set_plotarea({"layout": {"x": 0.3, "y": 0.12, "width": 0.66, "height": 0.7}})
    sheet.insert_chart("E2", groups)
    # Ranked departments and districts only: hundreds of communes would be unreadable.
    level, total, rank = (
        card.columns.index(c) for c in _columns(card, "unit_level", "total_points", "rank")
    )
    agencies = [r for r in card.rows[1:] if r[level] in (LEVELS[1], LEVELS[2])
                and r[rank] is not None and r[total] is not None]  # fmt: skip
    # The agencies' chart starts a printed page of its own, sized to fit it: a chart split
    # across two pages loses its labels.
    start = CHART_PAGE_ROW
    sheet.set_h_pagebreaks([start])
    sheet.write_row(start, 0, ["Cơ quan, đơn vị", "Tổng điểm"], fm.header)
    for i, r in enumerate(agencies, start=start + 1):
        sheet.write_row(i, 0, [r[1], float(r[total])], fm.text)
    if agencies:
        totals = book.add_chart({"type": "bar"})
        totals.add_series({"name": "Tổng điểm",
                           "categories": ["Biểu đồ", start + 1, 0, start + len(agencies), 0],
                           "values": ["Biểu đồ", start + 1, 1, start + len(agencies), 1]})  # fmt: skip
        totals.set_title({"name": f"{mark}Tổng điểm 766 — sở, ngành và cấp huyện",
                          "name_font": {"name": wb.FONT, "size": 12}})  # fmt: skip
        totals.set_legend({"none": True})
        totals.set_x_axis({"num_font": axis_font})
        # Every agency's name (a bar chart's category axis is y), not every other one.
        totals.set_y_axis({"num_font": {"name": wb.FONT, "size": 8}, "reverse": True,
                           "interval_unit": 1})  # fmt: skip
        totals.set_size({"width": 760, "height": min(600, max(340, 13 * len(agencies) + 90))})
        sheet.insert_chart(start + 1, 4, totals)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 2, 12)
    wb.print_setup(sheet, title="Biểu đồ Chỉ số 766", horizon=freshness.as_of_vi(), repeat=None)

"""The causes of each difference between the portal's 766 scores and ours (cchc.qd766.causes),
as two tables of the reconciliation: per component for the quarter, and per agency × month ×
component where the two differ."""

from __future__ import annotations

from collections import defaultdict

import psycopg

from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, require
from cchc.exports.tables import POINTS, RATIO, Column, Table
from cchc.qd766.causes import CAUSES, CAUSES_VI, build_steps, decompose
from cchc.qd766.causes_source import from_warehouse, ours_from_warehouse
from cchc.qd766.portal_rule import next_month
from cchc.qd766.rules import load_rules

NEEDED = ("raw.onestop__dossiers", "raw.portal__dossier_syncs", "raw.portal__petitions",
          "raw.portal__ratings", "raw.onestop__administrative_units",
          "marts.mart_qd766_official", "marts.mart_qd766_scores")  # fmt: skip
CAUSE_COLUMNS = [Column(c, CAUSES_VI[c], c.replace("_", " ").capitalize(), POINTS)
                 for c in CAUSES]  # fmt: skip
DETAIL = "qd766_nguyen_nhan_lech"
SUMMARY = "qd766_nguyen_nhan_tong_hop"


def read_causes(conn: psycopg.Connection, quarter: Quarter, province: str) -> list[Table]:
    calendar = quarter.as_calendar()
    detail_title = ("Nguyên nhân chênh lệch điểm 766 theo đơn vị, tháng, chỉ số",
                    "Causes of each 766 difference")  # fmt: skip
    summary_title = ("Nguyên nhân chênh lệch điểm 766 theo chỉ số (cả quý)",
                     "Causes of the 766 differences by component")  # fmt: skip
    detail_columns = [
        Column("scope_code", "Mã đơn vị", "Unit code"),
        Column("period_start", "Tháng", "Month", "dd/mm/yyyy"),
        Column("component_code", "Mã chỉ số", "Component"),
        Column("component_name", "Chỉ số", "Component name", width=40),
        Column("our_points", "Điểm tính lại", "Our points", POINTS),
        Column("official_points", "Điểm Cổng chấm ngày công bố", "Official, as published",
               POINTS),
        Column("portal_rule_now_points", "Điểm theo cách tính của Cổng trên dữ liệu hiện nay",
               "Portal's rule on the data now", POINTS),
        Column("difference", "Chênh lệch (tính lại − chính thức)", "Difference", POINTS),
        *CAUSE_COLUMNS,
    ]  # fmt: skip
    summary_columns = [
        Column("component_code", "Mã chỉ số", "Component"),
        Column("component_name", "Chỉ số", "Component name", width=40),
        Column("cells_differing", "Số dòng chênh lệch", "Cells differing", "#,##0"),
        Column("abs_difference", "Tổng chênh lệch tuyệt đối", "Sum of |difference|", POINTS),
        *CAUSE_COLUMNS,
        Column("residual_share", "Tỷ lệ chưa giải thích", "Residual share of |difference|",
               RATIO),
    ]  # fmt: skip
    try:
        for relation in NEEDED:
            require(conn, relation, [])
    except MissingSource:
        note = ("Chưa có dữ liệu: bản ghi gốc của Hệ thống một cửa, Cổng DVCQG hoặc bảng điểm"
                " 766 chưa được nạp, chưa phân tích được nguyên nhân chênh lệch")  # fmt: skip
        return [Table(DETAIL, *detail_title, detail_columns, [], note),
                Table(SUMMARY, *summary_title, summary_columns, [], note)]  # fmt: skip
    end = next_month(calendar.end)
    inputs = from_warehouse(conn, province, calendar.start, end)
    ours = ours_from_warehouse(conn, province, calendar.start, end)
    steps = build_steps(inputs.dossiers, inputs.petitions, inputs.snapshot_of(), inputs.unit_on)
    rules = load_rules()
    every = decompose(steps, ours, inputs.official, rules)
    # the rows that differ, largest first; the summary sums every cell (causes may offset)
    causes = sorted((c for c in every if c.difference),
                    key=lambda c: (-abs(c.difference), c.agency, c.month, c.component))  # fmt: skip
    detail = [
        (c.agency, c.month, c.component, rules[c.component].name_vi, c.ours.points,
         c.official.points, c.portal_rule_now, c.difference, *(c.shares[k] for k in CAUSES))
        for c in causes
    ]  # fmt: skip
    totals: dict[str, list] = defaultdict(lambda: [0, 0, *([0] * len(CAUSES)), 0])
    for c in every:
        row = totals[c.component]
        row[0] += bool(c.difference)
        row[1] += abs(c.difference)
        for i, k in enumerate(CAUSES):
            row[2 + i] += c.shares[k]
        row[-1] += abs(c.shares["residual"])
    summary = [
        (code, rules[code].name_vi, row[0], row[1], *row[2:-1], row[-1] / row[1] if row[1] else 0)
        for code, row in sorted(totals.items(), key=lambda kv: rules[kv[0]].sort_order)
    ]
    note = None if causes else f"Không có chênh lệch nào giữa điểm Cổng và điểm tính lại ({calendar.label})"  # fmt: skip
    return [Table(DETAIL, *detail_title, detail_columns, detail, note),
            Table(SUMMARY, *summary_title, summary_columns, summary, note)]  # fmt: skip

"""The causes of each difference between the portal's 766 scores and ours, as two tables of
the reconciliation: per agency × month × component where the two differ, and per component
for the quarter. Both read marts.mart_qd766_reconciliation_causes, which BI reads too: the
export recomputes nothing (cchc.qd766.causes, the same steps in Python, only checks the mart)."""

from __future__ import annotations

import psycopg

from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, require
from cchc.exports.tables import POINTS, RATIO, Column, Table
from cchc.qd766.causes import CAUSES, CAUSES_VI
from cchc.qd766.rules import load_rules

MART = "marts.mart_qd766_reconciliation_causes"
CAUSE_COLUMNS = [Column(c, CAUSES_VI[c], c.replace("_", " ").capitalize(), POINTS)
                 for c in CAUSES]  # fmt: skip
SHARES = ", ".join(f"{c}_points" for c in CAUSES)
# the dossiers the warehouse counts behind the causes (mart column -> Vietnamese header)
DOSSIER_COUNTS = {
    "dossiers_edited_after_snapshot": "Số hồ sơ sửa sau ngày Cổng chốt",
    "dossiers_not_synced": "Số hồ sơ chưa đồng bộ lên Cổng",
    "dossiers_status_mismatch": "Số hồ sơ có trạng thái trên Cổng khác",
    "dossiers_unit_remapped": "Số hồ sơ của đơn vị đã sáp nhập",
}
CAUSES_NOTE = (
    "Chênh lệch = điểm tính lại − điểm Cổng DVCQG chấm ngày công bố; mỗi cột nguyên nhân là"
    " phần chênh lệch do nguyên nhân đó (cộng các cột bằng chênh lệch). Cách tính chính thức"
    " là của Cổng: đúng hạn xét theo tháng tiếp nhận, trên số liệu tại ngày Cổng chốt (0 giờ"
    " ngày 5 tháng sau); cách tính của hệ thống là phương án thay thế. Chỉ tách nguyên nhân"
    " cho các chỉ số đã biết cách tính của Cổng."
)
DETAIL = "qd766_nguyen_nhan_lech"
SUMMARY = "qd766_nguyen_nhan_tong_hop"

# the rows that differ, largest first
DETAIL_SQL = f"""
select scope_code, scope_name, period_start, component_code, component_name, our_points,
    official_points,
    portal_rule_now_points, difference, {SHARES}, {", ".join(DOSSIER_COUNTS)}
from {MART}
where province_code = %s and has_portal_rule and difference <> 0
    and period_start >= %s and period_start <= %s
order by abs(difference) desc, scope_code, period_start, component_code
"""
# every cell of the quarter, differing or not (causes may offset)
SUMMARY_SQL = f"""
select component_code, min(component_name), count(*) filter (where difference <> 0),
    sum(abs(difference)), {", ".join(f"sum({c}_points)" for c in CAUSES)},
    coalesce(sum(abs(residual_points)) / nullif(sum(abs(difference)), 0), 0)
from {MART}
where province_code = %s and has_portal_rule and period_start >= %s and period_start <= %s
group by component_code
"""


def read_causes(conn: psycopg.Connection, quarter: Quarter, province: str) -> list[Table]:
    calendar = quarter.as_calendar()
    detail_title = ("Nguyên nhân chênh lệch điểm 766 theo đơn vị, tháng, chỉ số",
                    "Causes of each 766 difference")  # fmt: skip
    summary_title = ("Nguyên nhân chênh lệch điểm 766 theo chỉ số (cả quý)",
                     "Causes of the 766 differences by component")  # fmt: skip
    detail_columns = [
        Column("scope_code", "Mã đơn vị", "Unit code"),
        Column("scope_name", "Tên cơ quan, đơn vị", "Unit name", width=30),
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
        *(Column(k, vi, k.replace("_", " ").capitalize(), "#,##0")
          for k, vi in DOSSIER_COUNTS.items()),
    ]  # fmt: skip
    summary_columns = [
        Column("component_code", "Mã chỉ số", "Component", width=42),
        Column("component_name", "Chỉ số", "Component name", width=56),
        Column("cells_differing", "Số dòng chênh lệch", "Cells differing", "#,##0"),
        Column("abs_difference", "Tổng chênh lệch tuyệt đối", "Sum of |difference|", POINTS),
        *CAUSE_COLUMNS,
        Column("residual_share", "Tỷ lệ chưa giải thích", "Residual share of |difference|",
               RATIO),
    ]  # fmt: skip
    try:
        require(conn, MART, [])
    except MissingSource:
        note = ("Chưa có dữ liệu: bảng nguyên nhân chênh lệch điểm 766 chưa được xây dựng,"
                " chưa phân tích được nguyên nhân chênh lệch")  # fmt: skip
        return [Table(DETAIL, *detail_title, detail_columns, [], note),
                Table(SUMMARY, *summary_title, summary_columns, [], note)]  # fmt: skip
    params = (province, calendar.start, calendar.end)
    detail = [tuple(r) for r in conn.execute(DETAIL_SQL, params)]
    rules = load_rules()
    summary = sorted((tuple(r) for r in conn.execute(SUMMARY_SQL, params)),
                     key=lambda r: rules[r[0]].sort_order if r[0] in rules else 999)  # fmt: skip
    none = f"Không có chênh lệch nào giữa điểm Cổng và điểm tính lại ({calendar.label})"
    return [Table(DETAIL, *detail_title, detail_columns, detail, None if detail else none),
            Table(SUMMARY, *summary_title, summary_columns, summary,
                  CAUSES_NOTE if detail else none)]  # fmt: skip

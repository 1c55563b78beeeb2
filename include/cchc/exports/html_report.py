"""The quarter's HTML report: one self-contained page, readable offline (inline CSS and SVG),
in Vietnamese only, like the workbooks (rules by their Vietnamese names, yes/no in words)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from cchc.exports import svg
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.rule_impact import name as rule_name
from cchc.exports.scorecard import AT_STAKE, AT_STAKE_NOTE, GROUPS
from cchc.exports.tables import COUNT, POINTS, RATIO, Table
from cchc.exports.workbook import vietnamese

HOT_SPOTS = 15
AT_STAKE_ROWS = 30
AT_STAKE_KEYS = ("scope_code", "scope_name", "component_name", "points", "points_low",
                 "points_high", "points_at_stake")  # fmt: skip
CSS = """
body{font-family:"Times New Roman",serif;margin:24px;color:#222;max-width:980px}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:32px}
.warning{background:#FFC7CE;color:#9C0006;border:1px solid #9C0006;padding:10px;font-weight:bold}
.note{color:#7F6000;font-style:italic}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #bbb;padding:3px 6px}th{background:#DDEBF7}
td.n{text-align:right}svg.chart text{font-size:12px;font-family:inherit}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def _cell(value, fmt) -> str:
    value = vietnamese(value)
    if value is None:
        return "<td></td>"
    if fmt == COUNT and isinstance(value, (int, float)):
        return f'<td class="n">{value:,.0f}</td>'.replace(",", ".")
    if fmt == RATIO and isinstance(value, (int, float)):
        return f'<td class="n">{value:.1%}</td>'
    if fmt == POINTS and isinstance(value, (int, float)):
        return f'<td class="n">{value:.2f}</td>'
    return f"<td>{escape(str(value))}</td>"


def _table(table: Table, limit: int | None = None) -> str:
    table = table.without("rule_id", "rules", "measure_basis", "row_kind")  # the CSV's keys
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    head = "".join(f"<th>{escape(c.vi)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(_cell(v, c.fmt) for c, v in zip(table.columns, row, strict=True)) + "</tr>"
        for row in table.rows[:limit]
    )
    more = ""
    if limit is not None and len(table.rows) > limit:
        more = f'<p class="note">… {len(table.rows) - limit} dòng nữa trong tệp CSV/XLSX</p>'
    return f"{note}<table><tr>{head}</tr>{body}</table>{more}"


def at_stake_table(components: Table) -> Table:
    """The components whose points could move most if their flagged dossiers are wrong."""
    keep = [c for c in components.columns if c.key in AT_STAKE_KEYS]
    records = [r for r in components.records() if r.get("points_at_stake")]
    # the province's own components first (its points at stake broken down), then the
    # largest of the units'; a province's code is the one without a dot (H40, not H40.12)
    records.sort(key=lambda r: ("." in r["scope_code"], -r["points_at_stake"], r["scope_code"],
                                r["component_name"]))  # fmt: skip
    rows = [tuple(r[c.key] for c in keep) for r in records]
    note = AT_STAKE_NOTE if rows else "Không có thành phần nào có hồ sơ bị gắn cờ lỗi nhập liệu."
    return Table("qd766_diem_sai_lech", AT_STAKE, "Points at stake", keep, rows, note)


RECONCILIATION_EXTRAS = ("qd766_nguyen_nhan_tong_hop", "qd766_nguyen_nhan_lech",
                         "qd766_dieu_chinh")  # fmt: skip


def render(quarter: Quarter, province: str, freshness: Freshness, t: dict[str, Table]) -> str:
    warning = freshness.warning_vi()
    banner = ""
    if warning:
        banner = f'<p class="warning">{escape(warning)}</p>'
    district = t["ty_le_truc_tuyen_theo_huyen"]
    trend = t["xu_huong_dung_han"]
    card = t["qd766_bang_diem"]
    dq = t["chat_luong_theo_don_vi"]
    province_row = card.records()[0] if card.rows else None
    groups = [(f"{name} ({code})", float(province_row[code.lower()] or 0), mx)
              for code, name, mx in GROUPS
              if province_row and province_row[code.lower()] is not None]  # fmt: skip
    hot = dq.records()[:HOT_SPOTS]
    agencies = list(dict.fromkeys(f"{r['agency_code']} {r['agency_name'] or ''}" for r in hot))
    rules = sorted({rule_name(r["rule_id"]) for r in hot})
    rates = {(f"{r['agency_code']} {r['agency_name'] or ''}", rule_name(r["rule_id"])):
             float(r["flag_rate"]) for r in hot}  # fmt: skip
    sections = [
        ("Tỷ lệ hồ sơ trực tuyến theo huyện",
         svg.bars("Tỷ lệ trực tuyến", [(r[1], float(r[4] or 0), 1.0) for r in district.rows],
                  lambda v: f"{v:.1%}") + _table(district)),
        ("Xu hướng giải quyết đúng hạn (toàn tỉnh, theo tháng, cách tính Chỉ số 766)",
         svg.line("Tỷ lệ đúng hạn", [(r[0], float(r[3] or 0)) for r in trend.rows]) + _table(trend)),
        ("Điểm Chỉ số 766 theo nhóm (toàn tỉnh)",
         svg.bars("Điểm nhóm", groups, lambda v: f"{v:.2f}") + _table(card, 40)),
        (f"{AT_STAKE} do lỗi nhập liệu (toàn tỉnh theo thành phần, rồi các thành phần của đơn"
         " vị có nhiều điểm có thể sai lệch nhất)",
         _table(at_stake_table(t["qd766_thanh_phan"]), AT_STAKE_ROWS)),
        ("Điểm nóng chất lượng dữ liệu (tỷ lệ gắn cờ theo đơn vị và quy tắc)",
         svg.heatmap("Tỷ lệ gắn cờ", agencies, rules, rates) + _table(dq, 40)),
        ("Biểu 06/VPCP/KSTT — tổng hợp toàn tỉnh",
         _table(t["form06_tong_hop"])),
        ("Đối chiếu điểm 766 chính thức và điểm tính lại",
         _table(t["qd766_doi_chieu"], 60)),
    ]  # fmt: skip
    # the causes of the differences and the restatements, when the export has them
    sections += [(t[name].title_vi, _table(t[name], 40)) for name in RECONCILIATION_EXTRAS
                 if name in t]  # fmt: skip
    body = "".join(f"<h2>{escape(vi)}</h2>{content}" for vi, content in sections)
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>Báo cáo CCHC {escape(quarter.label)}</title><style>{CSS}</style></head><body>"
        f"<h1>Báo cáo kết quả cải cách hành chính — {escape(province)}</h1>"
        f"<p>Kỳ báo cáo: {escape(quarter.title_vi())}</p>"
        f"<p>{escape(freshness.as_of_vi())}</p>{banner}{body}</body></html>\n"
    )


def write_html(path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")

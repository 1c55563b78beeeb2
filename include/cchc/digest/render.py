"""An agency's digest as an HTML e-mail body and as a printable XLSX (A4, Vietnamese, dated)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2

from cchc.digest.content import AgencyDigest
from cchc.exports import workbook as wb
from cchc.exports.tables import COUNT, RATIO


def title(digest: AgencyDigest) -> str:
    return f"Bản tin tuần {digest.week.label}: {digest.agency_name}"


def subject(digest: AgencyDigest) -> str:
    """The e-mail subject: week, agency and the two counts that call for action."""
    return (f"[CCHC] Bản tin tuần {digest.week.label} – {digest.agency_name} ({digest.agency_code}):"
            f" {len(digest.at_risk.rows)} hồ sơ có nguy cơ trễ hạn,"
            f" {len(digest.apologies.rows)} thư xin lỗi cần ban hành")  # fmt: skip


def horizon(digest: AgencyDigest) -> str:
    return f"Số liệu đến hết ngày {digest.as_of:%d/%m/%Y}"


def _cell(value, fmt: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, datetime | date):
        return f"{value:%m/%Y}" if fmt == "mm/yyyy" else f"{value:%d/%m/%Y}"
    if fmt == RATIO or (fmt and "%" in fmt):
        share = float(value) * 100
        return (
            f"{share:+.1f}%".replace(".", ",")
            if fmt != RATIO
            else f"{share:.1f}%".replace(".", ",")
        )
    if fmt == COUNT:
        return f"{int(value):,}".replace(",", ".")
    if isinstance(value, Decimal | float):
        return f"{float(value):.2f}".replace(".", ",")
    return str(value)


# An e-mail body stays readable: longer tables are cut there, whole in the attachment.
MAX_HTML_ROWS = 100

TEMPLATE = jinja2.Environment(autoescape=True).from_string("""\
<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: "Times New Roman", serif; font-size: 11pt; color: #000; }
table { border-collapse: collapse; margin: 4pt 0 12pt; }
th, td { border: 1px solid #777; padding: 2pt 4pt; vertical-align: top; }
th { background: #DDEBF7; }
.below { background: #FFC7CE; } .watch { background: #FFEB9C; }
@page { size: A4 landscape; margin: 12mm; }
</style></head>
<body>
<h1>{{ title }}</h1>
<p><b>Đơn vị:</b> {{ d.agency_name }} ({{ d.agency_code }}) · <b>Tuần:</b> {{ d.week.label }}
({{ d.week.monday.strftime("%d/%m/%Y") }}–{{ d.week.sunday.strftime("%d/%m/%Y") }}) ·
<b>{{ horizon }}</b></p>
<ul>
<li>Hồ sơ có nguy cơ trễ hạn: <b>{{ d.at_risk.rows|length }}</b></li>
<li>Thư xin lỗi cần ban hành (Mẫu 04): <b>{{ d.apologies.rows|length }}</b></li>
<li>Bản ghi cần sửa trước khi khóa số liệu tháng: <b>{{ d.flags.rows|length }}</b></li>
<li>Thành phần chỉ số Quyết định 766 dưới ngưỡng {{ low }}: <b>{{ below|length }}</b></li>
</ul>
{% for t in tables %}
<h2>{{ t.title_vi }} ({{ t.rows|length }})</h2>
{% if t.note %}<p><i>{{ t.note }}</i></p>{% endif %}
{% if t.rows|length > max_rows %}<p><i>{{ max_rows }} dòng đầu; đủ {{ t.rows|length }} dòng
trong tệp Excel đính kèm.</i></p>{% endif %}
{% if t.rows %}<table><tr>{% for c in t.columns %}<th>{{ c.vi }}</th>{% endfor %}</tr>
{% for r in t.rows[:max_rows] %}<tr{% if t.name == "components" %} class="{{ grade_class(r[6]) }}"{% endif %}>
{% for c in t.columns %}<td>{{ cell(r[loop.index0], c.fmt) }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% endfor %}
<p>Ngưỡng: {{ thresholds }} điểm tối đa của từng thành phần, đánh giá trên kỳ đã kết thúc gần
nhất; kỳ hiện tại chưa kết thúc nên chỉ là số tạm tính. Tệp Excel đính kèm có cùng số liệu,
in trên khổ A4. Bản tin chỉ nêu đơn vị, không nêu cá nhân cán bộ.</p>
</body></html>
""")


def _pct(share: Decimal) -> str:
    return f"{float(share) * 100:.0f}%"


def html(digest: AgencyDigest) -> str:
    components = digest.component_table()
    low = digest.thresholds[0]
    return TEMPLATE.render(
        d=digest,
        title=title(digest),
        horizon=horizon(digest),
        tables=[digest.at_risk, digest.apologies, digest.flags, components],
        below=[c for c in digest.components if c.share is not None and c.share < low],
        low=_pct(low),
        thresholds=" / ".join(_pct(t) for t in digest.thresholds),
        cell=_cell,
        max_rows=MAX_HTML_ROWS,
        grade_class=lambda grade: {"Dưới ngưỡng": "below", "Cần cải thiện": "watch"}.get(grade, ""),
    )


def write_xlsx(digest: AgencyDigest, path: Path) -> None:
    """One sheet per section; each has the title, the agency, the week and the data horizon
    above its table, and prints on A4 landscape with its header row on every page."""
    book = wb.new_workbook(path, title(digest))
    fm = wb.Formats(book)
    sheets = [("Nguy cơ trễ hạn", digest.at_risk), ("Thư xin lỗi", digest.apologies),
              ("Cần sửa dữ liệu", digest.flags), ("Chỉ số 766", digest.component_table())]  # fmt: skip
    for sheet_name, table in sheets:
        sheet = book.add_worksheet(sheet_name)
        lines = [f"Đơn vị: {digest.agency_name} ({digest.agency_code})",
                 f"Tuần {digest.week.label} ({digest.week.monday:%d/%m/%Y}–"
                 f"{digest.week.sunday:%d/%m/%Y}). {horizon(digest)}"]  # fmt: skip
        top = wb.write_title_block(sheet, fm, len(table.columns) - 1, table.title_vi, lines)
        header = top + (1 if table.note else 0)
        wb.write_table(sheet, fm, table, top)
        wb.print_setup(sheet, title=title(digest), horizon=horizon(digest), repeat=(header, header))
    book.close()


__all__ = ["html", "subject", "title", "write_xlsx"]

"""The series the HTML report draws that no export table holds yet: online share by
district and the province's monthly on-time trend.

Online share by district rolls communes up into their district (a district is a UBND whose
code prefixes other agencies' codes) until `marts.mart_cchc_indicators` brings it per
district.
"""

from __future__ import annotations

import psycopg

from cchc.exports.form06 import Form06
from cchc.exports.periods import Quarter
from cchc.exports.sources import MissingSource, require, select
from cchc.exports.tables import COUNT, RATIO, Column, Table

TREND_MONTHS = 12


def online_share_by_district(form: Form06) -> Table:
    names = dict(form.agencies())
    parents = {code.rsplit(".", 1)[0] for code in names if code.count(".") >= 2}
    districts = {
        c for c in parents if c.count(".") == 1 and c in names and names[c].startswith("UBND")
    }
    sums: dict[str, list[int]] = {}
    for agency, _name, _level, _code, _field, *values in form.rows:
        if not form.is_unit(agency):
            continue  # a misspelled code is no commune of the district its prefix names
        district = agency if agency in districts else agency.rsplit(".", 1)[0]
        if district not in districts:
            continue
        online, direct = values[1] or 0, values[2] or 0
        total = sums.setdefault(district, [0, 0])
        total[0] += online
        total[1] += online + direct
    rows = [(code, names[code], o, n, round(o / n, 6) if n else None)
            for code, (o, n) in sorted(sums.items())]  # fmt: skip
    return Table("ty_le_truc_tuyen_theo_huyen", "Tỷ lệ hồ sơ trực tuyến theo huyện",
                 "Online share by district (district and its communes)", [
        Column("district_code", "Mã huyện", "District code"),
        Column("district_name", "Tên huyện", "District", width=32),
        Column("received_online", "Mới tiếp nhận trực tuyến", "New, online", COUNT),
        Column("received_new", "Mới tiếp nhận", "Newly received", COUNT),
        Column("online_share", "Tỷ lệ trực tuyến", "Online share", RATIO),
    ], rows, form.note)  # fmt: skip


def on_time_trend(conn: psycopg.Connection, quarter: Quarter, province: str) -> Table:
    columns = [
        Column("period_label", "Tháng", "Month"),
        Column("numerator", "Đúng hạn", "On time", COUNT),
        Column("denominator", "Tổng số hồ sơ", "Dossiers", COUNT),
        Column("ratio", "Tỷ lệ đúng hạn", "On-time ratio", RATIO),
    ]
    table = Table("xu_huong_dung_han", "Tỷ lệ giải quyết đúng hạn theo tháng (toàn tỉnh)",
                  "On-time trend, province, by month", columns)  # fmt: skip
    try:
        require(conn, "marts.mart_qd766_scores", ["province_code"])
        rows = select(conn, "marts.mart_qd766_scores", ["period_start", *[c.key for c in columns]],
                      where="province_code = %s and scope_kind = 'province'"
                            " and period_grain = 'month'"
                            " and component_code = 'DOSSIER_HANDLING_ON_TIME'"
                            " and period_start <= %s",
                      params=[province, quarter.end], order_by="period_start desc")  # fmt: skip
    except MissingSource as missing:
        table.note = missing.note()
        return table
    table.rows = [r[1:] for r in reversed(rows[:TREND_MONTHS])]
    return table

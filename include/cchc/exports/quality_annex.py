"""Data-quality annex: the latest run's flags on the quarter's dossiers, by agency and rule.

Only rule ids, counts and dossier codes (MaHoSo) are exported: no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from cchc.exports import workbook as wb
from cchc.exports.freshness import Freshness
from cchc.exports.periods import Quarter
from cchc.exports.rule_impact import describe, distorts, name, severity_vi
from cchc.exports.sources import MissingSource, require
from cchc.exports.tables import COUNT, RATIO, Column, Table

WORST_RECORDS = 50
INVALID_CODE = "Mã đơn vị không hợp lệ"
DOSSIERS = "marts.fct_dossiers"
FLAGS = "dq.record_flags"

# A dossier counts in a quarter when received by its last day and not ended before its first.
IN_QUARTER = "d.received_date <= %(end)s and (d.ended_date is null or d.ended_date >= %(start)s)"


@dataclass
class Annex:
    by_agency: Table
    worst: Table
    rules: Table

    def tables(self) -> list[Table]:
        return [self.by_agency, self.rules, self.worst]


def _empty(note: str | None) -> Annex:
    return Annex(_by_agency_table([], note), _worst_table([], note), _rules_table([], note))


def read_annex(conn: psycopg.Connection, quarter: Quarter, province: str) -> Annex:
    try:
        require(conn, FLAGS, ["run_id", "province_code", "record_key", "rule_id", "severity",
                              "flagged_at"])  # fmt: skip
        require(conn, DOSSIERS, ["province_code", "dossier_code", "agency_code", "received_date",
                                 "ended_date"])  # fmt: skip
    except MissingSource as missing:
        return _empty(missing.note())
    latest = conn.execute(f"select run_id from {FLAGS} order by flagged_at desc limit 1").fetchone()
    if latest is None:
        return _empty("Chưa có lượt kiểm tra chất lượng dữ liệu")
    params = {"run": latest[0], "start": quarter.start, "end": quarter.end, "province": province}
    flagged = f"""
        select d.agency_code,
            -- a code that is no registered unit is named as the error it is, never as a unit
            case when a.is_known_unit is false then '{INVALID_CODE}' else a.agency_name end
                as agency_name,
            f.rule_id, f.severity, f.record_key
        from {FLAGS} f
        join {DOSSIERS} d on d.dossier_code = f.record_key and d.province_code = f.province_code
            and d.province_code = %(province)s
        left join marts.dim_agencies a
            on a.province_code = d.province_code and a.agency_code = d.agency_code
        where f.run_id = %(run)s and f.entity = 'dossiers' and {IN_QUARTER}
    """
    by_agency = conn.execute(
        f"""
        with flagged as ({flagged}),
        scope as (
            select d.agency_code, count(*) as dossiers from {DOSSIERS} d
            where d.province_code = %(province)s and {IN_QUARTER} group by 1
        )
        select f.agency_code, max(f.agency_name), f.rule_id, max(f.severity),
               count(distinct f.record_key), s.dossiers,
               round(count(distinct f.record_key)::numeric / nullif(s.dossiers, 0), 6)
        from flagged f join scope s using (agency_code)
        group by f.agency_code, f.rule_id, s.dossiers
        order by 7 desc, 1, 3
        """,
        params,
    ).fetchall()
    worst = conn.execute(
        f"""
        select record_key, agency_code, max(agency_name), count(distinct rule_id),
               string_agg(distinct rule_id, ', ' order by rule_id)
        from ({flagged}) f
        group by record_key, agency_code
        order by 4 desc, 1
        limit {WORST_RECORDS}
        """,
        params,
    ).fetchall()
    rules = conn.execute(
        f"""
        select rule_id, max(severity), count(distinct record_key), count(distinct agency_code)
        from ({flagged}) f group by rule_id order by 3 desc, 1
        """,
        params,
    ).fetchall()
    note = None if rules else "Không có hồ sơ bị gắn cờ trong kỳ"
    return Annex(
        _by_agency_table(
            [
                (*r[:2], r[2], name(r[2]), severity_vi(r[3]), *r[4:], distorts(r[2]))
                for r in by_agency
            ],
            note,
        ),  # fmt: skip
        _worst_table(
            [
                (
                    *r[:4],
                    r[4],
                    "; ".join(name(x) for x in r[4].split(", ")),
                    "; ".join(dict.fromkeys(distorts(x) for x in r[4].split(", "))),
                )
                for r in worst
            ],
            note,
        ),  # fmt: skip
        _rules_table(
            [
                (r[0], name(r[0]), describe(r[0]), severity_vi(r[1]), r[2], r[3], distorts(r[0]))
                for r in rules
            ],
            note,
        ),  # fmt: skip
    )


DISTORTS = Column("distorts", "Chỉ số bị ảnh hưởng", "Indicators distorted", width=50)


def _by_agency_table(rows, note) -> Table:
    return Table("chat_luong_theo_don_vi", "Cờ chất lượng dữ liệu theo đơn vị và quy tắc",
                 "Data-quality flags by agency and rule", [
        Column("agency_code", "Mã đơn vị", "Agency code"),
        Column("agency_name", "Tên đơn vị", "Agency", width=36),
        Column("rule_id", "Mã quy tắc", "Rule id"),
        Column("rule_name", "Quy tắc", "Rule", width=34),
        Column("severity", "Loại lỗi", "Severity"),
        Column("flagged", "Hồ sơ bị gắn cờ", "Flagged dossiers", COUNT),
        Column("dossiers", "Hồ sơ trong kỳ", "Dossiers in the period", COUNT),
        Column("flag_rate", "Tỷ lệ gắn cờ", "Flag rate", RATIO),
        DISTORTS,
    ], rows, note)  # fmt: skip


def _worst_table(rows, note) -> Table:
    return Table("chat_luong_ho_so_nhieu_loi", f"{WORST_RECORDS} hồ sơ nhiều lỗi nhất",
                 f"The {WORST_RECORDS} worst records", [
        Column("record_key", "Mã hồ sơ", "Dossier code"),
        Column("agency_code", "Mã đơn vị", "Agency code"),
        Column("agency_name", "Tên đơn vị", "Agency", width=36),
        Column("rule_count", "Số quy tắc vi phạm", "Rules broken", COUNT),
        Column("rules", "Mã các quy tắc", "Rule ids", width=40),
        Column("rule_names", "Các quy tắc vi phạm", "Rules broken", width=44),
        DISTORTS,
    ], rows, note)  # fmt: skip


def _rules_table(rows, note) -> Table:
    return Table("chat_luong_theo_quy_tac", "Cờ chất lượng dữ liệu theo quy tắc",
                 "Data-quality flags by rule", [
        Column("rule_id", "Mã quy tắc", "Rule id"),
        Column("rule_name", "Quy tắc", "Rule", width=34),
        Column("description", "Mô tả", "Description", width=56),
        Column("severity", "Loại lỗi", "Severity"),
        Column("flagged", "Hồ sơ bị gắn cờ", "Flagged dossiers", COUNT),
        Column("agencies", "Số đơn vị", "Agencies", COUNT),
        DISTORTS,
    ], rows, note)  # fmt: skip


# Rule ids are the CSV's keys; the workbook names each rule in Vietnamese instead.
RULE_ID_COLUMNS = ("rule_id", "rules")
AGENCY_SHEET = "Theo đơn vị"


def agency_matrix(by_agency: Table) -> Table:
    """Agencies × rules, one row per agency: what prints (the long table, one row per agency
    and rule, is the CSV's). Rules in the order of how many dossiers they flagged."""
    records = by_agency.records()
    totals: dict[str, int] = {}
    agencies: dict[str, dict] = {}
    for r in records:
        totals[r["rule_id"]] = totals.get(r["rule_id"], 0) + (r["flagged"] or 0)
        entry = agencies.setdefault(
            r["agency_code"], {"name": r["agency_name"], "dossiers": r["dossiers"], "rules": {}}
        )
        entry["rules"][r["rule_id"]] = r["flagged"]
    rules = sorted(totals, key=lambda rule: (-totals[rule], rule))
    rows = [
        (code, e["name"], e["dossiers"], *(e["rules"].get(rule) for rule in rules),
         sum(v or 0 for v in e["rules"].values()))
        for code, e in agencies.items()
    ]  # fmt: skip
    rows.sort(key=lambda r: (-r[-1], r[0]))
    columns = [
        Column("agency_code", "Mã đơn vị", "Agency code"),
        Column("agency_name", "Tên đơn vị", "Agency", width=36),
        Column("dossiers", "Hồ sơ trong kỳ", "Dossiers in the period", COUNT, width=10),
        *[Column(rule, name(rule), rule, COUNT, width=11) for rule in rules],
        Column("flags", "Tổng số cờ", "Flags", COUNT, width=10),
    ]
    return Table(by_agency.name, "Số hồ sơ bị gắn cờ theo đơn vị và quy tắc",
                 "Flagged dossiers by agency and rule", columns, rows, by_agency.note)  # fmt: skip


def write_workbook(path: Path, annex: Annex, quarter: Quarter, freshness: Freshness) -> None:
    title = f"Phụ lục chất lượng dữ liệu — {quarter.label}"
    book = wb.new_workbook(path, title)
    fm = wb.Formats(book)
    lines = [f"Kỳ báo cáo: {quarter.title_vi()}", freshness.as_of_vi()]
    for sheet_name, table in (("Theo quy tắc", annex.rules),
                              (AGENCY_SHEET, agency_matrix(annex.by_agency)),
                              ("Hồ sơ nhiều lỗi", annex.worst)):  # fmt: skip
        shown = table.without(*RULE_ID_COLUMNS)
        sheet = book.add_worksheet(sheet_name)
        last = len(shown.columns) - 1
        row = wb.write_title_block(sheet, fm, last, shown.title_vi, lines)
        row = wb.write_banner(sheet, fm, row, last, freshness.warning_vi())
        header = row + 1 + (1 if shown.note else 0)
        wb.write_table(sheet, fm, shown, row + 1)
        sheet.freeze_panes(header + 1, 2 if sheet_name == AGENCY_SHEET else 0)
        wb.print_setup(sheet, title=title, horizon=freshness.as_of_vi(), repeat=(header, header))
    book.close()

"""Raw retention: strip personal data from raw versions older than the retention period.

Raw keeps every version of every record so a model can be rebuilt from it; personal data in
those payloads is needed only until the version has gone through dbt (where identifiers are
hashed and names dropped). A version is purged when it was extracted more than
`CCHC_RAW_RETENTION_MONTHS` months ago and has been modelled, meaning either

- it is superseded: a newer version of the same record is in raw (staging never reads it
  again), or
- a later extraction window of its entity has been loaded since (so at least one nightly
  dbt build has read it).

Purging removes the personal fields from the payload and keeps the row: key, dates, status
and agency still rebuild every mart. `payload_hash` is left as it was, so if an old window
is extracted again the same version is recognised as a duplicate rather than stored again
with its personal data. Quarantined records older than the period are deleted (their raw
text is unparsed and may hold anything). Idempotent: a purged payload has nothing left to
remove.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from cchc.extract.entities import ENTITIES, Entity

log = logging.getLogger(__name__)

RETENTION_ENV = "CCHC_RAW_RETENTION_MONTHS"
DEFAULT_RETENTION_MONTHS = 24


@dataclass(frozen=True)
class PersonalFields:
    top_level: tuple[str, ...] = ()
    # (list field, field inside each element)
    nested: tuple[tuple[str, str], ...] = ()


# Personal data per raw table (docs/data-contracts.md, docs/personal-data.md).
PERSONAL_FIELDS: dict[str, PersonalFields] = {
    "onestop__dossiers": PersonalFields(
        top_level=("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DinhDanhCHS"),
        nested=(("QuaTrinhXuLy", "NguoiXuLy"),),  # the handling officer's name
    ),
    "onestop__administrative_units": PersonalFields(),
    "portal__dossier_syncs": PersonalFields(),
    "portal__procedures": PersonalFields(),
    "portal__payments": PersonalFields(),
    # A citizen's free-text opinion or petition may name people: treated as personal data.
    "portal__ratings": PersonalFields(top_level=("YKien",)),
    "portal__petitions": PersonalFields(top_level=("TieuDe", "NoiDung")),
    "portal__evaluations": PersonalFields(),
    "ioffice__outgoing_documents": PersonalFields(top_level=("NguoiKy",)),  # signer's name
    "ioffice__incoming_documents": PersonalFields(
        nested=(("QuaTrinhXuLyVanBan", "NguoiXuLy"),)  # the handling officer's name
    ),
}


def retention_months() -> int | None:
    """`CCHC_RAW_RETENTION_MONTHS` (default 24); 0 turns purging off."""
    months = int(os.environ.get(RETENTION_ENV) or DEFAULT_RETENTION_MONTHS)
    if months < 0:
        raise ValueError(f"{RETENTION_ENV} must be 0 (off) or a number of months")
    return months or None


@dataclass
class PurgeReport:
    cutoff: datetime | None = None
    scrubbed: dict[str, int] = field(default_factory=dict)
    quarantine_deleted: int = 0

    def summary(self) -> str:
        parts = [f"{table}: {count}" for table, count in self.scrubbed.items()]
        return (
            f"payloads purged of personal data before {self.cutoff:%Y-%m-%d}: "
            f"{', '.join(parts) or 'none'}; quarantined records deleted: {self.quarantine_deleted}"
        )


def _scrub_expression(fields: PersonalFields) -> tuple[sql.Composable, sql.Composable]:
    """(new payload, condition that something personal is still there)."""
    payload: sql.Composable = sql.SQL("r.payload")
    conditions: list[sql.Composable] = []
    if fields.top_level:
        keys = sql.SQL("array[{}]::text[]").format(
            sql.SQL(", ").join(sql.Literal(k) for k in fields.top_level)
        )
        payload = sql.SQL("({} - {})").format(payload, keys)
        conditions.append(sql.SQL("r.payload ?| {}").format(keys))
    for list_field, inner in fields.nested:
        payload = sql.SQL(
            "case when jsonb_typeof(r.payload -> {lf}) = 'array' then jsonb_set({p}, array[{lf}],"
            " (select coalesce(jsonb_agg(case when jsonb_typeof(e) = 'object' then e - {inner}"
            " else e end order by n), '[]'::jsonb)"
            "  from jsonb_array_elements(r.payload -> {lf}) with ordinality as t(e, n)))"
            " else {p} end"
        ).format(lf=sql.Literal(list_field), inner=sql.Literal(inner), p=payload)
        conditions.append(
            sql.SQL("jsonb_path_exists(r.payload, {})").format(
                sql.Literal(f'$."{list_field}"[*]."{inner}"')
            )
        )
    return payload, sql.SQL(" or ").join(conditions)


def purge_raw(
    conn: psycopg.Connection,
    older_than_months: int,
    *,
    now: datetime | None = None,
    entities: tuple[Entity, ...] = ENTITIES,
) -> PurgeReport:
    """Remove personal data from modelled raw versions extracted before now − N months."""
    if older_than_months < 1:
        raise ValueError("older_than_months must be at least 1")
    report = PurgeReport()
    with conn.transaction():
        report.cutoff = conn.execute(
            "select coalesce(%s::timestamptz, now()) - make_interval(months => %s)",
            [now, older_than_months],
        ).fetchone()[0]
        has_batches = conn.execute("select to_regclass('audit.load_batches')").fetchone()[0]
        for entity in entities:
            fields = PERSONAL_FIELDS.get(entity.qualified_name)
            if fields is None:
                raise ValueError(
                    f"no personal-data list for {entity.table}: add it to PERSONAL_FIELDS"
                )
            if not (fields.top_level or fields.nested):
                continue
            if not conn.execute("select to_regclass(%s)", [entity.table]).fetchone()[0]:
                continue
            new_payload, has_personal = _scrub_expression(fields)
            table = sql.Identifier(*entity.table.split("."))
            # Same order as the latest_record_version macro: what staging would pick.
            superseded = sql.SQL(
                "exists (select 1 from {t} as newer where newer.province_code = r.province_code"
                " and newer.record_key = r.record_key"
                " and (coalesce(newer.record_updated_at, '-infinity'), newer.extracted_at,"
                "      newer.payload_hash)"
                "   > (coalesce(r.record_updated_at, '-infinity'), r.extracted_at, r.payload_hash))"
            ).format(t=table)
            later_window = (
                sql.SQL(
                    "exists (select 1 from audit.load_batches as b"
                    " where b.province_code = r.province_code and b.source = {s}"
                    " and b.entity = {e} and b.status = 'loaded' and b.window_start >= r.window_end)"
                ).format(s=sql.Literal(entity.source), e=sql.Literal(entity.name))
                if has_batches
                else sql.SQL("false")
            )
            query = sql.SQL(
                "update {t} as r set payload = {new} where r.extracted_at < %(cutoff)s"
                " and ({personal}) and ({superseded} or {later})"
            ).format(
                t=table,
                new=new_payload,
                personal=has_personal,
                superseded=superseded,
                later=later_window,
            )
            report.scrubbed[entity.qualified_name] = conn.execute(
                query, {"cutoff": report.cutoff}
            ).rowcount
        if conn.execute("select to_regclass('audit.quarantine')").fetchone()[0]:
            report.quarantine_deleted = conn.execute(
                "delete from audit.quarantine where quarantined_at < %s", [report.cutoff]
            ).rowcount
    log.info("raw retention (%d months): %s", older_than_months, report.summary())
    return report


def purge_raw_from_config(conn: psycopg.Connection) -> PurgeReport | None:
    """The configured policy: None (nothing done) when `CCHC_RAW_RETENTION_MONTHS=0`."""
    months = retention_months()
    if months is None:
        log.info("raw retention off (%s=0)", RETENTION_ENV)
        return None
    return purge_raw(conn, months)

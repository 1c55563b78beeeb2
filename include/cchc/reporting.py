"""What the warehouse holds, in words an engineer reads at the end of a run."""

from __future__ import annotations

import psycopg

from cchc.extract.window import TZ

LAYERS = ("raw", "audit", "staging", "intermediate", "marts", "dq")


def rows_per_layer(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    tables = conn.execute(
        """
        select table_schema, table_name from information_schema.tables
        where table_schema = any(%s) order by array_position(%s, table_schema::text), table_name
        """,
        [list(LAYERS), list(LAYERS)],
    ).fetchall()
    return [
        (schema, name, conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0])
        for schema, name in tables
    ]


def status_lines(conn: psycopg.Connection) -> list[str]:
    if not conn.execute("select to_regclass('audit.load_batches')").fetchone()[0]:
        return ["nothing loaded yet: run `cchc extract` or `make demo`"]
    lines = ["watermarks (loaded until):"]
    for province, source, entity, until, batch in conn.execute(
        "select province_code, source, entity, loaded_until, last_batch_id from audit.watermarks"
        " order by 1, 2, 3"
    ):
        lines.append(
            f"  {province} {source}/{entity}: {until.astimezone(TZ):%Y-%m-%d %H:%M} local (batch {batch[:8]})"
        )
    loaded, failed = conn.execute(
        "select coalesce(sum(loaded) filter (where status = 'loaded'), 0),"
        " count(*) filter (where status = 'failed') from audit.load_batches"
    ).fetchone()
    # Replaced batches' rows were deleted by the rerun that replaced them: not counted.
    lines.append(f"current batches: {loaded:,} record versions in raw; failed attempts: {failed:,}")
    lines.append("latest batches:")
    for row in conn.execute(
        """
        select distinct on (province_code, source, entity) province_code, source, entity,
               window_start, window_end, fetched, loaded, duplicates, quarantined, status, error
        from audit.load_batches order by province_code, source, entity, finished_at desc
        """
    ):
        province, source, entity, start, end, fetched, loaded, dups, quarantined, status, error = (
            row
        )
        lines.append(
            f"  {province} {source}/{entity} [{start.astimezone(TZ):%Y-%m-%d %H:%M}, {end.astimezone(TZ):%Y-%m-%d %H:%M}): fetched {fetched}, "
            f"loaded {loaded}, duplicates {dups}, quarantined {quarantined} ({status})"
            + (f": {error.splitlines()[0][:200]}" if error else "")
        )
    return lines

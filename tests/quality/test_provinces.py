"""Two provinces in one warehouse whose systems reuse the same keys: the rules judge each
province's records against that province's alone, and every flag names its province."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from cchc.extract.entities import ENTITIES
from cchc.quality import StructuralCheckError, run_checks
from cchc.quality.cli import dq_app, judge, store_beside
from tests.quality.conftest import RATES, load_province

COPY = "H45"
COLUMNS = (
    "batch_id, province_code, source, entity, window_start, window_end, extracted_at,"
    " record_key, record_updated_at, payload_hash, payload"
)
# A tenth of the copy's records carry a different payload (a field no rule reads): the two
# provinces then hold different versions of one key at the same update time.
DIFFERENT = "province_code = %s and mod(abs(hashtext(record_key)), 10) = 0"
NOTE = '{"GhiChu": "bản sao"}'
NOWHERE = "H99"  # a province with nothing loaded

FLAGS = """
select rule_id, severity, record_key, agency_code, period_month from dq.record_flags
where run_id = %s and province_code = %s
"""


def _flags(conn, run_id: str, province: str) -> set[tuple]:
    return set(conn.execute(FLAGS, [run_id, province]).fetchall())


def _counts(conn, run_id: str, province: str) -> set[tuple]:
    return set(
        conn.execute(
            "select source, entity, agency_code, period_month, record_count from dq.record_counts"
            " where run_id = %s and province_code = %s",
            [run_id, province],
        ).fetchall()
    )


def _copy_province(conn, source: str, target: str) -> None:
    """`target`'s raw = `source`'s raw under the same keys; some payloads differ."""
    for e in ENTITIES:
        conn.execute(
            f"insert into {e.table} ({COLUMNS}) select {COLUMNS.replace('province_code', '%s')}"
            f" from {e.table} where province_code = %s",
            [target, source],
        )
        conn.execute(
            f"update {e.table} set payload = payload || %s::jsonb,"
            f" payload_hash = md5((payload || %s::jsonb)::text) where {DIFFERENT}",
            [NOTE, NOTE, target],
        )
    conn.execute(
        "insert into audit.watermarks (province_code, source, entity, loaded_until,"
        " last_batch_id) select %s, source, entity, loaded_until, last_batch_id"
        " from audit.watermarks where province_code = %s",
        [target, source],
    )


@pytest.fixture(scope="module")
def provinces(settings, make_database, gx_project):
    """One province checked alone, then with a copy of itself under another province code."""
    config, pg, truth = load_province(
        settings, make_database, "dq_provinces", scale=0.01, errors=RATES
    )
    home = config.province_code
    single = run_checks(pg, "single", stage="raw", project_dir=gx_project)
    with psycopg.connect(pg.url()) as conn:
        _copy_province(conn, home, COPY)
        different = sum(
            conn.execute(f"select count(*) from {e.table} where {DIFFERENT}", [COPY]).fetchone()[0]
            for e in ENTITIES
        )
    assert different > 0
    two = run_checks(pg, "two", stage="raw", project_dir=gx_project)  # must not raise
    with psycopg.connect(pg.url()) as conn:
        judged = {p: judge(conn, truth, store_beside(truth), p) for p in (home, COPY, NOWHERE)}
    return {"pg": pg, "home": home, "truth": truth, "single": single, "two": two,
            "judged": judged}  # fmt: skip


def test_shared_keys_across_provinces_are_no_structural_failure(provinces):
    two = provinces["two"]
    assert not two.structural_failures, [r.rule_id for r in two.structural_failures]
    assert {p for r in two.rules for p, _ in r.records} == {provinces["home"], COPY}


def test_each_province_is_flagged_as_if_alone(provinces):
    """The copy gives the same flags (keys, agency, month) as the province alone, and the
    province's own flags do not change when another province shares its keys."""
    pg, home = provinces["pg"], provinces["home"]
    with psycopg.connect(pg.url()) as conn:
        alone = _flags(conn, "single", home)
        assert alone and {r[1] for r in alone} == {"data_entry"}
        assert _flags(conn, "two", home) == alone
        assert _flags(conn, "two", COPY) == alone
        assert _counts(conn, "two", home) == _counts(conn, "single", home)
        assert _counts(conn, "two", COPY) == _counts(conn, "single", home)
    single = provinces["single"].unexpected_counts
    assert provinces["two"].unexpected_counts == {r: 2 * n for r, n in single.items()}


def test_score_judges_one_province(provinces):
    """The copy's manifest is the province's own, so it scores the same; a province with
    nothing loaded has every manifest record left out and no flag of the others scored."""
    home, copy, nowhere = (provinces["judged"][p] for p in (provinces["home"], COPY, NOWHERE))
    assert copy.scores == home.scores and copy.unloaded == home.unloaded
    assert all(min(s.precision, s.recall) >= 0.99 for s in home.scores if s.deterministic)
    assert nowhere.unloaded > 0 and all(s.flagged == 0 for s in nowhere.scores)


def test_score_command_takes_the_province(provinces):
    pg, truth = provinces["pg"], provinces["truth"]
    # The command reads its warehouse from the environment; CliRunner restores it afterwards.
    env = {"CCHC_WAREHOUSE_URL": pg.url()}
    runner = CliRunner()
    outputs = {}
    for province in (provinces["home"], COPY):
        result = runner.invoke(
            dq_app, ["score", "--truth", str(truth), "--province", province], env=env
        )
        assert result.exit_code == 0, result.output
        assert f"province {province}" in result.output
        outputs[province] = result.output.replace(f"province {province}", "province")
    assert outputs[provinces["home"]] == outputs[COPY]
    result = runner.invoke(dq_app, ["score", "--truth", str(truth), "--province", NOWHERE], env=env)
    assert f"province {NOWHERE}" in result.output and "not loaded yet" in result.output


def test_marts_checks_compare_keys_within_a_province(provinces, gx_project):
    pg = provinces["pg"]
    with psycopg.connect(pg.url()) as conn:
        conn.execute(
            "create table marts.fct_dossiers (province_code text not null, dossier_code text,"
            " agency_code text)"
        )
        conn.execute(
            "insert into marts.fct_dossiers values ('H40', 'D1', 'A'), ('H45', 'D1', 'A'),"
            " ('H40', 'D2', 'A'), ('H45', 'D2', 'B')"
        )
    assert run_checks(pg, "marts-ok", stage="marts", project_dir=gx_project).success
    with psycopg.connect(pg.url()) as conn:
        conn.execute(
            "insert into marts.fct_dossiers values ('H45', 'D1', 'C'), ('H45', 'D3', null)"
        )
    with pytest.raises(StructuralCheckError) as excinfo:
        run_checks(pg, "marts-broken", stage="marts", project_dir=gx_project)
    assert "fct_dossier_key_unique" in str(excinfo.value)
    with psycopg.connect(pg.url()) as conn:
        flagged = set(
            conn.execute(
                "select rule_id, province_code, record_key from dq.record_flags"
                " where run_id = 'marts-broken'"
            ).fetchall()
        )
        conn.execute("drop table marts.fct_dossiers")
    assert flagged == {
        ("fct_dossier_key_unique", "H45", "D1"),
        ("fct_dossier_agency_not_null", "H45", "D3"),
    }


def test_links_and_duplicates_stay_within_a_province(provinces, gx_project):
    """A record the copy lacks is missing there only, even though the other province has a
    record under the same key; a real duplicate inside one province still stops the run.
    Runs last: it changes the copy's raw rows."""
    pg, home = provinces["pg"], provinces["home"]
    with psycopg.connect(pg.url()) as conn:
        # A dossier with a portal sync, and the copy's unit handling most of its dossiers.
        (dossier,) = conn.execute(
            "select min(d.record_key) from raw.onestop__dossiers d"
            " join raw.portal__dossier_syncs s using (province_code, record_key)"
            " where d.province_code = %s",
            [COPY],
        ).fetchone()
        (unit,) = conn.execute(
            "select payload ->> 'DonViXuLy' from raw.onestop__dossiers where province_code = %s"
            " group by 1 order by count(*) desc, 1 limit 1",
            [COPY],
        ).fetchone()
        conn.execute(
            "delete from raw.onestop__dossiers where province_code = %s and record_key = %s",
            [COPY, dossier],
        )
        conn.execute(
            "delete from raw.onestop__administrative_units"
            " where province_code = %s and record_key = %s",
            [COPY, unit],
        )
    run_checks(pg, "gap", stage="raw", project_dir=gx_project)
    with psycopg.connect(pg.url()) as conn:
        assert _flags(conn, "gap", home) == _flags(conn, "single", home)
        gap = {(rule, key) for rule, _, key, *_ in _flags(conn, "gap", COPY)}
        before = {(rule, key) for rule, _, key, *_ in _flags(conn, "two", COPY)}
        handled_by_unit = {
            key
            for (key,) in conn.execute(
                "select distinct record_key from raw.onestop__dossiers"
                " where province_code = %s and payload ->> 'DonViXuLy' = %s",
                [COPY, unit],
            )
        }
    assert ("dossier_sync_dossier_exists", dossier) in gap - before
    copies = {k for rule, k in gap if rule == "entered_in_two_systems"}  # flagged as copies only
    assert {("unknown_agency_code", k) for k in handled_by_unit - copies} <= gap
    assert len(handled_by_unit - copies) > 10

    with psycopg.connect(pg.url()) as conn:
        # A second, different version at the same update time, in the copy only.
        (key,) = conn.execute(
            "select min(record_key) from raw.onestop__dossiers where province_code = %s", [COPY]
        ).fetchone()
        conn.execute(
            f"insert into raw.onestop__dossiers ({COLUMNS}) select"
            f" {COLUMNS.replace('payload_hash', 'md5(payload_hash)')} from raw.onestop__dossiers"
            " where province_code = %s and record_key = %s order by record_updated_at desc limit 1",
            [COPY, key],
        )
    with pytest.raises(StructuralCheckError) as excinfo:
        run_checks(pg, "duplicate", stage="raw", project_dir=gx_project)
    assert f"{key} ({COPY})" in str(excinfo.value)
    with psycopg.connect(pg.url()) as conn:
        flagged = conn.execute(
            "select province_code, record_key from dq.record_flags where run_id = 'duplicate'"
            " and severity = 'structural'"
        ).fetchall()
    assert flagged == [(COPY, key)]

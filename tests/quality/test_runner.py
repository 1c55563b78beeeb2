"""The runner's guards, without a warehouse."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from cchc.config import REPO_ROOT, PgParams
from cchc.quality import run_checks
from cchc.quality.checks import BUILTIN_SQL_RULE_TYPE, SQL_RULE_TYPE


def test_every_raw_rule_uses_the_single_run_expectation():
    for path in (REPO_ROOT / "expectations" / "expectations").glob("*.json"):
        types = {e["type"] for e in json.loads(path.read_text("utf-8"))["expectations"]}
        assert BUILTIN_SQL_RULE_TYPE not in types, path.name
        if path.stem != "marts_fct_dossiers":
            assert types == {SQL_RULE_TYPE}, path.name


def test_a_builtin_sql_rule_is_refused_before_anything_runs(tmp_path):
    """GX's own UnexpectedRowsExpectation keeps 200 failing rows: its flags would be
    incomplete, so the runner refuses it instead of validating."""
    project = tmp_path / "expectations"
    shutil.copytree(
        REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
    )
    path = project / "expectations" / "portal_ratings.json"
    path.write_text(path.read_text("utf-8").replace(SQL_RULE_TYPE, BUILTIN_SQL_RULE_TYPE), "utf-8")
    nowhere = PgParams("127.0.0.1", 9, "nobody", "", "nothing")  # never connected to
    with pytest.raises(ValueError, match="rating_key_unique"):
        run_checks(nowhere, "refused", stage="raw", project_dir=project)


def test_every_raw_rule_is_province_aware():
    """Provinces share the warehouse and may reuse keys: a record is (province, key), so every
    latest-version CTE and every link between records names the province, and every rule
    returns the province of its failing records after their key."""
    for path in (REPO_ROOT / "expectations" / "expectations").glob("*.json"):
        suite = json.loads(path.read_text("utf-8"))
        if path.stem.startswith("marts_"):
            continue  # marts are keyed (province_code, <their own key>): see their suites
        queries = [
            (e["meta"]["rule_id"], e["kwargs"]["unexpected_rows_query"])
            for e in suite["expectations"]
            if e["type"] == SQL_RULE_TYPE
        ]
        if suite["meta"].get("scope_query"):
            queries.append(("scope_query", suite["meta"]["scope_query"]))
        for rule_id, query in queries:
            q = " ".join(query.split())
            assert "distinct on (record_key)" not in q, (path.stem, rule_id)
            assert q.count("distinct on (") == q.count("distinct on (province_code, record_key)")
            # The final statement (after the CTEs) returns record_key, then province_code.
            final = "select" + query.rsplit("\nselect", 1)[-1] if "\nselect" in query else query
            selected = r"select (distinct )?(\w+\.)?record_key, (\w+\.)?province_code\b"
            assert re.match(selected, final), (path.stem, rule_id, final[:120])
            # Each join, exists or not-in on record keys also matches the province.
            links = re.findall(r"(\w+)\.record_key = ", q)
            assert len(links) <= q.count(".province_code = "), (path.stem, rule_id)

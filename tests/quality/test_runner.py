"""The runner's guards, without a warehouse."""

from __future__ import annotations

import json
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

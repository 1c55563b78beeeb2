from __future__ import annotations

import psycopg
import pytest

from cchc.quality import CheckExecutionError, StructuralCheckError, run_checks


def dossier(code: str, **overrides) -> dict:
    """A clean, handled dossier; overrides make it dirty."""
    row = {
        "dossier_code": code,
        "procedure_code": "1.003560.000.00.00.H40",
        "agency_code": "H40.12",
        "channel_code": 2,
        "status_code": 9,
        "received_at": "2025-03-03 08:00+07",
        "due_at": "2025-03-10 17:00+07",
        "handling_ended_at": "2025-03-07 10:00+07",
        "supplement_request_count": 0,
    }
    row.update(overrides)
    return row


CLEAN = [
    dossier("H40.12-250303-0001"),
    dossier("H40.12-250303-0002", channel_code=1, supplement_request_count=1),
    # In progress: no end date is expected yet.
    dossier("H40.12-250303-0003", status_code=4, handling_ended_at=None),
]


def flags(pg, run_id: str) -> set[tuple[str, str, str]]:
    with psycopg.connect(pg.url()) as conn:
        rows = conn.execute(
            "select record_key, rule_id, severity from dq.record_flags where run_id = %s",
            [run_id],
        ).fetchall()
    return set(rows)


def runs(pg, run_id: str) -> dict[str, tuple]:
    with psycopg.connect(pg.url()) as conn:
        rows = conn.execute(
            "select rule_id, severity, element_count, unexpected_count, success"
            " from dq.validation_runs where run_id = %s",
            [run_id],
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_clean_rows_pass_without_flags(pg, gx_project, load_dossiers):
    load_dossiers(CLEAN)
    summary = run_checks(pg, "clean", project_dir=gx_project)

    assert summary.success
    assert summary.flag_count == 0
    assert set(summary.unexpected_counts.values()) == {0}
    assert flags(pg, "clean") == set()
    recorded = runs(pg, "clean")
    assert len(recorded) == len(summary.rules) == 8
    assert recorded["dossier_code_unique"] == ("structural", 3, 0, True)
    # Only the two handled dossiers are in scope of the completion-date rule.
    assert recorded["completed_without_end_date"] == ("data_entry", 2, 0, True)


def test_data_entry_findings_are_flagged_not_raised(pg, gx_project, load_dossiers):
    load_dossiers(
        CLEAN
        + [
            dossier("H40.12-250304-0007", status_code=10, handling_ended_at=None),
            dossier("H40.12-250304-0008", handling_ended_at="2025-03-01 09:00+07"),
        ]
    )
    summary = run_checks(pg, "entry", project_dir=gx_project)

    assert not summary.success
    assert summary.structural_failures == ()
    assert flags(pg, "entry") == {
        ("H40.12-250304-0007", "completed_without_end_date", "data_entry"),
        ("H40.12-250304-0008", "end_before_receipt", "data_entry"),
    }
    assert summary.unexpected_counts["completed_without_end_date"] == 1
    assert summary.unexpected_counts["end_before_receipt"] == 1
    # Data Docs are rebuilt by the checkpoint and found where the summary says.
    assert summary.data_docs_index == gx_project / "uncommitted/data_docs/local_site/index.html"
    assert summary.data_docs_index.is_file()


def test_rerun_with_same_run_id_replaces_rows(pg, gx_project, load_dossiers):
    load_dossiers(CLEAN + [dossier("H40.12-250304-0009", supplement_request_count=3)])
    run_checks(pg, "again", project_dir=gx_project)
    load_dossiers(CLEAN + [dossier("H40.12-250304-0010", supplement_request_count=2)])
    run_checks(pg, "again", project_dir=gx_project)

    assert flags(pg, "again") == {
        ("H40.12-250304-0010", "multiple_supplement_requests", "data_entry")
    }
    assert len(runs(pg, "again")) == 8


def test_duplicated_dossier_code_raises_structural_error(pg, gx_project, load_dossiers):
    load_dossiers(CLEAN + [dossier("H40.12-250303-0001", status_code=4, handling_ended_at=None)])

    with pytest.raises(StructuralCheckError) as excinfo:
        run_checks(pg, "dup", project_dir=gx_project)

    message = str(excinfo.value)
    assert "dossier_code_unique" in message
    assert "H40.12-250303-0001" in message
    # Results are written before the run stops, so BI still shows the failure.
    assert ("H40.12-250303-0001", "dossier_code_unique", "structural") in flags(pg, "dup")
    assert runs(pg, "dup")["dossier_code_unique"][3] is False
    assert excinfo.value.summary.data_docs_index.is_file()


def test_importing_the_package_does_not_import_gx():
    import subprocess
    import sys

    code = "import sys, cchc.quality; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_all_failing_keys_are_flagged_beyond_gx_partial_list(pg, gx_project, load_dossiers):
    # GX on SQL caps the key list at partial_unexpected_count (default 20), even in COMPLETE.
    many = [dossier(f"H40.12-250305-{i:04d}", supplement_request_count=2) for i in range(45)]
    load_dossiers(CLEAN + many)
    summary = run_checks(pg, "many", project_dir=gx_project)

    assert summary.unexpected_counts["multiple_supplement_requests"] == 45
    assert len(flags(pg, "many")) == 45


def test_missing_column_is_an_execution_error_not_a_finding(pg, gx_project, load_dossiers):
    load_dossiers(CLEAN)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("alter table staging.stg_onestop__dossiers drop column agency_code")

    with pytest.raises(CheckExecutionError, match="agency_code_not_null"):
        run_checks(pg, "broken", project_dir=gx_project)

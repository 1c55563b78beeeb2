"""The bounds hold against the truth: a quarter generated with and without its injected
data-entry errors; the clean score of every agency × quarter × component reached by a
flagged record lies within the bounds computed from the dirty data."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc.qd766.cli import qd766_app
from cchc.qd766.truth import EVER, check, flag_dossiers, generate_pair

FIRST, END = date(2024, 1, 1), date(2024, 4, 1)  # Q1 2024: Tết inside, a month-end rush each
SCALE = 0.01


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_pair(tmp_path_factory.mktemp("truth"), FIRST, END, 42, SCALE, "H40")


def test_the_clean_score_lies_within_the_bounds(stores: tuple[Path, Path]) -> None:
    report = check(*stores)
    assert report.scopes >= 30 and len(report.rows) >= 60  # enough to mean something
    assert report.coverage >= 0.95
    assert 0 < report.median_width < report.median_trivial_width / 4
    # the corrections the rules imply (copies counted once, the return date for a wrong end
    # date) bring the score closer to the truth
    assert report.mean_error("estimate") < report.mean_error("score")
    components = {row.component for row in report.rows}
    assert {"DOSSIER_HANDLING_ON_TIME", "ONLINE_DOSSIER_RATE"} <= components


def test_errors_off_changes_only_the_bent_records(stores: tuple[Path, Path]) -> None:
    """Without it the clean store would be another province, and the check meaningless."""
    from cchc.simulators.store import SimStore

    clean_path, dirty_path = stores
    clean = {d["MaHoSo"]: d for d in SimStore(clean_path).list("dossiers", *EVER)}
    dirty = SimStore(dirty_path).list("dossiers", *EVER)
    with (dirty_path.parent / "truth" / "errors.csv").open(encoding="utf-8") as handle:
        bent = {row["record_key"] for row in csv.DictReader(handle) if row["source"] == "onestop"}
    unbent = [d for d in dirty if d["MaHoSo"] not in bent]
    assert len(unbent) > 1000
    assert all(d == clean[d["MaHoSo"]] for d in unbent)


def test_the_flags_find_the_injected_errors(stores: tuple[Path, Path]) -> None:
    from cchc.simulators.store import SimStore

    dirty_path = stores[1]
    sim = SimStore(dirty_path)
    units = {u["MaDonVi"] for u in sim.list("administrative-units", *EVER)}
    flags = flag_dossiers(sim.list("dossiers", *EVER), sim.list("procedures", *EVER), units)
    with (dirty_path.parent / "truth" / "errors.csv").open(encoding="utf-8") as handle:
        injected = {(r["record_key"], r["rule"]) for r in csv.DictReader(handle)}
    for rule in ("end_before_receipt", "digitized_without_files", "entered_in_two_systems"):
        truth = {key for key, r in injected if r == rule}
        found = {key for key, rules in flags.items() if rule in rules}
        assert truth and truth <= found, rule


def test_the_command_prints_coverage_and_width(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        qd766_app,
        ["bounds", "--truth", str(tmp_path), "--from", "2024-03-01", "--to", "2024-03-10",
         "--scale", "0.01"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "coverage: 1.000" in result.output or "coverage: 0.9" in result.output
    assert "median width:" in result.output and "0 to max" in result.output
    assert "DOSSIER_HANDLING_ON_TIME" in result.output

"""Decision 766 scoring rules: the seed read in Python reproduces the portal's official scores."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc.config import REPO_ROOT
from cchc.qd766.cli import qd766_app
from cchc.qd766.recompute import recompute_file, recompute_response, summarize
from cchc.qd766.rules import group_points, load_rules, points

SAMPLES = Path(REPO_ROOT).parent / "shared" / "samples" / "national-portal"
ENDPOINTS = (
    "transparency", "dvc-progress-tree", "provide-online-tree",
    "formality-online-payment-tree", "dossier-digitized", "handling-satisfaction",
)  # fmt: skip
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"shared samples of the portal's evaluation API not found beside the repository ({SAMPLES})",
)


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.glob("*/*.json") if p.parent.name != "formalities")


def test_seed_covers_the_index():
    rules = load_rules()
    groups = {c.group_code: c.group_max_points for c in rules.components}
    assert groups == {
        "CKMB": 18, "TDGQ": 20, "DVCTT": 12, "TTTT": 10, "MDSH": 22, "MDHL": 18,
    }  # fmt: skip
    assert sum(groups.values()) == 100
    for group, maximum in groups.items():
        assert sum(c.max_points for c in rules.group(group)) == maximum, group
    assert {c.group_code for c in rules.components if c.is_estimate} == {"DVCTT"}


@pytest.mark.parametrize(
    ("code", "numerator", "denominator", "expected"),
    [
        ("DOSSIER_HANDLING_ON_TIME", 144625, 184513, Decimal("15.68")),
        ("DOSSIER_HANDLING_ON_TIME", 0, 0, Decimal("0")),
        ("REUSED_DIGITIZED_DATA", 3158, 184503, Decimal("0.04")),
        ("REUSED_DIGITIZED_DATA", 9, 10, Decimal("2.00")),  # full from 80 %
        ("DOSSIER_RECEIVING_SATISFACTION", 144315, 184503, Decimal("5.21")),
        ("DOSSIER_RECEIVING_SATISFACTION", 95, 100, Decimal("6.00")),  # full from 90 %
        ("PETITION_PROCESSING_ON_TIME", 0, 0, Decimal("6")),  # no petitions: full points
        ("ORIGINAL_RESULT_AVAILABLE", 0, 0, None),  # no dossiers: not scored
        ("ONLINE_PAYMENT_FORMALITY", 7, 8, Decimal("2.00")),  # min(2, 2.5 × 7/8)
    ],
)
def test_points(code, numerator, denominator, expected):
    assert points(load_rules()[code], numerator, denominator) == expected


def test_group_points_sum_and_cap():
    assert group_points(Decimal(10), [Decimal("6"), Decimal("2"), None]) == Decimal(8)
    assert group_points(Decimal(10), [Decimal("6"), Decimal("3"), Decimal("2")]) == Decimal(10)


def test_online_payment_is_the_sum_of_its_three_parts():
    response = {"data": {"parent": {
        "departmentCode": "H44", "totalScore": 6.25,
        "totalDossierOnlinePaymentSuccess": 82913, "totalDossierFinancialObligation": 98459,
        "totalDossierOnlineFormalityPaymentSuccess": 93, "totalFeeDossierFormality": 56,
        "totalFeeFormality": 310,
    }, "children": []}}  # fmt: skip
    rows = recompute_response("inline", response, load_rules())
    total = [r for r in rows if r.component_code == "TOTAL:TTTT"]
    assert [(r.official, r.recomputed) for r in total] == [(Decimal("6.25"), Decimal("6.25"))]


def test_a_wrong_official_score_fails():
    response = {"data": {"overview": {"departmentCode": "X", "totalScore": 5, "metrics": [
        {"code": "DOSSIER_SYNC", "numerator": 50, "denominator": 100, "score": 3.5, "maxScore": 6},
    ]}, "evaluation": []}}  # fmt: skip
    rows = recompute_response("inline", response, load_rules())
    sync = next(r for r in rows if r.component_code == "DOSSIER_SYNC")
    assert sync.recomputed == Decimal("3.00") and sync.fails()


@needs_samples
def test_recompute_reproduces_every_official_score():
    rows = [row for path in _sample_files() for row in recompute_file(path)]
    summaries = {s.endpoint: s for s in summarize(rows)}
    assert set(summaries) == set(ENDPOINTS)
    for summary in summaries.values():
        assert summary.failures == 0, summary
        assert summary.max_difference <= Decimal("0.015"), summary
    known = [r for r in rows if not r.is_estimate and r.difference is not None]
    assert len(known) > 2000
    # the only endpoint without counts per department is the estimated online-services one
    assert all(s.compared > 0 for e, s in summaries.items() if e != "provide-online-tree")


@needs_samples
def test_cli_exit_codes(tmp_path):
    runner = CliRunner()
    files = [str(p) for p in _sample_files()] + [str(SAMPLES / "formalities" / "page-1.json")]
    ok = runner.invoke(qd766_app, ["recompute", *files])
    assert ok.exit_code == 0, ok.output
    assert "DOSSIER_SYNC" in ok.output and "agree within 0.015" in ok.output

    response = json.loads((SAMPLES / "dvc-progress-tree" / "month-all.json").read_text("utf-8"))
    response["data"]["children"][5]["score"] += 0.5
    broken = tmp_path / "progress.json"
    broken.write_text(json.dumps(response), encoding="utf-8")
    failed = runner.invoke(qd766_app, ["recompute", "--summary-only", str(broken)])
    assert failed.exit_code == 1

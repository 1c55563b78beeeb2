"""Run a Great Expectations checkpoint against the warehouse and record what it found.

The GX project (suites, checkpoints, Data Docs config) lives in `expectations/` at the repo
root. Rules are ordinary expectations whose `meta` carries `rule_id`, `severity`
(`structural` or `data_entry`) and Vietnamese/English descriptions. Structural failures
stop the pipeline (`StructuralCheckError`); data-entry findings become per-record flags in
`dq.record_flags` and never raise. Provinces share the warehouse and may reuse keys: a record
is its (province_code, record_key), and every flag says which province's record failed.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from cchc.config import REPO_ROOT, PgParams
from cchc.quality import night, offline_docs, results
from cchc.quality.results import PROVINCE_COLUMN, FlaggedRecord

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

# The GX project: suites, checkpoints and, under uncommitted/, each run's results and Data Docs.
# `CCHC_GX_PROJECT_DIR` points at a copy elsewhere, so that processes checking different
# warehouses at the same time (parallel test workers) never mix their results.
EXPECTATIONS_DIR = Path(os.environ.get("CCHC_GX_PROJECT_DIR") or REPO_ROOT / "expectations")
# One checkpoint per pipeline stage: after loading (raw + staging) and after the marts.
STAGE_CHECKPOINTS = {"raw": "cchc_raw", "marts": "cchc_marts"}
DEFAULT_CHECKPOINT = STAGE_CHECKPOINTS["raw"]
# SQL rules: `UnexpectedRecordKeysExpectation` (cchc.quality.expectation), not GX's built-in
# `unexpected_rows_expectation`, which runs each query twice and keeps at most 200 rows.
SQL_RULE_TYPE = "unexpected_record_keys_expectation"
BUILTIN_SQL_RULE_TYPE = "unexpected_rows_expectation"
DATA_DOCS_SITE = "local_site"
# Name substituted into great_expectations.yml at run time; the URL never reaches a file.
URL_VARIABLE = "CCHC_GX_WAREHOUSE_URL"
SEVERITIES = ("structural", "data_entry")
MODES = ("night", "full")
MAX_KEYS_IN_MESSAGE = 10


class QualityCheckError(RuntimeError):
    """Base class of the errors that stop a data-quality task."""


class StructuralCheckError(QualityCheckError):
    """A structural rule failed: downstream figures would be wrong, so the run stops."""

    def __init__(self, summary: CheckSummary):
        self.summary = summary
        parts = []
        for suite, r in summary.structural_failures_by_suite:
            keys = ", ".join(f"{k} ({p})" for p, k in r.records[:MAX_KEYS_IN_MESSAGE]) or "no key"
            more = len(r.records) - MAX_KEYS_IN_MESSAGE
            parts.append(
                f"{suite}.{r.rule_id} ({r.unexpected_count} rows; keys: {keys}"
                + (f" and {more} more" if more > 0 else "")
                + ")"
            )
        super().__init__(
            f"structural data-quality rules failed in checkpoint {summary.checkpoint!r} "
            f"(run {summary.run_id!r}): " + "; ".join(parts)
        )


class CheckExecutionError(QualityCheckError):
    """GX could not evaluate a rule (missing table or column, SQL error): not a finding."""


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    severity: str
    element_count: int | None
    unexpected_count: int | None
    success: bool
    # The failing records (province_code, record_key), distinct and sorted; rows without a key
    # or a province cannot be flagged.
    records: tuple[FlaggedRecord, ...] = ()
    error: str | None = None

    @property
    def record_keys(self) -> tuple[str, ...]:
        """The failing records' keys, distinct and sorted, whatever their province."""
        return tuple(sorted({r.record_key for r in self.records}))


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    source: str
    entity: str
    rules: tuple[RuleResult, ...]


@dataclass(frozen=True)
class CheckSummary:
    run_id: str
    checkpoint: str
    validated_at: datetime
    suites: tuple[SuiteResult, ...]
    data_docs_index: Path | None
    seconds: float = field(default=0.0, compare=False)
    # Records each suite examined on a night check (a suite checked in full is not listed), and
    # why the other suites were checked in full.
    examined: dict[str, int] = field(default_factory=dict, compare=False)
    full_reasons: dict[str, str] = field(default_factory=dict, compare=False)
    # GX context and checkpoint load, night scope, the tables derived once per check
    # (materialise), validation, Data Docs, dq writes (timing, for benchmarks; logged per phase).
    phase_seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def rules(self) -> tuple[RuleResult, ...]:
        return tuple(r for s in self.suites for r in s.rules)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.rules)

    @property
    def structural_failures_by_suite(self) -> tuple[tuple[str, RuleResult], ...]:
        return tuple(
            (s.suite, r)
            for s in self.suites
            for r in s.rules
            if r.severity == "structural" and not r.success
        )

    @property
    def structural_failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for _, r in self.structural_failures_by_suite)

    @property
    def unexpected_counts(self) -> dict[str, int]:
        """Failing rows per rule id (the per-rule counts a task logs or returns)."""
        return {r.rule_id: r.unexpected_count or 0 for r in self.rules}

    @property
    def flag_count(self) -> int:
        return sum(len(r.records) for r in self.rules)


def _gx_context(pg: PgParams, project_dir: Path) -> AbstractDataContext:
    # Must be set before GX is imported: a government system must not phone home.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx

    import cchc.quality.expectation  # noqa: F401  (registers SQL_RULE_TYPE before suites load)

    return gx.get_context(
        mode="file",
        context_root_dir=str(project_dir),
        # runtime_environment overrides ${...} in the config without touching os.environ.
        runtime_environment={URL_VARIABLE: pg.url("postgresql+psycopg2")},
    )


def _exception_message(info: Any) -> str | None:
    """GX reports errors either flat or keyed by the metric that failed."""
    if not isinstance(info, dict):
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    # First line only: GX appends the whole compiled SQL to database errors.
    messages = [
        str(e.get("exception_message") or "unknown error").strip().splitlines()[0][:300]
        for e in entries
        if isinstance(e, dict) and e.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _rule_result(res: Any, key_column: str, collected: dict) -> RuleResult:
    from cchc.quality.expectation import collected_key

    config = res.expectation_config
    meta = config.meta or {}
    rule_id, severity = meta.get("rule_id"), meta.get("severity")
    if not rule_id or severity not in SEVERITIES:
        raise ValueError(
            f"expectation {config.type} needs meta.rule_id and meta.severity in {SEVERITIES}"
        )
    error = _exception_message(res.exception_info)
    result = res.result or {}
    if config.type == SQL_RULE_TYPE:
        # Every failing record, from the same single run of the query GX counted.
        failing = collected.get(collected_key(config))
        if failing is None and error is None:
            raise RuntimeError(f"rule {rule_id}: GX validated it but handed over no key list")
        return RuleResult(
            rule_id=rule_id,
            severity=severity,
            element_count=None,
            unexpected_count=result.get("observed_value"),
            success=bool(res.success) and error is None,
            records=tuple(FlaggedRecord(*r) for r in failing or ()) if error is None else (),
            error=error,
        )
    index_rows = [row for row in result.get("unexpected_index_list") or [] if isinstance(row, dict)]
    if index_rows and PROVINCE_COLUMN not in index_rows[0]:
        raise ValueError(
            f"rule {rule_id}: the checkpoint's result_format must list {PROVINCE_COLUMN!r} in"
            f" unexpected_index_column_names, so flags say which province's record failed"
        )
    records = {
        FlaggedRecord(str(row[PROVINCE_COLUMN]), str(row[key_column]))
        for row in index_rows
        if row.get(key_column) is not None and row.get(PROVINCE_COLUMN) is not None
    }
    unexpected = result.get("unexpected_count")
    if unexpected and len(index_rows) < unexpected:
        # On SQL, GX caps the key list at result_format.partial_unexpected_count, even COMPLETE.
        log.warning(
            "rule %s: GX returned %d of %d failing rows; raise partial_unexpected_count "
            "in the checkpoint's result_format to flag them all",
            rule_id,
            len(index_rows),
            unexpected,
        )
    return RuleResult(
        rule_id=rule_id,
        severity=severity,
        element_count=result.get("element_count"),
        unexpected_count=unexpected,
        success=bool(res.success) and error is None,
        records=tuple(sorted(records)),
        error=error,
    )


def data_docs_index(project_dir: Path | None = None) -> Path:
    """Where the Data Docs site's front page is written (`cchc.quality.offline_docs`)."""
    return offline_docs.site_dir(Path(project_dir or EXPECTATIONS_DIR)) / "index.html"


def run_checks(
    pg: PgParams,
    run_id: str,
    *,
    stage: str | None = None,
    checkpoint: str | None = None,
    project_dir: Path | None = None,
    mode: str = "full",
) -> CheckSummary:
    """Run a checkpoint, write `dq.validation_runs`, `dq.record_flags` and `dq.record_counts`,
    rebuild Data Docs.

    `stage` is 'raw' (after loading and staging) or 'marts' (after the marts); `checkpoint`
    names one directly; the default is the raw stage. A rerun with the same `run_id` replaces
    that run's rows.

    `mode`: 'full' examines every record; 'night' examines, in each suite that declares a night
    scope and was checked before, only the records changed since its last check and what they
    link to (`cchc.quality.night`), keeping the previous run's flags for the rest: the same
    flags as a full check, at the cost of the night's changes. Raises `StructuralCheckError` (after writing the results) when a
    structural rule fails, `CheckExecutionError` when GX could not evaluate a rule;
    data-entry findings are only recorded.
    """
    if not run_id:
        raise ValueError("run_id must not be empty")
    if stage is not None:
        if stage not in STAGE_CHECKPOINTS:
            raise ValueError(f"stage must be one of {sorted(STAGE_CHECKPOINTS)}, got {stage!r}")
        checkpoint = checkpoint or STAGE_CHECKPOINTS[stage]
    checkpoint = checkpoint or DEFAULT_CHECKPOINT
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    project_dir = Path(project_dir or EXPECTATIONS_DIR)
    started = datetime.now(UTC)

    clock = time.perf_counter()
    phases: dict[str, float] = {}

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[phase] = round(now - clock, 3)
        clock = now
        log.info("checkpoint %s run %s: %s in %.2fs", checkpoint, run_id, phase, phases[phase])

    context = _gx_context(pg, project_dir)
    from great_expectations.core.run_identifier import RunIdentifier

    from cchc.quality.expectation import collect_keys, night_scopes

    cp = context.checkpoints.get(checkpoint)

    definitions = {vd.suite.name: vd for vd in cp.validation_definitions}
    for vd in definitions.values():
        legacy = [
            e.meta for e in vd.suite.expectations if e.expectation_type == BUILTIN_SQL_RULE_TYPE
        ]
        if legacy:
            raise ValueError(
                f"suite {vd.suite.name!r}: SQL rules must be {SQL_RULE_TYPE!r}, not"
                f" {BUILTIN_SQL_RULE_TYPE!r} (it keeps 200 failing rows of a query it runs twice):"
                f" {[m.get('rule_id') for m in legacy]}"
            )
    lap("context")
    plans = _plan_suites(pg, run_id, definitions.values(), mode)
    lap("night_scope")
    scopes = {p.table: p.scope for p in plans.values() if p.scope is not None}
    try:
        latest = _materialise(pg, run_id, plans)
        scopes = {p.table: p.scope for p in plans.values() if p.scope is not None}
        lap("materialise")
        with collect_keys() as collected, night_scopes(scopes, latest):
            outcome = cp.run(run_id=RunIdentifier(run_name=run_id, run_time=started))
        lap("validate")
        summary = _record(
            pg, context, outcome, definitions, plans, collected, run_id, checkpoint, started,
            phases, lap, project_dir,
        )  # fmt: skip
    finally:
        derived = [p.latest for p in plans.values() if p.latest] + [
            t for p in plans.values() if p.scope is not None for t in p.scope.tables.values()
        ]
        if scopes or derived:
            with psycopg.connect(pg.url(), autocommit=True) as conn:
                night.drop_scope(conn, run_id)
                night.drop_tables(conn, derived)
    return _raise_on_failures(summary)


@dataclass
class _SuitePlan:
    """How one suite is checked: its table, its night scope (None: in full) and watermarks."""

    table: str
    meta: dict
    scope: night.NightScope | None
    watermarks: night.Watermarks | None
    full_reason: str | None
    # The table `{batch:latest}` reads (`night.prepare_latest`); None: derived inline by each query.
    latest: str | None = None
    uses_latest: bool = False
    # The raw tables the suite's queries read restricted to its scope on a night check.
    scoped_tables: tuple[str, ...] = ()


def _plan_suites(pg: PgParams, run_id: str, definitions, mode: str) -> dict[str, _SuitePlan]:
    plans: dict[str, _SuitePlan] = {}
    tracked = [vd for vd in definitions if (vd.suite.meta or {}).get("night_scope_query")]
    if not tracked:
        return {
            vd.suite.name: _SuitePlan(
                _table_of(vd), vd.suite.meta or {}, None, None, None, uses_latest=_uses_latest(vd)
            )
            for vd in definitions
        }
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        indexes = [i for vd in tracked for i in (vd.suite.meta or {}).get("night_indexes", ())]
        changed_tables = {
            t
            for vd in tracked
            for t in night.tables_of(vd.suite.meta["night_scope_query"])
            + list(vd.suite.meta.get("full_check_if_changed", ()))
        }
        indexes += [night.extraction_index(t) for t in sorted(changed_tables)]
        night.ensure_tables(conn, indexes)
        for vd in definitions:
            meta, table = vd.suite.meta or {}, _table_of(vd)
            if not meta.get("night_scope_query"):
                plans[vd.suite.name] = _SuitePlan(
                    table, meta, None, None, "no night scope", uses_latest=_uses_latest(vd)
                )
                continue
            queries = [meta.get("night_scope_query"), meta.get("scope_query"),
                       meta.get("pending_query"), *meta.get("full_check_if_changed", ()),
                       *(getattr(e, "unexpected_rows_query", None) for e in vd.suite.expectations)]  # fmt: skip
            tables = sorted({table, *night.tables_of(*queries)})
            # Taken before anything is read: a version loaded during the check is examined again.
            current = night.current_watermarks(conn, vd.suite.name, tables)
            saved = night.saved_watermarks(conn, vd.suite.name)
            reason = "full check asked" if mode == "full" else None
            reason = reason or night.needs_full_check(conn, meta, current, saved)
            scope = None
            if reason is None:
                query = night.night_query(
                    night.unescape(meta["night_scope_query"]), vd.suite.name, table, current, saved
                )
                scope = night.prepare_scope(conn, run_id, vd.suite.name, table, query)
            scoped = sorted({table, *(t for q in queries if q for t in night.scoped_tables(q))})
            plans[vd.suite.name] = _SuitePlan(
                table,
                meta,
                scope,
                current,
                reason,
                uses_latest=_uses_latest(vd),
                scoped_tables=tuple(scoped),
            )
    return plans


def _uses_latest(vd) -> bool:
    meta = vd.suite.meta or {}
    queries = [meta.get("scope_query"), meta.get("pending_query"),
               *(getattr(e, "unexpected_rows_query", None) for e in vd.suite.expectations)]  # fmt: skip
    return any("{batch:latest}" in q for q in queries if q)


def _materialise(pg: PgParams, run_id: str, plans: dict[str, _SuitePlan]) -> dict[str, str]:
    """What every query of a suite reads, derived once per check: on a night check the rows of
    its records in scope, and its latest versions (`{batch:latest}`); returns the latest
    versions' table by suite table, for the rules GX runs."""
    if not any(p.uses_latest or p.scope is not None for p in plans.values()):
        return {}
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        for name, plan in plans.items():
            if plan.scope is not None and plan.scope.records:
                plan.scope = night.prepare_tables(conn, plan.scope, list(plan.scoped_tables))
            if plan.uses_latest:
                plan.latest = night.prepare_latest(conn, run_id, name, plan.table, plan.scope)
    return {p.table: p.latest for p in plans.values() if p.latest}


def _table_of(vd) -> str:
    asset = vd.data.data_asset
    return f"{asset.schema_name}.{asset.table_name}"


def _record(pg, context, outcome, definitions, plans, collected, run_id, checkpoint, started,
            phases, lap, project_dir: Path) -> CheckSummary:  # fmt: skip

    # Data Docs once per run: this run's page and the index of every run, as an offline site
    # (GX's own pages load scripts and styles from outside hosts).
    docs_index = offline_docs.build_site(project_dir, [run_id])
    lap("data_docs")

    suites, writes = [], []
    for validation in outcome.run_results.values():
        vd = definitions[validation.suite_name]
        suite = vd.suite
        meta = suite.meta or {}
        source, entity = meta.get("source"), meta.get("entity")
        key_column = meta.get("key_column")
        if not (source and entity and key_column):
            raise ValueError(
                f"suite {suite.name!r} needs meta.source, meta.entity, meta.key_column"
            )
        plan = plans[suite.name]
        rules = tuple(_rule_result(r, key_column, collected) for r in validation.results)
        ids = [r.rule_id for r in rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"suite {suite.name!r} has duplicated rule ids: {sorted(ids)}")
        scope, pending = meta.get("scope_query"), meta.get("pending_query")
        writes.append(
            results.SuiteWrite(
                suite=suite.name,
                source=source,
                entity=entity,
                rules=rules,
                scope_query=_rendered(scope, plan),
                night=plan.scope,
                pending_query=_rendered(pending, plan),
                watermarks=plan.watermarks,
            )
        )
    carried = results.write_results(pg, run_id=run_id, validated_at=started, suites=writes)
    for w in writes:
        # A night check's result is the suite's whole state: the flags it kept count too.
        rules = tuple(_with_carried(r, carried.get((w.suite, r.rule_id), ())) for r in w.rules)
        suites.append(SuiteResult(w.suite, w.source, w.entity, rules))
    lap("dq_writes")

    summary = CheckSummary(
        run_id=run_id,
        checkpoint=checkpoint,
        validated_at=started,
        suites=tuple(suites),
        data_docs_index=docs_index,
        seconds=(datetime.now(UTC) - started).total_seconds(),
        phase_seconds=phases,
        examined={n: p.scope.records for n, p in plans.items() if p.scope is not None},
        full_reasons={n: p.full_reason for n, p in plans.items() if p.full_reason},
    )
    log.info(
        "checkpoint %s run %s: %d suites, %d rules, %d failed, %d records flagged in %.1fs;"
        " records examined by night suites %s, suites checked in full %s; data docs %s;"
        " seconds by phase %s",
        checkpoint,
        run_id,
        len(suites),
        len(summary.rules),
        sum(not r.success for r in summary.rules),
        summary.flag_count,
        summary.seconds,
        summary.examined,
        summary.full_reasons,
        summary.data_docs_index,
        phases,
    )
    return summary


def _rendered(query: str | None, plan: _SuitePlan) -> str | None:
    return (
        night.unescape(night.render(query, plan.table, plan.scope, plan.latest)) if query else None
    )


def _with_carried(rule: RuleResult, carried: tuple[FlaggedRecord, ...]) -> RuleResult:
    if not carried:
        return rule
    return RuleResult(
        rule_id=rule.rule_id,
        severity=rule.severity,
        element_count=rule.element_count,
        unexpected_count=(rule.unexpected_count or 0) + len(carried),
        success=False,
        records=tuple(sorted({*rule.records, *carried})),
        error=rule.error,
    )


def _raise_on_failures(summary: CheckSummary) -> CheckSummary:
    errors: dict[str, list[str]] = {}
    for s in summary.suites:
        for r in s.rules:
            if r.error:
                errors.setdefault(r.error, []).append(f"{s.suite}.{r.rule_id}")
    if errors:
        # Grouped by message: a missing table fails every rule with the same error.
        raise CheckExecutionError(
            f"GX could not evaluate rules of checkpoint {summary.checkpoint!r}: "
            + "; ".join(f"{', '.join(ids)}: {msg}" for msg, ids in errors.items())
        )
    if summary.structural_failures:
        raise StructuralCheckError(summary)
    return summary

"""`cchc dq`: run a checkpoint (`check`); compare the warehouse's per-record flags with the
generator's ground truth (`score`).

A manifest is one province's: provinces share the warehouse and their systems may reuse keys,
so only that province's flags and records are compared with it."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

dq_app = typer.Typer(
    help="Data-quality checks: run a checkpoint, score flags against a ground truth."
)


@dq_app.callback()
def _group() -> None:
    """Keeps `score` a sub-command even while it is the only one."""


# Rules whose truth depends on what the sources have not shown yet (an apology letter issued
# after the extraction, backlog versions overwritten inside one nightly window): reported,
# never gating.
HEURISTIC_RULES = frozenset({"backdated_bulk_entry", "late_without_apology"})
THRESHOLD = 0.99
STORE_NAME = "store.sqlite"  # the generator's store, beside its truth/ folder

LATEST_FLAGS = """
with latest_runs as (
    select distinct on (source, entity) source, entity, run_id
    from dq.validation_runs
    where source is not null
    order by source, entity, validated_at desc
)
select f.source, f.entity, f.rule_id, f.record_key
from dq.record_flags f
join latest_runs r using (source, entity, run_id)
where f.severity = 'data_entry' and (%(province)s::text is null or f.province_code = %(province)s)
"""


@dataclass(frozen=True)
class RuleScore:
    rule_id: str
    flagged: int
    truth: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0

    @property
    def deterministic(self) -> bool:
        return self.rule_id not in HEURISTIC_RULES


def read_truth(path: Path) -> dict[str, set[str]]:
    """Record keys by rule from `truth/errors.csv` (or its folder, or the generator's output
    folder); rule ids are unique to one entity, so the key alone identifies a record."""
    path = Path(path)
    if path.is_dir():
        path = (
            path / "errors.csv" if (path / "errors.csv").exists() else path / "truth" / "errors.csv"
        )
    truth: dict[str, set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            truth[row["rule"]].add(row["record_key"])
    return truth


def latest_flags(conn, province: str | None = None) -> dict[str, set[str]]:
    """Data-entry flags of the latest run of every checked entity: the record keys by rule of
    `province`'s records (of every province when None, keys alone: they may coincide)."""
    flags: dict[str, set[str]] = defaultdict(set)
    for _source, _entity, rule_id, key in conn.execute(LATEST_FLAGS, {"province": province}):
        flags[rule_id].add(key)
    return flags


def store_beside(truth: Path) -> Path:
    """The generator's store for `--truth` given as errors.csv, its folder or the output folder."""
    truth = Path(truth)
    folder = truth.parent if truth.suffix == ".csv" else truth
    return (folder if (folder / STORE_NAME).exists() else folder.parent) / STORE_NAME


def unsettled_keys(store: Path, watermarks: dict[tuple[str, str], datetime | None]) -> set[str]:
    """Keys of records the generated store changes at or after the warehouse's watermark of
    their entity (every key of an entity never loaded): an error the manifest lists for one may
    lie in a version the warehouse has not loaded yet, so it cannot be judged.

    Reads the store's `records` table (entity as served, record_key, version_at as a naive
    local stamp) directly: the manifest itself carries no time.
    """
    import sqlite3
    from contextlib import closing
    from zoneinfo import ZoneInfo

    from cchc.config import LOCAL_TZ
    from cchc.extract.entities import WINDOWED_ENTITIES
    from cchc.synthetic.timeutil import STAMP_FORMAT

    keys: set[str] = set()
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as lite:
        for e in WINDOWED_ENTITIES:
            until = watermarks.get((e.source, e.name))
            since = until.astimezone(ZoneInfo(LOCAL_TZ)).strftime(STAMP_FORMAT) if until else ""
            keys.update(
                key
                for (key,) in lite.execute(
                    "select distinct record_key from records where entity = ? and version_at >= ?",
                    (e.path.rsplit("/", 1)[-1], since),
                )
            )
    return keys


# Rules whose truth turns on a deadline passing rather than on a new version: the entity and
# the deadline field. A record due at or after its entity's watermark cannot be late yet.
DEADLINE_RULES = {"incoming_document_overdue": ("ioffice", "incoming_documents", "HanXuLy")}


def due_after_watermark(
    conn, watermarks: dict[tuple[str, str], datetime | None], province: str
) -> dict:
    """Keys by deadline rule of `province`'s records due at or after their entity's watermark
    (`watermarks`: that province's)."""
    from zoneinfo import ZoneInfo

    from cchc.config import LOCAL_TZ
    from cchc.extract.entities import ENTITIES
    from cchc.synthetic.timeutil import STAMP_FORMAT

    tables = {(e.source, e.name): e.table for e in ENTITIES}
    pending: dict[str, set[str]] = {}
    for rule, (source, entity, field) in DEADLINE_RULES.items():
        until = watermarks.get((source, entity))
        if until is None:
            continue  # nothing loaded: every record of it is already left out as not loaded
        since = until.astimezone(ZoneInfo(LOCAL_TZ)).strftime(STAMP_FORMAT)
        pending[rule] = {
            key
            for (key,) in conn.execute(
                f"select distinct record_key from {tables[(source, entity)]}"
                " where province_code = %s and payload ->> %s >= %s",
                [province, field, since],
            )
        }
    return pending


# Rules that give the portal one nightly resend before judging a dossier (its rule waits until
# the day of the one-stop field + RESEND_GRACE has passed by the portal's load horizon): a
# dossier received or changed on the last loaded day may still reach the portal, so the
# warehouse cannot judge it yet, whatever the generator knows.
RESEND_RULES = {"missing_from_portal": "NgayTiepNhan", "portal_status_mismatch": "NgayCapNhat"}
RESEND_GRACE = "1 day 6 hours"  # as in expectations/expectations/portal_dossier_syncs.json

AWAITING_RESEND = f"""
with latest as (
    select distinct on (record_key) record_key, payload
    from raw.onestop__dossiers
    where province_code = %(province)s
    order by record_key, record_updated_at desc nulls last, extracted_at desc, payload_hash desc
)
select record_key from latest
where to_date(left(payload ->> %(field)s, 8), 'YYYYMMDD') + interval '{RESEND_GRACE}'
    > (%(until)s::timestamptz at time zone %(tz)s)
"""


def awaiting_resend(
    conn, watermarks: dict[tuple[str, str], datetime | None], province: str
) -> dict[str, set[str]]:
    """Keys by resend rule of `province`'s dossiers still inside the portal's resend grace at
    the portal's watermark (`watermarks`: that province's)."""
    from cchc.config import LOCAL_TZ

    until = watermarks.get(("portal", "dossier_syncs"))
    if (
        until is None
        or not conn.execute("select to_regclass('raw.onestop__dossiers')").fetchone()[0]
    ):
        return {}  # nothing of the portal loaded: its records are left out as not loaded
    return {
        rule: {
            key
            for (key,) in conn.execute(
                AWAITING_RESEND,
                {"province": province, "field": field, "until": until, "tz": LOCAL_TZ},
            )
        }
        for rule, field in RESEND_RULES.items()
    }


def loaded_keys(conn, province: str) -> set[str]:
    """Every record key of `province` in raw: dossiers, portal syncs and I-Office documents."""
    from cchc.extract.entities import WINDOWED_ENTITIES

    return {
        key
        for e in WINDOWED_ENTITIES
        for (key,) in conn.execute(
            f"select distinct record_key from {e.table} where province_code = %s", [province]
        )
    }


def score(truth: dict, flags: dict, rules: set[str] | None = None) -> list[RuleScore]:
    # Every rule of the manifest is scored; flagged rules absent from it count as all-false.
    names = sorted(set(truth) | set(flags)) if rules is None else sorted(rules)
    return [
        RuleScore(r, len(flags.get(r, ())), len(truth.get(r, ())),
                  len(flags.get(r, set()) & truth.get(r, set())))
        for r in names
    ]  # fmt: skip


@dataclass(frozen=True)
class Judged:
    scores: list[RuleScore]
    unloaded: int  # manifest records the warehouse has not loaded at all
    later: int  # manifest records changed or due after the last loaded night


def judge(conn, truth: Path, store: Path, province: str) -> Judged:
    """Score `province`'s latest flags against its manifest, on the records the warehouse can
    judge.

    The manifest covers every generated day. A record the warehouse has not loaded yet (a later
    night) cannot be flagged; nor can an error that lies in a version after the last loaded
    night (found in the generator's `store`, when there is one), that turns on a deadline
    after it, or that waits for the portal's nightly resend. Those records are left out, on
    both sides, and counted.
    """
    from cchc.extract.freshness import read_watermarks

    manifest, known = read_truth(truth), loaded_keys(conn, province)
    flags = latest_flags(conn, province)
    unloaded = sum(len(keys - known) for keys in manifest.values())
    manifest = {r: keys & known for r, keys in manifest.items()}
    watermarks = read_watermarks(conn, province)
    pending = due_after_watermark(conn, watermarks, province)
    for rule, keys in awaiting_resend(conn, watermarks, province).items():
        pending[rule] = pending.get(rule, set()) | keys
    unsettled = unsettled_keys(store, watermarks) if Path(store).is_file() else set()
    for rule in set(manifest) | set(flags) | set(pending):
        pending[rule] = pending.get(rule, set()) | unsettled
    later = sum(len(keys & pending[r]) for r, keys in manifest.items())
    return Judged(
        score(
            {r: keys - pending[r] for r, keys in manifest.items()},
            {r: keys - pending[r] for r, keys in flags.items()},
        ),
        unloaded,
        later,
    )


@dq_app.command("score")
def score_command(
    truth: Annotated[Path, typer.Option("--truth", help="truth/errors.csv or its folder")],
    province: Annotated[
        str | None,
        typer.Option(
            "--province",
            help="the province the manifest is of (default: the configured CCHC_PROVINCE_CODE)",
        ),
    ] = None,
    fail_below: Annotated[
        bool,
        typer.Option(
            "--fail-below/--no-fail-below",
            help=f"exit 1 when a deterministic rule's precision or recall is below {THRESHOLD}",
        ),
    ] = True,
) -> None:
    """Precision and recall per rule of one province's latest per-record flags against its
    manifest."""
    from cchc import warehouse
    from cchc.config import load_settings

    if not Path(truth).exists():  # before any connection: a mistyped path is one line
        typer.secho(f"error: no ground truth at {truth} (give truth/errors.csv or its folder)",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise typer.Exit(2)
    province = province or load_settings().province_code
    store = store_beside(truth)
    with warehouse.connect() as conn:
        judged = judge(conn, truth, store, province)
    typer.echo(f"province {province}: its flags against {truth}")
    if judged.unloaded:
        typer.echo(f"{judged.unloaded} manifest records are not loaded yet and are left out")
    if judged.later:
        typer.echo(
            f"{judged.later} manifest records change, or fall due, after the last loaded night"
            " and are left out"
        )
    if not store.is_file():
        typer.echo(f"no generator store at {store}: records changed after the last loaded night"
                   " are scored as if complete")  # fmt: skip
    typer.echo(
        f"{'rule':34} {'kind':13} {'flagged':>8} {'truth':>7} {'TP':>7} {'prec':>6} {'recall':>6}"
    )
    failing = []
    for s in judged.scores:
        kind = "deterministic" if s.deterministic else "heuristic"
        typer.echo(
            f"{s.rule_id:34} {kind:13} {s.flagged:8d} {s.truth:7d} {s.true_positives:7d}"
            f" {s.precision:6.3f} {s.recall:6.3f}"
        )
        if s.deterministic and min(s.precision, s.recall) < THRESHOLD:
            failing.append(s.rule_id)
    if failing:
        typer.echo(f"below {THRESHOLD}: {', '.join(failing)}", err=True)
        if fail_below:
            raise typer.Exit(1)


@dq_app.command("check")
def check_command(
    stage: Annotated[str, typer.Option(help="raw (after loading) or marts")] = "raw",
    full: Annotated[
        bool,
        typer.Option(
            "--full/--night",
            help="examine every record (--full) or only those changed since the last check"
            " and what they link to (--night: the same flags, at the cost of the changes)",
        ),
    ] = False,
    run_id: Annotated[str | None, typer.Option(help="default: manual-<local time>")] = None,
) -> None:
    """Run a stage's Great Expectations checkpoint against the warehouse and record its flags."""
    from cchc import warehouse
    from cchc.quality import run_checks

    run_id = run_id or f"manual-{datetime.now().astimezone():%Y%m%dT%H%M%S%z}"
    # the pipeline's own login, so what the check creates stays the transformer group's
    pg = warehouse.login_params("transformer")
    summary = run_checks(pg, run_id, stage=stage, mode="full" if full else "night")
    typer.echo(
        f"run {run_id}: {len(summary.rules)} rules, {summary.flag_count} records flagged in"
        f" {summary.seconds:.1f}s; examined by night suites {summary.examined or 'none'};"
        f" checked in full {summary.full_reasons or 'none'}"
    )

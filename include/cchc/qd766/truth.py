"""Check the bounds against the truth: the same province generated with and without its
injected data-entry errors.

The generator draws its errors from their own random streams, so a store generated with the
errors off holds the same dossiers as the store with them on, as they really were. For every
agency × quarter, each dossier component reached by a data-entry rule is scored twice: from
the clean store (the truth) and from the dirty one, whose records are flagged by the rules of
the one-stop suite (the conditions of its SQL rules, on each dossier's latest version;
statutory days looked up by procedure code only) and bounded by :mod:`cchc.qd766.bounds`.
The check: how often the clean score lies within the dirty bounds, and how wide they are
against the trivial "0 to max".

Scores here are computed from the dossiers alone (in scope: received in the quarter; on
time: ended no later than the appointment date, or still open and not yet due at the
quarter's end), not by the warehouse: what is checked is the bound arithmetic on flagged
records, the same in the mart. The components whose state a dossier alone does not give
(DOSSIER_RECEIVING_SATISFACTION: overdue at the period's end and rated not satisfied;
ONLINE_PAYMENT_DOSSIER: only dossiers with a fee count) are bounded in the mart only, with a
state left unknown (the widest move a flagged record can make), and are not checked here.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cchc.config import REPO_ROOT
from cchc.qd766.bounds import EITHER, Bounds, Flagged, State, component_bounds
from cchc.qd766.rules import Rules, load_rules

EFFECTS_PATH = REPO_ROOT / "dbt_project" / "seeds" / "qd766_rule_effects.csv"
EVER = (datetime(1990, 1, 1), datetime(2100, 1, 1))


def load_effects(path: Path = EFFECTS_PATH) -> dict[str, dict[str, str]]:
    """{component_code: {rule_id: effect}} from the seed qd766_rule_effects."""
    effects: dict[str, dict[str, str]] = defaultdict(dict)
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            effects[row["component_code"]][row["rule_id"]] = row["effect"]
    return dict(effects)


def _quarter(stamp: str) -> str:
    return f"{stamp[:4]}Q{(int(stamp[4:6]) - 1) // 3 + 1}"


def _on_time(end: str | None, due: str | None, horizon: str) -> bool:
    if end:
        return due is not None and end <= due
    return due is not None and due >= horizon


def dossier_states(d: dict, horizon: str, end: str | None = None) -> dict[str, bool]:
    """Whether the dossier is in each component's numerator (it is in every denominator)."""
    end = d.get("NgayKetThucXuLy") if end is None else end
    components = d.get("TaiLieuNop") or []
    online = d.get("KenhThucHien") == 2
    return {
        "DOSSIER_HANDLING_ON_TIME": _on_time(end, d.get("NgayHenTra"), horizon),
        "ONLINE_DOSSIER_RATE": online,
        "CITIZEN_DATA_CONNECTED_DOSSIER": online,
        "SO_HOA_GIAY_TO_GIAI_QUYET": d.get("HoSoCoThanhPhanSoHoa") == 1,
        "REUSED_DIGITIZED_DATA": any(c.get("DuocTaiSuDung") == 1 for c in components),
        "ORIGINAL_RESULT_AVAILABLE": bool(d.get("DanhSachGiayToKetQua")),
    }


def _copies(dossiers: list[dict]) -> set[str]:
    """entered_in_two_systems: every copy of a dossier keyed in more than once, but the one
    that was processed furthest (the suite's rule)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for d in dossiers:
        if d.get("SoGiayToChuHoSo") is not None:
            key = (d["DonViXuLy"], d["MaTTHC"], d["NgayTiepNhan"], d["SoGiayToChuHoSo"])
            groups[key].append(d)
    copies = set()
    for group in groups.values():
        group.sort(
            key=lambda d: (
                d.get("TrangThaiHoSo") == 2,
                -len(d.get("QuaTrinhXuLy") or []),
                d.get("NgayCapNhat") or "",
                d["MaHoSo"],
            )
        )
        copies.update(d["MaHoSo"] for d in group[1:])
    return copies


class _Statutory:
    """appointment_not_statutory: the appointment is not the statutory number of working
    days after receipt (dossiers never sent back for more papers)."""

    def __init__(self, procedures: list[dict]) -> None:
        from cchc.synthetic.workdays import WorkingCalendar

        self.days = {p["MaTTHC"]: p.get("ThoiHanGiaiQuyet") for p in procedures}
        self.calendar = WorkingCalendar()

    def wrong(self, d: dict) -> bool:
        days = self.days.get(d.get("MaTTHC"))
        received = d.get("NgayTiepNhan")
        if not days or not received or d.get("DanhSachHoSoBoSung"):
            return False
        day = datetime.strptime(received[:8], "%Y%m%d").date()
        due = self.calendar.add_working_days(day, int(days)).strftime("%Y%m%d") + received[8:]
        return d.get("NgayHenTra") != due


def _backdated(d: dict) -> bool:
    steps = d.get("QuaTrinhXuLy") or []
    stamps = [s.get("ThoiDiemXuLy") for s in steps if s.get("ThoiDiemXuLy")]
    if len(steps) < 2 or not stamps or not d.get("NgayCapNhat"):
        return False
    updated = datetime.strptime(d["NgayCapNhat"], "%Y%m%d%H%M%S") - timedelta(seconds=60)
    return updated > datetime.strptime(max(stamps), "%Y%m%d%H%M%S")


def flag_dossiers(
    dossiers: list[dict], procedures: list[dict], units: set[str]
) -> dict[str, set[str]]:
    """{dossier code: data-entry rules it fails}, the one-stop suite's conditions."""
    copies = _copies(dossiers)
    statutory = _Statutory(procedures)
    flags: dict[str, set[str]] = defaultdict(set)
    for d in dossiers:
        code, end, status = d["MaHoSo"], d.get("NgayKetThucXuLy"), d.get("TrangThaiHoSo")
        ended_signs = d.get("NgayTra") is not None or bool(d.get("DanhSachGiayToKetQua"))
        rules = flags[code]
        if code in copies:
            rules.add("entered_in_two_systems")
        if end is None and (status in (9, 10) or ended_signs):
            rules.add("completed_without_end_date")
        if end is not None and d.get("NgayTiepNhan") and end < d["NgayTiepNhan"]:
            rules.add("end_before_receipt")
        if status == 4 and (end is not None or ended_signs):
            rules.add("status_contradicts_dates")
        if _backdated(d):
            rules.add("backdated_bulk_entry")
        steps = d.get("QuaTrinhXuLy") or []
        if d.get("KenhThucHien") == 2 and status not in (1, 2) and len(steps) <= 1:
            rules.add("online_without_electronic_trail")
        if code in copies:
            continue
        if statutory.wrong(d):
            rules.add("appointment_not_statutory")
        if d.get("HoSoCoThanhPhanSoHoa") == 1 and not any(
            c.get("DuocSoHoa") == 1 for c in d.get("TaiLieuNop") or []
        ):
            rules.add("digitized_without_files")
        if units and d.get("DonViXuLy") not in units:
            rules.add("unknown_agency_code")
    return {code: rules for code, rules in flags.items() if rules}


def registered_agency(code: str, units: set[str]) -> str | None:
    """The registered unit an unknown code extends (H40.18.99 → H40.18), if any."""
    parts = code.split(".")
    while len(parts) > 1:
        parts.pop()
        if ".".join(parts) in units:
            return ".".join(parts)
    return None


def _implied_end(d: dict, rules: set[str]) -> str | None:
    """A wrong or missing end date: the return date, when the dossier has one after receipt."""
    if rules & {"end_before_receipt", "completed_without_end_date"}:
        returned = d.get("NgayTra")
        if returned and returned >= (d.get("NgayTiepNhan") or ""):
            return returned
    return None


def _state(in_numerator: bool) -> State:
    return State.IN_NUMERATOR if in_numerator else State.DENOMINATOR


@dataclass
class _Scope:
    numerator: dict[str, int]
    denominator: int
    flagged: dict[str, list[Flagged]]


def _new_scope() -> _Scope:
    return _Scope(defaultdict(int), 0, defaultdict(list))


def score_scopes(
    dossiers: Iterable[dict],
    horizon: str,
    effects: dict[str, dict[str, str]],
    flags: dict[str, set[str]] | None = None,
    units: set[str] | None = None,
    exclude: set[str] = frozenset(),
) -> dict[tuple[str, str], _Scope]:
    """Counts per (agency, quarter), and each component's flagged records."""
    flags = flags or {}
    scopes: dict[tuple[str, str], _Scope] = defaultdict(_new_scope)
    for d in dossiers:
        if not d.get("NgayTiepNhan") or d["MaHoSo"] in exclude:
            continue
        rules = flags.get(d["MaHoSo"], set())
        states = dossier_states(d, horizon)
        agency = d["DonViXuLy"]
        counted = True
        if "unknown_agency_code" in rules:
            agency, counted = registered_agency(agency, units or set()), False
            if agency is None:
                continue
        scope = scopes[(agency, _quarter(d["NgayTiepNhan"]))]
        if counted:
            scope.denominator += 1
        implied_end = _implied_end(d, rules)
        implied = dossier_states(d, horizon, implied_end) if implied_end else states
        for component, by_rule in effects.items():
            if component not in states:  # bounded in the mart only (module docstring)
                continue
            in_num = states[component]
            if counted and in_num:
                scope.numerator[component] += 1
            hit = {by_rule[r] for r in rules if r in by_rule}
            if not counted:
                scope.flagged[component].append(
                    Flagged(State.ABSENT, frozenset({_state(in_num)}), _state(in_num))
                )
            elif "either" in hit:
                scope.flagged[component].append(
                    Flagged(_state(in_num), EITHER, _state(implied[component]))
                )
            elif "copy" in hit:
                scope.flagged[component].append(
                    Flagged(_state(in_num), frozenset({State.ABSENT}), State.ABSENT)
                )
    return scopes


@dataclass(frozen=True)
class Checked:
    agency: str
    quarter: str
    component: str
    max_points: Decimal
    clean: Decimal | None
    bounds: Bounds

    @property
    def covered(self) -> bool:
        return self.bounds.covers(self.clean)


@dataclass(frozen=True)
class TruthReport:
    rows: list[Checked]

    @property
    def coverage(self) -> float:
        return sum(r.covered for r in self.rows) / len(self.rows) if self.rows else 0.0

    @property
    def median_width(self) -> float:
        widths = [float(r.bounds.at_stake) for r in self.rows if r.bounds.at_stake is not None]
        return statistics.median(widths) if widths else 0.0

    @property
    def median_trivial_width(self) -> float:
        return statistics.median(float(r.max_points) for r in self.rows) if self.rows else 0.0

    @property
    def scopes(self) -> int:
        return len({(r.agency, r.quarter) for r in self.rows})

    def mean_error(self, of: str) -> float:
        """Mean |points − clean points| of the score as computed (`score`) or the estimate."""
        errors = [
            abs(float(getattr(r.bounds, of)) - float(r.clean))
            for r in self.rows
            if r.clean is not None and getattr(r.bounds, of) is not None
        ]
        return statistics.fmean(errors) if errors else 0.0

    def by_component(self) -> dict[str, TruthReport]:
        parts: dict[str, list[Checked]] = defaultdict(list)
        for row in self.rows:
            parts[row.component].append(row)
        return {code: TruthReport(rows) for code, rows in sorted(parts.items())}


def _read(store: Path):
    from cchc.simulators.store import SimStore

    sim = SimStore(store)
    units = {u["MaDonVi"] for u in sim.list("administrative-units", *EVER)}
    return sim, sim.list("dossiers", *EVER), units


def _horizon(sim) -> str:
    return date.fromisoformat(sim.meta()["end"]).strftime("%Y%m%d") + "000000"


def check(clean_store: Path, dirty_store: Path, rules: Rules | None = None) -> TruthReport:
    """Bounds from the dirty store against scores from the clean one, for every agency ×
    quarter × component with at least one flagged record."""
    rules = rules or load_rules()
    effects = load_effects()
    clean_sim, clean_dossiers, units = _read(clean_store)
    dirty_sim, dirty_dossiers, dirty_units = _read(dirty_store)
    horizon = _horizon(dirty_sim)
    flags = flag_dossiers(dirty_dossiers, dirty_sim.list("procedures", *EVER), dirty_units)
    truth = score_scopes(clean_dossiers, _horizon(clean_sim), effects)
    dirty = score_scopes(dirty_dossiers, horizon, effects, flags, dirty_units)
    rows = []
    for key, scope in sorted(dirty.items()):
        clean = truth.get(key) or _new_scope()
        for component, records in scope.flagged.items():
            if not records:
                continue
            rule = rules[component]
            bounds = component_bounds(rule, scope.numerator[component], scope.denominator, records)
            clean_points = component_bounds(
                rule, clean.numerator[component], clean.denominator, []
            ).score
            rows.append(Checked(*key, component, rule.max_points, clean_points, bounds))
    return TruthReport(rows)


def generate_pair(
    out_dir: Path, start: date, end: date, seed: int, scale: float, province_code: str
) -> tuple[Path, Path]:
    """The same province twice: `clean/` without the injected data-entry errors (the source
    systems' own behaviour kept: syncing, supplements, apologies) and `dirty/` with them."""
    from cchc.synthetic import generate
    from cchc.synthetic.errors import ErrorRates

    common = {"seed": seed, "scale": scale, "province_code": province_code}
    clean = generate(out_dir / "clean", start, end, errors=ErrorRates().scaled(0), **common)
    dirty = generate(out_dir / "dirty", start, end, errors=ErrorRates(), **common)
    return clean, dirty

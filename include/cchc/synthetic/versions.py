"""A record's versions: the state written at each change, and the replay that makes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .timeutil import stamp


@dataclass
class Version:
    at: datetime
    payload: dict


@dataclass
class DossierLife:
    code: str
    versions: list[Version] = field(default_factory=list)  # only those before the horizon
    late: bool = False
    due_at: datetime | None = None  # the appointment in force when the dossier ended
    ended_at: datetime | None = None  # handled, refused or stopped (the 766 "end")
    procedure_code: str = ""
    channel: int = 1


@dataclass
class Event:
    at: datetime
    status: int | None = None  # None: a handling step that writes no version of its own
    step: dict | None = None
    updates: dict = field(default_factory=dict)
    supplement: dict | None = None  # opens (or completes, same dict) a supplement request


def replay(base: dict, events: list[Event], horizon: datetime) -> list[Version]:
    """Apply the events in time order, writing a version at each status change."""
    state = dict(base)
    steps: list[dict] = []
    supplements: list[dict] = []
    versions: list[Version] = []
    previous: datetime | None = None
    for event in sorted(events, key=lambda e: e.at):
        at = event.at
        if previous is not None and at <= previous:
            at = previous + timedelta(seconds=1)  # one version per second per record
        if at >= horizon:
            break
        if event.step is not None:
            steps.append(event.step)
        if event.supplement is not None:
            if supplements and supplements[-1]["NgayBoSung"] == event.supplement["NgayBoSung"]:
                supplements[-1] = event.supplement
            else:
                supplements.append(event.supplement)
        state.update(event.updates)
        if event.status is None:
            continue
        state["TrangThaiHoSo"] = event.status
        state["QuaTrinhXuLy"] = list(steps)
        state["DanhSachHoSoBoSung"] = list(supplements)
        state["NgayCapNhat"] = stamp(at)
        versions.append(Version(at, dict(state)))
        previous = at
    return versions

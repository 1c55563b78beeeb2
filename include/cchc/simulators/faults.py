"""Fault injection, so connectors are tested against the failures real sources produce.

Two triggers: the request header `X-Sim-Fault: <kind>[:seconds]` forces one fault on that
request; an app-level `FaultConfig` (from `CCHC_SIM_FAULTS="500:0.2,429:0.1,nfd:0.1"`,
optional `delay=2`, `timeout=60` and `seed=0`) draws faults at those rates from a seeded
sequence, so the n-th list request of a run always gets the same fault. Health checks are
never faulted. What each kind does to a response is in `cchc.simulators.corruption`.

Kinds:
  500, 429            error statuses (429 with Retry-After)
  slow[:s]            a correct answer after `s` seconds (default `delay`)
  timeout[:s]         a correct answer after `s` seconds (default `timeout`), meant to be
                      longer than the client's read timeout
  truncated           the JSON body cut off half-way
  malformed           a JSON body with a syntax error
  duplicate           one record of a neighbouring page repeated on this page
  drift-extra         every record carries an unknown extra field
  drift-missing       an optional field is absent from every record
  drift-renamed       a field arrives under another name
  nfd                 Vietnamese text decomposed (NFD) instead of composed (NFC)
  keyless             the page's first record lacks its key field
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FAULT_HEADER = "X-Sim-Fault"
# Fixed order: a configured draw maps onto these cumulatively, so keep appending, never reorder.
FAULT_KINDS = (
    "500",
    "429",
    "slow",
    "timeout",
    "truncated",
    "malformed",
    "duplicate",
    "drift-extra",
    "drift-missing",
    "drift-renamed",
    "nfd",
    "keyless",
)
TIMED_KINDS = ("slow", "timeout")
DEFAULT_DELAY_SECONDS = 2.0
DEFAULT_TIMEOUT_SECONDS = 60.0
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class Fault:
    kind: str
    delay: float = 0.0


@dataclass(frozen=True)
class FaultConfig:
    rates: dict[str, float] = field(default_factory=dict)
    delay: float = DEFAULT_DELAY_SECONDS
    seed: int = 0
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """`"500:0.2,429:0.1,slow:0.05,delay=1.5,timeout=30,seed=3"`; empty means no faults."""
        rates: dict[str, float] = {}
        delay, seed, timeout = DEFAULT_DELAY_SECONDS, 0, DEFAULT_TIMEOUT_SECONDS
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if item.startswith("delay="):
                delay = float(item.removeprefix("delay="))
            elif item.startswith("timeout="):
                timeout = float(item.removeprefix("timeout="))
            elif item.startswith("seed="):
                seed = int(item.removeprefix("seed="))
            else:
                kind, sep, rate = item.partition(":")
                if not sep or kind not in FAULT_KINDS:
                    raise ValueError(
                        f"bad fault {item!r}: expected one of {FAULT_KINDS} as kind:rate"
                    )
                rates[kind] = float(rate)
        if any(r < 0 for r in rates.values()) or sum(rates.values()) > 1:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1: {spec!r}")
        return cls(rates=rates, delay=delay, seed=seed, timeout=timeout)

    def default_seconds(self, kind: str) -> float:
        return self.timeout if kind == "timeout" else self.delay


def parse_fault_header(value: str, config: FaultConfig | None = None) -> Fault:
    config = config or FaultConfig()
    kind, _, seconds = value.strip().partition(":")
    if kind not in FAULT_KINDS:
        raise ValueError(f"{FAULT_HEADER} must be one of {', '.join(FAULT_KINDS)}, got {value!r}")
    if kind in TIMED_KINDS:
        return Fault(kind, float(seconds) if seconds else config.default_seconds(kind))
    return Fault(kind)


class FaultInjector:
    def __init__(self, config: FaultConfig | None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()  # requests run on several threads; keep one sequence

    def draw(self, header: str | None) -> Fault | None:
        """The fault for this request: the header's if given, else the configured rates'."""
        if header:
            return parse_fault_header(header, self.config)
        if not self.config.rates:
            return None
        with self._lock:
            draw = self._rng.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += self.config.rates.get(kind, 0.0)
            if draw < threshold:
                return Fault(kind, self.config.default_seconds(kind) if kind in TIMED_KINDS else 0)
        return None

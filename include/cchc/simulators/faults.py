"""Fault injection, so connectors are tested against the failures real sources produce.

Two triggers: the request header `X-Sim-Fault: 500 | 429 | slow[:seconds]` forces one fault
on that request; an app-level `FaultConfig` (from `CCHC_SIM_FAULTS="500:0.2,429:0.1,slow:0.1"`,
optional `delay=2` and `seed=0`) draws faults at those rates from a seeded sequence, so the
n-th list request of a run always gets the same fault. Health checks are never faulted.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

FAULT_HEADER = "X-Sim-Fault"
FAULT_KINDS = ("500", "429", "slow")  # fixed order: the draw maps onto these cumulatively
DEFAULT_DELAY_SECONDS = 2.0
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

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """`"500:0.2,429:0.1,slow:0.05,delay=1.5,seed=3"`; empty means no faults."""
        rates: dict[str, float] = {}
        delay, seed = DEFAULT_DELAY_SECONDS, 0
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if item.startswith("delay="):
                delay = float(item.removeprefix("delay="))
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
        return cls(rates=rates, delay=delay, seed=seed)


def parse_fault_header(value: str) -> Fault:
    kind, _, seconds = value.strip().partition(":")
    if kind not in FAULT_KINDS:
        raise ValueError(f"{FAULT_HEADER} must be one of {', '.join(FAULT_KINDS)}, got {value!r}")
    if kind == "slow":
        return Fault(kind, float(seconds) if seconds else DEFAULT_DELAY_SECONDS)
    return Fault(kind)


class FaultInjector:
    def __init__(self, config: FaultConfig | None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()  # requests run on several threads; keep one sequence

    def draw(self, header: str | None) -> Fault | None:
        """The fault for this request: the header's if given, else the configured rates'."""
        if header:
            return parse_fault_header(header)
        if not self.config.rates:
            return None
        with self._lock:
            draw = self._rng.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += self.config.rates.get(kind, 0.0)
            if draw < threshold:
                return Fault(kind, self.config.delay if kind == "slow" else 0.0)
        return None

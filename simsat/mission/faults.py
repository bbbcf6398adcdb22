"""Faults during a mission, injected (the `faults` config section) and real, and what the
mission does about them: record each one, skip what it spoiled, go on.

Injected faults are drawn from the run seed. Each kind has its own random stream, and each
draw depends only on (seed, kind, satellite, occasion), where the occasion is the satellite's
n-th contact window of the plan or its n-th training: whether a given contact is lost does not
depend on what else happened before it.

Fault types (events.jsonl: kind "fault", field `type`; summary.json: `faults`):

- ``contact_loss``: a contact window is lost (weather, a station fault): nothing is sent in it;
- ``train_failure``: a satellite's training raised (injected: its ClientApp is told to raise);
- ``client_timeout``: a training's reply did not arrive in time: its update is dropped;
- ``dead_satellite``: a satellite stops answering at a simulated time (no contacts, no trainings);
- ``client_error``: a satellite's ClientApp raised for real: that exchange is skipped;
- ``divergence``: a training's loss became NaN or infinite: its update is dropped; more than
  `max_divergences` of them stop the run;
- ``isl_loss``: an inter-satellite link window is lost (pointing, interference): nothing is sent
  over that link in it;
- ``satellite_lost``: a satellite whose ClientApp failed `max_client_errors` times
  without a training coming back in between is no longer used.

The run fails (MissionError, one line) only when no satellite can contribute any more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simsat.errors import MissionError

log = logging.getLogger(__name__)

FAULT_TYPES = (
    "contact_loss",
    "train_failure",
    "client_timeout",
    "dead_satellite",
    "client_error",
    "divergence",
    "satellite_lost",
    "isl_loss",
)
_STREAMS = {"contact_loss": 1, "train_failure": 2, "client_timeout": 3, "isl_loss": 4}
# What a failed reply was, as SatelliteFailure.cause, and the fault type it is recorded as.
CAUSE_TYPES = {
    "injected": "train_failure",
    "diverged": "divergence",
    "timeout": "client_timeout",
    "error": "client_error",
}

Record = Callable[..., None]  # record(kind, **fields) at the current simulated time


class SatelliteFailure(RuntimeError):
    """A satellite's ClientApp gave no usable reply. `cause`: injected (a fault the mission asked
    for), diverged (the training's loss became NaN or infinite), timeout, or error (it raised)."""

    def __init__(self, message: str, cause: str = "error") -> None:
        super().__init__(message)
        self.cause = cause if cause in CAUSE_TYPES else "error"


class InjectedFault(RuntimeError):
    """Raised by a ClientApp that the mission told to fail (`FaultSettings.train_failure_rate`)."""


@dataclass(frozen=True)
class DeadSatellite:
    satellite: int
    at_s: float  # simulated seconds from the mission start


@dataclass(frozen=True)
class FaultSettings:
    """The faults to inject (rates are probabilities per occasion) and the limits the run stops at.

    The run's stop messages name the limit `max_divergences_name` and say the satellites of
    `dead` died by `dead_source` (the config layer passes the config keys)."""

    seed: int = 0
    train_failure_rate: float = 0.0
    contact_loss_rate: float = 0.0
    client_timeout_rate: float = 0.0
    isl_loss_rate: float = 0.0
    dead: tuple[DeadSatellite, ...] = ()
    max_divergences: int = 2
    max_client_errors: int = 3
    divergence_hint: str = "likely cause: the learning rate too high"
    max_divergences_name: str = "max_divergences"
    dead_source: str = "injected"


def draw(seed: int, kind: str, satellite: int, occasion: int) -> float:
    """A uniform number in [0, 1) that depends only on its arguments (one stream per kind)."""
    return float(np.random.default_rng([seed, _STREAMS[kind], satellite, occasion]).random())


class Faults:
    """Decides the injected faults, records every fault and tells which satellites can still contribute."""

    def __init__(self, settings: FaultSettings, num_satellites: int, record: Record) -> None:
        self.settings = settings
        self.num_satellites = num_satellites
        self.record = record
        self.counts = dict.fromkeys(FAULT_TYPES, 0)
        self.death_s = {d.satellite: d.at_s for d in settings.dead}
        self.lost: dict[int, str] = {}  # satellite -> why it no longer counts
        self.errors_in_a_row = [0] * num_satellites
        self.trainings = [0] * num_satellites  # occasions of the training draws

    # -- state -------------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> dict[str, int]:
        """Counts by type (every type, zeros included) and their total."""
        return {**self.counts, "total": self.total}

    def usable(self, satellite: int, now_s: float) -> bool:
        """False once the satellite is dead (from its time of death on) or lost."""
        return satellite not in self.lost and self.death_s.get(satellite, float("inf")) > now_s

    def _fault(self, type_: str, satellite: int, **fields: Any) -> None:
        self.counts[type_] += 1
        self.record("fault", type=type_, satellite=satellite, **fields)

    # -- injected faults ---------------------------------------------------------------------
    def contact_lost(self, satellite: int, window: int, station: str) -> bool:
        """Whether the satellite's `window`-th contact of the plan is lost (recorded when it is)."""
        rate = self.settings.contact_loss_rate
        if rate <= 0 or draw(self.settings.seed, "contact_loss", satellite, window) >= rate:
            return False
        self._fault("contact_loss", satellite, station=station)
        return True

    def isl_lost(self, window: int, a: int, b: int) -> bool:
        """Whether the `window`-th inter-satellite link window of the plan (between a and b) is
        lost (recorded when it is)."""
        rate = self.settings.isl_loss_rate
        if rate <= 0 or draw(self.settings.seed, "isl_loss", 0, window) >= rate:
            return False
        self._fault("isl_loss", a, peer=b)
        return True

    def next_training(self, satellite: int) -> tuple[bool, bool]:
        """(fails, reply late) for the satellite's next training (taken: the one after draws anew)."""
        drawn = self.peek_training(satellite)
        self.trainings[satellite] += 1
        return drawn

    def peek_training(self, satellite: int) -> tuple[bool, bool]:
        """(fails, reply late) for the satellite's next training, without taking it."""
        s, n = self.settings, self.trainings[satellite]
        fails = s.train_failure_rate > 0 and draw(s.seed, "train_failure", satellite, n) < s.train_failure_rate
        late = s.client_timeout_rate > 0 and draw(s.seed, "client_timeout", satellite, n) < s.client_timeout_rate
        return fails, late

    def reply_late(self, satellite: int) -> None:
        """A training's reply was treated as not arriving in time: its update is dropped."""
        self._fault("client_timeout", satellite, what="train.compute", injected=True)

    def deaths(self, env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        """A process that records each satellite's death at its time."""
        for satellite, at_s in sorted(self.death_s.items(), key=lambda item: (item[1], item[0])):
            if at_s > env.now:
                yield env.timeout(at_s - env.now)
            self._fault("dead_satellite", satellite)
            self._lose(satellite, f"dead ({self.settings.dead_source})")

    # -- replies -----------------------------------------------------------------------------
    def answered(self, satellite: int, what: str) -> None:
        """The satellite's ClientApp answered `what`; a training that came back ends its run of errors."""
        if what == "train.compute":
            self.errors_in_a_row[satellite] = 0

    def failed(self, satellite: int, what: str, failure: SatelliteFailure) -> None:
        """A reply was an error: record it; MissionError when the run cannot go on."""
        type_ = CAUSE_TYPES[failure.cause]
        reason = str(failure)
        self._fault(type_, satellite, what=what, reason=reason)
        if type_ == "divergence":
            self._diverged(satellite, reason)
            return
        if type_ == "train_failure":
            return  # injected: the satellite is fine
        log.warning("satellite %d: %s", satellite, reason)
        self.errors_in_a_row[satellite] += 1
        if self.errors_in_a_row[satellite] >= self.settings.max_client_errors and satellite not in self.lost:
            self._fault("satellite_lost", satellite, errors=self.errors_in_a_row[satellite])
            self._lose(
                satellite,
                f"lost after {self.errors_in_a_row[satellite]} failed replies in a row (last: {reason})",
            )

    def _diverged(self, satellite: int, reason: str) -> None:
        s, count = self.settings, self.counts["divergence"]
        if count > s.max_divergences:
            raise MissionError(
                f"{count} onboard trainings diverged (more than {s.max_divergences_name}={s.max_divergences}); the"
                f" last, on satellite {satellite}: {reason}; {s.divergence_hint}"
            )

    def _lose(self, satellite: int, why: str) -> None:
        self.lost.setdefault(satellite, why)
        if len(self.lost) >= self.num_satellites:
            raise MissionError(f"no satellite can contribute any more: {_describe(self.lost)}")


def _describe(lost: dict[int, str]) -> str:
    """'satellites 0, 1 dead (...); satellite 2 lost after ...' grouped by reason."""
    by_reason: dict[str, list[int]] = {}
    for satellite, why in sorted(lost.items()):
        by_reason.setdefault(why, []).append(satellite)
    return "; ".join(
        f"satellite{'s' if len(sats) > 1 else ''} {', '.join(str(s) for s in sats)} {why}"
        for why, sats in by_reason.items()
    )

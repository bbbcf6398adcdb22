"""Data transfers over ground links: rates, byte counts, and window-limited transmission."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from numbers import Integral

import simpy

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.power import Battery
from simsat.world.rates import RateProfile

DIRECTIONS = ("uplink", "downlink", "crosslink")  # crosslink: between two satellites (simsat.world.isl)


@dataclass(frozen=True)
class LinkRates:
    """Link data rates in bits per second; uplink is ground to satellite."""

    uplink_bps: float
    downlink_bps: float

    def __post_init__(self) -> None:
        v.positive("uplink_bps", self.uplink_bps)
        v.positive("downlink_bps", self.downlink_bps)

    def rate(self, direction: str) -> float:
        """Rate for ``"uplink"`` or ``"downlink"``."""
        if direction == "uplink":
            return float(self.uplink_bps)
        if direction == "downlink":
            return float(self.downlink_bps)
        raise ConfigError(f"link direction must be one of {DIRECTIONS[:2]}, got {direction!r}")


@dataclass
class Transfer:
    """A message of ``nbytes`` in flight; the object carries progress across windows."""

    nbytes: int
    direction: str
    label: str = ""
    bytes_done: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.nbytes, bool) or not isinstance(self.nbytes, Integral) or self.nbytes < 0:
            raise ConfigError(f"transfer {self.label!r}: nbytes must be an int >= 0, got {self.nbytes!r}")
        self.nbytes = int(self.nbytes)
        self.bytes_done = int(self.bytes_done)
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"transfer {self.label!r}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if not 0 <= self.bytes_done <= self.nbytes:
            raise ConfigError(
                f"transfer {self.label!r}: bytes_done must be in [0, {self.nbytes}], got {self.bytes_done}"
            )

    @property
    def remaining(self) -> int:
        """Bytes still to send."""
        return self.nbytes - self.bytes_done

    @property
    def done(self) -> bool:
        """Whether every byte has arrived."""
        return self.bytes_done >= self.nbytes


def bytes_in(seconds: float, rate_bps: float) -> int:
    """Whole bytes that fit in ``seconds`` at ``rate_bps`` (0 for non-positive time)."""
    if seconds <= 0.0:
        return 0
    return int(math.floor(seconds * rate_bps / 8.0 + 1e-9))


def seconds_for(nbytes: int, rate_bps: float) -> float:
    """Seconds to send ``nbytes`` at ``rate_bps``."""
    return nbytes * 8.0 / float(rate_bps)


def transmit(
    env: simpy.Environment,
    transfer: Transfer,
    rate_bps: float | RateProfile,
    window_end_s: float,
    battery: Battery | None = None,
    radio_w: float = 0.0,
) -> Generator[simpy.Event, object, int]:
    """SimPy process: send ``transfer`` until it is done or the window closes; returns bytes sent.

    Progress is written to ``transfer.bytes_done`` so a cut transfer resumes by calling
    ``transmit`` again in a later window. While sending, ``radio_w`` is drawn from
    ``battery`` under the load name ``radio:<direction>:<label>``. On a SimPy ``Interrupt``
    the bytes sent so far are counted and returned (the interrupt is not re-raised).

    ``rate_bps`` is a constant rate or a :class:`RateProfile` (the rate in force at each
    moment of the window, e.g. from a link budget along the pass).
    """
    profile = rate_bps if isinstance(rate_bps, RateProfile) else None
    rate = 0.0 if profile is not None else v.positive("rate_bps", rate_bps)
    watts = v.non_negative("radio_w", radio_w)
    start = float(env.now)
    available = float(window_end_s) - start
    if transfer.done or available <= 0.0:
        return 0

    def sent_by(t: float) -> int:
        if profile is not None:
            return profile.bytes_between(start, t)
        return bytes_in(t - start, rate)

    if profile is not None:
        needed = profile.time_to_send(start, transfer.remaining) - start
    else:
        needed = seconds_for(transfer.remaining, rate)
    finishes = needed <= available
    duration = needed if finishes else available
    load = f"radio:{transfer.direction}:{transfer.label}"
    if battery is not None and watts > 0.0:
        battery.add_load(load, watts)
    try:
        yield env.timeout(duration)
        sent = transfer.remaining if finishes else min(transfer.remaining, sent_by(start + duration))
    except simpy.Interrupt:
        sent = min(transfer.remaining, sent_by(float(env.now)))
    finally:
        if battery is not None and watts > 0.0:
            battery.remove_load(load)
    transfer.bytes_done += sent
    return sent

"""The world a mission runs in: contacts, sunlight and link rates, computed before the simulation
starts (by `simsat.config.compile`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simsat.world.antennas import antenna_priority
from simsat.world.contacts import ContactWindow
from simsat.world.links import LinkRates, bytes_in
from simsat.world.rates import RateProfile
from simsat.world.satellites import Satellites
from simsat.world.solar import SolarInput
from simsat.world.stations import Station
from simsat.world.timebase import Epoch


@dataclass(frozen=True)
class WorldPlan:
    """Everything the mission needs from geometry, in seconds from ``epoch``.

    ``sunlit[i](t)`` is satellite i's share of ``solar_peak_w`` at t (shadow and attitude).
    ``profiles[k]`` maps "uplink"/"downlink" to the rate profile of ``contacts[k]`` when the
    link model is a budget, and is empty for constant rates (use ``rates`` then).
    """

    epoch: Epoch
    satellites: Satellites
    stations: list[Station]
    contacts: list[ContactWindow]
    sunlit: list[SolarInput]
    duration_s: float
    solar_peak_w: float
    rates: LinkRates
    antenna_policy: str = "first_come"
    profiles: list[dict[str, RateProfile]] = field(default_factory=list)
    _index: dict[ContactWindow, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: k for k, w in enumerate(self.contacts)})

    def rate(self, window_index: int, direction: str) -> float | RateProfile:
        """What :func:`simsat.world.links.transmit` takes for ``contacts[window_index]``."""
        if self.profiles:
            return self.profiles[window_index][direction]
        return self.rates.rate(direction)

    def link_rate(self, window: ContactWindow, direction: str) -> float | RateProfile:
        """The rate (constant, or the profile along the pass) for a window of ``contacts``."""
        return self.rate(self._index[window], direction) if self.profiles else self.rates.rate(direction)

    def antenna_priority(self, window: ContactWindow) -> tuple[float, float, int]:
        """Priority of ``window``'s antenna request under ``antenna_policy`` (for simpy.PriorityResource)."""
        return antenna_priority(window, self.antenna_policy)

    def bytes_available(self, window: ContactWindow, direction: str, t0: float, t1: float) -> int:
        """Whole bytes the link carries in ``direction`` between ``t0`` and ``t1`` of ``window``."""
        rate = self.link_rate(window, direction)
        if isinstance(rate, RateProfile):
            return rate.bytes_between(t0, t1)
        return bytes_in(t1 - t0, rate)

"""Which satellite a station serves when more are in view than it has antennas.

The antennas themselves are a ``simpy.PriorityResource`` per station in the mission; this
module only says how requests rank (lower value first, as SimPy's priorities do):

- ``first_come``: the window that opened first.
- ``highest_elevation``: the pass that climbs highest (best link).
- ``longest_remaining``: the pass with the most time left (ranking by end time is the same
  at every instant, so the priority can be fixed when the request is made).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import simpy

from simsat.errors import ConfigError
from simsat.world.contacts import ContactWindow

ANTENNA_POLICIES = ("first_come", "highest_elevation", "longest_remaining")


def check_policy(policy: str, key: str = "policy") -> str:
    """``policy`` if it is known, else ConfigError naming ``key``."""
    if policy not in ANTENNA_POLICIES:
        raise ConfigError(f"{key} must be one of {', '.join(ANTENNA_POLICIES)}, got {policy!r}", key)
    return policy


def antenna_priority(window: ContactWindow, policy: str) -> tuple[float, float, int]:
    """Sort key of an antenna request for ``window`` (smaller is served first; ties by start, satellite)."""
    check_policy(policy)
    if policy == "highest_elevation":
        first = -window.max_elevation_deg
    elif policy == "longest_remaining":
        first = -window.end_s
    else:
        first = window.start_s
    return (first, window.start_s, window.satellite)


def order_requests(windows: list[ContactWindow], policy: str) -> list[ContactWindow]:
    """Windows waiting for one station's antenna, in the order the policy serves them."""
    return sorted(windows, key=lambda w: antenna_priority(w, policy))


def forecast_grants(windows: Sequence[ContactWindow], antennas: Sequence[int], policy: str) -> set[ContactWindow]:
    """The windows whose satellite would get an antenna, if every satellite walked its windows in
    the order given and each contact held its antenna from the grant to the window's end (as the
    mission's contacts do), with nothing else in the way (no faults, no lost contacts).

    A forecast, for work the mission may do ahead of a contact (asking the satellite for its
    imagery before the pass): the mission itself grants antennas as it goes, and whatever
    differs from the forecast changes only what was asked ahead, never the result.
    """
    check_policy(policy)
    env = simpy.Environment()
    stations = [simpy.PriorityResource(env, capacity=n) for n in antennas]
    granted: set[ContactWindow] = set()
    by_satellite: dict[int, list[ContactWindow]] = {}
    for window in windows:
        by_satellite.setdefault(window.satellite, []).append(window)

    def walk(own: list[ContactWindow]) -> Generator[simpy.Event, Any, None]:
        for window in own:
            if window.end_s <= env.now:
                continue
            if window.start_s > env.now:
                yield env.timeout(window.start_s - env.now)
            with stations[window.station].request(priority=antenna_priority(window, policy)) as request:  # type: ignore[arg-type]
                closes = env.timeout(max(window.end_s - env.now, 0.0))
                if request not in (yield request | closes):
                    continue
                granted.add(window)
                if window.end_s > env.now:
                    yield env.timeout(window.end_s - env.now)

    for satellite in sorted(by_satellite):
        env.process(walk(by_satellite[satellite]))
    env.run()
    return granted

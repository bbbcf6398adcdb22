"""Which satellite a station serves when more are in view than it has antennas.

The antennas themselves are a ``simpy.PriorityResource`` per station in the mission; this
module only says how requests rank (lower value first, as SimPy's priorities do):

- ``first_come``: the window that opened first.
- ``highest_elevation``: the pass that climbs highest (best link).
- ``longest_remaining``: the pass with the most time left (ranking by end time is the same
  at every instant, so the priority can be fixed when the request is made).
"""

from __future__ import annotations

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

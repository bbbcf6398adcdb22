"""Which board each satellite carries: one name for all, a list by satellite, or shares.

``satellite.hardware`` in a scenario is one of

- a profile name: every satellite carries that board;
- a list of names, one per satellite (in satellite index order);
- a mapping of names to shares summing to 1, e.g. ``{jetson_nano_5w: 0.5, raspberry_pi4: 0.5}``:
  counts by largest remainder, boards spread evenly over the satellite indices.

The assignment is a pure function of the spec and the number of satellites.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from simsat.errors import ConfigError
from simsat.hardware.profiles import HardwareProfile
from simsat.hardware.registry import HardwareRegistry

KEY = "satellite.hardware"
SHARE_TOLERANCE = 1e-6

__all__ = ["assign_fleet", "fleet_names", "fleet_summary", "memory_shortfall", "share_counts"]


def share_counts(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Whole satellites per board from fractional shares (largest remainder; ties by name)."""
    exact = {name: share * total for name, share in shares.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda n: (-(exact[n] - counts[n]), n))
    for name in by_remainder[:left]:
        counts[name] += 1
    return counts


def _spread(counts: Mapping[str, int], total: int) -> list[str]:
    """Board names in satellite order, each board's satellites evenly spaced over the indices."""
    slots = [((k + 0.5) * total / count, name, k) for name, count in counts.items() for k in range(count)]
    return [name for _, name, _ in sorted(slots)]


def _checked_shares(spec: Mapping[object, object]) -> dict[str, float]:
    if not spec:
        raise ConfigError(f"{KEY} must name at least one board, got {{}}")
    shares: dict[str, float] = {}
    for name, share in spec.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{KEY} board names must be strings, got {name!r}")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise ConfigError(f"{KEY}.{name} must be a share in (0, 1], got {share!r}")
        shares[name] = float(share)
    total = sum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ConfigError(f"{KEY} shares must sum to 1, got {round(total, 6)} ({dict(shares)})")
    return shares


def fleet_names(spec: object, num_satellites: int) -> list[str]:
    """The board name of each satellite (index order); ConfigError naming the key otherwise."""
    if isinstance(num_satellites, bool) or not isinstance(num_satellites, int) or num_satellites < 1:
        raise ConfigError(f"number of satellites must be an integer >= 1, got {num_satellites!r}")
    if isinstance(spec, str):
        if not spec:
            raise ConfigError(f"{KEY} must name a hardware profile, got ''")
        return [spec] * num_satellites
    if isinstance(spec, Mapping):
        shares = _checked_shares(spec)
        counts = share_counts(shares, num_satellites)
        return _spread({n: c for n, c in counts.items() if c > 0}, num_satellites)
    if isinstance(spec, Sequence) and not isinstance(spec, (bytes, bytearray)):
        names = list(spec)
        if len(names) != num_satellites:
            raise ConfigError(f"{KEY} lists {len(names)} boards but the constellation has {num_satellites} satellites")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise ConfigError(f"{KEY}[{i}] must name a hardware profile, got {name!r}")
        return names
    raise ConfigError(
        f"{KEY} must be a profile name, a list of names (one per satellite) or a mapping of names"
        f" to shares, got {spec!r}"
    )


def assign_fleet(spec: object, num_satellites: int, registry: HardwareRegistry) -> list[HardwareProfile]:
    """Each satellite's hardware profile, in satellite index order.

    ``spec`` is the value of ``satellite.hardware`` (a name, a list of names, or a mapping of
    names to shares); every name must be in ``registry``.
    """
    names = fleet_names(spec, num_satellites)
    declared = [str(name) for name in spec] if isinstance(spec, Mapping) else []  # shares that round to none too
    profiles: dict[str, HardwareProfile] = {}
    for name in dict.fromkeys([*names, *declared]):
        try:
            profiles[name] = registry.get(name)
        except ConfigError as err:
            raise ConfigError(f"{KEY}: {err}") from None
    return [profiles[name] for name in names]


def memory_shortfall(fleet: Sequence[HardwareProfile], needed_bytes: int) -> tuple[int, HardwareProfile] | None:
    """(satellite index, profile) of the first satellite whose board memory is below ``needed_bytes``."""
    for index, profile in enumerate(fleet):
        if profile.memory_bytes < needed_bytes:
            return index, profile
    return None


def fleet_summary(fleet: Sequence[HardwareProfile]) -> dict[str, int]:
    """Satellites per board name, in first-appearance order."""
    return dict(Counter(p.name for p in fleet))

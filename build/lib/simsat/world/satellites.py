"""Satellite sets that propagate many satellites at once: Walker shells (J2) and TLEs (SGP4).

Every set answers in the same frame: an inertial frame of date (TEME for SGP4; the mean
equator and equinox of date for Walker shells), km, at times given as seconds after an
:class:`~simsat.world.timebase.Epoch`. Earth-fixed positions follow by the sidereal angle.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from simsat.errors import ConfigError
from simsat.world.constants import EARTH_MU_KM3_S2
from simsat.world.timebase import Epoch, ecef_from_eci


class Satellites(ABC):
    """An ordered set of named satellites whose positions are computed together."""

    @property
    @abstractmethod
    def names(self) -> list[str]:
        """Satellite names, in index order."""

    cheap_to_evaluate: bool = False
    """Whether single positions cost about as little as interpolating them (closed-form orbits)."""

    def __len__(self) -> int:
        return len(self.names)

    @abstractmethod
    def eci_grid(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Positions (len(rows), len(t), 3) in km of satellites ``rows`` at every time ``t``."""

    @abstractmethod
    def eci_grid_pv(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (km) and velocities (km/s), each (len(rows), len(t), 3)."""

    @abstractmethod
    def eci_at(self, epoch: Epoch, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Positions (M, 3) in km of satellite ``rows[m]`` at time ``t[m]``."""

    @abstractmethod
    def max_radius_km(self) -> np.ndarray:
        """An upper bound on each satellite's distance from the Earth's centre."""

    @abstractmethod
    def max_angular_rate_rad_s(self) -> np.ndarray:
        """An upper bound on each satellite's inertial angular rate about the Earth's centre."""

    def ecef_grid(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Earth-fixed positions (len(rows), len(t), 3)."""
        times = np.asarray(t, dtype=float)
        return ecef_from_eci(self.eci_grid(epoch, times, rows), epoch.gmst_rad(times)[None, :])

    def ecef_at(self, epoch: Epoch, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Earth-fixed positions (M, 3) of satellite ``rows[m]`` at ``t[m]``."""
        times = np.asarray(t, dtype=float)
        return ecef_from_eci(self.eci_at(epoch, rows, times), epoch.gmst_rad(times))

    def __add__(self, other: Satellites) -> Satellites:
        return SatelliteGroup([self, other])


class SatelliteGroup(Satellites):
    """Several satellite sets (e.g. a Walker shell and a TLE file) used as one."""

    parts: list[Satellites]

    def __init__(self, parts: Sequence[Satellites]) -> None:
        flat: list[Satellites] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, SatelliteGroup) else [part])
        self.parts = flat
        self._names = [name for part in flat for name in part.names]
        if len(set(self._names)) != len(self._names):
            seen: set[str] = set()
            dup = next(n for n in self._names if n in seen or seen.add(n))  # type: ignore[func-returns-value]
            raise ConfigError(f"constellation: satellite name {dup!r} appears twice")
        self._offsets = np.cumsum([0] + [len(p) for p in flat])
        self.cheap_to_evaluate = all(p.cheap_to_evaluate for p in flat)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def _split(self, rows: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        idx = np.asarray(rows, dtype=int)
        part = np.searchsorted(self._offsets, idx, side="right") - 1
        return [(int(p), np.nonzero(part == p)[0], idx[part == p] - self._offsets[p]) for p in np.unique(part)]

    def eci_grid(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), len(t), 3))
        for p, where, local in self._split(rows):
            out[where] = self.parts[p].eci_grid(epoch, t, local)
        return out

    def eci_grid_pv(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, vel = np.empty((len(rows), len(t), 3)), np.empty((len(rows), len(t), 3))
        for p, where, local in self._split(rows):
            pos[where], vel[where] = self.parts[p].eci_grid_pv(epoch, t, local)
        return pos, vel

    def eci_at(self, epoch: Epoch, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        times = np.asarray(t, dtype=float)
        out = np.empty((len(times), 3))
        for p, where, local in self._split(rows):
            out[where] = self.parts[p].eci_at(epoch, local, times[where])
        return out

    def max_radius_km(self) -> np.ndarray:
        return np.concatenate([p.max_radius_km() for p in self.parts])

    def max_angular_rate_rad_s(self) -> np.ndarray:
        return np.concatenate([p.max_angular_rate_rad_s() for p in self.parts])


def kepler_rate_bounds(a_km: np.ndarray, ecc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(apogee radius, angular rate at perigee) of orbits with semi-major axis and eccentricity."""
    a = np.asarray(a_km, dtype=float)
    e = np.asarray(ecc, dtype=float)
    perigee = a * (1.0 - e)
    rate = np.sqrt(EARTH_MU_KM3_S2 * a * (1.0 - e**2)) / perigee**2
    return a * (1.0 + e), rate


def mean_motion_rad_s(a_km: float) -> float:
    """Two-body mean motion of an orbit with semi-major axis ``a_km``."""
    return math.sqrt(EARTH_MU_KM3_S2 / a_km**3)

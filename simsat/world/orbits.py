"""Circular Keplerian orbits and Walker-delta constellations (two-body, no perturbations)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.constants import DEG, EARTH_MU_KM3_S2, EARTH_RADIUS_KM


@dataclass(frozen=True)
class CircularOrbit:
    """A circular orbit; angles in degrees at the mission epoch (t = 0).

    ``arg_latitude_deg`` is the argument of latitude (angle from the ascending node,
    in the direction of motion) at t = 0. No J2 precession: RAAN stays fixed.
    """

    altitude_km: float
    inclination_deg: float
    raan_deg: float = 0.0
    arg_latitude_deg: float = 0.0

    def __post_init__(self) -> None:
        v.positive("orbit.altitude_km", self.altitude_km)
        v.in_range("orbit.inclination_deg", self.inclination_deg, 0.0, 180.0)
        v.number("orbit.raan_deg", self.raan_deg)
        v.number("orbit.arg_latitude_deg", self.arg_latitude_deg)

    @property
    def semi_major_axis_km(self) -> float:
        """Orbit radius from the Earth's centre."""
        return EARTH_RADIUS_KM + float(self.altitude_km)

    @property
    def mean_motion_rad_s(self) -> float:
        """Angular rate along the orbit."""
        return math.sqrt(EARTH_MU_KM3_S2 / self.semi_major_axis_km**3)

    @property
    def period_s(self) -> float:
        """Orbital period in seconds."""
        return 2.0 * math.pi / self.mean_motion_rad_s

    @property
    def normal_eci(self) -> np.ndarray:
        """Unit angular-momentum vector (orbit normal) in ECI."""
        raan, inc = self.raan_deg * DEG, self.inclination_deg * DEG
        return np.array([math.sin(raan) * math.sin(inc), -math.cos(raan) * math.sin(inc), math.cos(inc)])

    def position_eci(self, t: np.ndarray | float) -> np.ndarray:
        """ECI positions (N, 3) in km at times ``t`` (s from epoch; scalar gives (1, 3))."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        return _positions(
            np.full(times.shape, self.semi_major_axis_km),
            np.full(times.shape, self.inclination_deg * DEG),
            np.full(times.shape, self.raan_deg * DEG),
            self.arg_latitude_deg * DEG + self.mean_motion_rad_s * times,
        )


def _positions(radius: np.ndarray, inc: np.ndarray, raan: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Circular-orbit positions for element arrays broadcast together; returns (..., 3)."""
    cos_u, sin_u = np.cos(u), np.sin(u)
    cos_o, sin_o = np.cos(raan), np.sin(raan)
    cos_i, sin_i = np.cos(inc), np.sin(inc)
    x = radius * (cos_o * cos_u - sin_o * cos_i * sin_u)
    y = radius * (sin_o * cos_u + cos_o * cos_i * sin_u)
    z = radius * (sin_i * sin_u)
    return np.stack([x, y, z], axis=-1)


class OrbitArrays:
    """Elements of many orbits as arrays, for vectorised positions of any satellite subset."""

    def __init__(self, orbits: Sequence[CircularOrbit]) -> None:
        self.radius = np.array([o.semi_major_axis_km for o in orbits], dtype=float)
        self.inc = np.array([o.inclination_deg * DEG for o in orbits], dtype=float)
        self.raan = np.array([o.raan_deg * DEG for o in orbits], dtype=float)
        self.u0 = np.array([o.arg_latitude_deg * DEG for o in orbits], dtype=float)
        self.rate = np.array([o.mean_motion_rad_s for o in orbits], dtype=float)

    def __len__(self) -> int:
        return int(self.radius.size)

    def grid(self, t: np.ndarray) -> np.ndarray:
        """Positions of every orbit at every time: (K, N, 3)."""
        times = np.asarray(t, dtype=float)[None, :]
        col = (slice(None), None)
        return _positions(
            self.radius[col], self.inc[col], self.raan[col], self.u0[col] + self.rate[col] * times
        )

    def at(self, index: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Positions (M, 3) of orbit ``index[m]`` at time ``t[m]``."""
        idx = np.asarray(index, dtype=int)
        times = np.asarray(t, dtype=float)
        return _positions(
            self.radius[idx], self.inc[idx], self.raan[idx], self.u0[idx] + self.rate[idx] * times
        )


def walker_delta(
    altitude_km: float,
    inclination_deg: float,
    planes: int,
    sats_per_plane: int,
    phasing: int,
    prefix: str = "constellation",
) -> list[CircularOrbit]:
    """Walker-delta i:T/P/F constellation, ordered plane by plane.

    Plane p has RAAN p*360/P; satellite s in plane p has argument of latitude
    s*360/S + p*F*360/T at epoch, with T = P*S.
    """
    alt = v.positive(f"{prefix}.altitude_km", altitude_km)
    inc = v.in_range(f"{prefix}.inclination_deg", inclination_deg, 0.0, 180.0)
    n_planes = v.integer(f"{prefix}.planes", planes)
    n_sats = v.integer(f"{prefix}.sats_per_plane", sats_per_plane)
    phase = v.integer(f"{prefix}.phasing", phasing)
    if n_planes < 1:
        raise ConfigError(f"{prefix}.planes must be >= 1, got {n_planes}")
    if n_sats < 1:
        raise ConfigError(f"{prefix}.sats_per_plane must be >= 1, got {n_sats}")
    if not 0 <= phase < n_planes:
        raise ConfigError(f"{prefix}.phasing must be in [0, planes-1] = [0, {n_planes - 1}], got {phase}")
    total = n_planes * n_sats
    orbits: list[CircularOrbit] = []
    for p in range(n_planes):
        for s in range(n_sats):
            u = (s * 360.0 / n_sats + p * phase * 360.0 / total) % 360.0
            orbits.append(CircularOrbit(alt, inc, p * 360.0 / n_planes, u))
    return orbits


def sun_synchronous_inclination_deg(altitude_km: float) -> float:
    """Inclination whose J2 nodal drift matches the Sun's mean motion (circular orbit)."""
    j2 = 1.08262668e-3
    a = EARTH_RADIUS_KM + v.positive("orbit.altitude_km", altitude_km)
    n = math.sqrt(EARTH_MU_KM3_S2 / a**3)
    sun_rate = 2.0 * math.pi / (365.2422 * 86400.0)
    cos_i = -sun_rate / (1.5 * n * j2 * (EARTH_RADIUS_KM / a) ** 2)
    return math.degrees(math.acos(cos_i))

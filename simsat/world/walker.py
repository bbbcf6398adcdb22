"""Walker-delta shells on circular orbits with the J2 secular drift of node and argument of latitude.

A shell's elements are mean elements at its epoch: plane 0's ascending node is placed either by
right ascension (``raan0_deg``) or by local time of the ascending node (``ltan_hours``, relative
to the mean Sun at the epoch), so a 06:00 shell is dawn-dusk on any date. Over time the node
drifts by -1.5 n J2 (Re/a)^2 cos(i) and the argument of latitude advances at
n + 1.5 n J2 (Re/a)^2 (4 cos^2(i) - 1) (Vallado, Fundamentals of Astrodynamics, secular J2 rates
for e = 0). Short-periodic J2 terms (a few km) are not modelled.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.constants import DEG, EARTH_J2, EARTH_MU_KM3_S2, EARTH_RADIUS_KM
from simsat.world.satellites import Satellites, mean_motion_rad_s
from simsat.world.sun import mean_sun_right_ascension_deg
from simsat.world.timebase import Epoch


def j2_rates(a_km: float, inclination_deg: float) -> tuple[float, float]:
    """(node rate, argument-of-latitude rate) in rad/s of a circular orbit under J2."""
    n = mean_motion_rad_s(a_km)
    k = 1.5 * n * EARTH_J2 * (EARTH_RADIUS_KM / a_km) ** 2
    cos_i = math.cos(inclination_deg * DEG)
    return -k * cos_i, n + k * (4.0 * cos_i**2 - 1.0)


def circular_positions(radius: np.ndarray, inc: np.ndarray, raan: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Circular-orbit positions for element arrays broadcast together; returns (..., 3)."""
    cos_u, sin_u = np.cos(u), np.sin(u)
    cos_o, sin_o = np.cos(raan), np.sin(raan)
    cos_i, sin_i = np.cos(inc), np.sin(inc)
    x = radius * (cos_o * cos_u - sin_o * cos_i * sin_u)
    y = radius * (sin_o * cos_u + cos_o * cos_i * sin_u)
    z = radius * (sin_i * sin_u) * np.ones_like(cos_o)
    return np.stack([x, y, z], axis=-1)


class WalkerSatellites(Satellites):
    """Circular orbits given as mean elements at an epoch (angles in degrees)."""

    cheap_to_evaluate = True

    def __init__(
        self,
        names: list[str],
        epoch: Epoch,
        altitude_km: np.ndarray,
        inclination_deg: np.ndarray,
        raan_deg: np.ndarray,
        arg_latitude_deg: np.ndarray,
        j2: bool = True,
    ) -> None:
        self._names = list(names)
        self.epoch = epoch
        self.radius = EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float)
        self.inc = np.asarray(inclination_deg, dtype=float) * DEG
        self.raan0 = np.asarray(raan_deg, dtype=float) * DEG
        self.u0 = np.asarray(arg_latitude_deg, dtype=float) * DEG
        rates = [
            j2_rates(a, i / DEG) if j2 else (0.0, mean_motion_rad_s(a))
            for a, i in zip(self.radius, self.inc, strict=True)
        ]
        self.raan_rate = np.array([r[0] for r in rates], dtype=float)
        self.u_rate = np.array([r[1] for r in rates], dtype=float)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def _since(self, epoch: Epoch, t: np.ndarray) -> np.ndarray:
        return np.asarray(t, dtype=float) - epoch.seconds_to(self.epoch.utc)

    def eci_grid(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        r = np.asarray(rows, dtype=int)[:, None]
        dt = self._since(epoch, t)[None, :]
        return circular_positions(
            self.radius[r], self.inc[r], self.raan0[r] + self.raan_rate[r] * dt, self.u0[r] + self.u_rate[r] * dt
        )

    def eci_grid_pv(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(rows, dtype=int)[:, None]
        dt = self._since(epoch, t)[None, :]
        raan = self.raan0[r] + self.raan_rate[r] * dt
        u = self.u0[r] + self.u_rate[r] * dt
        pos = circular_positions(self.radius[r], self.inc[r], raan, u)
        # d/du of the position is the position a quarter turn further on; d/draan turns it about z
        ahead = circular_positions(self.radius[r], self.inc[r], raan, u + 0.5 * np.pi)
        about_z = np.stack([-pos[..., 1], pos[..., 0], np.zeros_like(pos[..., 2])], axis=-1)
        vel = ahead * self.u_rate[r][..., None] + about_z * self.raan_rate[r][..., None]
        return pos, vel

    def eci_at(self, epoch: Epoch, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        r = np.asarray(rows, dtype=int)
        dt = self._since(epoch, t)
        return circular_positions(
            self.radius[r], self.inc[r], self.raan0[r] + self.raan_rate[r] * dt, self.u0[r] + self.u_rate[r] * dt
        )

    def max_radius_km(self) -> np.ndarray:
        return self.radius.copy()

    def max_angular_rate_rad_s(self) -> np.ndarray:
        return np.abs(self.u_rate) + np.abs(self.raan_rate)

    def normal_eci(self, index: int, epoch: Epoch, t: float) -> np.ndarray:
        """Unit orbit normal of satellite ``index`` at ``t`` s after ``epoch``."""
        raan = float(self.raan0[index] + self.raan_rate[index] * self._since(epoch, np.array(t)))
        inc = float(self.inc[index])
        return np.array([math.sin(raan) * math.sin(inc), -math.cos(raan) * math.sin(inc), math.cos(inc)])


def walker_satellites(
    altitude_km: float,
    inclination_deg: float,
    planes: int,
    sats_per_plane: int,
    phasing: int,
    *,
    epoch: datetime | Epoch,
    raan0_deg: float | None = None,
    ltan_hours: float | None = None,
    name: str = "walker",
    j2: bool = True,
    prefix: str = "walker",
) -> WalkerSatellites:
    """A Walker-delta i:T/P/F shell, ordered plane by plane, named ``<name>-p<plane>s<slot>``;
    ConfigError naming ``<prefix>.<parameter>`` for a bad value.

    Plane p has RAAN raan0 + p*360/P at ``epoch``; slot s in plane p has argument of latitude
    s*360/S + p*F*360/T. Plane 0 is placed by ``raan0_deg`` or by ``ltan_hours`` (not both;
    neither means RAAN 0).
    """
    at = epoch if isinstance(epoch, Epoch) else Epoch(epoch)
    alt = v.positive(f"{prefix}.altitude_km", altitude_km)
    inc = v.in_range(f"{prefix}.inclination_deg", inclination_deg, 0.0, 180.0)
    n_planes = v.integer(f"{prefix}.planes", planes)
    n_sats = v.integer(f"{prefix}.sats_per_plane", sats_per_plane)
    phase = v.integer(f"{prefix}.phasing", phasing)
    if n_planes < 1:
        raise ConfigError(f"{prefix}.planes must be >= 1, got {n_planes}", f"{prefix}.planes")
    if n_sats < 1:
        raise ConfigError(f"{prefix}.sats_per_plane must be >= 1, got {n_sats}", f"{prefix}.sats_per_plane")
    if not 0 <= phase < n_planes:
        raise ConfigError(
            f"{prefix}.phasing must be in [0, planes-1] = [0, {n_planes - 1}], got {phase}", f"{prefix}.phasing"
        )
    if raan0_deg is not None and ltan_hours is not None:
        raise ConfigError(f"{prefix}: give raan0_deg or ltan_hours, not both")
    if ltan_hours is not None:
        ltan = v.number(f"{prefix}.ltan_hours", ltan_hours)
        if not 0.0 <= ltan < 24.0:
            raise ConfigError(f"{prefix}.ltan_hours must be in [0, 24), got {ltan}", f"{prefix}.ltan_hours")
        raan0 = mean_sun_right_ascension_deg(at) + 15.0 * (ltan - 12.0)
    else:
        raan0 = v.number(f"{prefix}.raan0_deg", raan0_deg if raan0_deg is not None else 0.0)
    total = n_planes * n_sats
    plane = np.repeat(np.arange(n_planes), n_sats)
    slot = np.tile(np.arange(n_sats), n_planes)
    raan = np.mod(raan0 + plane * 360.0 / n_planes, 360.0)
    u = np.mod(slot * 360.0 / n_sats + plane * phase * 360.0 / total, 360.0)
    names = [f"{name}-p{p}s{s}" for p, s in zip(plane, slot, strict=True)]
    return WalkerSatellites(names, at, np.full(total, alt), np.full(total, inc), raan, u, j2=j2)


def sun_synchronous_inclination_deg(altitude_km: float) -> float:
    """Inclination whose J2 nodal drift matches the Sun's mean motion (circular orbit)."""
    a = EARTH_RADIUS_KM + v.positive("orbit.altitude_km", altitude_km)
    n = math.sqrt(EARTH_MU_KM3_S2 / a**3)
    sun_rate = 2.0 * math.pi / (365.2422 * 86400.0)
    cos_i = -sun_rate / (1.5 * n * EARTH_J2 * (EARTH_RADIUS_KM / a) ** 2)
    return math.degrees(math.acos(cos_i))

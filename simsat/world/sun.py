"""Analytic Sun direction and cylindrical Earth-shadow (eclipse) model."""

from __future__ import annotations

import bisect as _bisect
import math
from typing import Callable

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world._events import refined_intervals, time_grid
from simsat.world.constants import DEG, EARTH_RADIUS_KM, SECONDS_PER_DAY, SUN_OBLIQUITY_DEG
from simsat.world.orbits import CircularOrbit

ECLIPSE_TOLERANCE_S = 0.5


def _check_day(day_of_year: float) -> float:
    day = v.number("sun.day_of_year", day_of_year)
    if not 1.0 <= day < 367.0:
        raise ConfigError(f"sun.day_of_year must be in [1, 367), got {day}")
    return day


def ecliptic_longitude_deg(t: np.ndarray | float, day_of_year: float) -> np.ndarray:
    """Sun's apparent ecliptic longitude at ``t`` s after 00:00 UTC of ``day_of_year``.

    Low-precision almanac formula (mean longitude plus equation of centre, ~0.01 deg)
    evaluated for a year near 2000; day 1 is January 1.
    """
    day = _check_day(day_of_year)
    n = day - 1.5 + np.asarray(t, dtype=float) / SECONDS_PER_DAY
    mean_long = 280.460 + 0.9856474 * n
    anomaly = (357.528 + 0.9856003 * n) * DEG
    return np.mod(mean_long + 1.915 * np.sin(anomaly) + 0.020 * np.sin(2.0 * anomaly), 360.0)


def sun_direction_eci(t: np.ndarray | float, day_of_year: float) -> np.ndarray:
    """Unit vectors (N, 3) from the Earth towards the Sun in ECI at times ``t``."""
    lam = np.atleast_1d(ecliptic_longitude_deg(t, day_of_year)) * DEG
    eps = SUN_OBLIQUITY_DEG * DEG
    return np.stack(
        [np.cos(lam), math.cos(eps) * np.sin(lam), math.sin(eps) * np.sin(lam)], axis=-1
    )


def sun_right_ascension_deg(t: float, day_of_year: float) -> float:
    """Right ascension of the Sun in degrees, in [0, 360)."""
    d = sun_direction_eci(t, day_of_year)[0]
    return math.degrees(math.atan2(d[1], d[0])) % 360.0


def beta_angle_deg(orbit: CircularOrbit, t: float, day_of_year: float) -> float:
    """Angle between the orbit plane and the Sun direction (degrees, signed)."""
    s = sun_direction_eci(t, day_of_year)[0]
    return math.degrees(math.asin(float(np.clip(np.dot(orbit.normal_eci, s), -1.0, 1.0))))


def in_eclipse(positions_eci: np.ndarray, t: np.ndarray | float, day_of_year: float) -> np.ndarray:
    """Whether positions (N, 3) km are inside the Earth's cylindrical shadow at times ``t``."""
    pos = np.atleast_2d(np.asarray(positions_eci, dtype=float))
    sun = sun_direction_eci(t, day_of_year)
    along = np.sum(pos * sun, axis=-1)
    perp = pos - along[:, None] * sun
    return (along < 0.0) & (np.linalg.norm(perp, axis=-1) < EARTH_RADIUS_KM)


def eclipse_intervals(
    orbit: CircularOrbit, duration_s: float, day_of_year: float, step_s: float = 10.0
) -> list[tuple[float, float]]:
    """(start_s, end_s) of eclipses in [0, duration_s], edges refined to within 0.25 s."""
    horizon = v.positive("sun.duration_s", duration_s)
    step = v.positive("sun.step_s", step_s)
    _check_day(day_of_year)
    t = time_grid(horizon, step)
    flags = in_eclipse(orbit.position_eci(t), t, day_of_year)

    def shadowed(_rows: np.ndarray, times: np.ndarray) -> np.ndarray:
        return in_eclipse(orbit.position_eci(times), times, day_of_year)

    _, start, end, _, _ = refined_intervals(shadowed, t, flags[None, :], ECLIPSE_TOLERANCE_S)
    return [(float(a), float(b)) for a, b in zip(start, end)]


def sunlit_fraction(
    orbit: CircularOrbit, duration_s: float, day_of_year: float, step_s: float = 10.0
) -> float:
    """Fraction of [0, duration_s] spent in sunlight."""
    dark = sum(b - a for a, b in eclipse_intervals(orbit, duration_s, day_of_year, step_s))
    return 1.0 - dark / float(duration_s)


class SunlitSchedule:
    """Callable ``t -> bool`` (sunlit?) backed by precomputed eclipse intervals.

    Within [0, duration_s] it looks the answer up in the intervals; outside it evaluates
    the shadow model directly.
    """

    def __init__(
        self, orbit: CircularOrbit, duration_s: float, day_of_year: float, step_s: float = 10.0
    ) -> None:
        self.orbit = orbit
        self.duration_s = float(duration_s)
        self.day_of_year = day_of_year
        self.intervals = eclipse_intervals(orbit, duration_s, day_of_year, step_s)
        self._starts = [a for a, _ in self.intervals]

    def __call__(self, t: float) -> bool:
        if not 0.0 <= t <= self.duration_s:
            return not bool(in_eclipse(self.orbit.position_eci(t), t, self.day_of_year)[0])
        k = _bisect.bisect_right(self._starts, t) - 1
        return not (k >= 0 and t < self.intervals[k][1])


def make_sunlit(
    orbit: CircularOrbit, duration_s: float, day_of_year: float, step_s: float = 10.0
) -> Callable[[float], bool]:
    """A fast ``sunlit(t)`` function for :class:`simsat.world.power.Battery`."""
    return SunlitSchedule(orbit, duration_s, day_of_year, step_s)

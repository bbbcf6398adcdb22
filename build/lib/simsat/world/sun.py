"""The Sun from a low-precision ephemeris, and the Earth's conical shadow (umbra and penumbra).

The Sun's position is the Astronomical Almanac's low-precision formula (about 0.01 degrees from
1950 to 2050): mean longitude and anomaly, equation of centre, obliquity of date, distance in AU.
It is expressed in the equator and equinox of date, the frame of the satellite positions.
The shadow treats the Sun and the Earth as spheres (Montenbruck and Gill, Satellite Orbits,
section 3.4.2): the illuminated fraction of the solar disc is 1 in sunlight, 0 in the umbra and
in between in the penumbra.
"""

from __future__ import annotations

import bisect as _bisect
import math
from collections.abc import Callable, Sequence

import numpy as np

from simsat.world import _validate as v
from simsat.world._events import refined_intervals, time_grid
from simsat.world.constants import AU_KM, DEG, EARTH_RADIUS_KM, SUN_RADIUS_KM
from simsat.world.satellites import Satellites
from simsat.world.timebase import Epoch

ECLIPSE_TOLERANCE_S = 0.1
"""Shadow edges are located to within half of this."""


def _elements(epoch: Epoch, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = epoch.days_since_j2000(t)
    mean_long = 280.460 + 0.9856474 * n
    g = (357.528 + 0.9856003 * n) * DEG
    lam = (mean_long + 1.915 * np.sin(g) + 0.020 * np.sin(2.0 * g)) * DEG
    eps = (23.439 - 4.0e-7 * n) * DEG
    dist_au = 1.00014 - 0.01671 * np.cos(g) - 0.00014 * np.cos(2.0 * g)
    return np.mod(mean_long, 360.0), lam, eps, dist_au


def sun_position_eci(epoch: Epoch, t: np.ndarray | float) -> np.ndarray:
    """Geocentric Sun positions (N, 3) in km at ``t`` seconds after ``epoch``."""
    _, lam, eps, dist = _elements(epoch, np.atleast_1d(np.asarray(t, dtype=float)))
    r = dist * AU_KM
    return np.stack([r * np.cos(lam), r * np.cos(eps) * np.sin(lam), r * np.sin(eps) * np.sin(lam)], axis=-1)


def sun_direction_eci(epoch: Epoch, t: np.ndarray | float) -> np.ndarray:
    """Unit vectors (N, 3) from the Earth's centre towards the Sun."""
    pos = sun_position_eci(epoch, t)
    return pos / np.linalg.norm(pos, axis=-1, keepdims=True)


def sun_right_ascension_deg(epoch: Epoch, t: float = 0.0) -> float:
    """Right ascension of the (true) Sun in degrees, in [0, 360)."""
    d = sun_direction_eci(epoch, t)[0]
    return math.degrees(math.atan2(d[1], d[0])) % 360.0


def mean_sun_right_ascension_deg(epoch: Epoch, t: float = 0.0) -> float:
    """Right ascension of the mean Sun (its mean longitude), which local mean time refers to."""
    return float(_elements(epoch, t)[0])


def illuminated_fraction(positions: np.ndarray, sun: np.ndarray) -> np.ndarray:
    """Fraction (N,) of the solar disc visible from ``positions`` (N, 3) with the Sun at ``sun`` (N, 3)."""
    r = np.atleast_2d(np.asarray(positions, dtype=float))
    to_sun = np.atleast_2d(np.asarray(sun, dtype=float)) - r
    d_sun = np.linalg.norm(to_sun, axis=-1)
    d_earth = np.linalg.norm(r, axis=-1)
    a = np.arcsin(np.clip(SUN_RADIUS_KM / d_sun, 0.0, 1.0))
    b = np.arcsin(np.clip(EARTH_RADIUS_KM / d_earth, 0.0, 1.0))
    cos_c = np.sum(-r * to_sun, axis=-1) / (d_earth * d_sun)
    c = np.arccos(np.clip(cos_c, -1.0, 1.0))
    out = np.ones(c.shape)
    umbra = c <= b - a
    annular = (c <= a - b) & ~umbra
    partial = (c < a + b) & ~umbra & ~annular
    out[umbra] = 0.0
    out[annular] = 1.0 - (b[annular] / a[annular]) ** 2
    if np.any(partial):
        ap, bp, cp = a[partial], b[partial], c[partial]
        x = (cp**2 + ap**2 - bp**2) / (2.0 * cp)
        y = np.sqrt(np.maximum(ap**2 - x**2, 0.0))
        area = (
            ap**2 * np.arccos(np.clip(x / ap, -1.0, 1.0))
            + bp**2 * np.arccos(np.clip((cp - x) / bp, -1.0, 1.0))
            - cp * y
        )
        out[partial] = np.clip(1.0 - area / (math.pi * ap**2), 0.0, 1.0)
    return out


def beta_angle_deg(normal_eci: np.ndarray, epoch: Epoch, t: float = 0.0) -> float:
    """Angle between an orbit plane (given by its unit normal) and the Sun direction, signed."""
    s = sun_direction_eci(epoch, t)[0]
    return math.degrees(math.asin(float(np.clip(np.dot(normal_eci, s), -1.0, 1.0))))


class Sunlight:
    """Callable ``t -> fraction of full sunlight`` on one satellite over a mission.

    Shadow intervals (any part of the disc hidden) and umbra intervals are found on a grid
    and refined by bisection; inside a shadow interval but outside the umbra (the penumbra)
    the fraction is evaluated exactly. Outside [0, duration_s] it is evaluated directly.
    """

    def __init__(
        self,
        satellites: Satellites,
        index: int,
        epoch: Epoch,
        duration_s: float,
        step_s: float = 30.0,
        intervals: tuple[list[tuple[float, float]], list[tuple[float, float]]] | None = None,
    ) -> None:
        self.satellites = satellites
        self.index = int(index)
        self.epoch = epoch
        self.duration_s = v.positive("sun.duration_s", duration_s)
        step = v.positive("sun.step_s", step_s)
        if intervals is None:
            t = time_grid(self.duration_s, step)
            frac = self.exact(t)
            intervals = (
                self._intervals(t, frac < 1.0, lambda f: f < 1.0),
                self._intervals(t, frac <= 0.0, lambda f: f <= 0.0),
            )
        self.shadows, self.umbras = intervals
        self._shadow_starts = [a for a, _ in self.shadows]
        self._umbra_starts = [a for a, _ in self.umbras]

    def exact(self, t: np.ndarray | float) -> np.ndarray:
        """Illuminated fraction at times ``t`` from the geometry (no lookup)."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        rows = np.full(times.shape, self.index)
        return illuminated_fraction(
            self.satellites.eci_at(self.epoch, rows, times), sun_position_eci(self.epoch, times)
        )

    def _intervals(self, t: np.ndarray, flags: np.ndarray, test) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
        def pred(_rows: np.ndarray, times: np.ndarray) -> np.ndarray:
            return test(self.exact(times))

        _, start, end, _, _ = refined_intervals(pred, t, flags[None, :], ECLIPSE_TOLERANCE_S)
        return [(float(a), float(b)) for a, b in zip(start, end, strict=True)]

    @staticmethod
    def _inside(starts: list[float], intervals: list[tuple[float, float]], t: float) -> bool:
        k = _bisect.bisect_right(starts, t) - 1
        return k >= 0 and t < intervals[k][1]

    def __call__(self, t: float) -> float:
        if not 0.0 <= t <= self.duration_s:
            return float(self.exact(t)[0])
        if not self._inside(self._shadow_starts, self.shadows, t):
            return 1.0
        if self._inside(self._umbra_starts, self.umbras, t):
            return 0.0
        return float(self.exact(t)[0])

    def dark_fraction(self) -> float:
        """Share of [0, duration_s] lost to the shadow (penumbra counted by its depth)."""
        dark = sum(b - a for a, b in self.umbras)
        for a, b in self.shadows:
            inner = [(max(a, c), min(b, d)) for c, d in self.umbras if c < b and d > a]
            edges = [a] + [x for pair in inner for x in pair] + [b]
            for lo, hi in zip(edges[::2], edges[1::2], strict=True):
                if hi > lo:
                    grid = np.linspace(lo, hi, 21)
                    dark += float(np.trapezoid(1.0 - self.exact(grid), grid))
        return dark / self.duration_s


def sunlight_all(
    satellites: Satellites,
    epoch: Epoch,
    duration_s: float,
    step_s: float = 30.0,
    chunk: int = 256,
    only: Sequence[int] | None = None,
) -> list[Sunlight]:
    """:class:`Sunlight` of every satellite (or of the satellites `only` names, in that order),
    computed a chunk of satellites at a time."""
    horizon = v.positive("sun.duration_s", duration_s)
    step = v.positive("sun.step_s", step_s)
    t = time_grid(horizon, step)
    sun_grid = sun_position_eci(epoch, t)
    out: list[Sunlight] = []
    wanted = np.arange(len(satellites)) if only is None else np.asarray(list(only), dtype=int)
    for lo in range(0, len(wanted), chunk):
        rows = wanted[lo : lo + chunk]
        pos = satellites.eci_grid(epoch, t, rows)
        frac = illuminated_fraction(pos.reshape(-1, 3), np.tile(sun_grid, (rows.size, 1))).reshape(rows.size, t.size)
        found = []
        for flags, lit in ((frac < 1.0, lambda f: f < 1.0), (frac <= 0.0, lambda f: f <= 0.0)):

            def pred(
                local: np.ndarray,
                times: np.ndarray,
                test: Callable[[np.ndarray], np.ndarray] = lit,
                chunk_rows: np.ndarray = rows,
            ) -> np.ndarray:
                positions = satellites.eci_at(epoch, chunk_rows[local], times)
                return test(illuminated_fraction(positions, sun_position_eci(epoch, times)))

            r, start, end, _, _ = refined_intervals(pred, t, flags, ECLIPSE_TOLERANCE_S)
            per: list[list[tuple[float, float]]] = [[] for _ in rows]
            for k, a, b in zip(r.tolist(), start.tolist(), end.tolist(), strict=True):
                per[k].append((a, b))
            found.append(per)
        for k, i in enumerate(rows):
            out.append(Sunlight(satellites, int(i), epoch, horizon, step, (found[0][k], found[1][k])))
    return out

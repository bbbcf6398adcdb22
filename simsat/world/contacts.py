"""Contact windows between satellites and ground stations: a screened coarse grid plus root refinement.

How a plan is found, for each chunk of satellites (memory stays flat in the number of satellites):

1. Screen on a coarse grid (``step_s``): the angle psi between the satellite's and the station's
   geocentric directions. A satellite can only be above the mask while psi <= psi_max (from the
   mask, the station's radius and the satellite's largest radius, with a margin for the
   geodetic vertical), and psi changes at most at L = the satellite's largest angular rate plus
   the Earth's rotation. So any visible instant lies inside a run of samples with
   psi <= psi_max + L * step, and the samples either side of such a run are not visible.
2. In each run (one pass at most for orbits below a few thousand km) find the highest elevation
   by golden-section search, then the rise and set by bisection finished with one secant step.

Nothing is sampled finer than ``step_s`` except inside passes, so short grazing passes are
found as well as long ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world._events import runs, time_grid
from simsat.world.constants import DEG, EARTH_ROTATION_RAD_S
from simsat.world.satellites import Satellites
from simsat.world.stations import Station
from simsat.world.timebase import Epoch

EDGE_TOLERANCE_S = 0.05
"""Bisection stops once a rise/set bracket is this narrow (a secant step then refines it)."""
PEAK_TOLERANCE_S = 0.5
"""Golden-section search for the highest elevation stops at this bracket width."""
SCREEN_MARGIN_RAD = 0.5 * DEG
"""Extra angle added to each station's reach when screening (covers the geodetic vertical)."""
MAX_SCREEN_STEP_RAD = 0.35
"""The coarse step is shortened so that a satellite moves at most this angle between samples."""
CELLS_PER_CHUNK = 4_000_000
"""Satellites x samples x stations evaluated at once (about 32 MB per float array)."""


@dataclass(frozen=True)
class ContactWindow:
    """Satellite ``satellite`` (index) is above station ``station``'s (index) mask, times in s from start."""

    satellite: int
    station: int
    start_s: float
    end_s: float
    max_elevation_deg: float

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Contact:
    """A contact by names, with aware UTC datetimes."""

    satellite: str
    station: str
    start: datetime
    end: datetime
    max_elevation_deg: float

    @property
    def duration_s(self) -> float:
        """Length of the contact in seconds."""
        return (self.end - self.start).total_seconds()


class _Geometry:
    """Stations as arrays, and the elevation function of (satellite, station, time) triples."""

    def __init__(self, satellites: Satellites, stations: Sequence[Station], epoch: Epoch) -> None:
        self.satellites = satellites
        self.epoch = epoch
        self.pos = np.array([s.ecef_km for s in stations])
        self.up = np.array([s.up for s in stations])
        self.radius = np.linalg.norm(self.pos, axis=1)
        self.unit = self.pos / self.radius[:, None]
        self.sin_mask = np.sin(np.array([s.min_elevation_deg for s in stations]) * DEG)
        self.mask_rad = np.array([s.min_elevation_deg for s in stations]) * DEG

    def margin(self, sat: np.ndarray, st: np.ndarray, t: np.ndarray) -> np.ndarray:
        """sin(elevation) - sin(mask) for each triple; -2 where the satellite has no position."""
        p = self.satellites.ecef_at(self.epoch, sat, t)
        rho = p - self.pos[st]
        value = np.sum(rho * self.up[st], axis=-1) / np.linalg.norm(rho, axis=-1) - self.sin_mask[st]
        return np.nan_to_num(value, nan=-2.0)

    def reach_rad(self, max_radius: np.ndarray) -> np.ndarray:
        """psi_max (n, m): the largest central angle at which each satellite can clear each mask."""
        mask = self.mask_rad[None, :] - SCREEN_MARGIN_RAD
        ratio = np.clip(self.radius[None, :] * np.cos(mask) / max_radius[:, None], -1.0, 1.0)
        return np.arccos(ratio) - mask + SCREEN_MARGIN_RAD


def _golden_max(
    f: Callable[[np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """(argmax, max) of unimodal ``f`` on each bracket [a, b], vectorised, one evaluation per step."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = a.copy(), b.copy()
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    width = float(np.max(b - a)) if a.size else 0.0
    steps = max(0, math.ceil(math.log(max(width, tol) / tol) / math.log(1.0 / g)))
    for _ in range(steps):
        left = fc >= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - g * (b - a), a + g * (b - a))
        fnew = f(new)
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, fnew, fd),
            np.where(left, fc, fnew),
        )
    best = fc >= fd
    return np.where(best, c, d), np.where(best, fc, fd)


def _root(
    f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, f_lo: np.ndarray, f_hi: np.ndarray, tol: float
) -> np.ndarray:
    """Sign change of ``f`` in each bracket (f_lo and f_hi of opposite signs): bisection, then secant."""
    lo, hi, f_lo, f_hi = lo.copy(), hi.copy(), f_lo.copy(), f_hi.copy()
    width = float(np.max(hi - lo)) if lo.size else 0.0
    steps = max(0, math.ceil(math.log2(max(width, tol) / tol)))
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        same = (f_mid >= 0.0) == (f_lo >= 0.0)
        lo, f_lo = np.where(same, mid, lo), np.where(same, f_mid, f_lo)
        hi, f_hi = np.where(same, hi, mid), np.where(same, f_hi, f_mid)
    denom = f_hi - f_lo
    safe = np.where(np.abs(denom) > 0.0, denom, 1.0)
    return np.where(np.abs(denom) > 0.0, lo - f_lo * (hi - lo) / safe, 0.5 * (lo + hi))


def _chunk_windows(
    geo: _Geometry, rows: np.ndarray, t: np.ndarray, step: float, reach: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Windows of satellites ``rows``: (satellite, station, start, end, max elevation) arrays."""
    n, m, count = rows.size, geo.pos.shape[0], t.size
    p = geo.satellites.ecef_grid(geo.epoch, t, rows)
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    cos_psi = p @ geo.unit.T  # (n, T, m); NaN positions compare False
    limit = np.minimum(reach + (rate * step)[:, None], math.pi)
    flags = cos_psi >= np.cos(limit)[:, None, :]
    run_row, first, end = runs(flags.transpose(0, 2, 1).reshape(n * m, count))
    sat = rows[run_row // m]
    st = run_row % m
    a = t[np.maximum(first - 1, 0)]
    b = t[np.minimum(end, count - 1)]

    def f(times: np.ndarray) -> np.ndarray:
        return geo.margin(sat, st, times)

    t_peak, f_peak = _golden_max(f, a, b, PEAK_TOLERANCE_S)
    fa, fb = f(a), f(b)
    at_a, at_b = fa > f_peak, fb > f_peak
    t_peak = np.where(at_a, a, np.where(at_b, b, t_peak))
    f_peak = np.maximum(f_peak, np.maximum(fa, fb))
    keep = f_peak >= 0.0
    sat, st, a, b, fa, fb, t_peak, f_peak = (x[keep] for x in (sat, st, a, b, fa, fb, t_peak, f_peak))
    rise_open, set_open = fa >= 0.0, fb >= 0.0
    k = sat.size
    sat2, st2 = np.concatenate([sat, sat]), np.concatenate([st, st])

    def f2(times: np.ndarray) -> np.ndarray:
        return geo.margin(sat2, st2, times)

    f_top = f_peak
    edges = _root(
        f2,
        np.concatenate([a, t_peak]),
        np.concatenate([t_peak, b]),
        np.concatenate([np.where(rise_open, -1.0, fa), f_top]),
        np.concatenate([f_top, np.where(set_open, -1.0, fb)]),
        EDGE_TOLERANCE_S,
    )
    start = np.where(rise_open, a, np.minimum(edges[:k], t_peak))
    stop = np.where(set_open, b, np.maximum(edges[k:], t_peak))
    elevation = np.degrees(np.arcsin(np.clip(f_peak + geo.sin_mask[st], -1.0, 1.0)))
    return sat, st, start, stop, elevation


def compute_contacts(
    satellites: Satellites,
    stations: Sequence[Station],
    epoch: Epoch,
    duration_s: float,
    step_s: float = 60.0,
    chunk_cells: int = CELLS_PER_CHUNK,
) -> list[ContactWindow]:
    """All windows in [0, duration_s] with elevation >= each station's mask, sorted by start.

    ``step_s`` is the screening grid (shortened automatically for fast satellites); edges are
    accurate to a few milliseconds of the propagator's own geometry. Windows open at t = 0 start
    at 0; those open at the horizon end at ``duration_s``.
    """
    horizon = v.positive("contacts.duration_s", duration_s)
    step = v.positive("contacts.step_s", step_s)
    if len(satellites) == 0 or not stations:
        return []
    geo = _Geometry(satellites, stations, epoch)
    rate = satellites.max_angular_rate_rad_s() + EARTH_ROTATION_RAD_S
    if not np.all(np.isfinite(rate)) or np.any(rate <= 0.0):
        raise ConfigError("constellation: a satellite has no finite angular rate")
    step = min(step, MAX_SCREEN_STEP_RAD / float(np.max(rate)))
    t = time_grid(horizon, step)
    reach = geo.reach_rad(satellites.max_radius_km())
    per_chunk = max(1, int(chunk_cells) // (t.size * len(stations)))
    parts = []
    for lo in range(0, len(satellites), per_chunk):
        rows = np.arange(lo, min(lo + per_chunk, len(satellites)))
        parts.append(_chunk_windows(geo, rows, t, step, reach[rows], rate[rows]))
    sat, st, start, stop, elev = (np.concatenate(x) for x in zip(*parts))
    order = np.lexsort((st, sat, start))
    return [
        ContactWindow(int(sat[i]), int(st[i]), float(start[i]), float(stop[i]), float(elev[i])) for i in order
    ]


def contact_plan(
    satellites: Satellites,
    stations: Sequence[Station],
    start: datetime,
    duration_s: float,
    step_s: float = 60.0,
) -> list[Contact]:
    """Contacts by name with aware UTC start/end, from ``start`` (an aware datetime) for ``duration_s``."""
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise ConfigError(f"contact_plan: start must be an aware datetime (with a time zone), got {start!r}")
    epoch = Epoch(start)
    return to_contacts(compute_contacts(satellites, stations, epoch, duration_s, step_s), satellites, stations, epoch)


def to_contacts(windows: Sequence[ContactWindow], satellites: Satellites, stations: Sequence[Station], epoch: Epoch) -> list[Contact]:
    """Named, dated contacts from index-based windows."""
    names = satellites.names
    return [
        Contact(names[w.satellite], stations[w.station].name, epoch.at(w.start_s), epoch.at(w.end_s), w.max_elevation_deg)
        for w in windows
    ]

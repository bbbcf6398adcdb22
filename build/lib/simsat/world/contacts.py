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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world._events import runs, time_grid
from simsat.world._track import Track, golden_max
from simsat.world.constants import DEG, EARTH_ROTATION_RAD_S
from simsat.world.satellites import Satellites
from simsat.world.stations import Station
from simsat.world.timebase import Epoch, ecef_from_eci

EDGE_TOLERANCE_S = 1e-2
"""Root finding stops once no rise/set estimate moves by more than this (seconds)."""
PEAK_TOLERANCE_S = 0.5
"""Golden-section search for the highest elevation stops at this bracket width."""
SCREEN_MARGIN_RAD = 0.5 * DEG
"""Extra angle added to each station's reach when screening (covers the geodetic vertical)."""
MAX_SCREEN_STEP_RAD = 0.35
"""The coarse step is shortened so that a satellite moves at most this angle between samples."""
CELLS_PER_CHUNK = 4_000_000
"""Satellites x samples x stations evaluated at once (about 32 MB per float array)."""


class ContactWindow(NamedTuple):
    """Satellite ``satellite`` (index) is above station ``station``'s (index) mask, times in s from start.

    Immutable and cheap to create (a plan for 1,000 satellites holds tens of thousands).
    """

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

    def margin(self, p: np.ndarray, st: np.ndarray) -> np.ndarray:
        """sin(elevation) - sin(mask) of Earth-fixed positions ``p`` (3, R) from stations ``st``; -2 if NaN."""
        rho = p - self.pos.T[:, st]
        up = self.up.T[:, st]
        dot = rho[0] * up[0] + rho[1] * up[1] + rho[2] * up[2]
        dist = np.sqrt(rho[0] * rho[0] + rho[1] * rho[1] + rho[2] * rho[2])
        return np.nan_to_num(dot / dist - self.sin_mask[st], nan=-2.0)

    def reach_rad(self, max_radius: np.ndarray) -> np.ndarray:
        """psi_max (n, m): the largest central angle at which each satellite can clear each mask."""
        mask = self.mask_rad[None, :] - SCREEN_MARGIN_RAD
        ratio = np.clip(self.radius[None, :] * np.cos(mask) / max_radius[:, None], -1.0, 1.0)
        return np.arccos(ratio) - mask + SCREEN_MARGIN_RAD


def _root(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    f_lo: np.ndarray,
    f_hi: np.ndarray,
    tol: float,
) -> np.ndarray:
    """Sign change of ``f`` in each bracket (f_lo < 0 <= f_hi or the reverse), vectorised.

    ``f(idx, times)`` evaluates brackets ``idx``. Regula falsi with the Illinois modification:
    the bracket always holds the root and the estimate converges superlinearly; a bracket
    stops being evaluated once its estimate moves by less than ``tol``.
    """
    lo, hi, f_lo, f_hi = lo.copy(), hi.copy(), f_lo.copy(), f_hi.copy()
    x = 0.5 * (lo + hi)
    side = np.zeros(lo.shape, dtype=np.int8)
    active = np.arange(lo.size)
    for _ in range(_MAX_ROOT_STEPS):
        if active.size == 0:
            break
        a, b, fa, fb = lo[active], hi[active], f_lo[active], f_hi[active]
        denom = fb - fa
        new = np.where(denom != 0.0, (a * fb - b * fa) / np.where(denom != 0.0, denom, 1.0), 0.5 * (a + b))
        new = np.clip(new, np.minimum(a, b), np.maximum(a, b))
        moved = np.abs(new - x[active])
        x[active] = new
        fx = f(active, new)
        low_side = (fx >= 0.0) == (fa >= 0.0)
        sd = side[active]
        lo[active] = np.where(low_side, new, a)
        hi[active] = np.where(low_side, b, new)
        f_lo[active] = np.where(low_side, fx, np.where(sd == -1, 0.5 * fa, fa))
        f_hi[active] = np.where(low_side, np.where(sd == 1, 0.5 * fb, fb), fx)
        side[active] = np.where(low_side, 1, -1)
        active = active[moved >= tol]
    return x


_MAX_ROOT_STEPS = 60


def _peak_brackets(
    psi: np.ndarray, run_row: np.ndarray, first: np.ndarray, end: np.ndarray, t: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """A bracket of 1.5 steps either side of each run's closest sample (smallest psi)."""
    if run_row.size == 0:  # no satellite comes near a station (e.g. an equatorial orbit, a polar station)
        return np.empty(0), np.empty(0)
    lengths = end - first + 1  # samples first..end inclusive (runs are over intervals)
    region = np.repeat(np.arange(run_row.size), lengths)
    offsets = np.cumsum(lengths) - lengths
    sample = first[region] + (np.arange(region.size) - offsets[region])
    values = psi[run_row[region], sample]
    order = np.lexsort((values, region))
    head = np.flatnonzero(np.r_[True, region[order][1:] != region[order][:-1]])
    closest = t[sample[order][head]]
    return closest - 1.5 * step, closest + 1.5 * step


def _chunk_windows(
    geo: _Geometry, rows: np.ndarray, t: np.ndarray, step: float, reach: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Windows of satellites ``rows``: (satellite, station, start, end, max elevation) arrays.

    psi moves at most rate * h in an interval of length h, so a visible instant inside
    [t_k, t_k+1] needs (psi_k + psi_k+1) / 2 <= reach + rate * h / 2: runs of such intervals
    hold every pass, and their end samples are not visible (unless at the mission's ends).
    """
    n, m, count = rows.size, geo.pos.shape[0], t.size
    pos, vel = geo.satellites.eci_grid_pv(geo.epoch, t, rows)
    track = Track(geo.satellites, rows, geo.epoch, t, pos, vel)
    p = ecef_from_eci(pos, geo.epoch.gmst_rad(t)[None, :])
    del pos, vel
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    psi = np.arccos(np.clip(p @ geo.unit.T, -1.0, 1.0))  # (n, T, m); NaN where no position
    del p
    psi = np.nan_to_num(psi.transpose(0, 2, 1).reshape(n * m, count), nan=10.0)
    half = 0.5 * rate[:, None] * np.diff(t)[None, :]  # (n, T-1)
    limit = (reach[:, :, None] + half[:, None, :]).reshape(n * m, count - 1)
    flags = (psi[:, :-1] + psi[:, 1:]) <= 2.0 * limit
    run_row, first, end = runs(flags)
    sat = run_row // m  # local row in this chunk
    st = run_row % m
    a, b = t[first], t[end]
    lo, hi = _peak_brackets(psi, run_row, first, end, t, step)
    del psi, flags, limit
    lo, hi = np.maximum(lo, a), np.minimum(hi, b)

    def f(times: np.ndarray) -> np.ndarray:
        return geo.margin(track.ecef(sat, times), st)

    t_peak, f_peak = golden_max(f, lo, hi, PEAK_TOLERANCE_S)
    fa, fb = f(a), f(b)
    at_a, at_b = fa > f_peak, fb > f_peak
    t_peak = np.where(at_a, a, np.where(at_b, b, t_peak))
    f_peak = np.maximum(f_peak, np.maximum(fa, fb))
    keep = f_peak >= 0.0
    sat, st, a, b, fa, fb, t_peak, f_peak = (x[keep] for x in (sat, st, a, b, fa, fb, t_peak, f_peak))
    rise_open, set_open = fa >= 0.0, fb >= 0.0
    k = sat.size
    sat2, st2 = np.concatenate([sat, sat]), np.concatenate([st, st])

    def f2(idx: np.ndarray, times: np.ndarray) -> np.ndarray:
        return geo.margin(track.ecef(sat2[idx], times), st2[idx])

    edges = _root(
        f2,
        np.concatenate([a, t_peak]),
        np.concatenate([t_peak, b]),
        np.concatenate([np.where(rise_open, -1.0, fa), f_peak]),
        np.concatenate([f_peak, np.where(set_open, -1.0, fb)]),
        EDGE_TOLERANCE_S,
    )
    start = np.where(rise_open, a, np.minimum(edges[:k], t_peak))
    stop = np.where(set_open, b, np.maximum(edges[k:], t_peak))
    elevation = np.degrees(np.arcsin(np.clip(f_peak + geo.sin_mask[st], -1.0, 1.0)))
    return rows[sat], st, start, stop, elevation


def compute_contacts(
    satellites: Satellites,
    stations: Sequence[Station],
    epoch: Epoch,
    duration_s: float,
    step_s: float = 120.0,
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
    sat, st, start, stop, elev = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((st, sat, start))
    columns = (
        sat[order].tolist(),
        st[order].tolist(),
        start[order].tolist(),
        stop[order].tolist(),
        elev[order].tolist(),
    )
    return [ContactWindow(*row) for row in zip(*columns, strict=True)]


def contact_plan(
    satellites: Satellites,
    stations: Sequence[Station],
    start: datetime,
    duration_s: float,
    step_s: float = 120.0,
) -> list[Contact]:
    """Contacts by name with aware UTC start/end, from ``start`` (an aware datetime) for ``duration_s``."""
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise ConfigError(f"contact_plan: start must be an aware datetime (with a time zone), got {start!r}")
    epoch = Epoch(start)
    return to_contacts(compute_contacts(satellites, stations, epoch, duration_s, step_s), satellites, stations, epoch)


def to_contacts(
    windows: Sequence[ContactWindow], satellites: Satellites, stations: Sequence[Station], epoch: Epoch
) -> list[Contact]:
    """Named, dated contacts from index-based windows."""
    names = satellites.names
    return [
        Contact(
            names[w.satellite], stations[w.station].name, epoch.at(w.start_s), epoch.at(w.end_s), w.max_elevation_deg
        )
        for w in windows
    ]

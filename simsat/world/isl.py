"""Inter-satellite link (ISL) windows: when two satellites see each other within a range limit.

A pair can link while the straight line between them passes above a sphere of radius
``EARTH_RADIUS_KM + grazing_altitude_km`` (the WGS-84 equatorial radius, 6,378.137 km; the
default 80 km keeps the beam above the dense atmosphere) and their range is at most
``max_range_km``. Both conditions are margins in km (clearance of the line above the sphere,
range limit minus range), and a window is where both are >= 0.

Which pairs are considered (``pairs``):

- ``"neighbours"``: the next and the previous satellite in the same orbit plane (a ring);
- ``"grid"``: those, plus for every satellite the nearest satellite (by range at the start) in
  each adjacent plane; the pair set is fixed at the start, as a grid of terminals is;
- ``"all"``: every pair (the cost grows with the square of the satellites).

Planes are found from the orbit normals at the start (``orbit_planes``): satellites whose
normals lie within ``PLANE_TOLERANCE_DEG`` share a plane; planes are ordered by right ascension
of the ascending node (adjacent planes are next to each other in that order, the last next to
the first) and satellites within a plane by argument of latitude. So Walker shells and TLE sets
are handled alike.

How a plan is found, for each chunk of pairs (memory stays flat in the number of satellites):

1. Both margins on a coarse grid (``step_s``). The clearance moves at most at the faster
   satellite's speed and the range at the sum of both speeds, so an interval whose ends agree
   can hide an edge only when its mean margins lie within half a step's motion of zero; such
   intervals are halved until that is ruled out or they are shorter than the edge tolerance.
2. Every interval whose ends disagree holds an edge, bisected until its bracket is shorter than
   ``EDGE_TOLERANCE_S``; the edge is the bracket's end that links, so every instant of a window
   links. An interval whose ends disagree is taken to hold a single edge.
3. The smallest and largest range of each window: its values at the edges and at every local
   extreme of the sampled range inside it, each refined by golden-section search.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world._events import time_grid
from simsat.world._track import Track, golden_max
from simsat.world.constants import DEG, EARTH_RADIUS_KM
from simsat.world.satellites import Satellites
from simsat.world.timebase import Epoch

PAIR_MODES = ("neighbours", "grid", "all")
"""The values of ``pairs``."""
PLANE_TOLERANCE_DEG = 2.0
"""Satellites whose orbit normals are within this angle at the start share a plane."""
EDGE_TOLERANCE_S = 0.25
"""Edges are bisected until their bracket is this short (so within this of the true edge)."""
EXTREME_TOLERANCE_S = 0.5
"""Golden-section search for the smallest and largest range stops at this bracket width."""
DEFAULT_STEP_S = 60.0
"""Coarse grid of the plan (shortened so that no satellite moves more than MAX_STEP_RAD in one step)."""
MAX_STEP_RAD = 0.35
PAIR_CELLS_PER_CHUNK = 1_000_000
"""Pairs x samples evaluated at once (about 24 MB per position array)."""
_FLAT_KM = 1e-6
"""A sampled range must differ from a neighbour by more than this to count as a local extreme."""
_NO_POSITION = -1e9
"""Margin given to samples where a satellite has no position (SGP4 failed): never linked."""


class IslSpan(NamedTuple):
    """Satellites ``a`` < ``b`` (indices) can link from ``start_s`` to ``end_s`` (s from the start).

    Immutable and cheap to create (a grid plan for 1,000 satellites holds tens of thousands).
    """

    a: int
    b: int
    start_s: float
    end_s: float
    min_range_km: float
    max_range_km: float

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class IslWindow:
    """An ISL window by satellite names, with aware UTC datetimes."""

    a: str
    b: str
    start: datetime
    end: datetime
    min_range_km: float
    max_range_km: float

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return (self.end - self.start).total_seconds()


def _state(satellites: Satellites, epoch: Epoch) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n, 3) and unit orbit normals (n, 3) at the epoch; NaN rows where SGP4 failed."""
    rows = np.arange(len(satellites))
    pos, vel = satellites.eci_grid_pv(epoch, np.zeros(1), rows)
    r, vv = pos[:, 0], vel[:, 0]
    h = np.cross(r, vv)
    with np.errstate(invalid="ignore", divide="ignore"):
        h /= np.linalg.norm(h, axis=1, keepdims=True)
    return r, h


def orbit_planes(satellites: Satellites, epoch: Epoch, tolerance_deg: float = PLANE_TOLERANCE_DEG) -> list[list[int]]:
    """Satellite indices grouped by orbit plane at ``epoch``: planes by right ascension of the
    ascending node, satellites in a plane by argument of latitude. Satellites without a position
    at the epoch belong to no plane."""
    tolerance = v.in_range("tolerance_deg", tolerance_deg, 0.0, 90.0)
    r, h = _state(satellites, epoch)
    cos_tol = math.cos(tolerance * DEG)
    refs: list[np.ndarray] = []
    members: list[list[int]] = []
    for i in np.flatnonzero(np.all(np.isfinite(h), axis=1)):
        if refs:
            dots = np.array(refs) @ h[i]
            j = int(np.argmax(dots))
            if dots[j] >= cos_tol:
                members[j].append(int(i))
                continue
        refs.append(h[i])
        members.append([int(i)])
    planes = []
    for ref, idx in zip(refs, members, strict=True):
        node = np.array([-ref[1], ref[0], 0.0])
        size = float(np.linalg.norm(node))
        node = node / size if size > 1e-9 else np.array([1.0, 0.0, 0.0])  # equatorial: measure from x
        across = np.cross(ref, node)
        p = r[idx]
        u = np.mod(np.arctan2(p @ across, p @ node), 2.0 * math.pi)
        raan = math.atan2(node[1], node[0]) % (2.0 * math.pi)
        planes.append((raan, [idx[k] for k in np.argsort(u, kind="stable")]))
    planes.sort(key=lambda item: item[0])
    return [idx for _, idx in planes]


def isl_pairs(
    satellites: Satellites, epoch: Epoch, pairs: str = "neighbours", tolerance_deg: float = PLANE_TOLERANCE_DEG
) -> np.ndarray:
    """The candidate pairs of ``pairs`` (see the module): an (P, 2) int array, a < b, sorted."""
    mode = _mode(pairs)
    if mode == "all":
        r, _ = _state(satellites, epoch)
        ok = np.flatnonzero(np.all(np.isfinite(r), axis=1))
        a, b = np.triu_indices(ok.size, 1)
        return np.stack([ok[a], ok[b]], axis=1).astype(np.int64) if a.size else np.zeros((0, 2), dtype=np.int64)
    planes = orbit_planes(satellites, epoch, tolerance_deg)
    found: set[tuple[int, int]] = set()
    for plane in planes:
        m = len(plane)
        for k in range(m if m > 2 else m - 1):
            found.add((plane[k], plane[(k + 1) % m]))
    if mode == "grid" and len(planes) > 1:
        r, _ = _state(satellites, epoch)
        adjacent = [(k, (k + 1) % len(planes)) for k in range(len(planes) if len(planes) > 2 else 1)]
        for k, j in adjacent:
            p, q = np.array(planes[k]), np.array(planes[j])
            dist = np.linalg.norm(r[p][:, None, :] - r[q][None, :, :], axis=-1)
            found.update((int(x), int(q[y])) for x, y in zip(p, np.argmin(dist, axis=1), strict=True))
            found.update((int(p[x]), int(y)) for x, y in zip(np.argmin(dist, axis=0), q, strict=True))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    out = np.array(sorted((min(x, y), max(x, y)) for x, y in found if x != y), dtype=np.int64)
    return np.unique(out, axis=0)


def _mode(pairs: object) -> str:
    if not isinstance(pairs, str) or pairs not in PAIR_MODES:
        raise ConfigError(f"pairs must be one of {', '.join(PAIR_MODES)}, got {pairs!r}", "pairs")
    return pairs


def _margins(ra: np.ndarray, rb: np.ndarray, radius: float, max_range: float) -> tuple[np.ndarray, ...]:
    """(clearance, range margin, range) in km of positions (..., 3); NaN positions give no link."""
    d = rb - ra
    dd = np.einsum("...i,...i->...", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.clip(-np.einsum("...i,...i->...", ra, d) / dd, 0.0, 1.0)
    s = np.where(dd > 0.0, s, 0.0)
    closest = ra + s[..., None] * d
    rng = np.sqrt(dd)
    clear = np.nan_to_num(np.linalg.norm(closest, axis=-1) - radius, nan=_NO_POSITION)
    margin = np.nan_to_num(max_range - rng, nan=_NO_POSITION)
    return clear, margin, rng


class _Chunk:
    """A chunk of pairs: positions of their satellites at any time inside the grid, and margins."""

    def __init__(
        self, satellites: Satellites, epoch: Epoch, t: np.ndarray, pairs: np.ndarray, radius: float, max_range: float
    ) -> None:
        self.rows = np.unique(pairs)
        self.ia = np.searchsorted(self.rows, pairs[:, 0])
        self.ib = np.searchsorted(self.rows, pairs[:, 1])
        if satellites.cheap_to_evaluate:
            pos = satellites.eci_grid(epoch, t, self.rows)
            vel = pos
        else:
            pos, vel = satellites.eci_grid_pv(epoch, t, self.rows)
        self.track = Track(satellites, self.rows, epoch, t, pos, vel)
        self.grid = pos  # (rows, T, 3), inertial; distances do not depend on the frame
        self.radius, self.max_range = radius, max_range

    def on_grid(self) -> tuple[np.ndarray, ...]:
        return _margins(self.grid[self.ia], self.grid[self.ib], self.radius, self.max_range)

    def at(self, pair: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, ...]:
        """Margins and range of chunk pairs ``pair[m]`` at ``times[m]``."""
        ra = self.track.ecef(self.ia[pair], times).T
        rb = self.track.ecef(self.ib[pair], times).T
        return _margins(ra, rb, self.radius, self.max_range)


def _hidden(ok0: np.ndarray, sums: tuple[np.ndarray, np.ndarray], motion: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Whether an interval whose ends agree (``ok0``) could hold the other state somewhere inside.

    ``sums`` are each margin's end values added, ``motion`` each margin's largest change over
    the interval's length: a margin can reach zero inside only if |sum| <= that change.
    """
    (clear, margin), (l_clear, l_margin) = sums, motion
    could_fail = (clear <= l_clear) | (margin <= l_margin)
    could_link = (clear >= -l_clear) & (margin >= -l_margin)
    return np.where(ok0, could_fail, could_link)


def _edges(
    chunk: _Chunk, t: np.ndarray, speed_a: np.ndarray, speed_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pair, edge time, opens) of every edge, then the pairs' state and range on the grid."""
    clear, margin, rng = chunk.on_grid()
    ok = (clear >= 0.0) & (margin >= 0.0)
    w = np.diff(t)[None, :]
    l_clear = np.maximum(speed_a, speed_b)[:, None]
    l_margin = (speed_a + speed_b)[:, None]
    change = ok[:, :-1] != ok[:, 1:]
    suspect = ~change & _hidden(
        ok[:, :-1],
        (clear[:, :-1] + clear[:, 1:], margin[:, :-1] + margin[:, 1:]),
        (l_clear * w, l_margin * w),
    )
    p, k = np.nonzero(change | suspect)
    t0, t1 = t[k], t[k + 1]
    c0, c1, m0, m1 = clear[p, k], clear[p, k + 1], margin[p, k], margin[p, k + 1]
    ok0, ok1 = ok[p, k], ok[p, k + 1]
    lc, lm = l_clear[p, 0], l_margin[p, 0]
    width = float(np.max(t1 - t0)) if p.size else 0.0
    levels = max(0, math.ceil(math.log2(width / EDGE_TOLERANCE_S))) if width > EDGE_TOLERANCE_S else 0
    for _ in range(levels):
        if p.size == 0:
            break
        mid = 0.5 * (t0 + t1)
        cm, mm, _ = chunk.at(p, mid)
        okm = (cm >= 0.0) & (mm >= 0.0)
        crossing = ok0 != ok1
        half = mid - t0
        # an interval with an edge keeps the half the edge is in; one without keeps each half that
        # has an edge or could hide one
        left = (ok0 != okm) | (~crossing & _hidden(ok0, (c0 + cm, m0 + mm), (lc * half, lm * half)))
        right = (okm != ok1) | (~crossing & _hidden(okm, (cm + c1, mm + m1), (lc * half, lm * half)))
        lk, rk = np.flatnonzero(left), np.flatnonzero(right)
        p = np.concatenate([p[lk], p[rk]])
        t0, t1 = np.concatenate([t0[lk], mid[rk]]), np.concatenate([mid[lk], t1[rk]])
        c0, c1 = np.concatenate([c0[lk], cm[rk]]), np.concatenate([cm[lk], c1[rk]])
        m0, m1 = np.concatenate([m0[lk], mm[rk]]), np.concatenate([mm[lk], m1[rk]])
        ok0, ok1 = np.concatenate([ok0[lk], okm[rk]]), np.concatenate([okm[lk], ok1[rk]])
        lc, lm = np.concatenate([lc[lk], lc[rk]]), np.concatenate([lm[lk], lm[rk]])
    edge = ok0 != ok1  # intervals that could hide an edge but are now shorter than the tolerance go
    # each edge is the bracket's linked end: every instant of a window links
    return p[edge], np.where(ok0, t0, t1)[edge], ~ok0[edge], ok, rng


def _windows(
    p: np.ndarray, at: np.ndarray, opens: np.ndarray, ok: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair, start, end) of every window, sorted by pair then start, from the edges and end states."""
    first, last = np.flatnonzero(ok[:, 0]), np.flatnonzero(ok[:, -1])
    sp = np.concatenate([first, p[opens]])
    st = np.concatenate([np.full(first.size, t[0]), at[opens]])
    ep = np.concatenate([p[~opens], last])
    et = np.concatenate([at[~opens], np.full(last.size, t[-1])])
    s_order, e_order = np.lexsort((st, sp)), np.lexsort((et, ep))
    return sp[s_order], st[s_order], et[e_order]


def _extremes(
    chunk: _Chunk, t: np.ndarray, step: float, wp: np.ndarray, ws: np.ndarray, we: np.ndarray, rng: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest range over each window: edges, then local extremes of the sampled range."""
    _, _, r_start = chunk.at(wp, ws)
    _, _, r_end = chunk.at(wp, we)
    low, high = np.fmin(r_start, r_end), np.fmax(r_start, r_end)
    if wp.size == 0:
        return low, high
    with np.errstate(invalid="ignore"):
        up = np.pad(rng, ((0, 0), (1, 1)), constant_values=np.inf)  # the horizon's ends count as extremes
        is_min = (rng <= up[:, :-2]) & (rng <= up[:, 2:]) & (np.fmax(up[:, :-2], up[:, 2:]) - rng > _FLAT_KM)
        down = np.pad(rng, ((0, 0), (1, 1)), constant_values=-np.inf)
        is_max = (rng >= down[:, :-2]) & (rng >= down[:, 2:]) & (rng - np.fmin(down[:, :-2], down[:, 2:]) > _FLAT_KM)
    span = float(t[-1]) + 1.0
    keys = wp * span + ws
    last = t.size - 1
    for sign, found in ((1.0, is_min), (-1.0, is_max)):
        cp, k = np.nonzero(found)
        a, b = t[np.maximum(k - 1, 0)], t[np.minimum(k + 1, last)]
        w = np.searchsorted(keys, cp * span + b, side="left") - 1
        inside = (w >= 0) & (wp[np.maximum(w, 0)] == cp) & (we[np.maximum(w, 0)] > a)
        short = np.flatnonzero(we - ws < 2.0 * step)  # windows too short to hold a sampled extreme
        w = np.concatenate([w[inside], short])
        cp = np.concatenate([cp[inside], wp[short]])
        lo = np.maximum(np.concatenate([a[inside], ws[short]]), ws[w])
        hi = np.minimum(np.concatenate([b[inside], we[short]]), we[w])
        if w.size == 0:
            continue

        def f(times: np.ndarray, pair: np.ndarray = cp, sign: float = sign) -> np.ndarray:
            return -sign * np.nan_to_num(chunk.at(pair, times)[2], nan=np.inf)

        _, best = golden_max(f, lo, hi, EXTREME_TOLERANCE_S)
        if sign > 0:
            np.fmin.at(low, w, -best)
        else:
            np.fmax.at(high, w, best)
    return low, high


def compute_isl(
    satellites: Satellites,
    epoch: Epoch,
    duration_s: float,
    max_range_km: float,
    grazing_altitude_km: float = 80.0,
    pairs: str = "neighbours",
    step_s: float = DEFAULT_STEP_S,
    chunk_cells: int = PAIR_CELLS_PER_CHUNK,
) -> list[IslSpan]:
    """All ISL windows in [0, duration_s] of the pairs ``pairs`` allows, sorted by start.

    Edges are within ``EDGE_TOLERANCE_S`` of the propagator's own geometry, inside the window; windows open at
    t = 0 start at 0, those open at the horizon end at ``duration_s``; a window or a gap shorter
    than ``EDGE_TOLERANCE_S`` may be missed.
    """
    if not isinstance(satellites, Satellites):
        raise ConfigError(
            f"satellites must be a set of satellites (e.g. walker_satellites), got {satellites!r}", "satellites"
        )
    horizon = v.positive("duration_s", duration_s)
    max_range = v.positive("max_range_km", max_range_km)
    grazing = v.in_range("grazing_altitude_km", grazing_altitude_km, 0.0, 10_000.0)
    step = v.positive("step_s", step_s)
    mode = _mode(pairs)
    if len(satellites) < 2:
        return []
    rate = satellites.max_angular_rate_rad_s()
    if not np.all(np.isfinite(rate)) or np.any(rate <= 0.0):
        raise ConfigError("constellation: a satellite has no finite angular rate")
    speed = rate * satellites.max_radius_km()
    step = min(step, MAX_STEP_RAD / float(np.max(rate)))
    t = time_grid(horizon, step)
    candidates = isl_pairs(satellites, epoch, mode)
    radius = EARTH_RADIUS_KM + grazing
    per_chunk = max(1, int(chunk_cells) // t.size)
    parts = []
    for lo in range(0, len(candidates), per_chunk):
        chunk_pairs = candidates[lo : lo + per_chunk]
        chunk = _Chunk(satellites, epoch, t, chunk_pairs, radius, max_range)
        ep, at, opens, ok, rng = _edges(chunk, t, speed[chunk_pairs[:, 0]], speed[chunk_pairs[:, 1]])
        wp, ws, we = _windows(ep, at, opens, ok, t)
        low, high = _extremes(chunk, t, step, wp, ws, we, rng)
        parts.append((chunk_pairs[wp, 0], chunk_pairs[wp, 1], ws, we, low, high))
    if not parts:
        return []
    a, b, start, end, low, high = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((b, a, start))
    columns = (a[order].tolist(), b[order].tolist(), start[order].tolist(), end[order].tolist())
    return [IslSpan(*row) for row in zip(*columns, low[order].tolist(), high[order].tolist(), strict=True)]


def isl_plan(
    satellites: Satellites,
    start: datetime,
    duration_s: float,
    max_range_km: float,
    grazing_altitude_km: float = 80.0,
    pairs: str = "neighbours",
    step_s: float = DEFAULT_STEP_S,
) -> list[IslWindow]:
    """ISL windows by name with aware UTC start/end, from ``start`` (an aware datetime) for ``duration_s``."""
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise ConfigError(f"start must be an aware datetime (with a time zone), got {start!r}", "start")
    epoch = Epoch(start)
    spans = compute_isl(satellites, epoch, duration_s, max_range_km, grazing_altitude_km, pairs, step_s)
    return to_windows(spans, satellites, epoch)


def to_windows(spans: Sequence[IslSpan], satellites: Satellites, epoch: Epoch) -> list[IslWindow]:
    """Named, dated windows from index-based spans."""
    names = satellites.names
    return [
        IslWindow(names[s.a], names[s.b], epoch.at(s.start_s), epoch.at(s.end_s), s.min_range_km, s.max_range_km)
        for s in spans
    ]

"""Contact windows between satellites and ground stations from geometry."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from simsat.world import _validate as v
from simsat.world._events import refined_intervals, time_grid
from simsat.world.ground import GroundStation, _elevation_deg
from simsat.world.orbits import CircularOrbit, OrbitArrays

EDGE_TOLERANCE_S = 0.5
"""Window edges are located to within half of this."""


@dataclass(frozen=True)
class ContactWindow:
    """Satellite ``satellite`` (index into the orbit list) is above station ``station``'s mask."""

    satellite: int
    station: int
    start_s: float
    end_s: float
    max_elevation_deg: float

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return self.end_s - self.start_s


def compute_contacts(
    orbits: Sequence[CircularOrbit],
    stations: Sequence[GroundStation],
    duration_s: float,
    step_s: float = 10.0,
    gmst0_rad: float = 0.0,
) -> list[ContactWindow]:
    """All windows in [0, duration_s] where elevation >= the station mask, sorted by start.

    Elevation is sampled every ``step_s`` and edges are refined by bisection to within
    0.25 s. Passes shorter than about ``step_s`` can fall between samples and be missed.
    Windows open at t = 0 start at 0; those open at the horizon end at ``duration_s``.
    """
    horizon = v.positive("contacts.duration_s", duration_s)
    step = v.positive("contacts.step_s", step_s)
    if not orbits or not stations:
        return []
    t = time_grid(horizon, step)
    arrays = OrbitArrays(orbits)
    sat_grid = arrays.grid(t)
    windows: list[ContactWindow] = []
    for s_idx, station in enumerate(stations):
        st_grid = station.position_eci(t, gmst0_rad)
        elev = _elevation_deg(sat_grid, st_grid[None, :, :])
        mask = station.min_elevation_deg

        def above(rows: np.ndarray, times: np.ndarray, _st: GroundStation = station) -> np.ndarray:
            sat = arrays.at(rows, times)
            return _elevation_deg(sat, _st.position_eci(times, gmst0_rad)) >= _st.min_elevation_deg

        rows, start, end, first, stop = refined_intervals(above, t, elev >= mask, EDGE_TOLERANCE_S)
        peaks = _peak_elevations(arrays, station, gmst0_rad, t, elev, rows, first, stop, start, end)
        for k in range(rows.size):
            windows.append(
                ContactWindow(int(rows[k]), s_idx, float(start[k]), float(end[k]), float(peaks[k]))
            )
    windows.sort(key=lambda w: (w.start_s, w.satellite, w.station))
    return windows


def _peak_elevations(
    arrays: OrbitArrays,
    station: GroundStation,
    gmst0_rad: float,
    t: np.ndarray,
    elev: np.ndarray,
    rows: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
) -> np.ndarray:
    """Maximum elevation of each window: golden-section search around its highest sample."""
    if rows.size == 0:
        return np.zeros(0)
    peak_idx = np.array(
        [f + int(np.argmax(elev[r, f:e])) for r, f, e in zip(rows, first, stop)], dtype=int
    )
    lo = np.maximum(t[np.maximum(peak_idx - 1, 0)], start_s)
    hi = np.minimum(t[np.minimum(peak_idx + 1, t.size - 1)], end_s)
    best = elev[rows, peak_idx]

    def elevation(times: np.ndarray) -> np.ndarray:
        return _elevation_deg(arrays.at(rows, times), station.position_eci(times, gmst0_rad))

    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(_GOLDEN_STEPS):
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        f1, f2 = elevation(x1), elevation(x2)
        best = np.maximum(best, np.maximum(f1, f2))
        left = f1 >= f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
    return best


_GOLDEN_STEPS = 30
"""Golden-section steps for the peak elevation (shrinks a 20 s bracket below 1 ms)."""


def limit_by_antennas(
    windows: Sequence[ContactWindow], stations: Sequence[GroundStation]
) -> list[ContactWindow]:
    """Windows each station can serve with its antennas, first come first served.

    A window that opens while all antennas of its station are busy starts when one frees
    up (shortened); if none frees before it ends it is dropped. Input in any order.
    """
    busy: list[list[float]] = [[] for _ in stations]
    served: list[ContactWindow] = []
    for window in sorted(windows, key=lambda w: (w.start_s, w.satellite, w.station)):
        heap = busy[window.station]
        while heap and heap[0] <= window.start_s:
            heapq.heappop(heap)
        capacity = stations[window.station].antennas
        start = window.start_s
        if len(heap) >= capacity:
            start = heap[0]
            if start >= window.end_s:
                continue
            heapq.heappop(heap)
        heapq.heappush(heap, window.end_s)
        served.append(window if start == window.start_s else replace(window, start_s=start))
    served.sort(key=lambda w: (w.start_s, w.satellite, w.station))
    return served

"""Rate profiles of contact windows from a link budget evaluated along each pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simsat.world import _validate as v
from simsat.world.contacts import ContactWindow
from simsat.world.linkbudget import LinkBudget
from simsat.world.rates import RateProfile
from simsat.world.satellites import Satellites
from simsat.world.stations import Station
from simsat.world.timebase import Epoch


def pass_geometry(
    satellites: Satellites, index: int, station: Station, epoch: Epoch, times_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(slant range km, elevation deg) of satellite ``index`` from ``station`` at ``times_s``."""
    t = np.asarray(times_s, dtype=float)
    p = satellites.ecef_at(epoch, np.full(t.shape, int(index)), t)
    return station.slant_range_km(p), station.elevation_deg(p)


def pass_rate_profile(
    budget: LinkBudget,
    satellites: Satellites,
    window: ContactWindow,
    stations: Sequence[Station],
    epoch: Epoch,
    step_s: float = 5.0,
) -> RateProfile:
    """Piecewise-constant rate over ``window``: the budget's rate at the middle of each step."""
    step = v.positive("step_s", step_s)
    count = max(1, int(np.ceil(window.duration_s / step)))
    edges = np.linspace(window.start_s, window.end_s, count + 1)
    if window.duration_s <= 0.0:
        edges = np.array([window.start_s, window.start_s + 1e-6])
    mid = 0.5 * (edges[:-1] + edges[1:])
    rng, elev = pass_geometry(satellites, window.satellite, stations[window.station], epoch, mid)
    return RateProfile(edges, budget.rate_bps(rng, elev))

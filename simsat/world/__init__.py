"""SimPy world: orbits, ground stations, contacts, sun/eclipse, battery, compute and links.

Depends on numpy and simpy only (no torch, no flwr).
"""

from __future__ import annotations

from simsat.world.compute import ComputeResult, run_compute
from simsat.world.contacts import ContactWindow, compute_contacts, limit_by_antennas
from simsat.world.ground import GroundStation
from simsat.world.links import LinkRates, Transfer, bytes_in, range_scaled_rate, seconds_for, transmit
from simsat.world.orbits import CircularOrbit, sun_synchronous_inclination_deg, walker_delta
from simsat.world.power import Battery
from simsat.world.sun import (
    SunlitSchedule,
    beta_angle_deg,
    eclipse_intervals,
    in_eclipse,
    make_sunlit,
    sun_direction_eci,
    sunlit_fraction,
)

__all__ = [
    "Battery",
    "CircularOrbit",
    "ComputeResult",
    "ContactWindow",
    "GroundStation",
    "LinkRates",
    "SunlitSchedule",
    "Transfer",
    "beta_angle_deg",
    "bytes_in",
    "compute_contacts",
    "eclipse_intervals",
    "in_eclipse",
    "limit_by_antennas",
    "make_sunlit",
    "range_scaled_rate",
    "run_compute",
    "seconds_for",
    "sun_direction_eci",
    "sun_synchronous_inclination_deg",
    "sunlit_fraction",
    "transmit",
    "walker_delta",
]

"""SimPy world: time base, orbits (Walker shells with J2, TLEs with SGP4), WGS-84 stations,
contact plans, inter-satellite link plans, the Sun and the Earth's shadow, batteries, onboard compute and links.

Depends on numpy, SimPy and sgp4 only (no torch, no flwr).
"""

from __future__ import annotations

from simsat.world.compute import ComputeResult, run_compute
from simsat.world.contacts import Contact, ContactWindow, compute_contacts, contact_plan
from simsat.world.isl import IslSpan, IslWindow, compute_isl, isl_pairs, isl_plan, orbit_planes
from simsat.world.links import LinkRates, Transfer, bytes_in, seconds_for, transmit
from simsat.world.power import Battery
from simsat.world.satellites import SatelliteGroup, Satellites
from simsat.world.stations import Station
from simsat.world.sun import Sunlight, beta_angle_deg, illuminated_fraction, sun_direction_eci, sun_position_eci
from simsat.world.timebase import Epoch, parse_utc
from simsat.world.tle import TleSatellites, tle_satellites
from simsat.world.walker import WalkerSatellites, sun_synchronous_inclination_deg, walker_satellites

__all__ = [
    "Battery",
    "ComputeResult",
    "Contact",
    "ContactWindow",
    "Epoch",
    "IslSpan",
    "IslWindow",
    "LinkRates",
    "SatelliteGroup",
    "Satellites",
    "Station",
    "Sunlight",
    "TleSatellites",
    "Transfer",
    "WalkerSatellites",
    "beta_angle_deg",
    "bytes_in",
    "compute_contacts",
    "compute_isl",
    "contact_plan",
    "illuminated_fraction",
    "isl_pairs",
    "isl_plan",
    "orbit_planes",
    "parse_utc",
    "run_compute",
    "seconds_for",
    "sun_direction_eci",
    "sun_position_eci",
    "sun_synchronous_inclination_deg",
    "transmit",
    "tle_satellites",
    "walker_satellites",
]

"""The world a mission runs in, computed from config before the simulation starts."""

from __future__ import annotations

from dataclasses import dataclass

from simsat.config.schema import SimsatConfig
from simsat.world.contacts import ContactWindow, compute_contacts
from simsat.world.ground import GroundStation
from simsat.world.orbits import CircularOrbit, walker_delta
from simsat.world.sun import SunlitSchedule


@dataclass(frozen=True)
class WorldPlan:
    orbits: list[CircularOrbit]
    stations: list[GroundStation]
    contacts: list[ContactWindow]
    sunlit: list[SunlitSchedule]  # per satellite: t -> sunlit?
    duration_s: float


def build_orbits(config: SimsatConfig) -> list[CircularOrbit]:
    c = config.constellation
    return walker_delta(c.altitude_km, c.inclination_deg, c.planes, c.sats_per_plane, c.phasing)


def build_stations(config: SimsatConfig) -> list[GroundStation]:
    return [
        GroundStation(
            name=g.name,
            latitude_deg=g.latitude_deg,
            longitude_deg=g.longitude_deg,
            altitude_km=g.altitude_km,
            min_elevation_deg=g.min_elevation_deg,
            antennas=g.antennas,
        )
        for g in config.ground_stations
    ]


def build_world(config: SimsatConfig) -> WorldPlan:
    """Orbits, stations, contact windows and sunlight schedules for the whole mission."""
    orbits = build_orbits(config)
    stations = build_stations(config)
    duration_s = config.mission.duration_hours * 3600.0
    step = config.mission.contact_step_s
    contacts = compute_contacts(orbits, stations, duration_s, step_s=step)
    sunlit = [
        SunlitSchedule(orbit, duration_s, config.mission.day_of_year, step_s=step) for orbit in orbits
    ]
    return WorldPlan(orbits, stations, contacts, sunlit, duration_s)


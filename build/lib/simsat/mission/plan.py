"""The world a mission runs in, computed from config before the simulation starts."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError
from simsat.world.antennas import antenna_priority, check_policy
from simsat.world.contacts import ContactWindow, compute_contacts
from simsat.world.geometry_cache import cached_geometry
from simsat.world.linkbudget import LinkBudget, link_preset
from simsat.world.links import LinkRates, bytes_in
from simsat.world.passrates import pass_rate_profile
from simsat.world.rates import RateProfile
from simsat.world.satellites import SatelliteGroup, Satellites
from simsat.world.solar import ATTITUDES, SolarInput, panel_peak_w
from simsat.world.stations import Station
from simsat.world.sun import Sunlight, sunlight_all
from simsat.world.timebase import Epoch
from simsat.world.tle import tle_satellites
from simsat.world.walker import walker_satellites

log = logging.getLogger(__name__)

LINK_MODELS = ("constant", "budget")
SUN_STEP_S = 30.0  # screening grid of the shadow intervals (edges are refined)


@dataclass(frozen=True)
class WorldPlan:
    """Everything the mission needs from geometry, in seconds from ``epoch``.

    ``sunlit[i](t)`` is satellite i's share of ``solar_peak_w`` at t (shadow and attitude).
    ``profiles[k]`` maps "uplink"/"downlink" to the rate profile of ``contacts[k]`` when the
    link model is a budget, and is empty for constant rates (use ``rates`` then).
    """

    epoch: Epoch
    satellites: Satellites
    stations: list[Station]
    contacts: list[ContactWindow]
    sunlit: list[SolarInput]
    duration_s: float
    solar_peak_w: float
    rates: LinkRates
    antenna_policy: str = "first_come"
    profiles: list[dict[str, RateProfile]] = field(default_factory=list)
    _index: dict[ContactWindow, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: k for k, w in enumerate(self.contacts)})

    def rate(self, window_index: int, direction: str) -> float | RateProfile:
        """What :func:`simsat.world.links.transmit` takes for ``contacts[window_index]``."""
        if self.profiles:
            return self.profiles[window_index][direction]
        return self.rates.rate(direction)

    def link_rate(self, window: ContactWindow, direction: str) -> float | RateProfile:
        """The rate (constant, or the profile along the pass) for a window of ``contacts``."""
        return self.rate(self._index[window], direction) if self.profiles else self.rates.rate(direction)

    def antenna_priority(self, window: ContactWindow) -> tuple[float, float, int]:
        """Priority of ``window``'s antenna request under ``antenna_policy`` (for simpy.PriorityResource)."""
        return antenna_priority(window, self.antenna_policy)

    def bytes_available(self, window: ContactWindow, direction: str, t0: float, t1: float) -> int:
        """Whole bytes the link carries in ``direction`` between ``t0`` and ``t1`` of ``window``."""
        rate = self.link_rate(window, direction)
        if isinstance(rate, RateProfile):
            return rate.bytes_between(t0, t1)
        return bytes_in(t1 - t0, rate)


def build_epoch(config: SimsatConfig) -> Epoch:
    return Epoch.parse(config.mission.start_utc, "mission.start_utc")


def build_satellites(config: SimsatConfig, epoch: Epoch | None = None) -> Satellites:
    """The Walker shell (planes > 0), the TLE file's satellites, or both in that order."""
    at = epoch if epoch is not None else build_epoch(config)
    c = config.constellation
    parts: list[Satellites] = []
    if c.planes != 0:
        parts.append(
            walker_satellites(
                c.altitude_km,
                c.inclination_deg,
                c.planes,
                c.sats_per_plane,
                c.phasing,
                epoch=at,
                raan0_deg=None if c.ltan_hours is not None else c.raan0_deg,
                ltan_hours=c.ltan_hours,
                name=c.name,
                j2=c.j2,
            )
        )
    if c.tle:
        tle = tle_satellites(c.tle)
        tle.check_epochs(at)
        parts.append(tle)
    if not parts:
        raise ConfigError("constellation.planes is 0 and constellation.tle is empty: no satellites, got planes=0")
    return parts[0] if len(parts) == 1 else SatelliteGroup(parts)


def build_stations(config: SimsatConfig) -> list[Station]:
    if not config.ground_stations:
        raise ConfigError("ground_stations needs at least one station, got []")
    return [
        Station(
            name=g.name,
            latitude_deg=g.latitude_deg,
            longitude_deg=g.longitude_deg,
            altitude_km=g.altitude_km,
            min_elevation_deg=g.min_elevation_deg,
            antennas=g.antennas,
        )
        for g in config.ground_stations
    ]


def build_link_budgets(config: SimsatConfig) -> tuple[LinkBudget, LinkBudget] | None:
    """(uplink, downlink) budgets when link.model is budget, else None."""
    link = config.link
    if link.model not in LINK_MODELS:
        raise ConfigError(f"link.model must be one of {', '.join(LINK_MODELS)}, got {link.model!r}")
    budgets = (
        link_preset(link.uplink_budget, "link.uplink_budget"),
        link_preset(link.downlink_budget, "link.downlink_budget"),
    )
    return None if link.model == "constant" else budgets


def solar_peak_w(config: SimsatConfig) -> float:
    """Peak panel power: from panel area and efficiency when the area is set, else solar_w."""
    p = config.satellite.power
    if p.attitude not in ATTITUDES:
        raise ConfigError(f"satellite.power.attitude must be one of {', '.join(ATTITUDES)}, got {p.attitude!r}")
    if p.panel_area_m2 > 0:
        return panel_peak_w(p.panel_area_m2, p.panel_efficiency)
    return float(p.solar_w)


def _geometry_key(config: SimsatConfig) -> dict[str, Any]:
    """Everything the contact plan and the sunlight depend on (a TLE file by its contents)."""
    constellation = dataclasses.asdict(config.constellation)
    if config.constellation.tle:
        constellation["tle"] = hashlib.sha256(Path(config.constellation.tle).expanduser().read_bytes()).hexdigest()
    return {
        "constellation": constellation,
        "stations": [dataclasses.asdict(g) for g in config.ground_stations],
        "start_utc": config.mission.start_utc,
        "duration_hours": config.mission.duration_hours,
        "contact_step_s": config.mission.contact_step_s,
        "sun_step_s": SUN_STEP_S,
    }


def build_world(config: SimsatConfig, cache_dir: Path | None = None) -> WorldPlan:
    """Satellites, stations, contact windows, sunlight and link rates for the whole mission.
    With a `cache_dir`, the contact plan and sunlight of a world already computed are read from
    it (see `simsat.world.geometry_cache`)."""
    epoch = build_epoch(config)
    satellites = build_satellites(config, epoch)
    stations = build_stations(config)
    duration_s = config.mission.duration_hours * 3600.0

    def geometry() -> tuple[list[ContactWindow], list[Sunlight]]:
        contacts = compute_contacts(satellites, stations, epoch, duration_s, step_s=config.mission.contact_step_s)
        return contacts, sunlight_all(satellites, epoch, duration_s, SUN_STEP_S)

    key = _geometry_key(config) if cache_dir is not None else {}
    contacts, sunlight, cached = cached_geometry(cache_dir, key, satellites, epoch, duration_s, SUN_STEP_S, geometry)
    if cached:
        log.info("contact plan and sunlight read from the cache (%s)", cache_dir)
    attitude = config.satellite.power.attitude
    sunlit = [SolarInput(light, attitude) for light in sunlight]
    budgets = build_link_budgets(config)
    profiles: list[dict[str, RateProfile]] = []
    if budgets is not None:
        step = config.link.profile_step_s
        profiles = [
            {
                "uplink": pass_rate_profile(budgets[0], satellites, w, stations, epoch, step),
                "downlink": pass_rate_profile(budgets[1], satellites, w, stations, epoch, step),
            }
            for w in contacts
        ]
    return WorldPlan(
        epoch=epoch,
        satellites=satellites,
        stations=stations,
        contacts=contacts,
        sunlit=sunlit,
        duration_s=duration_s,
        solar_peak_w=solar_peak_w(config),
        rates=LinkRates(config.link.uplink_bps, config.link.downlink_bps),
        antenna_policy=check_policy(config.mission.antenna_policy),
        profiles=profiles,
    )

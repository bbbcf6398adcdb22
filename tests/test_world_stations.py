"""Stations on the WGS-84 ellipsoid, Walker shells and their bad-input errors."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world.stations import Station
from simsat.world.timebase import Epoch
from simsat.world.walker import j2_rates, sun_synchronous_inclination_deg, walker_satellites
from world_skyfield import skyfield_timescale

START = datetime(2025, 3, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("lat", "lon", "alt"), [(78.23, 15.39, 500.0), (-72.01, 2.53, 1300.0), (0.0, -30.0, 0.0), (49.61, 6.13, 300.0)]
)
def test_station_position_matches_skyfield_wgs84(lat: float, lon: float, alt: float) -> None:
    skyfield_timescale()
    from skyfield.api import wgs84

    ref = wgs84.latlon(lat, lon, alt).itrs_xyz.km
    assert np.allclose(Station("s", lat, lon, alt / 1000.0).ecef_km, ref, atol=1e-6)


def test_elevation_uses_the_geodetic_vertical() -> None:
    station = Station("s", 60.0, 10.0, 0.0)
    overhead = station.ecef_km + 600.0 * station.up
    assert station.elevation_deg(overhead) == pytest.approx(90.0)
    geocentric = station.ecef_km * (1.0 + 600.0 / np.linalg.norm(station.ecef_km))
    assert 89.0 < float(station.elevation_deg(geocentric)) < 89.9  # ~0.19 degrees off at 60 N


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latitude_deg": 95.0}, r"station\[s\]\.latitude_deg must be in \[-90, 90\], got 95"),
        ({"min_elevation_deg": 90.0}, r"station\[s\]\.min_elevation_deg must be in \[0, 90\), got 90"),
        ({"antennas": 0}, r"station\[s\]\.antennas must be >= 1"),
        ({"altitude_km": 20.0}, r"station\[s\]\.altitude_km"),
    ],
)
def test_bad_station(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, object] = {"name": "s", "latitude_deg": 10.0, "longitude_deg": 20.0}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        Station(**args)  # type: ignore[arg-type]


def test_walker_geometry_and_names() -> None:
    sats = walker_satellites(550.0, 53.0, planes=6, sats_per_plane=4, phasing=1, epoch=START, raan0_deg=10.0)
    assert len(sats) == 24 and sats.names[5] == "walker-p1s1"
    assert np.degrees(sats.raan0[::4]) == pytest.approx([10, 70, 130, 190, 250, 310])
    assert np.degrees(sats.u0[4]) == pytest.approx(15.0)
    p = sats.eci_grid(Epoch(START), np.array([0.0, 100.0]), np.arange(24))
    assert np.allclose(np.linalg.norm(p, axis=-1), 6378.137 + 550.0)


def test_j2_rates_of_a_sun_synchronous_orbit() -> None:
    inc = sun_synchronous_inclination_deg(700.0)
    assert inc == pytest.approx(98.19, abs=0.02)
    node, _ = j2_rates(6378.137 + 700.0, inc)
    assert math.degrees(node) * 86400.0 == pytest.approx(360.0 / 365.2422, rel=1e-6)
    node_iss, u_iss = j2_rates(6378.137 + 420.0, 51.6)
    assert math.degrees(node_iss) * 86400.0 == pytest.approx(-5.0, abs=0.1)  # the ISS node: ~5 deg/day west


def test_ltan_places_plane_zero_relative_to_the_mean_sun() -> None:
    from simsat.world.sun import mean_sun_right_ascension_deg

    for start in (START, datetime(2025, 9, 1, 6, tzinfo=timezone.utc)):
        sats = walker_satellites(600.0, 97.8, 1, 1, 0, epoch=start, ltan_hours=18.0)
        offset = (math.degrees(float(sats.raan0[0])) - mean_sun_right_ascension_deg(Epoch(start))) % 360.0
        assert offset == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"altitude_km": 0.0}, r"fleet\.altitude_km"),
        ({"phasing": 3}, r"fleet\.phasing must be in \[0, planes-1\]"),
        ({"planes": 0}, r"fleet\.planes must be >= 1"),
        ({"ltan_hours": 25.0}, r"fleet\.ltan_hours"),
        ({"ltan_hours": 6.0, "raan0_deg": 10.0}, r"fleet: give raan0_deg or ltan_hours, not both"),
    ],
)
def test_bad_walker(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, object] = {
        "altitude_km": 500.0,
        "inclination_deg": 97.4,
        "planes": 2,
        "sats_per_plane": 2,
        "phasing": 1,
    }
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        walker_satellites(**args, epoch=START, prefix="fleet")  # type: ignore[arg-type]


def _plane_normal(p: np.ndarray) -> np.ndarray:
    n = np.cross(p[0], p[1])
    return n / np.linalg.norm(n)


@pytest.mark.parametrize(("j2", "low", "high"), [(True, 0.0, 0.1), (False, 20.0, 30.0)])
def test_walker_node_regression_matches_sgp4_over_a_week(j2: bool, low: float, high: float) -> None:
    from simsat.world.tle import TleSatellites, format_tle

    shell = walker_satellites(550.0, 53.0, 1, 1, 0, epoch=START, raan0_deg=30.0, j2=j2)
    l1, l2 = format_tle(1, START, 53.0, 30.0, 0.0, 0.0, 0.0, 86400.0 * float(shell.u_rate[0]) / (2 * math.pi))
    tle = TleSatellites([("x", l1, l2)])
    epoch = Epoch(START)
    week = np.array([7 * 86400.0, 7 * 86400.0 + 600.0])
    ours = _plane_normal(shell.eci_at(epoch, np.zeros(2, dtype=int), week))
    theirs = _plane_normal(tle.eci_at(epoch, np.zeros(2, dtype=int), week))
    # J2 turns the node by ~35 degrees a week at 53 degrees; SGP4 includes it, a two-body shell does not
    assert low <= math.degrees(math.acos(min(1.0, float(ours @ theirs)))) <= high

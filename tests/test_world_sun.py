"""The Sun's position against DE421, the conical shadow, and sunlight schedules."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from simsat.world.constants import EARTH_RADIUS_KM
from simsat.world.sun import (
    Sunlight,
    beta_angle_deg,
    illuminated_fraction,
    sun_direction_eci,
    sun_position_eci,
    sun_right_ascension_deg,
)
from simsat.world.timebase import Epoch
from simsat.world.walker import walker_satellites
from world_skyfield import skyfield_ephemeris, skyfield_timescale

EQUINOX = datetime(2025, 3, 20, 9, 1, tzinfo=timezone.utc)


def test_sun_direction_within_a_tenth_of_a_degree_of_de421_over_a_year() -> None:
    ts, eph = skyfield_timescale(), skyfield_ephemeris()
    earth, sun = eph["earth"], eph["sun"]
    worst = 0.0
    for day in range(0, 366, 5):
        moment = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(days=day, hours=day % 24)
        ra, dec, dist = earth.at(ts.from_datetime(moment)).observe(sun).apparent().radec(epoch="date")
        ref = np.array(
            [
                math.cos(dec.radians) * math.cos(ra.radians),
                math.cos(dec.radians) * math.sin(ra.radians),
                math.sin(dec.radians),
            ]
        )
        ours = sun_direction_eci(Epoch(moment), 0.0)[0]
        worst = max(worst, math.degrees(math.acos(min(1.0, float(ref @ ours)))))
        assert np.linalg.norm(sun_position_eci(Epoch(moment), 0.0)[0]) == pytest.approx(dist.km, rel=2e-4)
    assert worst < 0.1


def test_sun_is_at_the_equinox_node() -> None:
    ra = sun_right_ascension_deg(Epoch(EQUINOX))
    assert min(ra, 360.0 - ra) < 0.05


def test_shadow_fraction_regions() -> None:
    sun = np.array([[1.496e8, 0.0, 0.0]] * 4)
    r = EARTH_RADIUS_KM + 500.0
    behind = np.array(
        [[-r, 0.0, 0.0], [0.0, r, 0.0], [-r * 0.2, EARTH_RADIUS_KM + 0.0, 0.0], [-r * 0.2, EARTH_RADIUS_KM - 30.0, 0.0]]
    )
    frac = illuminated_fraction(behind, sun)
    assert frac[0] == 0.0  # deep umbra
    assert frac[1] == 1.0  # beside the Earth
    assert 0.2 < frac[2] < 0.8  # grazing the limb: penumbra
    assert frac[3] < frac[2]


def _shell(ltan: float | None, raan: float | None, epoch: datetime, alt: float = 500.0, inc: float = 97.4):  # type: ignore[no-untyped-def]
    return walker_satellites(alt, inc, 1, 1, 0, epoch=epoch, ltan_hours=ltan, raan0_deg=raan)


def test_eclipse_fraction_at_beta_zero_matches_the_analytic_value() -> None:
    epoch = Epoch(EQUINOX)
    sats = walker_satellites(500.0, 0.0, 1, 1, 0, epoch=EQUINOX, j2=False)  # equatorial at the equinox: beta 0
    assert abs(beta_angle_deg(np.array([0.0, 0.0, 1.0]), epoch)) < 0.05
    period = 2 * math.pi / float(sats.u_rate[0])
    light = Sunlight(sats, 0, epoch, 10 * period, step_s=20.0)
    analytic = math.asin(EARTH_RADIUS_KM / (EARTH_RADIUS_KM + 500.0)) / math.pi  # cylinder, beta 0
    assert light.dark_fraction() == pytest.approx(analytic, abs=0.005)
    assert len(light.umbras) in (10, 11)
    penumbra = light.shadows[1][0], light.umbras[1][0]
    assert 5.0 < penumbra[1] - penumbra[0] < 15.0  # LEO penumbra lasts seconds


def test_dawn_dusk_shell_stays_lit_on_any_date_and_noon_midnight_does_not() -> None:
    for month in (1, 4, 7, 10):
        start = datetime(2025, month, 15, tzinfo=timezone.utc)
        epoch = Epoch(start)
        dawn = _shell(6.0, None, start, alt=700.0, inc=98.2)
        noon = _shell(12.0, None, start, alt=700.0, inc=98.2)
        assert abs(beta_angle_deg(dawn.normal_eci(0, epoch, 0.0), epoch)) > 60.0
        assert abs(beta_angle_deg(noon.normal_eci(0, epoch, 0.0), epoch)) < 25.0
        dark = Sunlight(dawn, 0, epoch, 86400.0).dark_fraction()
        # near the solstices |beta| dips to ~60 degrees, below the 64 degrees that a 700 km orbit
        # needs to stay lit: short eclipses (the real dawn-dusk eclipse season); none at equinoxes
        assert dark == 0.0 if month in (4, 10) else dark < 0.17
        assert Sunlight(noon, 0, epoch, 86400.0).dark_fraction() > 0.30


def test_sun_synchronous_node_follows_the_sun() -> None:
    from simsat.world.walker import sun_synchronous_inclination_deg

    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    sats = _shell(10.5, None, start, alt=600.0, inc=sun_synchronous_inclination_deg(600.0))
    epoch = Epoch(start)
    later = 180 * 86400.0
    raan_then = math.degrees(float(sats.raan0[0] + sats.raan_rate[0] * later)) % 360
    ltan_then = 12.0 + ((raan_then - _mean_sun(epoch, later)) % 360.0) / 15.0
    assert ltan_then % 24.0 == pytest.approx(10.5, abs=0.05)


def _mean_sun(epoch: Epoch, t: float) -> float:
    from simsat.world.sun import mean_sun_right_ascension_deg

    return mean_sun_right_ascension_deg(epoch, t)


def test_sunlight_schedule_agrees_with_the_geometry() -> None:
    start = datetime(2025, 6, 21, tzinfo=timezone.utc)
    sats = walker_satellites(500.0, 51.6, 1, 1, 0, epoch=start, raan0_deg=20.0)
    light = Sunlight(sats, 0, Epoch(start), 20000.0, step_s=30.0)
    t = np.linspace(0.0, 20000.0, 1501)
    direct = light.exact(t)
    looked_up = np.array([light(float(x)) for x in t])
    assert np.max(np.abs(looked_up - direct)) < 1e-9 or np.mean(np.abs(looked_up - direct) > 1e-6) < 0.002
    assert light(25000.0) == pytest.approx(float(light.exact(25000.0)[0]))


def test_sunlight_for_all_satellites_matches_one_at_a_time() -> None:
    from simsat.world.sun import sunlight_all

    start = datetime(2025, 6, 21, tzinfo=timezone.utc)
    sats = walker_satellites(550.0, 53.0, 3, 3, 1, epoch=start)
    epoch = Epoch(start)
    together = sunlight_all(sats, epoch, 30000.0, chunk=4)
    for i, light in enumerate(together):
        alone = Sunlight(sats, i, epoch, 30000.0)
        assert light.index == i
        assert np.allclose(light.shadows, alone.shadows) and np.allclose(light.umbras, alone.umbras)


def test_sunlight_of_a_real_tle_agrees_with_skyfield_is_sunlit() -> None:
    from skyfield.api import EarthSatellite

    from simsat.world.tle import tle_satellites_from_text
    from world_skyfield import ISS_TLE

    name, l1, l2 = ISS_TLE
    start = datetime(2019, 12, 9, 12, tzinfo=timezone.utc)
    light = Sunlight(tle_satellites_from_text(f"{name}\n{l1}\n{l2}\n"), 0, Epoch(start), 86400.0)
    ts, eph = skyfield_timescale(), skyfield_ephemeris()
    t = np.arange(0.0, 86400.0, 30.0)
    theirs = EarthSatellite(l1, l2, name, ts).at(ts.utc(2019, 12, 9, 12, 0, t)).is_sunlit(eph)
    ours = np.array([light(float(x)) for x in t])
    assert np.mean((ours > 0.5) == theirs) > 0.995  # only samples inside a penumbra may differ
    assert np.mean(ours) == pytest.approx(np.mean(theirs), abs=0.005)

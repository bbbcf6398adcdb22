"""Sun direction, eclipses and sunlit fraction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world.orbits import CircularOrbit
from simsat.world.sun import (
    beta_angle_deg,
    eclipse_intervals,
    in_eclipse,
    make_sunlit,
    sun_direction_eci,
    sun_right_ascension_deg,
    sunlit_fraction,
)

MARCH_EQUINOX = 80
JUNE_SOLSTICE = 172


def test_sun_direction_over_the_year() -> None:
    march = sun_direction_eci(0.0, MARCH_EQUINOX)[0]
    june = sun_direction_eci(0.0, JUNE_SOLSTICE)[0]
    np.testing.assert_allclose(np.linalg.norm(march), 1.0)
    assert math.degrees(math.asin(march[2])) == pytest.approx(0.0, abs=0.5)
    assert math.degrees(math.asin(june[2])) == pytest.approx(23.44, abs=0.1)
    assert sun_right_ascension_deg(0.0, JUNE_SOLSTICE) == pytest.approx(90.0, abs=1.5)
    # the sun moves about 0.986 degrees of ecliptic longitude per day
    later = sun_direction_eci(86400.0, MARCH_EQUINOX)[0]
    assert math.degrees(math.acos(march @ later)) == pytest.approx(0.986, abs=0.03)


def test_in_eclipse_cylinder() -> None:
    sun = sun_direction_eci(0.0, MARCH_EQUINOX)[0]
    r = 6878.137
    side = np.cross(sun, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    positions = np.array([r * sun, -r * sun, r * side, -r * side * 0.9 - 1000.0 * sun])
    assert in_eclipse(positions, np.zeros(4), MARCH_EQUINOX).tolist() == [False, True, False, True]


def test_equatorial_orbit_at_zero_beta_is_dark_about_37_percent() -> None:
    orbit = CircularOrbit(500.0, 0.0, 0.0, 0.0)
    assert abs(beta_angle_deg(orbit, 0.0, MARCH_EQUINOX)) < 0.5
    horizon = 5 * orbit.period_s
    intervals = eclipse_intervals(orbit, horizon, MARCH_EQUINOX)
    expected = 2.0 * math.asin(6378.137 / 6878.137) / (2.0 * math.pi)  # 0.3778
    assert 1.0 - sunlit_fraction(orbit, horizon, MARCH_EQUINOX) == pytest.approx(expected, abs=0.005)
    full = [b - a for a, b in intervals if 0.0 < a and b < horizon]
    assert len(full) >= 4
    for length in full:
        assert length / orbit.period_s == pytest.approx(expected, abs=0.005)


def test_dawn_dusk_sun_synchronous_orbit_never_enters_shadow_at_equinox() -> None:
    raan = sun_right_ascension_deg(0.0, MARCH_EQUINOX) + 90.0
    orbit = CircularOrbit(500.0, 97.4, raan, 0.0)
    assert abs(beta_angle_deg(orbit, 0.0, MARCH_EQUINOX)) > 80.0
    assert eclipse_intervals(orbit, 86400.0, MARCH_EQUINOX) == []
    assert sunlit_fraction(orbit, 86400.0, MARCH_EQUINOX) == 1.0


def test_noon_midnight_sun_synchronous_orbit_has_long_eclipses() -> None:
    orbit = CircularOrbit(600.0, 97.8, sun_right_ascension_deg(0.0, MARCH_EQUINOX), 0.0)
    dark = 1.0 - sunlit_fraction(orbit, 86400.0, MARCH_EQUINOX)
    assert 0.33 < dark < 0.38


def test_sunlit_schedule_agrees_with_the_shadow_model() -> None:
    orbit = CircularOrbit(500.0, 51.6, 20.0, 0.0)
    sunlit = make_sunlit(orbit, 20000.0, JUNE_SOLSTICE)
    t = np.arange(0.0, 20000.0, 7.3)
    direct = ~in_eclipse(orbit.position_eci(t), t, JUNE_SOLSTICE)
    mismatches = sum(sunlit(float(x)) != bool(d) for x, d in zip(t, direct))
    assert mismatches <= 2  # only within 0.25 s of an edge
    assert sunlit(25000.0) == (not bool(in_eclipse(orbit.position_eci(25000.0), 25000.0, JUNE_SOLSTICE)[0]))


def test_bad_day_of_year() -> None:
    with pytest.raises(ConfigError, match="sun.day_of_year"):
        sun_direction_eci(0.0, 0)

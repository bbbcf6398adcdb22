"""The mission time base: ISO 8601 start instants and Greenwich sidereal time."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world.timebase import Epoch, julian_date, parse_utc
from world_skyfield import skyfield_timescale


def test_parse_utc_accepts_z_and_offsets() -> None:
    assert parse_utc("2025-03-20T09:01:00Z") == datetime(2025, 3, 20, 9, 1, tzinfo=timezone.utc)
    assert parse_utc("2025-03-20T11:01:00+02:00") == datetime(2025, 3, 20, 9, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2025-03-20T09:01:00", "yesterday", "2025-13-01T00:00:00Z", 20250320])
def test_parse_utc_refuses_naive_or_garbage(text: object) -> None:
    with pytest.raises(ConfigError, match=r"^time ") as caught:
        parse_utc(text)
    assert caught.value.key == "time"
    with pytest.raises(ConfigError, match=r"^start "):
        parse_utc(text, "start")


def test_julian_date_of_j2000() -> None:
    whole, frac = julian_date(datetime(2000, 1, 1, 12, tzinfo=timezone.utc))
    assert whole + frac == 2451545.0


def test_epoch_arithmetic() -> None:
    epoch = Epoch.parse("2024-02-28T23:00:00Z")
    assert epoch.at(7200.0) == datetime(2024, 2, 29, 1, tzinfo=timezone.utc)
    assert epoch.seconds_to(datetime(2024, 3, 1, tzinfo=timezone.utc)) == 25 * 3600.0


def test_gmst_matches_skyfield_over_decades() -> None:
    ts = skyfield_timescale()
    for years in range(0, 30, 3):
        moment = datetime(2000 + years, 1 + years % 12, 1 + years, 7, 13, tzinfo=timezone.utc)
        epoch = Epoch(moment)
        for dt in (0.0, 43210.5):
            t = ts.from_datetime(moment + timedelta(seconds=dt))
            theirs = math.radians(t.gmst * 15.0)
            ours = float(epoch.gmst_rad(dt))
            diff = (ours - theirs + math.pi) % (2 * math.pi) - math.pi
            # UT1 - UTC (< 0.9 s) is the only difference: 0.9 s of rotation is 0.0038 degrees
            assert abs(math.degrees(diff)) < 0.005


def test_gmst_rate_is_sidereal() -> None:
    epoch = Epoch.parse("2025-01-01T00:00:00Z")
    g0, half, full = epoch.gmst_rad(np.array([0.0, 86164.0905 / 2, 86164.0905]))
    assert (half - g0) % (2 * math.pi) == pytest.approx(math.pi, abs=1e-6)
    assert abs((full - g0 + math.pi) % (2 * math.pi) - math.pi) < 1e-6

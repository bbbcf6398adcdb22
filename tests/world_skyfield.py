"""Test helpers: skyfield (a test-only dependency) with the data files its packages ship."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from typing import Any

import pytest

from simsat.world.tle import tle_checksum


def skyfield_timescale() -> Any:
    api = pytest.importorskip("skyfield.api")
    return api.load.timescale(builtin=True)  # no download


def skyfield_ephemeris() -> Any:
    """DE421 from the skyfield-data package (no download); skips when it is not installed."""
    data = pytest.importorskip("skyfield_data")
    api = pytest.importorskip("skyfield.api")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return api.Loader(data.get_skyfield_data_path(), verbose=False)("de421.bsp")


def make_tle(
    satnum: int, epoch: datetime, inc: float, raan: float, ecc: float, argp: float, ma: float, rev_per_day: float
) -> tuple[str, str]:
    """A valid two-line element set (zero drag terms) with correct checksums."""
    start = datetime(epoch.year, 1, 1, tzinfo=epoch.tzinfo)
    doy = 1.0 + (epoch - start) / timedelta(days=1)
    l1 = f"1 {satnum:05d}U 24001A   {epoch.year % 100:02d}{doy:012.8f}  .00000000  00000-0  00000-0 0  999"
    l2 = f"2 {satnum:05d} {inc:8.4f} {raan:8.4f} {round(ecc * 1e7):07d} {argp:8.4f} {ma:8.4f} {rev_per_day:11.8f}    1"
    assert len(l1) == 68 and len(l2) == 68, (len(l1), len(l2))
    return l1 + str(tle_checksum(l1)), l2 + str(tle_checksum(l2))


ISS_TLE = (
    "ISS (ZARYA)",
    "1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991",
    "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482",
)

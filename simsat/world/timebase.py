"""The mission's time base: a UTC start instant, Julian dates and Greenwich sidereal time.

Times inside the world model are seconds from the mission start (floats); this module turns
them into UTC datetimes, Julian dates and Earth rotation angles. UT1 is taken equal to UTC
(|UT1 - UTC| < 0.9 s, which moves a station by under 0.4 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property

import numpy as np

from simsat.errors import ConfigError
from simsat.world.constants import SECONDS_PER_DAY

_J2000_JD = 2451545.0
_UNIX_EPOCH_JD = 2440587.5

# The years the time-dependent formulas are used for. The Sun's position (simsat.world.sun) is the
# Astronomical Almanac's low-precision formula, stated to about 0.01 degrees for 1950-2050; the
# tests check it, and the sidereal time, against DE421 for 2000-2049. A mission must lie within
# the stated span; outside the checked one it is accepted with a warning.
VALID_YEARS = (1950, 2050)
CHECKED_YEARS = (2000, 2049)


def mission_span(start: datetime, duration_s: float) -> tuple[datetime, datetime]:
    """(start, end) of a mission; ConfigError (naming ``start``) when the end is past the calendar
    (year 9999)."""
    try:
        return start, start + timedelta(seconds=float(duration_s))
    except OverflowError:
        raise ConfigError(
            f"start: the mission from {start.isoformat()} for {duration_s / 3600.0:g} hours ends after the year 9999",
            "start",
        ) from None


def check_mission_years(start: datetime, duration_s: float) -> str | None:
    """ConfigError (naming ``start``) unless the mission lies within VALID_YEARS; a warning (one
    line, about the mission's dates) when it leaves CHECKED_YEARS, else None."""
    first, last = mission_span(start, duration_s)
    low, high = VALID_YEARS
    if first.year < low or last.year > high:
        raise ConfigError(
            f"start: the mission runs {first:%Y-%m-%d} to {last:%Y-%m-%d}, outside {low}-{high},"
            f" the years the Sun's position formula holds for (checked against DE421 for"
            f" {CHECKED_YEARS[0]}-{CHECKED_YEARS[1]})",
            "start",
        )
    low, high = CHECKED_YEARS
    if first.year < low or last.year > high:
        return (
            f"the mission runs {first:%Y-%m-%d} to {last:%Y-%m-%d}, outside {low}-{high}, where"
            f" the Sun's position and sidereal time are checked against DE421 (the formulas are stated for"
            f" {VALID_YEARS[0]}-{VALID_YEARS[1]}, to about 0.01 degrees)"
        )
    return None


_ISO_UTC = "an ISO 8601 UTC time like 2025-03-20T00:00:00Z"


def parse_utc(value: object, key: str = "time") -> datetime:
    """An aware UTC datetime from an ISO 8601 string (or an aware datetime); ConfigError naming ``key``.

    A time without a zone is refused: ``2025-03-20T00:00:00`` is ambiguous; write
    ``2025-03-20T00:00:00Z`` or ``...+00:00``.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"{key} must be {_ISO_UTC}, got {value!r}", key) from None
    else:
        raise ConfigError(f"{key} must be {_ISO_UTC}, got {value!r}", key)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigError(f"{key} needs a time zone (e.g. a trailing Z for UTC), got {value!r}", key)
    return moment.astimezone(timezone.utc)


def julian_date(moment: datetime) -> tuple[float, float]:
    """Julian date of an aware datetime as (whole part ending in .5, day fraction)."""
    utc = parse_utc(moment, "time")
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    whole = _UNIX_EPOCH_JD + (midnight - datetime(1970, 1, 1, tzinfo=timezone.utc)).days
    fraction = (utc - midnight).total_seconds() / SECONDS_PER_DAY
    return float(whole), fraction


def gmst_from_jd(jd_whole: np.ndarray | float, jd_fraction: np.ndarray | float) -> np.ndarray:
    """Greenwich mean sidereal angle in radians (IAU 1982 formula, as used with SGP4/TEME)."""
    tut1 = ((np.asarray(jd_whole, dtype=float) - _J2000_JD) + np.asarray(jd_fraction, dtype=float)) / 36525.0
    seconds = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * tut1 + 0.093104 * tut1**2 - 6.2e-6 * tut1**3
    return np.mod(seconds * (2.0 * math.pi / SECONDS_PER_DAY), 2.0 * math.pi)


@dataclass(frozen=True)
class Epoch:
    """A UTC instant that world times (seconds) are counted from."""

    utc: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "utc", parse_utc(self.utc, "epoch"))

    @classmethod
    def parse(cls, value: object, key: str = "epoch") -> Epoch:
        """An epoch from ISO 8601 text or an aware datetime; ConfigError naming ``key``."""
        return cls(parse_utc(value, key))

    @cached_property
    def jd(self) -> tuple[float, float]:
        """(whole, fraction) Julian date of the epoch."""
        return julian_date(self.utc)

    def jd_split(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Julian date of ``t`` seconds after the epoch as (whole, fraction) arrays (for sgp4)."""
        whole, fraction = self.jd
        frac = fraction + np.asarray(t, dtype=float) / SECONDS_PER_DAY
        return np.full(np.shape(frac), whole), frac

    def days_since_j2000(self, t: np.ndarray | float) -> np.ndarray:
        """Days from J2000.0 (2000-01-01 12:00) to ``t`` seconds after the epoch."""
        whole, fraction = self.jd
        return (whole - _J2000_JD) + fraction + np.asarray(t, dtype=float) / SECONDS_PER_DAY

    def gmst_rad(self, t: np.ndarray | float) -> np.ndarray:
        """Greenwich mean sidereal angle at ``t`` seconds after the epoch."""
        whole, fraction = self.jd
        return gmst_from_jd(whole, fraction + np.asarray(t, dtype=float) / SECONDS_PER_DAY)

    def at(self, t: float) -> datetime:
        """The aware UTC datetime ``t`` seconds after the epoch."""
        return self.utc + timedelta(seconds=float(t))

    def seconds_to(self, moment: datetime) -> float:
        """Seconds from the epoch to an aware datetime."""
        return (parse_utc(moment, "time") - self.utc).total_seconds()


def ecef_from_eci(positions: np.ndarray, gmst: np.ndarray) -> np.ndarray:
    """Rotate ECI/TEME positions (..., 3) into the Earth-fixed frame by the sidereal angle.

    ``gmst`` broadcasts against ``positions[..., 0]``. Polar motion is ignored (~10 m).
    """
    c, s = np.cos(gmst), np.sin(gmst)
    x, y, z = positions[..., 0], positions[..., 1], positions[..., 2]
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)

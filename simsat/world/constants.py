"""Physical constants used by the world model (km, s, rad)."""

from __future__ import annotations

import math

EARTH_RADIUS_KM: float = 6378.137
"""WGS-84 equatorial radius; the world model treats the Earth as a sphere of this radius."""

EARTH_MU_KM3_S2: float = 398600.4418
"""Earth's standard gravitational parameter (GM)."""

EARTH_ROTATION_RAD_S: float = 7.2921159e-5
"""Earth's sidereal rotation rate."""

SUN_OBLIQUITY_DEG: float = 23.44
"""Obliquity of the ecliptic."""

SECONDS_PER_DAY: float = 86400.0
DAYS_PER_YEAR: float = 365.2422
"""Tropical year in days."""

DEG: float = math.pi / 180.0
"""Radians per degree."""

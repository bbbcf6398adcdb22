"""Physical constants used by the world model (km, s, rad)."""

from __future__ import annotations

import math

EARTH_RADIUS_KM: float = 6378.137
"""WGS-84 equatorial radius (also the Earth's radius in the shadow model)."""

WGS84_FLATTENING: float = 1.0 / 298.257223563
"""WGS-84 flattening of the reference ellipsoid."""

EARTH_MU_KM3_S2: float = 398600.4418
"""Earth's standard gravitational parameter (GM)."""

EARTH_J2: float = 1.08262668e-3
"""Earth's second zonal harmonic (oblateness)."""

EARTH_ROTATION_RAD_S: float = 7.2921159e-5
"""Earth's sidereal rotation rate."""

SUN_RADIUS_KM: float = 695_700.0
"""Nominal solar radius (IAU 2015 resolution B3)."""

SOLAR_CONSTANT_W_M2: float = 1361.0
"""Total solar irradiance at 1 AU (IAU 2015 resolution B3 nominal value)."""

AU_KM: float = 149_597_870.7
"""Astronomical unit."""

SECONDS_PER_DAY: float = 86400.0
DAYS_PER_YEAR: float = 365.2422
"""Tropical year in days."""

DEG: float = math.pi / 180.0
"""Radians per degree."""

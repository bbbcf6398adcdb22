"""Ground stations on the WGS-84 ellipsoid, and their view of satellites."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.constants import DEG, EARTH_RADIUS_KM, WGS84_FLATTENING

_E2 = WGS84_FLATTENING * (2.0 - WGS84_FLATTENING)


@dataclass(frozen=True)
class Station:
    """A ground station: geodetic latitude/longitude (degrees), height above the ellipsoid (km),
    elevation mask (degrees) and number of antennas."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_km: float = 0.0
    min_elevation_deg: float = 10.0
    antennas: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"station name must be a non-empty string, got {self.name!r}")
        key = f"station[{self.name}]"
        v.in_range(f"{key}.latitude_deg", self.latitude_deg, -90.0, 90.0)
        v.in_range(f"{key}.longitude_deg", self.longitude_deg, -180.0, 360.0)
        v.in_range(f"{key}.altitude_km", self.altitude_km, -0.5, 10.0)
        mask = v.number(f"{key}.min_elevation_deg", self.min_elevation_deg)
        if not 0.0 <= mask < 90.0:
            raise ConfigError(f"{key}.min_elevation_deg must be in [0, 90), got {mask}")
        if v.integer(f"{key}.antennas", self.antennas) < 1:
            raise ConfigError(f"{key}.antennas must be >= 1, got {self.antennas}")

    @property
    def ecef_km(self) -> np.ndarray:
        """Earth-fixed position (3,) in km."""
        lat, lon = self.latitude_deg * DEG, self.longitude_deg * DEG
        h = self.altitude_km
        n = EARTH_RADIUS_KM / math.sqrt(1.0 - _E2 * math.sin(lat) ** 2)
        return np.array(
            [
                (n + h) * math.cos(lat) * math.cos(lon),
                (n + h) * math.cos(lat) * math.sin(lon),
                (n * (1.0 - _E2) + h) * math.sin(lat),
            ]
        )

    @property
    def up(self) -> np.ndarray:
        """Unit vector (3,) along the ellipsoid normal (the local vertical)."""
        lat, lon = self.latitude_deg * DEG, self.longitude_deg * DEG
        return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])

    def elevation_deg(self, sat_ecef: np.ndarray) -> np.ndarray:
        """Elevation above the local horizontal of Earth-fixed satellite positions (..., 3)."""
        return np.degrees(np.arcsin(np.clip(sin_elevation(sat_ecef, self.ecef_km, self.up), -1.0, 1.0)))

    def slant_range_km(self, sat_ecef: np.ndarray) -> np.ndarray:
        """Distance (...) in km from the station to Earth-fixed satellite positions (..., 3)."""
        return np.linalg.norm(np.asarray(sat_ecef, dtype=float) - self.ecef_km, axis=-1)


def sin_elevation(sat_ecef: np.ndarray, station_ecef: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Sine of the elevation of ``sat_ecef`` (..., 3) seen from a station (broadcasting)."""
    rho = np.asarray(sat_ecef, dtype=float) - station_ecef
    return np.sum(rho * up, axis=-1) / np.linalg.norm(rho, axis=-1)

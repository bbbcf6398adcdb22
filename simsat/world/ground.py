"""Ground stations on a rotating spherical Earth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.constants import DEG, EARTH_RADIUS_KM, EARTH_ROTATION_RAD_S


def gmst_rad(t: np.ndarray | float, gmst0_rad: float = 0.0) -> np.ndarray:
    """Greenwich sidereal angle at ``t`` seconds from epoch: rotation_rate * t + gmst0."""
    return EARTH_ROTATION_RAD_S * np.asarray(t, dtype=float) + gmst0_rad


@dataclass(frozen=True)
class GroundStation:
    """A ground station: geodetic position (spherical Earth), elevation mask and antenna count."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_km: float = 0.0
    min_elevation_deg: float = 10.0
    antennas: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"ground station name must be a non-empty string, got {self.name!r}")
        key = f"ground_station[{self.name}]"
        v.in_range(f"{key}.latitude_deg", self.latitude_deg, -90.0, 90.0)
        v.in_range(f"{key}.longitude_deg", self.longitude_deg, -180.0, 360.0)
        v.number(f"{key}.altitude_km", self.altitude_km)
        if self.altitude_km < -0.5:
            raise ConfigError(f"{key}.altitude_km must be >= -0.5, got {self.altitude_km}")
        v.in_range(f"{key}.min_elevation_deg", self.min_elevation_deg, 0.0, 90.0)
        if v.integer(f"{key}.antennas", self.antennas) < 1:
            raise ConfigError(f"{key}.antennas must be >= 1, got {self.antennas}")

    def position_eci(self, t: np.ndarray | float, gmst0_rad: float = 0.0) -> np.ndarray:
        """ECI positions (N, 3) in km at times ``t``."""
        theta = np.atleast_1d(gmst_rad(t, gmst0_rad)) + self.longitude_deg * DEG
        lat = self.latitude_deg * DEG
        radius = EARTH_RADIUS_KM + self.altitude_km
        return radius * np.stack(
            [np.cos(lat) * np.cos(theta), np.cos(lat) * np.sin(theta), np.full(theta.shape, np.sin(lat))],
            axis=-1,
        )

    def elevation_deg(
        self, sat_eci: np.ndarray, t: np.ndarray | float, gmst0_rad: float = 0.0
    ) -> np.ndarray:
        """Elevation (N,) in degrees of satellite positions ``sat_eci`` (N, 3) seen at times ``t``."""
        station = self.position_eci(t, gmst0_rad)
        return _elevation_deg(np.asarray(sat_eci, dtype=float), station)

    def slant_range_km(
        self, sat_eci: np.ndarray, t: np.ndarray | float, gmst0_rad: float = 0.0
    ) -> np.ndarray:
        """Distance (N,) in km from the station to satellite positions ``sat_eci``."""
        rho = np.asarray(sat_eci, dtype=float) - self.position_eci(t, gmst0_rad)
        return np.linalg.norm(rho, axis=-1)


def _elevation_deg(sat: np.ndarray, station: np.ndarray) -> np.ndarray:
    """Elevation of ``sat`` above the local horizontal at ``station`` (broadcasting over leading axes)."""
    rho = sat - station
    up = station / np.linalg.norm(station, axis=-1, keepdims=True)
    sin_el = np.sum(rho * up, axis=-1) / np.linalg.norm(rho, axis=-1)
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))

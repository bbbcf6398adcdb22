"""Solar input: the share of a satellite's peak panel power available at each moment.

The peak is ``panel_area_m2 * efficiency * 1361 W/m^2`` (one panel face square to the Sun at
1 AU). The share is the illuminated fraction of the solar disc (umbra 0, penumbra in between)
times the panels' incidence for the attitude mode:

- ``sun_pointing``: panels track the Sun (incidence 1).
- ``nadir_zenith``: nadir-pointing bus with one panel facing zenith: max(0, cos(zenith-Sun angle)).
- ``nadir_body``: nadir-pointing bus with body-mounted panels of that area on the zenith face and
  the four side faces (+/- velocity, +/- orbit normal): the sum of max(0, cos) over the five faces.
"""

from __future__ import annotations

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.constants import SOLAR_CONSTANT_W_M2
from simsat.world.sun import Sunlight, sun_direction_eci

ATTITUDES = ("sun_pointing", "nadir_zenith", "nadir_body")


def panel_peak_w(area_m2: float, efficiency: float) -> float:
    """Electrical power of ``area_m2`` of cells of ``efficiency`` square to the Sun at 1 AU."""
    area = v.positive("area_m2", area_m2)
    eff = v.number("efficiency", efficiency)
    if not 0.0 < eff <= 1.0:
        raise ConfigError(f"efficiency must be in (0, 1], got {eff}", "efficiency")
    return area * eff * SOLAR_CONSTANT_W_M2


def incidence(attitude: str, position: np.ndarray, velocity: np.ndarray, sun_dir: np.ndarray) -> np.ndarray:
    """Panel incidence factor (N,) for positions/velocities (N, 3) and Sun unit vectors (N, 3)."""
    if attitude == "sun_pointing":
        return np.ones(position.shape[0])
    zenith = position / np.linalg.norm(position, axis=-1, keepdims=True)
    up = np.sum(zenith * sun_dir, axis=-1)
    if attitude == "nadir_zenith":
        return np.maximum(up, 0.0)
    if attitude == "nadir_body":
        normal = np.cross(position, velocity)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        along = np.cross(normal, zenith)
        side_a = np.abs(np.sum(along * sun_dir, axis=-1))  # one of +/- velocity faces is lit
        side_n = np.abs(np.sum(normal * sun_dir, axis=-1))
        return np.maximum(up, 0.0) + side_a + side_n
    raise ConfigError(f"attitude must be one of {ATTITUDES}, got {attitude!r}", "attitude")


class SolarInput:
    """Callable ``t -> share of peak solar power`` for :class:`simsat.world.power.Battery`."""

    def __init__(self, sunlight: Sunlight, attitude: str = "sun_pointing") -> None:
        if attitude not in ATTITUDES:
            raise ConfigError(f"attitude must be one of {ATTITUDES}, got {attitude!r}", "attitude")
        self.sunlight = sunlight
        self.attitude = attitude

    def __call__(self, t: float) -> float:
        lit = self.sunlight(t)
        if lit <= 0.0 or self.attitude == "sun_pointing":
            return lit
        sats, idx, epoch = self.sunlight.satellites, self.sunlight.index, self.sunlight.epoch
        times = np.array([t - 0.5, t, t + 0.5])
        p = sats.eci_at(epoch, np.full(3, idx), times)
        factor = incidence(self.attitude, p[1:2], (p[2] - p[0])[None, :], sun_direction_eci(epoch, t))
        return lit * float(factor[0])

"""Link budgets: the data rate a link supports at a given slant range and elevation.

    C/N0 [dB-Hz] = EIRP + G/T - FSPL(range, frequency) - atmospheric - pointing - other losses + 228.6
    supported rate = C/N0 - (required Eb/N0 + margin)          (as 10 log10 of bit/s)

Free-space path loss is 20 log10(4 pi d f / c) (ITU-R P.525); 228.6 is -10 log10 of Boltzmann's
constant. The atmospheric loss is its zenith value over sin(elevation) (a flat-layer model of
ITU-R P.676, floored at 5 degrees elevation). The modem then picks the highest of its rate
steps that the supported rate allows (none: no link), or, without steps, the supported rate up
to ``max_rate_bps``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simsat.errors import ConfigError
from simsat.world import _validate as v

SPEED_OF_LIGHT_M_S = 299_792_458.0
BOLTZMANN_DBW_PER_K_HZ = -228.6


def free_space_loss_db(range_km: np.ndarray | float, frequency_hz: float) -> np.ndarray:
    """Free-space path loss in dB at a distance in km."""
    d = np.asarray(range_km, dtype=float) * 1000.0
    return 20.0 * np.log10(4.0 * math.pi * d * frequency_hz / SPEED_OF_LIGHT_M_S)


@dataclass(frozen=True)
class LinkBudget:
    """One direction of a link (all gains and losses in dB, G/T in dB/K, EIRP in dBW)."""

    name: str
    frequency_hz: float
    eirp_dbw: float
    gt_dbk: float
    required_ebn0_db: float
    margin_db: float = 3.0
    atmospheric_zenith_db: float = 0.1
    pointing_loss_db: float = 1.0
    other_losses_db: float = 0.0
    rate_steps_bps: tuple[float, ...] = field(default_factory=tuple)
    max_rate_bps: float = math.inf
    source: str = ""

    def __post_init__(self) -> None:
        key = f"LinkBudget[{self.name}]"
        v.positive(f"{key}.frequency_hz", self.frequency_hz)
        for attr in ("eirp_dbw", "gt_dbk", "required_ebn0_db", "margin_db"):
            v.number(f"{key}.{attr}", getattr(self, attr))
        for attr in ("atmospheric_zenith_db", "pointing_loss_db", "other_losses_db"):
            v.non_negative(f"{key}.{attr}", getattr(self, attr))
        steps = tuple(float(s) for s in self.rate_steps_bps)
        if any(s <= 0 or not math.isfinite(s) for s in steps) or list(steps) != sorted(set(steps)):
            raise ConfigError(
                f"{key}.rate_steps_bps must be increasing positive rates, got {self.rate_steps_bps!r}",
                f"{key}.rate_steps_bps",
            )
        object.__setattr__(self, "rate_steps_bps", steps)
        if not self.max_rate_bps > 0:
            raise ConfigError(f"{key}.max_rate_bps must be > 0, got {self.max_rate_bps}", f"{key}.max_rate_bps")

    def cn0_dbhz(self, range_km: np.ndarray | float, elevation_deg: np.ndarray | float) -> np.ndarray:
        """Carrier-to-noise-density ratio at the receiver."""
        el = np.maximum(np.asarray(elevation_deg, dtype=float), 5.0)
        atmosphere = self.atmospheric_zenith_db / np.sin(np.radians(el))
        losses = (
            free_space_loss_db(range_km, self.frequency_hz) + atmosphere + self.pointing_loss_db + self.other_losses_db
        )
        return self.eirp_dbw + self.gt_dbk - losses - BOLTZMANN_DBW_PER_K_HZ

    def supported_bps(self, range_km: np.ndarray | float, elevation_deg: np.ndarray | float) -> np.ndarray:
        """Highest bit rate whose Eb/N0 meets the requirement plus margin (before rate steps)."""
        excess = self.cn0_dbhz(range_km, elevation_deg) - self.required_ebn0_db - self.margin_db
        return 10.0 ** (excess / 10.0)

    def rate_bps(self, range_km: np.ndarray | float, elevation_deg: np.ndarray | float) -> np.ndarray:
        """The rate the modem runs at: the highest step the link supports, or the capped rate."""
        supported = np.atleast_1d(self.supported_bps(range_km, elevation_deg))
        if not self.rate_steps_bps:
            return np.minimum(supported, self.max_rate_bps)
        steps = np.array(self.rate_steps_bps)
        idx = np.searchsorted(steps, supported, side="right") - 1
        rate = np.where(idx >= 0, steps[np.clip(idx, 0, steps.size - 1)], 0.0)
        return np.minimum(rate, self.max_rate_bps)


_CODING = (
    "required Eb/N0 4.4 dB: rate-1/2 convolutional code (k=7) with QPSK at a bit error rate of 1e-5 "
    "(CCSDS 130.1-G, TM Synchronization and Channel Coding, Summary of Concept and Rationale)"
)

PRESETS: dict[str, LinkBudget] = {
    "sband_downlink": LinkBudget(
        name="sband_downlink",
        frequency_hz=2.245e9,
        eirp_dbw=4.0,  # 1 W transmitter (0 dBW), 5 dBi patch, 1 dB line loss
        gt_dbk=5.0,  # ~1.5 m dish (27 dBi at 2.2 GHz) with a ~250 K system (24 dBK) less feed losses
        required_ebn0_db=4.4,
        margin_db=3.0,
        atmospheric_zenith_db=0.05,
        pointing_loss_db=1.0,
        rate_steps_bps=(125e3, 250e3, 500e3, 1e6, 2e6, 4e6),
        source="representative CubeSat S-band downlink; rate steps up to 4 Mbit/s; " + _CODING,
    ),
    "sband_uplink": LinkBudget(
        name="sband_uplink",
        frequency_hz=2.05e9,
        eirp_dbw=40.0,  # 10 W (10 dBW) into a ~2.4 m dish (31 dBi), 1 dB loss
        gt_dbk=-23.0,  # 5 dBi patch with a ~600 K system (28 dBK)
        required_ebn0_db=4.4,
        margin_db=3.0,
        atmospheric_zenith_db=0.05,
        pointing_loss_db=1.0,
        rate_steps_bps=(9.6e3, 19.2e3, 38.4e3, 64e3, 128e3, 256e3),
        source="representative S-band telecommand uplink, 9.6 to 256 kbit/s; " + _CODING,
    ),
    "xband_downlink": LinkBudget(
        name="xband_downlink",
        frequency_hz=8.2e9,
        eirp_dbw=14.0,  # 2 W (3 dBW), 12 dBi patch array, 1 dB loss
        gt_dbk=13.0,  # ~1 m dish (36 dBi at 8.2 GHz) with a ~200 K system (23 dBK)
        required_ebn0_db=4.4,
        margin_db=3.0,
        atmospheric_zenith_db=0.1,
        pointing_loss_db=1.0,
        rate_steps_bps=(5e6, 10e6, 25e6, 50e6),
        source="representative CubeSat X-band downlink, 5 to 50 Mbit/s; " + _CODING,
    ),
}


def link_preset(name: str, key: str = "preset") -> LinkBudget:
    """A built-in link budget by name; ConfigError naming ``key`` for an unknown one."""
    if name not in PRESETS:
        raise ConfigError(f"{key} must be one of {sorted(PRESETS)}, got {name!r}", key)
    return PRESETS[name]

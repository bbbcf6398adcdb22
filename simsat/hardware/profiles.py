"""Satellite computer hardware profiles: effective compute rate, power and memory."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

from simsat.errors import ConfigError

NUMERIC_FIELDS = ("flops_per_s", "idle_w", "busy_w", "memory_mb", "radio_tx_w", "radio_rx_w")
"""Fields that must be finite numbers > 0."""


@dataclass(frozen=True)
class HardwareProfile:
    """An onboard computer (plus its radio) as seen by the simulator.

    ``flops_per_s`` is the *effective* rate for small-batch CNN training, not the
    datasheet peak; ``busy_w`` is board power while computing, ``idle_w`` while idle.
    """

    name: str
    description: str
    flops_per_s: float
    idle_w: float
    busy_w: float
    memory_mb: float
    radio_tx_w: float
    radio_rx_w: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"hardware profile name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.description, str):
            raise ConfigError(f"hardware profile {self.name!r}: description must be a string")
        for key in NUMERIC_FIELDS:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"hardware profile {self.name!r}: {key} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"hardware profile {self.name!r}: {key} must be > 0, got {value!r}")
        if self.busy_w < self.idle_w:
            raise ConfigError(
                f"hardware profile {self.name!r}: busy_w ({self.busy_w}) must be >= idle_w ({self.idle_w})"
            )

    def compute_seconds(self, flops: float) -> float:
        """Seconds to execute ``flops`` floating-point operations."""
        if flops < 0:
            raise ConfigError(f"hardware profile {self.name!r}: flops must be >= 0, got {flops}")
        return float(flops) / float(self.flops_per_s)

    def compute_energy_wh(self, flops: float) -> float:
        """Board energy (at ``busy_w``) to execute ``flops`` operations, in watt-hours."""
        return self.busy_w * self.compute_seconds(flops) / 3600.0

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping of all fields (the format :func:`profile_from_mapping` reads)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def profile_from_mapping(data: object, where: str) -> HardwareProfile:
    """Build a profile from a mapping such as a parsed YAML/JSON entry.

    Numbers may be strings like ``"1.5e10"`` (YAML 1.1 reads those as text);
    ``description`` is optional. ``where`` names the source in error messages.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: a hardware profile must be a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(HardwareProfile)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    missing = [k for k in ("name", *NUMERIC_FIELDS) if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing key {missing[0]!r}")
    values: dict[str, Any] = {"name": data["name"], "description": data.get("description", "")}
    for key in NUMERIC_FIELDS:
        raw = data[key]
        if isinstance(raw, str):
            try:
                raw = float(raw)
            except ValueError:
                raise ConfigError(f"{where}: {key} must be a number, got {data[key]!r}") from None
        values[key] = raw
    try:
        return HardwareProfile(**values)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None

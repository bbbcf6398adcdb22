"""Satellite computer hardware profiles: effective compute rate, power and memory."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from simsat.errors import ConfigError

NUMERIC_FIELDS = ("flops_per_s", "idle_w", "busy_w", "memory_mb", "radio_tx_w", "radio_rx_w")
"""Fields that must be finite numbers > 0."""

OPTIONAL_NUMERIC_FIELDS = ("inference_flops_per_s",)
"""Fields that may be absent (None) and otherwise must be finite numbers > 0."""

BYTES_PER_MB = 1024 * 1024
"""``memory_mb`` counts mebibytes (2**20 bytes), as board datasheets do."""


def _check_number(profile: str, key: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"hardware profile {profile!r}: {key} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"hardware profile {profile!r}: {key} must be > 0, got {value!r}")


@dataclass(frozen=True)
class HardwareProfile:
    """An onboard computer (plus its radio) as seen by the simulator.

    ``flops_per_s`` is the *effective* rate for small-batch CNN training, not the datasheet
    peak; ``inference_flops_per_s`` the effective rate of a forward pass (the training rate
    when not given); ``busy_w`` is board power while computing, ``idle_w`` while idle.
    ``sources`` says where each number comes from (field name -> text); ``description``
    says what the board is.
    """

    name: str
    description: str
    flops_per_s: float
    idle_w: float
    busy_w: float
    memory_mb: float
    radio_tx_w: float
    radio_rx_w: float
    inference_flops_per_s: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"hardware profile name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.description, str):
            raise ConfigError(f"hardware profile {self.name!r}: description must be a string")
        for key in NUMERIC_FIELDS:
            _check_number(self.name, key, getattr(self, key))
        for key in OPTIONAL_NUMERIC_FIELDS:
            if getattr(self, key) is not None:
                _check_number(self.name, key, getattr(self, key))
        if self.busy_w < self.idle_w:
            raise ConfigError(
                f"hardware profile {self.name!r}: busy_w ({self.busy_w}) must be >= idle_w ({self.idle_w})"
            )
        if not isinstance(self.sources, Mapping):
            raise ConfigError(f"hardware profile {self.name!r}: sources must be a mapping of field name to text")
        known = {f.name for f in fields(self)} - {"sources"}
        for key, text in self.sources.items():
            if key not in known:
                raise ConfigError(
                    f"hardware profile {self.name!r}: sources names unknown field {key!r}"
                    f" (known: {', '.join(sorted(known))})"
                )
            if not isinstance(text, str):
                raise ConfigError(f"hardware profile {self.name!r}: sources.{key} must be text, got {text!r}")
        object.__setattr__(self, "sources", dict(self.sources))

    @property
    def memory_bytes(self) -> int:
        """Board memory in bytes."""
        return int(self.memory_mb * BYTES_PER_MB)

    @property
    def effective_inference_flops_per_s(self) -> float:
        """The inference rate, or the training rate where the profile gives none."""
        return float(self.inference_flops_per_s or self.flops_per_s)

    def compute_seconds(self, flops: float) -> float:
        """Seconds to execute ``flops`` training floating-point operations."""
        if flops < 0:
            raise ConfigError(f"hardware profile {self.name!r}: flops must be >= 0, got {flops}")
        return float(flops) / float(self.flops_per_s)

    def compute_energy_wh(self, flops: float) -> float:
        """Board energy (at ``busy_w``) to execute ``flops`` training operations, in watt-hours."""
        return self.busy_w * self.compute_seconds(flops) / 3600.0

    def inference_seconds(self, flops: float) -> float:
        """Seconds of forward passes worth ``flops`` operations."""
        if flops < 0:
            raise ConfigError(f"hardware profile {self.name!r}: flops must be >= 0, got {flops}")
        return float(flops) / self.effective_inference_flops_per_s

    def inference_energy_j(self, flops: float) -> float:
        """Board energy (at ``busy_w``) of forward passes worth ``flops`` operations, in joules."""
        return self.busy_w * self.inference_seconds(flops)

    def source(self, key: str) -> str:
        """Where the value of field ``key`` comes from ('' when the profile does not say)."""
        return self.sources.get(key, "")

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping of the fields (the format :func:`profile_from_mapping` reads).

        Optional fields appear only when set.
        """
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.inference_flops_per_s is None:
            del data["inference_flops_per_s"]
        if self.sources:
            data["sources"] = dict(self.sources)
        else:
            del data["sources"]
        return data


def _number(where: str, key: str, raw: object) -> object:
    """YAML 1.1 reads ``1.5e10`` as text: accept numbers written as strings."""
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{where}: {key} must be a number, got {raw!r}") from None
    return raw


def profile_from_mapping(data: object, where: str) -> HardwareProfile:
    """Build a profile from a mapping such as a parsed YAML/JSON entry.

    Numbers may be strings like ``"1.5e10"`` (YAML 1.1 reads those as text);
    ``description``, ``inference_flops_per_s`` and ``sources`` are optional. ``where``
    names the source in error messages.
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
        values[key] = _number(where, key, data[key])
    for key in OPTIONAL_NUMERIC_FIELDS:
        if data.get(key) is not None:
            values[key] = _number(where, key, data[key])
    sources = data.get("sources")
    if sources is not None:
        if not isinstance(sources, Mapping):
            raise ConfigError(f"{where}: sources must be a mapping of field name to text")
        values["sources"] = {str(k): v for k, v in sources.items()}
    try:
        return HardwareProfile(**values)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None

"""Hardware profiles of satellite computers, their registry and per-satellite assignment.

Torch-free; the measurement behind ``simsat hardware calibrate`` lives in
:mod:`simsat.hardware.calibrate`.
"""

from __future__ import annotations

from simsat.hardware.builtin import builtin_profiles
from simsat.hardware.energy import InferenceEnergy, energy_per_inference_j, onboard_inference_energy
from simsat.hardware.fleet import assign_fleet, fleet_names, fleet_summary, memory_shortfall
from simsat.hardware.profiles import HardwareProfile, profile_from_mapping
from simsat.hardware.registry import ENTRY_POINT_GROUP, HardwareRegistry, default_registry, read_profile_file

__all__ = [
    "ENTRY_POINT_GROUP",
    "HardwareProfile",
    "HardwareRegistry",
    "InferenceEnergy",
    "assign_fleet",
    "builtin_profiles",
    "default_registry",
    "energy_per_inference_j",
    "fleet_names",
    "fleet_summary",
    "memory_shortfall",
    "onboard_inference_energy",
    "profile_from_mapping",
    "read_profile_file",
]

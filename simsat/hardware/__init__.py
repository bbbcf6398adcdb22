"""Hardware profiles of satellite computers and their registry."""

from __future__ import annotations

from simsat.hardware.builtin import builtin_profiles
from simsat.hardware.profiles import HardwareProfile, profile_from_mapping
from simsat.hardware.registry import HardwareRegistry, default_registry, read_profile_file

__all__ = [
    "HardwareProfile",
    "HardwareRegistry",
    "builtin_profiles",
    "default_registry",
    "profile_from_mapping",
    "read_profile_file",
]

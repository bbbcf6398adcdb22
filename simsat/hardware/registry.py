"""Registry of hardware profiles: built-ins, profile files and Python entry points."""

from __future__ import annotations

import json
import logging
from importlib import metadata
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from simsat.errors import ConfigError
from simsat.hardware.builtin import builtin_profiles
from simsat.hardware.profiles import HardwareProfile, profile_from_mapping

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "simsat.hardware"

__all__ = ["ENTRY_POINT_GROUP", "HardwareRegistry", "builtin_profiles", "default_registry"]


class HardwareRegistry:
    """Named hardware profiles; names are unique unless a registration overwrites."""

    def __init__(self, profiles: Mapping[str, HardwareProfile] | Iterable[HardwareProfile] = ()) -> None:
        self._profiles: dict[str, HardwareProfile] = {}
        items = profiles.values() if isinstance(profiles, Mapping) else profiles
        for profile in items:
            self.register(profile)

    def __contains__(self, name: object) -> bool:
        return name in self._profiles

    def __len__(self) -> int:
        return len(self._profiles)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._profiles)

    def profiles(self) -> list[HardwareProfile]:
        """Registered profiles sorted by name."""
        return [self._profiles[n] for n in self.names()]

    def get(self, name: str) -> HardwareProfile:
        """The profile called ``name``; ConfigError listing the known names otherwise."""
        try:
            return self._profiles[name]
        except (KeyError, TypeError):
            raise ConfigError(
                f"unknown hardware profile {name!r}; known: {', '.join(self.names()) or '(none)'}"
            ) from None

    def register(self, profile: HardwareProfile, overwrite: bool = False) -> None:
        """Add ``profile``; a name already present is an error unless ``overwrite``."""
        if not isinstance(profile, HardwareProfile):
            raise ConfigError(f"expected a HardwareProfile, got {type(profile).__name__}")
        if profile.name in self._profiles and not overwrite:
            raise ConfigError(f"hardware profile {profile.name!r} is already registered")
        self._profiles[profile.name] = profile

    def load_file(self, path: str | Path, overwrite: bool = False) -> list[HardwareProfile]:
        """Register the profiles in a YAML or JSON file and return them.

        The file holds one profile mapping, a list of them, or ``{profiles: [...]}``.
        Every entry is validated before any is registered.
        """
        profiles = read_profile_file(path)
        for profile in profiles:
            if profile.name in self._profiles and not overwrite:
                raise ConfigError(f"{path}: hardware profile {profile.name!r} is already registered")
        for profile in profiles:
            self.register(profile, overwrite=True)
        log.debug("loaded %d hardware profiles from %s", len(profiles), path)
        return profiles

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP, overwrite: bool = False) -> list[str]:
        """Register profiles from installed entry points of ``group``; returns their names.

        Each entry point refers to a HardwareProfile, a list of them, or a callable
        returning either.
        """
        names: list[str] = []
        for entry in metadata.entry_points(group=group):
            where = f"hardware entry point {entry.name!r} ({entry.value})"
            try:
                obj = entry.load()
                if callable(obj) and not isinstance(obj, HardwareProfile):
                    obj = obj()
            except ConfigError as err:
                raise ConfigError(f"{where}: {err}") from None
            except Exception as err:  # third-party code: report which plugin broke
                raise ConfigError(f"{where} failed to load: {type(err).__name__}: {err}") from None
            items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
            for item in items:
                if not isinstance(item, HardwareProfile):
                    raise ConfigError(f"{where} must give HardwareProfile objects, got {type(item).__name__}")
                if item.name in self._profiles and not overwrite:
                    raise ConfigError(f"{where}: hardware profile {item.name!r} is already registered")
                self.register(item, overwrite=True)
                names.append(item.name)
        return names


def read_profile_file(path: str | Path) -> list[HardwareProfile]:
    """Parse and validate the profiles in a YAML (.yaml/.yml) or JSON (.json) file."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"hardware profile file {file} must end in .yaml, .yml or .json")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"hardware profile file {file} not found") from None
    except OSError as err:
        raise ConfigError(f"hardware profile file {file} cannot be read: {err.strerror}") from None
    try:
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"hardware profile file {file} is not valid {suffix[1:].upper()}: {first}") from None
    if isinstance(data, Mapping) and "profiles" in data and len(data) == 1:
        data = data["profiles"]
        label = "profiles"
    else:
        label = ""
    if isinstance(data, Mapping):
        return [profile_from_mapping(data, str(file))]
    if not isinstance(data, list) or not data:
        raise ConfigError(f"hardware profile file {file} must hold a profile mapping or a non-empty list of them")
    profiles = [profile_from_mapping(item, f"{file}: {label}[{i}]") for i, item in enumerate(data)]
    seen: set[str] = set()
    for profile in profiles:
        if profile.name in seen:
            raise ConfigError(f"hardware profile file {file}: name {profile.name!r} appears twice")
        seen.add(profile.name)
    return profiles


def default_registry(files: Iterable[str | Path] = ()) -> HardwareRegistry:
    """A new registry with the built-ins, installed entry points, then ``files`` (in order)."""
    registry = HardwareRegistry(builtin_profiles())
    registry.load_entry_points()
    for path in files:
        registry.load_file(path)
    return registry

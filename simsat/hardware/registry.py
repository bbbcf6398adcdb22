"""Registry of hardware profiles: built-ins, profile files and folders, Python entry points."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import yaml

from simsat.errors import ConfigError
from simsat.hardware.builtin import builtin_profiles
from simsat.hardware.profiles import HardwareProfile, profile_from_mapping

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "simsat.hardware"
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")
BUILTIN_ORIGIN = "built-in (simsat.hardware.builtin)"

__all__ = [
    "BUILTIN_ORIGIN",
    "ENTRY_POINT_GROUP",
    "HardwareRegistry",
    "builtin_profiles",
    "default_registry",
    "read_profile_file",
]

Factory = TypeVar("Factory", bound=Callable[[], object])


def _as_profiles(obj: object, where: str) -> list[HardwareProfile]:
    """A profile, a list/tuple of them, or a callable returning either, as a list."""
    if callable(obj) and not isinstance(obj, HardwareProfile):
        obj = obj()
    profiles: list[HardwareProfile] = []
    for item in list(obj) if isinstance(obj, (list, tuple)) else [obj]:
        if not isinstance(item, HardwareProfile):
            raise ConfigError(f"{where} must give HardwareProfile objects, got {type(item).__name__}")
        profiles.append(item)
    return profiles


class HardwareRegistry:
    """Named hardware profiles and where each came from; names are unique unless a
    registration overwrites."""

    def __init__(
        self,
        profiles: Mapping[str, HardwareProfile] | Iterable[HardwareProfile] = (),
        origin: str = "registered in code",
    ) -> None:
        self._profiles: dict[str, HardwareProfile] = {}
        self._origins: dict[str, str] = {}
        self._files: set[Path] = set()
        items = profiles.values() if isinstance(profiles, Mapping) else profiles
        for profile in items:
            self.register(profile, origin=origin)

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

    def origin(self, name: str) -> str:
        """Where the profile ``name`` was registered from (built-in, a file, an entry point, code)."""
        self.get(name)
        return self._origins[name]

    def _check_free(self, name: str, origin: str) -> None:
        if name in self._profiles:
            raise ConfigError(
                f"hardware profile {name!r} from {origin} is already registered from {self._origins[name]}"
            )

    def register(self, profile: HardwareProfile, overwrite: bool = False, origin: str = "registered in code") -> None:
        """Add ``profile``; a name already present is an error naming both origins unless ``overwrite``."""
        if not isinstance(profile, HardwareProfile):
            raise ConfigError(f"expected a HardwareProfile, got {type(profile).__name__}")
        if not overwrite:
            self._check_free(profile.name, origin)
        self._profiles[profile.name] = profile
        self._origins[profile.name] = origin

    def register_factory(self, factory: Factory) -> Factory:
        """Decorator: register the profile (or list of profiles) that ``factory()`` returns.

        >>> registry = HardwareRegistry()
        >>> @registry.register_factory
        ... def my_board() -> HardwareProfile:
        ...     return HardwareProfile("my_board", "", 1e10, 1.0, 4.0, 2048.0, 3.0, 0.4)
        >>> registry.names()
        ['my_board']
        """
        origin = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', repr(factory))}"
        for profile in _as_profiles(factory, f"hardware factory {origin}"):
            self.register(profile, origin=origin)
        return factory

    def load_file(self, path: str | Path, overwrite: bool = False) -> list[HardwareProfile]:
        """Register the profiles in a YAML or JSON file and return them.

        The file holds one profile mapping, a list of them, or ``{profiles: [...]}``.
        Every entry is validated before any is registered.
        """
        profiles = read_profile_file(path)
        origin = str(path)
        if not overwrite:
            for profile in profiles:
                self._check_free(profile.name, origin)
        for profile in profiles:
            self.register(profile, overwrite=True, origin=origin)
        log.debug("loaded %d hardware profiles from %s", len(profiles), path)
        return profiles

    def load_path(self, path: str | Path) -> list[HardwareProfile]:
        """Register the profiles of a file, or of every .yaml/.yml/.json file in a folder (sorted).

        A file this method already loaded (named twice, or also inside a listed folder) is skipped.
        """
        folder = Path(path)
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PROFILE_SUFFIXES and p.is_file())
            if not files:
                raise ConfigError(f"hardware profile folder {folder} holds no .yaml, .yml or .json file")
        else:
            files = [folder]
        loaded: list[HardwareProfile] = []
        for file in files:
            key = file.resolve()
            if key in self._files:
                continue
            loaded += self.load_file(file)
            self._files.add(key)
        return loaded

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP, overwrite: bool = False) -> list[str]:
        """Register profiles from installed entry points of ``group``; returns their names.

        Each entry point refers to a HardwareProfile, a list of them, or a callable
        returning either.
        """
        names: list[str] = []
        for entry in metadata.entry_points(group=group):
            package = entry.dist.name if entry.dist is not None else "?"
            where = f"hardware entry point {entry.name!r} ({entry.value}) of package {package!r}"
            try:
                items = _as_profiles(entry.load(), where)
            except ConfigError as err:
                raise ConfigError(str(err) if str(err).startswith(where) else f"{where}: {err}") from None
            except Exception as err:  # third-party code: report which plugin broke
                raise ConfigError(f"{where} failed to load: {type(err).__name__}: {err}") from None
            for item in items:
                self.register(item, overwrite=overwrite, origin=where)
                names.append(item.name)
        return names


def read_profile_file(path: str | Path) -> list[HardwareProfile]:
    """Parse and validate the profiles in a YAML (.yaml/.yml) or JSON (.json) file."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in PROFILE_SUFFIXES:
        raise ConfigError(f"hardware profile file {file} must end in .yaml, .yml or .json")
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"hardware profile file {file} not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"hardware profile file {file} is not UTF-8 text") from None
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
    """A new registry with the built-ins, installed entry points, then ``files`` (in order).

    Each item of ``files`` is a profile file or a folder of them (``hardware.files`` in a
    scenario). A name defined twice is an error naming both sources.
    """
    registry = HardwareRegistry(builtin_profiles(), origin=BUILTIN_ORIGIN)
    registry.load_entry_points()
    for path in files:
        registry.load_path(path)
    return registry

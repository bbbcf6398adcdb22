"""Checks of the files and folders a valid config names, run before a run starts and before
anything is written: the output folder, the data (EuroSAT folder, split folder, cache folder)
and teacher checkpoints.

Nothing here creates a folder: an output folder that does not exist yet is checked through its
nearest existing parent. Every error is one ConfigError line naming the key and the file.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from simsat.config.schema import SimsatConfig, TeacherConfig
from simsat.config.validate import check_satellite_images, satellite_count
from simsat.errors import ConfigError

if TYPE_CHECKING:
    from simsat.config.experiment import ExperimentConfig


def _probe_writable(folder: Path) -> bool:
    """True when a file can be created in `folder` (an unnamed temporary file, gone at once)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def check_output_dir(key: str, value: str) -> Path:
    """The folder `value` exists and is writable, or could be created; it is not created here."""
    path = Path(value).expanduser().absolute()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{key}: {value} is a file, not a folder")
        if not _probe_writable(path):
            raise ConfigError(f"{key}: folder {value} is not writable")
        return path
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{key}: cannot create folder {value}: {parent} is a file")
    if not _probe_writable(parent):
        raise ConfigError(f"{key}: cannot create folder {value}: {parent} is not writable")
    return path


def check_checkpoints(key: str, teachers: list[TeacherConfig], num_classes: int) -> None:
    """Each teacher checkpoint is a state_dict that fits its timm model (a classifier with another
    class count is allowed: it is trained afresh)."""
    from simsat.models.teachers import create_teacher

    for i, teacher in enumerate(teachers):
        if not teacher.checkpoint:
            continue
        path = Path(teacher.checkpoint).expanduser()
        try:
            create_teacher(teacher.name, num_classes, teacher.input_size, path)
        except ConfigError as exc:
            raise ConfigError(f"{key}.{i}.checkpoint: {exc}") from None


def _eurosat_classes(prefix: str, path: str) -> tuple[int, int]:
    """The numbers of class folders and images of the EuroSAT folder (a cheap scan, nothing decoded)."""
    from simsat.data.eurosat import relative_paths

    try:
        files = relative_paths(Path(path).expanduser())
        return len({rel.split("/", 1)[0] for rel in files}), len(files)
    except ConfigError as exc:
        raise ConfigError(f"{prefix}path: {exc}") from None


def _verify_eurosat(prefix: str, path: str, cache_dir: str, split_dir: str = "") -> None:
    """Every image decodes and the split files agree with the folder (decoded pixels are cached)."""
    from simsat.data.eurosat import verify_eurosat

    split = Path(split_dir).expanduser() if split_dir else None
    if split is not None and not split.is_dir():
        raise ConfigError(f"{prefix}split_dir: split folder not found: {split_dir}")
    try:
        verify_eurosat(Path(path).expanduser(), Path(cache_dir) / "eurosat", split)
    except ConfigError as exc:
        raise ConfigError(f"{prefix}path: {exc}") from None


RAY_CONNECT_TIMEOUT_S = 5.0


def check_ray_address(address: str, key: str) -> None:
    """The Ray cluster at `address` answers (a TCP connection to its port, a few seconds at most),
    so that a cluster that is down is named before the run's work starts. '' (a local Ray) and
    Ray's own words ('local', 'auto') are not checked."""
    if not address or address in ("local", "auto"):
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{key}={address!r} must be HOST:PORT (e.g. 127.0.0.1:6379) or empty for a local Ray")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=RAY_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{key}={address}: no Ray cluster answers there ({reason}); is it running?") from None


def check_scenario_inputs(config: SimsatConfig) -> None:
    """Output folder, cache folder, data and teacher checkpoints of a validated scenario, and the
    Ray cluster it names (engine flower)."""
    from simsat.data import CLASS_NAMES

    d = config.data
    if config.run.engine == "flower":
        key = "ray.address" if config.ray.address else "RAY_ADDRESS"
        check_ray_address(config.ray.address or os.environ.get("RAY_ADDRESS", ""), key)
    check_output_dir("run.output_dir", config.run.output_dir)
    check_output_dir("data.cache_dir", d.cache_dir)
    eurosat = d.source == "eurosat"
    num_classes = len(CLASS_NAMES)
    if eurosat:
        num_classes, n_images = _eurosat_classes("data.", d.path)
        check_satellite_images(config, satellite_count(config), n_images, f"data.path ({n_images} images)")
    check_checkpoints("distill.teachers", config.distill.teachers, num_classes)
    if eurosat:  # the one expensive check, last
        _verify_eurosat("data.", d.path, d.cache_dir, d.split_dir)


def check_experiment_inputs(cfg: ExperimentConfig) -> None:
    """Output folder, cache folder, data and teacher checkpoints of a validated experiment."""
    from simsat.data import CLASS_NAMES

    d = cfg.data
    check_output_dir("output_dir", cfg.output_dir)
    check_output_dir("data.cache_dir", d.cache_dir)
    eurosat = d.source == "eurosat"
    num_classes = _eurosat_classes("data.", d.path)[0] if eurosat else len(CLASS_NAMES)
    check_checkpoints("teachers", cfg.teachers, num_classes)
    if eurosat:  # the one expensive check, last
        _verify_eurosat("data.", d.path, d.cache_dir, d.split_dir)

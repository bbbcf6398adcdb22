"""`simsat run` and `simsat resume` under Ctrl-C and SIGTERM, and reading a stopped run's config.

A run prints its folder on stderr when it starts. Ctrl-C or SIGTERM stops it within seconds:
Flower and Ray wind down, the folder is kept (state "interrupted"), and one line says how to go
on (``simsat resume PATH``); the exit code is 130 (SIGINT) or 143 (SIGTERM). After a SIGKILL or
a power loss the folder is left as it was; ``simsat resume PATH`` works the same.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from simsat.config.schema import SimsatConfig
from simsat.config.validate import validate_config
from simsat.errors import ConfigError
from simsat.interrupt import Interrupted, StopRequest, stop_on_signals
from simsat.results.folders import resume_command

Play = Callable[[StopRequest, Callable[[Path], None]], Path]


def load_saved_config(path: Path) -> SimsatConfig:
    """The resolved config a run saved (config.yaml), checked as a new run's would be."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable config ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a simsat config")
    try:
        config = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(SimsatConfig), data))
    except OmegaConfBaseException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: {first}") from None
    assert isinstance(config, SimsatConfig)
    try:
        validate_config(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config


def _quiet() -> None:
    """Nothing but our last line once a stop is under way: every logger goes silent, and so does
    stdout, where Ray prints what its workers' ends look like to it."""
    logging.disable(logging.CRITICAL)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)


def play_stoppably(play: Play) -> tuple[int, Path | None]:
    """Run `play(stop, started)` with SIGINT/SIGTERM routed to `stop`; (exit code, folder).

    On a signal the exit code is 128 + the signal's number and stderr gets exactly one line."""
    stop = StopRequest()
    started: list[Path] = []

    def announce(folder: Path) -> None:
        started.append(folder)
        print(f"simsat: run folder {folder} (if stopped: {resume_command(folder)})", file=sys.stderr, flush=True)

    try:
        with stop_on_signals(stop, on_stop=_quiet):
            folder = play(stop, announce)
    except (Interrupted, KeyboardInterrupt) as exc:
        _quiet()
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        where = f"; resume with: {resume_command(started[0])}" if started else ""
        print(f"simsat: interrupted{where}", file=sys.stderr, flush=True)
        if "ray" in sys.modules:
            # Ray is shut down and its processes are gone, every file is written and synced; its
            # C++ threads would hold the interpreter's exit up for 10 s or more.
            sys.stderr.flush()
            os._exit(code)
        return code, None
    return 0, folder

"""What one Ray task of a sweep runs: one scenario, start to finish, in the task's own process."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simsat.config.schema import SimsatConfig

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def one_line(exc: BaseException) -> str:
    """The exception's message on one line, prefixed by its type where the message does not say it."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    from simsat.errors import SimsatError

    if isinstance(exc, SimsatError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def execute_run(config: SimsatConfig, log_file: str, started: Callable[[], None] | None = None) -> dict[str, Any]:
    """Check the run's input files, run it, and return its outcome; never raises for a failed run.

    The outcome: status ("done" or "failed"), error (one line), wall_s, run_folder. The run's
    log goes to `log_file` (with the traceback of a failure).
    """
    if started is not None:
        started()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
    simsat_log = logging.getLogger("simsat")
    simsat_log.addHandler(handler)
    simsat_log.setLevel(logging.INFO)
    start = time.perf_counter()
    try:
        from simsat.config.inputs import check_scenario_inputs

        check_scenario_inputs(config)
        from simsat.runner import run_scenario

        folder = run_scenario(config)
        return {
            "status": "done",
            "error": "",
            "wall_s": round(time.perf_counter() - start, 2),
            "run_folder": str(folder),
        }
    except Exception as exc:
        simsat_log.error("run failed: %s\n%s", one_line(exc), traceback.format_exc())
        return {"status": "failed", "error": one_line(exc), "wall_s": round(time.perf_counter() - start, 2)}
    finally:
        simsat_log.removeHandler(handler)
        handler.close()


def log_path(folder: Path, digest: str) -> Path:
    return folder / "logs" / f"{digest}.log"

"""What one Ray task of a sweep runs: one scenario to its end, in the task's own process (resumed where a
stopped sweep left it)."""

from __future__ import annotations

import json
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
        from simsat.results.folders import MissionFolder, earlier_run
        from simsat.runner import resume_scenario, run_scenario

        earlier = earlier_run(Path(config.run.output_dir))
        resumed = earlier is not None
        if earlier is not None and earlier[1] == "finished":  # finished after its sweep was killed
            simsat_log.info("run folder %s finished before: taken as it is", earlier[0])
            wall_s, resumed = _summary_wall(earlier[0])
            return {"status": "done", "error": "", "wall_s": wall_s, "run_folder": str(earlier[0]), "resumed": resumed}
        if earlier is not None:
            simsat_log.info("run folder %s was stopped: resumed from its journal", earlier[0])
            folder = resume_scenario(config, MissionFolder.open(earlier[0]))
            wall_s = _summary_wall(folder)[0]  # with the time before the stop, where the journal kept it
        else:
            folder = run_scenario(config)
            wall_s = None
        return {
            "status": "done",
            "error": "",
            "wall_s": wall_s if wall_s is not None else round(time.perf_counter() - start, 2),
            "run_folder": str(folder),
            "resumed": resumed,
        }
    except Exception as exc:
        simsat_log.error("run failed: %s\n%s", one_line(exc), traceback.format_exc())
        return {"status": "failed", "error": one_line(exc), "wall_s": round(time.perf_counter() - start, 2)}
    finally:
        simsat_log.removeHandler(handler)
        handler.close()


def _summary_wall(folder: Path) -> tuple[float | None, bool]:
    """A finished run folder's wall seconds (None when its summary.json gives none) and whether
    it was resumed (its wall time then counts the earlier processes only up to their last
    journaled result, or not at all where `seconds_before_resume` is null)."""
    try:
        wall = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["wall"]
        seconds = wall["total_seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, False
    return (float(seconds) if seconds is not None else None), bool(wall.get("replayed_results"))


def log_path(folder: Path, digest: str) -> Path:
    return folder / "logs" / f"{digest}.log"

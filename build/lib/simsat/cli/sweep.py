"""`simsat sweep [scenario=NAME] key=v1,v2 ... [--dry-run] [resume=SWEEP_DIR]`: a grid of runs on Ray.

The grid is Hydra's override syntax (comma lists, range(...), choice(...)), expanded by
simsat.config.grid; every combination is validated before any run starts. The runs go through
simsat.sweep (one Ray task each); the last line printed is the sweep folder.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from simsat.config import checks
from simsat.config.batch import ScenarioBatch
from simsat.config.grid import expand_grid, first_combination
from simsat.config.load import split_selector
from simsat.config.validate import config_warnings
from simsat.errors import ConfigError
from simsat.sweep.driver import SweepResult, SweepState, check_resources, ray_address, run_sweep, sweep_folder
from simsat.sweep.hashing import scenario_hash
from simsat.sweep.plan import SweepPlan, build_plan

if TYPE_CHECKING:
    from simsat.config.schema import SimsatConfig

DEFAULT_SCENARIO = "quickstart"
EXIT_ALL_FAILED = 1
log = logging.getLogger("simsat.sweep")


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _counts(state: SweepState) -> str:
    skipped = f" ({state.skipped} from before)" if state.skipped else ""
    return (
        f"{state.done}/{state.total} done{skipped}, {state.failed} failed, {state.running} running, "
        f"{_minutes(state.seconds_left())} left"
    )


class SweepDisplay:
    """A bar over runs on a terminal; a log line per finished run otherwise."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self.bar = enabled and stream.isatty()
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("runs"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            disable=not self.bar,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> SweepDisplay:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def __call__(self, state: SweepState) -> None:
        if self._task is None:
            self._task = self._progress.add_task("runs", total=state.total, counts="")
        self._progress.update(self._task, completed=state.done + state.failed, counts=_counts(state))
        if self.enabled and not self.bar and state.last is not None:
            last = state.last
            what = "failed: " + last["error"] if last["status"] == "failed" else f"done in {_minutes(last['wall_s'])}"
            log.info("run %d %s; %s", last["run"], what, _counts(state))


class CheckProgress:
    """Progress of the grid's validation, shown once it has taken more than `after_s` seconds:
    a bar on a terminal, else a log line every `every_s` seconds."""

    def __init__(self, stream: TextIO, after_s: float = 1.0, every_s: float = 5.0) -> None:
        self.stream = stream
        self.after_s = after_s
        self.every_s = every_s
        self.start = time.monotonic()
        self._logged = self.start
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> CheckProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < self.after_s:
            return
        if self.stream.isatty():
            if self._bar is None:
                self._bar = Progress(
                    TextColumn("checking runs"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=Console(file=self.stream), transient=True,
                )  # fmt: skip
                self._bar.start()
                self._task = self._bar.add_task("check", total=total)
            assert self._task is not None
            self._bar.update(self._task, completed=done)
        elif now - self._logged >= self.every_s or done == total:
            self._logged = now
            rate = done / max(now - self.start, 1e-9)
            log.info("sweep: %d of %d runs checked (%.0f/s)", done, total, rate)


def resumed_items(items: Sequence[str]) -> tuple[Path | None, list[str]]:
    """`resume=SWEEP_DIR` -> (the folder, the items its sweep.json recorded); else (None, items)."""
    folder, rest = split_selector(items, "resume", "")
    if not folder:
        return None, list(items)
    path = Path(folder).expanduser()
    if rest:
        raise ConfigError(f"resume={folder} takes no other key=value items (the sweep's own are in its sweep.json)")
    record = path / "sweep.json"
    if not record.is_file():
        raise ConfigError(f"resume={folder}: no sweep.json there (not a sweep folder)")
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON (cut short or damaged?)"
        raise ConfigError(f"resume={folder}: {record} cannot be read: {reason}") from None
    recorded = data.get("items") if isinstance(data, dict) else None
    if not isinstance(recorded, list) or not all(isinstance(item, str) for item in recorded):
        raise ConfigError(f"resume={folder}: {record} has no 'items' list of key=value strings (damaged?)")
    return path.absolute(), list(recorded)


def plan_sweep(items: Sequence[str], progress: CheckProgress | None = None) -> SweepPlan:
    """Expand and validate the whole grid; ConfigError (one line naming run and key) if any run is
    invalid or the grid has more than sweep.max_runs runs (refused before anything is validated).

    The scenario is composed once per config-group choice (simsat.config.batch)."""
    batches: dict[str, ScenarioBatch] = {}

    def compose(combination: Sequence[str]) -> tuple[ScenarioBatch, list[str]]:
        scenario, overrides = split_selector(combination, "scenario", DEFAULT_SCENARIO)
        if scenario not in batches:
            batches[scenario] = ScenarioBatch(scenario)
        return batches[scenario], overrides

    batch, first = compose(first_combination(items))
    shared = batch.compose(first)  # sweep.max_runs is one of the keys every run shares
    max_runs = checks.integer("sweep.max_runs", shared.sweep.max_runs, 1)
    grid = expand_grid(items, max_runs)

    def load(combination: Sequence[str]) -> SimsatConfig:
        batch, overrides = compose(combination)
        return batch.load(overrides)

    plan = build_plan(items, grid.combinations, grid.swept, load, scenario_hash, progress)
    check_resources(plan)
    return plan


def warn_about_runs(plan: SweepPlan) -> None:
    """Each distinct warning of the runs' configs once, with the runs it concerns."""
    runs: dict[str, list[int]] = {}
    for run in plan.runs:
        for line in config_warnings(run.config):
            runs.setdefault(line, []).append(run.index)
    for line, indices in runs.items():
        which = "every run" if len(indices) == len(plan.runs) else f"run(s) {', '.join(map(str, indices[:10]))}"
        more = "" if len(indices) <= 10 or len(indices) == len(plan.runs) else f" and {len(indices) - 10} more"
        logging.getLogger("simsat.config").warning("%s (%s%s)", line, which, more)


def print_grid(plan: SweepPlan, stream: TextIO) -> None:
    from simsat.cli.tables import print_table

    headers = ["run", *(plan.swept or ["overrides"]), "config hash"]
    rows = [[str(r.index), *(r.swept.values() if plan.swept else [" ".join(r.items)]), r.hash] for r in plan.runs]
    print_table(headers, rows, stream)
    keys = ", ".join(plan.swept) if plan.swept else "nothing swept"
    print(f"{len(plan.runs)} runs ({keys})", file=stream)


def _cell(value: object, digits: int = 3) -> str:
    if value is None or value == "":
        return ""
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_results(result: SweepResult, swept: Sequence[str], stream: TextIO) -> None:
    from simsat.cli.tables import print_table

    headers = ["run", *swept, "status", "final accuracy", "hours to 0.80", "wall (s)", "error"]
    rows = [
        [
            str(r["run"]),
            *(str(r.get(k, "")) for k in swept),
            r["status"],
            _cell(r.get("final_accuracy")),
            _cell(r.get("time_to_0.80_h"), 2),
            _cell(r.get("wall_s"), 0),
            r.get("error") or "",
        ]
        for r in result.rows
    ]
    print_table(headers, rows, stream)


def sweep_command(items: Sequence[str], dry_run: bool) -> int:
    """Plan, validate, run; print the sweep folder last. Exit 1 only when every run failed."""
    from simsat.config.inputs import check_output_dir, check_ray_address

    folder, items = resumed_items(items)
    with CheckProgress(sys.stderr) as progress:
        plan = plan_sweep(items, progress)
    warn_about_runs(plan)
    if dry_run:
        print_grid(plan, sys.stdout)
        return 0
    shared = plan.shared
    check_ray_address(ray_address(shared), "ray.address" if shared.ray.address else "RAY_ADDRESS")
    if folder is None:
        check_output_dir("sweep.output_dir", plan.shared.sweep.output_dir)
        folder = sweep_folder(plan)
    start = time.monotonic()
    with SweepDisplay(sys.stderr, enabled=plan.shared.run.progress) as display:
        result = run_sweep(plan, folder, display)
    print_results(result, plan.swept, sys.stderr)
    s = result.state
    log.info(
        "sweep: %d done (%d from before), %d failed in %s",
        s.done,
        s.skipped,
        s.failed,
        _minutes(time.monotonic() - start),
    )
    log.info("sweep: the comparison page is %s", result.folder / "report.html")
    print(result.folder)
    return EXIT_ALL_FAILED if result.all_failed else 0

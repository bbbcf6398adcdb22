"""Runs a validated sweep plan on Ray: one task per run, resumable by config hash.

The driver connects to Ray once (a local Ray of `ray.num_cpus` CPUs, or the cluster at
`ray.address` / RAY_ADDRESS), submits every run that is not finished yet as a task reserving
`sweep.run_cpus` CPUs, records each outcome as it arrives (records/<hash>.json, runs.csv), and
rewrites the comparison page (report.html, configs.csv, plots: simsat.sweep.page) as each run
finishes. See simsat.sweep for why runs play in the task's process.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError
from simsat.results.atomic import write_json
from simsat.results.tensorboard import write_hparams
from simsat.sweep.page import write_sweep_page
from simsat.sweep.plan import ENGINE, SweepPlan, SweepRun, run_config, run_cpus
from simsat.sweep.records import DONE, FAILED, RecordStore, write_runs_csv
from simsat.sweep.task import execute_run, log_path, one_line

log = logging.getLogger(__name__)
MB = 1 << 20
POLL_S = 0.5


@dataclass
class SweepState:
    """Where a sweep stands, for a progress display."""

    total: int
    skipped: int = 0  # finished in an earlier invocation
    done: int = 0  # finished, skipped ones included
    failed: int = 0
    running: int = 0
    started_at: float = field(default_factory=time.monotonic)
    last: dict[str, Any] | None = None  # the record that just arrived

    @property
    def finished_now(self) -> int:
        return self.done - self.skipped + self.failed

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def seconds_left(self) -> float | None:
        """At the rate of the runs finished so far in this invocation (None before the first)."""
        if self.finished_now == 0:
            return None
        return (time.monotonic() - self.started_at) / self.finished_now * self.remaining


Reporter = Callable[[SweepState], None]


def _no_report(state: SweepState) -> None:
    return None


@dataclass(frozen=True)
class SweepResult:
    folder: Path
    rows: list[dict[str, Any]]
    state: SweepState

    @property
    def all_failed(self) -> bool:
        return self.state.done == 0 and self.state.failed > 0


def ray_address(config: SimsatConfig) -> str:
    """The cluster to use: ray.address, else RAY_ADDRESS, else '' (a local Ray)."""
    return config.ray.address or os.environ.get("RAY_ADDRESS", "")


def check_resources(plan: SweepPlan) -> None:
    """A local Ray must hold each run's CPUs (a cluster is checked once connected)."""
    shared = plan.shared
    if ray_address(shared):
        return
    for run in plan.runs:
        cpus = run_cpus(run.config)
        if cpus > shared.ray.num_cpus:
            key = (
                "sweep.run_cpus"
                if run.config.sweep.run_cpus > 0
                else "sweep.run_cpus=0 (max of run.threads, training.threads)"
            )
            raise ConfigError(
                f"run {run.index}{f' ({run.label})' if run.swept else ''}: {key}: a run needs {cpus:g} CPUs"
                f" but the local Ray has ray.num_cpus={shared.ray.num_cpus}"
            )


def sweep_folder(plan: SweepPlan) -> Path:
    """sweep.output_dir/<scenario name>-<grid hash>: the same grid lands in the same folder."""
    shared = plan.shared
    return Path(shared.sweep.output_dir).expanduser().absolute() / f"{shared.name}-{plan.hash}"


@contextmanager
def connected_ray(config: SimsatConfig) -> Iterator[str]:
    """Ray for the sweep's driver, shut down (or disconnected from a cluster) afterwards."""
    import ray

    address = ray_address(config)
    common: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Ray's FutureWarning about accelerator variables
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(
                address="local",
                num_cpus=config.ray.num_cpus,
                object_store_memory=config.ray.object_store_mb * MB,
                **common,
            )
    try:
        yield address or "a local Ray"
    finally:
        ray.shutdown()


def _largest_node_cpus() -> float:
    import ray

    return max((float(n["Resources"].get("CPU", 0.0)) for n in ray.nodes() if n.get("Alive")), default=0.0)


def _make_tracker() -> Any:
    """A CPU-less actor the tasks tell when they start, so the display can count running runs."""
    import ray

    @ray.remote(num_cpus=0)
    class Tracker:
        def __init__(self) -> None:
            self.started: set[str] = set()

        def start(self, key: str) -> None:
            self.started.add(key)

        def keys(self) -> list[str]:
            return sorted(self.started)

    return Tracker.remote()  # type: ignore[attr-defined]


def _task(config: SimsatConfig, log_file: str, tracker: Any, key: str) -> dict[str, Any]:
    import ray

    outcome = execute_run(config, log_file, started=lambda: tracker.start.remote(key))
    context = ray.get_runtime_context()  # where the run ran, kept in its record
    return {**outcome, "ray": {"cluster": context.gcs_address, "node": context.get_node_id()}}


def _rebuild_page(folder: Path) -> None:
    """The comparison page while runs go on: a failure to draw it is logged, and the sweep goes on."""
    try:
        write_sweep_page(folder)
    except Exception as exc:
        log.warning("sweep: the comparison page was not rebuilt: %s", one_line(exc))


def run_sweep(plan: SweepPlan, folder: Path, report: Reporter = _no_report) -> SweepResult:
    """Run every unfinished run of `plan` into `folder`; return the rows of runs.csv and the counts."""
    store = RecordStore(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    write_json(
        folder / "sweep.json",
        {
            "items": plan.items,
            "swept": plan.swept,
            "runs": [{"run": r.index, "config_hash": r.hash, "overrides": list(r.items)} for r in plan.runs],
            "engine": ENGINE,
            "run_cpus": [run_cpus(r.config) for r in plan.runs],
        },
    )
    todo = [run for run in plan.runs if not store.finished(run)]
    state = SweepState(total=len(plan.runs), skipped=len(plan.runs) - len(todo))
    state.done = state.skipped
    write_runs_csv(folder / "runs.csv", plan, store.rows(plan))
    _rebuild_page(folder)
    report(state)
    if todo:
        log.info("sweep: %d of %d runs to run, %d finished before", len(todo), len(plan.runs), state.skipped)
        _run_on_ray(plan, todo, folder, store, state, report)
    rows = store.rows(plan)
    write_runs_csv(folder / "runs.csv", plan, rows)
    write_sweep_page(folder)
    return SweepResult(folder=folder, rows=rows, state=state)


def _run_on_ray(
    plan: SweepPlan, todo: list[SweepRun], folder: Path, store: RecordStore, state: SweepState, report: Reporter
) -> None:
    import ray

    for run in todo:
        cpus, threads = run_cpus(run.config), max(run.config.run.threads, run.config.training.threads)
        if cpus < threads:
            log.warning("run %d: %g CPUs for %d torch threads: runs will compete for cores", run.index, cpus, threads)
    most = max(run_cpus(run.config) for run in todo)
    with connected_ray(plan.shared) as where:
        largest = _largest_node_cpus()
        if most > largest:
            raise ConfigError(
                f"sweep.run_cpus: a run needs {most:g} CPUs but the largest node of {where} has {largest:g}"
            )
        tracker = _make_tracker()
        task = ray.remote(_task)
        refs: dict[Any, SweepRun] = {}
        for run in todo:
            config = run_config(run, folder / "runs" / run.hash)
            # a share of a GPU where the sweep asks for one: the run's `auto` device then finds it
            options = task.options(num_cpus=run_cpus(run.config), num_gpus=run.config.sweep.run_gpus, max_retries=0)
            refs[options.remote(config, str(log_path(folder, run.hash)), tracker, run.hash)] = run
        log.info("sweep: %d runs submitted to %s, %g CPUs each at most", len(refs), where, most)
        pending = list(refs)
        finished: set[str] = set()
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=POLL_S)
                for ref in ready:
                    run = refs[ref]
                    try:
                        outcome = ray.get(ref)
                    except Exception as exc:  # the task's worker died (killed, out of memory)
                        outcome = {"status": FAILED, "error": one_line(exc)}
                    state.last = store.write(run, outcome)
                    finished.add(run.hash)
                    if outcome["status"] == DONE:
                        state.done += 1
                        if run.config.results.tensorboard:
                            write_hparams(Path(outcome["run_folder"]), run.swept, f"run {run.index}")
                    else:
                        state.failed += 1
                        log.warning("run %d (%s) failed: %s", run.index, run.label, outcome["error"])
                    write_runs_csv(folder / "runs.csv", plan, store.rows(plan))
                    _rebuild_page(folder)  # the page follows the sweep as runs finish
                started = set(ray.get(tracker.keys.remote()))
                state.running = len(started - finished)
                report(state)
                state.last = None
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise

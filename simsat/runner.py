"""Runs one scenario end to end and writes its run folder; resumes one that was stopped.

Order: the scenario compiled (world plan, boards, faults, crosslinks: `simsat.config.compile`) ->
run folder (final name, status "running") -> the assembled mission (data, teachers, shards) ->
the ground-only reference -> the mission over Flower -> results -> status "finished". Every
result of real work goes to the folder's journal as it is made; a run stopped at any moment
(Ctrl-C, SIGTERM, SIGKILL, power loss) keeps its folder, and `resume_scenario` plays the mission
again from the start, taking what the journal holds and computing the rest, to the same results
as a run that was never stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch
import yaml

from simsat.assembly import Mission, Progress, assemble, federation_session, no_progress
from simsat.config.compile import Scenario, compile_scenario
from simsat.config.schema import SimsatConfig
from simsat.errors import SimsatError
from simsat.interrupt import Interrupted, StopRequest
from simsat.mission.journal import Journal
from simsat.mission.operations import Operations
from simsat.results.atomic import write_json, write_text, write_with
from simsat.results.eclipses import record_eclipses
from simsat.results.folders import MissionFolder
from simsat.results.recorder import Recorder
from simsat.results.report import render_run
from simsat.results.runfolder import battery_facts, write_battery_csv
from simsat.summary import mission_summary

log = logging.getLogger(__name__)

Started = Callable[[Path], None]


def _nothing(folder: Path) -> None:
    return None


def run_scenario(
    config: SimsatConfig,
    progress: Progress = no_progress,
    stop: StopRequest | None = None,
    started: Started = _nothing,
) -> Path:
    """Run `config` and return the finished run folder. `started(folder)` is called once the
    folder exists (the CLI prints it); `stop` lets a signal end the run (`Interrupted`)."""
    compiled = _compiled(config)  # before the folder exists: a bad world costs no folder
    folder = MissionFolder.create(Path(config.run.output_dir), config.name, config.seed)
    try:
        write_text(folder.path / "config.yaml", yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))
    except BaseException:
        folder.discard()
        raise
    started(folder.path)
    return _play(config, folder, progress, stop, fresh=True, compiled=compiled)


def resume_scenario(
    config: SimsatConfig,
    folder: MissionFolder,
    progress: Progress = no_progress,
    stop: StopRequest | None = None,
    started: Started = _nothing,
) -> Path:
    """Go on with the unfinished run in `folder` (opened and locked; `config` read from its
    config.yaml) and return it finished."""
    compiled = _compiled(config)
    folder.mark("running")
    started(folder.path)
    return _play(config, folder, progress, stop, fresh=False, compiled=compiled)


def _compiled(config: SimsatConfig) -> tuple[Scenario, float]:
    """The scenario compiled (its world from the cache when computed before), and the seconds it
    took; torch set to the run's threads."""
    torch.set_num_threads(config.run.threads)
    start = time.perf_counter()
    scenario = compile_scenario(config, Path(config.data.cache_dir) / "world")
    return scenario, time.perf_counter() - start


def _play(
    config: SimsatConfig,
    folder: MissionFolder,
    progress: Progress,
    stop: StopRequest | None,
    fresh: bool,
    compiled: tuple[Scenario, float],
) -> Path:
    """Play the mission into `folder`; `compiled`: its scenario, compiled already, and the seconds
    that took."""
    scenario, compile_s = compiled
    wall_start = time.perf_counter() - compile_s  # the run began with its compile (the stage "world")
    out = folder.path
    journal = Journal(folder.journal_dir)
    if not fresh:
        log.info("resuming %s: %d journaled results to replay", out, len(journal))
    try:
        with ExitStack() as engine:
            started_at = time.perf_counter()
            engine.enter_context(federation_session(scenario.engine))  # Ray first: a failure costs no training
            engine_s = time.perf_counter() - started_at
            mission = engine.enter_context(assemble(config, progress, scenario))
            mission.stages = {"world": compile_s, "engine": engine_s, **mission.stages}
            start = time.perf_counter()
            mission.learning.take_reference_from(journal)
            reference = mission.learning.ground_only_reference()
            mission.stages["reference"] = time.perf_counter() - start
            recorder = Recorder(out, utc=mission.world.epoch.at)
            try:
                ops = mission.run(recorder, progress, in_process=scenario.engine.in_process, journal=journal, stop=stop)
            except BaseException:
                recorder.close(complete=False)
                raise
            record_eclipses(recorder, [s.sunlight.shadows for s in mission.world.sunlit], mission.world.duration_s)
            recorder.close()
            if not fresh:
                log.info("replayed %d journaled results, computed %d", journal.replayed, journal.recorded)
            _write_results(mission, ops, recorder, out, reference, wall_start, journal)
    except (Interrupted, KeyboardInterrupt) as exc:
        folder.mark("interrupted", signal=getattr(exc, "signum", 2))
        folder.unlock()
        raise
    except SimsatError as exc:
        if fresh and len(journal) == 0:  # bad input found late: nothing worth keeping
            folder.discard()
        else:
            folder.mark("failed", error=str(exc))
            folder.unlock()
        raise
    except BaseException as exc:
        folder.mark("failed", error=f"{type(exc).__name__}: {exc}")
        folder.unlock()
        raise
    return folder.finish()


def _write_results(
    mission: Mission,
    ops: Operations,
    recorder: Recorder,
    out: Path,
    reference: dict | None,
    wall_start: float,
    journal: Journal,
) -> None:
    checkpoints = out / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    final = {k: torch.from_numpy(np.array(v)) for k, v in ops.ground.model.items()}
    write_with(checkpoints / "global_final.pt", lambda handle: torch.save(final, handle))
    battery = write_battery_csv(out / "battery.csv", {s.index: s.battery.history for s in ops.satellites})
    now = time.perf_counter()
    wall = now - wall_start
    finish = now - mission.mission_end if mission.mission_end else 0.0
    earlier = journal.earlier_wall_seconds if journal.replayed else None
    # a resumed run's total counts the processes before this one up to their last journaled result
    summary = mission_summary(mission, ops, recorder.rows, reference, wall + (earlier or 0.0), finish)
    if journal.replayed:  # its other wall times are this process's alone
        summary["wall"]["replayed_results"] = journal.replayed
        summary["wall"]["seconds_before_resume"] = round(earlier, 2) if earlier is not None else None
    summary["battery"] = battery_facts(battery)  # from the values as battery.csv holds them
    write_json(out / "summary.json", summary)
    render_run(out, battery)

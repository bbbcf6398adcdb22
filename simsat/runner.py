"""Runs one scenario end to end and writes its run folder.

Order: world plan (cheap, validates geometry) -> run folder -> the assembled mission (data,
teachers, shards) -> the ground-only reference -> the mission over Flower -> results.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from simsat.assembly import Mission, Progress, assemble, no_progress
from simsat.config.schema import SimsatConfig
from simsat.mission.operations import Operations
from simsat.mission.plan import build_world
from simsat.results.recorder import Recorder
from simsat.results.report import render_run
from simsat.results.rundir import RunFolder
from simsat.results.runfolder import battery_facts, read_battery, write_battery_csv
from simsat.summary import mission_summary

log = logging.getLogger(__name__)


def run_scenario(config: SimsatConfig, progress: Progress = no_progress) -> Path:
    """Run `config` and return the finished run folder."""
    wall_start = time.perf_counter()
    torch.set_num_threads(config.run.threads)
    build_world(config)  # geometry errors surface before the folder exists
    folder = RunFolder(Path(config.run.output_dir), config.name, config.seed)
    try:
        out = folder.path
        (out / "config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))
        with assemble(config, progress) as mission:
            reference = mission.ground_only_reference()
            recorder = Recorder(out, utc=mission.world.epoch.at)
            try:
                ops = mission.run(recorder, progress, in_process=config.run.engine == "in_process")
            finally:
                recorder.close()
            _write_results(mission, ops, recorder, out, reference, wall_start)
    except BaseException:
        folder.discard()
        raise
    return folder.finish()


def _write_results(
    mission: Mission,
    ops: Operations,
    recorder: Recorder,
    out: Path,
    reference: dict | None,
    wall_start: float,
) -> None:
    checkpoints = out / "checkpoints"
    checkpoints.mkdir()
    torch.save(
        {k: torch.from_numpy(np.array(v)) for k, v in ops.ground.model.items()},
        checkpoints / "global_final.pt",
    )
    write_battery_csv(out / "battery.csv", {s.index: s.battery.history for s in ops.satellites})
    summary = mission_summary(mission, ops, recorder.rows, reference, time.perf_counter() - wall_start)
    summary["battery"] = battery_facts(read_battery(out / "battery.csv"))
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    render_run(out)

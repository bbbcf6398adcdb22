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
from simsat.results.plots import plot_accuracy, plot_battery, plot_timeline
from simsat.results.recorder import Recorder
from simsat.results.rundir import RunFolder
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
            recorder = Recorder(out)
            try:
                ops = mission.run(recorder, progress)
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
    config = mission.config
    checkpoints = out / "checkpoints"
    checkpoints.mkdir()
    torch.save(
        {k: torch.from_numpy(np.array(v)) for k, v in ops.ground.model.items()},
        checkpoints / "global_final.pt",
    )
    summary = mission_summary(mission, ops, recorder.rows, reference, time.perf_counter() - wall_start)
    references = {t["name"]: t["accuracy"] for t in mission.teacher_report}
    if reference is not None:
        references["ground-only student"] = reference["accuracy"]
    plot_accuracy(recorder.rows, out / "accuracy.png", f"{config.name}: global {config.satellite.model}", references)
    plot_timeline(recorder.events, len(ops.satellites), out / "timeline.png")
    plot_battery([s.battery.history for s in ops.satellites], out / "battery.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

"""Runs one scenario end to end and writes its run folder.

Order: world plan (cheap, validates geometry) -> run folder -> data -> teachers (cached) ->
knowledge per satellite -> Flower simulation whose ServerApp drives the SimPy mission -> results.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import torch
import yaml

from simsat.config.schema import SimsatConfig
from simsat.data import MissionData, load_eurosat, split_mission, synthetic_mission
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import evaluate
from simsat.federation.client_app import make_client_app
from simsat.federation.server_app import make_server_app
from simsat.federation.simulation import RaySettings, run_federation
from simsat.hardware.registry import default_registry
from simsat.mission.ground import GroundSegment
from simsat.mission.knowledge import knowledge_packet, teacher_logits
from simsat.mission.onboard import OnboardSetup, build_student, model_arrays, save_shard
from simsat.mission.operations import Operations, OperationsPlan
from simsat.mission.packets import ModelArrays
from simsat.mission.plan import WorldPlan, build_world
from simsat.mission.transport import Transport
from simsat.models.cost import training_flops_per_image
from simsat.models.inputs import Normalization
from simsat.results.plots import plot_accuracy, plot_battery, plot_timeline
from simsat.results.recorder import Recorder
from simsat.results.rundir import RunFolder
from simsat.world.links import LinkRates
from simsat.world.power import Battery

log = logging.getLogger(__name__)

# stage name, amount done, total (e.g. "mission", simulated hours, mission hours)
Progress = Callable[[str, float, float], None]


def _no_progress(stage: str, done: float, total: float) -> None:
    return None


def load_mission_data(config: SimsatConfig) -> MissionData:
    d = config.data
    n_sats = config.constellation.planes * config.constellation.sats_per_plane
    split = dict(
        ground_fraction=d.ground_fraction,
        validation_fraction=d.validation_fraction,
        test_fraction=d.test_fraction,
        partition=d.partition,
        alpha=d.alpha,
    )
    if d.source == "synthetic":
        return synthetic_mission(d.n_images, n_sats, config.seed, **split)
    images = load_eurosat(Path(d.path).expanduser(), cache_dir=Path(d.cache_dir) / "eurosat")
    return split_mission(images, n_sats, seed=config.seed, **split)


def run_scenario(config: SimsatConfig, progress: Progress = _no_progress) -> Path:
    """Run `config` and return the finished run folder."""
    wall_start = time.perf_counter()
    torch.set_num_threads(config.run.threads)
    world = build_world(config)
    hardware = default_registry().get(config.satellite.hardware)
    folder = RunFolder(Path(config.run.output_dir), config.name, config.seed)
    try:
        _run(config, world, hardware, folder.path, progress, wall_start)
    except BaseException:
        folder.discard()
        raise
    return folder.finish()


def _run(
    config: SimsatConfig,
    world: WorldPlan,
    hardware: Any,
    out: Path,
    progress: Progress,
    wall_start: float,
) -> None:
    (out / "config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False))
    data = load_mission_data(config)
    num_classes = len(data.test.class_names)
    n_sats = len(data.satellites)
    norm = Normalization.from_images(data.ground.images)
    log.info(
        "data: %d ground, %d on %d satellites, %d test images",
        len(data.ground),
        sum(len(s) for s in data.satellites),
        n_sats,
        len(data.test),
    )

    specs = [
        TeacherSpec(t.name, t.input_size, t.epochs, t.lr, t.batch_size, t.checkpoint or None)
        for t in config.distill.teachers
    ]
    teachers = train_or_load_teachers(
        specs,
        data.ground.images,
        data.ground.labels,
        norm,
        num_classes,
        data.ground.fingerprint(),
        Path(config.data.cache_dir) / "teachers",
        config.seed,
        progress=lambda name, done, total: progress(f"teacher {name} (images)", done, total),
    )
    teacher_report = []
    for spec, (teacher, meta) in zip(specs, teachers):
        score = evaluate(teacher, data.test.images, data.test.labels, norm, num_classes).as_dict()
        teacher_report.append({"name": spec.name, "input_size": spec.input_size, **score, **meta})
        log.info("teacher %s: test accuracy %.3f", spec.name, score["accuracy"])

    modules = [t for t, _ in teachers]
    knowledge = [
        knowledge_packet(
            teacher_logits(modules, sat.images, norm),
            sat.ids,
            config.distill.weighting,
            config.distill.temperature,
        )
        for sat in data.satellites
    ]

    torch.manual_seed(config.seed)
    student = build_student(config.satellite.model, num_classes)
    flops_per_image = training_flops_per_image(student, int(data.test.images.shape[1]))

    def score(arrays: ModelArrays) -> dict[str, float]:
        model = build_student(config.satellite.model, num_classes, arrays)
        return evaluate(model, data.test.images, data.test.labels, norm, num_classes).as_dict()

    ground = GroundSegment(
        model=model_arrays(student),
        knowledge=knowledge,
        buffer_size=config.federation.buffer_size,
        max_labels_per_contact=config.federation.max_labels_per_contact,
    )
    plan = OperationsPlan(
        duration_s=world.duration_s,
        contacts=world.contacts,
        antennas=[s.antennas for s in world.stations],
        rates=LinkRates(config.link.uplink_bps, config.link.downlink_bps),
        hardware=hardware,
        floor_soc=config.satellite.power.floor_soc,
        resume_soc=config.satellite.power.resume_soc,
        train_flops_per_image=flops_per_image,
        epochs=config.training.epochs,
    )
    recorder = Recorder(out)
    state: dict[str, Any] = {}
    hours = world.duration_s / 3600.0

    def operate(transport: Transport) -> None:
        env = simpy.Environment()
        p = config.satellite.power
        batteries = [
            Battery(
                env,
                capacity_wh=p.capacity_wh,
                initial_soc=p.initial_soc,
                floor_soc=p.floor_soc,
                solar_w=p.solar_w,
                baseline_w=p.baseline_w,
                sunlit=world.sunlit[i],
                step_s=p.step_s,
            )
            for i in range(n_sats)
        ]
        ops = Operations(
            env,
            plan,
            ground,
            transport,
            batteries,
            recorder,
            score,
            progress=lambda t: progress("mission", t / 3600.0, hours),
        )
        ops.run()
        progress("mission", hours, hours)
        state["ops"] = ops

    with tempfile.TemporaryDirectory(prefix="simsat-shards-") as shards:
        for i, sat in enumerate(data.satellites):
            save_shard(Path(shards), i, sat.images, sat.ids)
        setup = OnboardSetup(
            shards_dir=shards,
            model_name=config.satellite.model,
            num_classes=num_classes,
            temperature=config.distill.temperature,
            epochs=config.training.epochs,
            batch_size=config.training.batch_size,
            lr=config.training.lr,
            weight_decay=config.training.weight_decay,
            norm_mean=tuple(norm.mean),
            norm_std=tuple(norm.std),
            seed=config.seed,
            threads=max(1, int(config.ray.client_cpus)),
        )
        r = config.ray
        run_federation(
            make_server_app(n_sats, operate),
            make_client_app(setup),
            n_sats,
            RaySettings(r.address, r.num_cpus, r.client_cpus, r.object_store_mb),
        )
    recorder.close()
    ops: Operations = state["ops"]
    _write_results(config, out, world, ops, recorder, ground, teacher_report, wall_start)


def _write_results(
    config: SimsatConfig,
    out: Path,
    world: WorldPlan,
    ops: Operations,
    recorder: Recorder,
    ground: GroundSegment,
    teacher_report: list[dict[str, Any]],
    wall_start: float,
) -> None:
    rows = recorder.rows
    checkpoints = out / "checkpoints"
    checkpoints.mkdir()
    torch.save(
        {k: torch.from_numpy(np.array(v)) for k, v in ground.model.items()},
        checkpoints / "global_final.pt",
    )
    n_sats = len(ops.satellites)
    plot_accuracy(rows, out / "accuracy.png", f"{config.name}: global {config.satellite.model}")
    plot_timeline(recorder.events, n_sats, out / "timeline.png")
    plot_battery([s.battery.history for s in ops.satellites], out / "battery.png")
    final = rows[-1]
    summary = {
        "scenario": config.name,
        "seed": config.seed,
        "initial_accuracy": rows[0]["accuracy"],
        "final_accuracy": final["accuracy"],
        "best_accuracy": max(r["accuracy"] for r in rows),
        "final_precision": final["precision"],
        "final_recall": final["recall"],
        "final_f1": final["f1"],
        "simulated_hours": world.duration_s / 3600.0,
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "bytes_up": ops.bytes_up,
        "bytes_down": ops.bytes_down,
        "satellites": n_sats,
        "ground_stations": len(world.stations),
        "contact_windows": len(world.contacts),
        "contacts": sum(s.contacts for s in ops.satellites),
        "aggregations": ground.version,
        "trainings": [s.trainings for s in ops.satellites],
        "train_energy_wh": [round(s.energy_train_wh, 4) for s in ops.satellites],
        "final_soc": [round(s.battery.soc, 4) for s in ops.satellites],
        "labels_delivered": list(ground.sent),
        "teachers": teacher_report,
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpu": platform.processor()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))

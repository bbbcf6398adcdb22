"""The run's summary.json: one key per fact, grouped."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from simsat.assembly import Mission
from simsat.hardware import onboard_inference_energy
from simsat.machine import machine
from simsat.mission.operations import Operations

THRESHOLDS = (0.80, 0.90, 0.95)


def time_to_accuracy(
    rows: Sequence[dict[str, Any]], thresholds: Sequence[float] = THRESHOLDS
) -> dict[str, float | None]:
    """First simulated hour at which an evaluation reached each accuracy (None: never)."""
    out: dict[str, float | None] = {}
    for threshold in thresholds:
        hit = next((r["time_s"] for r in rows if r["accuracy"] is not None and r["accuracy"] >= threshold), None)
        out[f"{threshold:.2f}"] = None if hit is None else round(hit / 3600.0, 4)
    return out


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def mission_summary(
    mission: Mission,
    ops: Operations,
    rows: Sequence[dict[str, Any]],
    reference: dict[str, Any] | None,
    wall_seconds: float,
    finish_seconds: float = 0.0,
) -> dict[str, Any]:
    """The run's summary. `wall_seconds`: start to end; `finish_seconds`: from the mission's end to
    the summary (the engine's shutdown, the records closed)."""
    config = mission.config
    final = rows[-1]
    sats = ops.satellites
    workers = max(1, int(config.ray.num_cpus // config.ray.client_cpus))
    mission_wall = ops.mission_wall_seconds
    clock = ops.clock
    # the mission's learning: onboard trainings, evaluations and every piece of ground-side learning
    learning = ops.train_wall_seconds + clock.eval_s + clock.label_s + clock.ground_train_s + clock.teacher_refresh_s
    cores = os.cpu_count() or 1
    stages = {name: _r(seconds, 2) for name, seconds in mission.stages.items()}
    bytes_by_kind = ops.bytes_by_kind()
    summary: dict[str, Any] = {
        "scenario": config.name,
        "seed": config.seed,
        "strategy": config.federation.strategy,
        "aggregator": config.federation.aggregation,
        "initial_model": config.federation.initial_model,
        "satellites": len(sats),
        "satellite_names": list(mission.world.satellites.names),  # by index, as events.jsonl numbers them
        "ground_stations": len(mission.world.stations),
        "start_utc": mission.world.epoch.utc.isoformat(),
        "simulated_hours": _r(mission.world.duration_s / 3600.0),
        "accuracy": {
            "initial": _r(rows[0]["accuracy"]),
            "final": _r(final["accuracy"]),
            "best": _r(max(r["accuracy"] for r in rows)),
            "final_precision": _r(final["precision"]),
            "final_recall": _r(final["recall"]),
            "final_f1": _r(final["f1"]),
        },
        "time_to_accuracy_hours": time_to_accuracy(rows),
        "reference": {
            "ground_only_accuracy": None if reference is None else _r(reference["accuracy"]),
            "ground_only_epochs": None if reference is None else reference["epochs"],
            "teachers": [{"name": t["name"], "accuracy": _r(t["accuracy"])} for t in mission.teacher_report],
        },
        "teacher_refreshes": ops.teacher_refreshes,
        "bytes": {
            **bytes_by_kind,
            "up_total": sum(bytes_by_kind["up"].values()),
            "down_total": sum(bytes_by_kind["down"].values()),
        },
        "images_downlinked": sum(s.images_down for s in sats),
        "images_held": int(sum(mission.plan.images_held)),
        "contacts": {
            "windows": len(mission.world.contacts),
            "made": sum(s.contacts for s in sats),
        },
        "aggregations": ops.ground.version if config.federation.strategy != "local" else 0,
        "updates_discarded": ops.ground.discarded,
        "trainings": sum(s.trainings for s in sats),
        "faults": ops.faults.summary(),
        "energy_wh": {
            "training_total": _r(sum(s.energy_train_wh for s in sats)),
            "training_per_satellite": [_r(s.energy_train_wh) for s in sats],
        },
        "hardware": [p.name for p in mission.hardware],
        "onboard_inference": onboard_inference_energy(
            mission.hardware, list(mission.plan.images_held), mission.inference_flops_per_image
        ).as_dict(),
        "final_soc": [_r(s.battery.soc) for s in sats],
        "safe_mode_seconds": [_r(s.battery.safe_s, 1) for s in sats],
        "wall": {
            "total_seconds": _r(wall_seconds, 2),
            "mission_wall_seconds": _r(mission_wall, 2),
            "train_wall_seconds": _r(ops.train_wall_seconds, 2),
            "eval_wall_seconds": _r(ops.clock.eval_s, 2),
            "ground_label_seconds": _r(ops.clock.label_s, 2),
            "ground_train_seconds": _r(ops.clock.ground_train_s, 2),
            "teacher_refresh_seconds": _r(ops.clock.teacher_refresh_s, 2),
            "setup_seconds": _r(sum(mission.stages.values()), 2),
            "stages": stages,
            "finish_seconds": _r(finish_seconds, 2),
            "learning_seconds": _r(learning, 2),
            "messages": ops.messages.sent,
            "message_wait_seconds": _r(ops.messages.wait_seconds, 2),
            "workers": workers,
            "cores": cores,
            # cores' worth of learning done at once, on average over the mission
            "parallel_speedup": _r(learning / mission_wall, 3) if mission_wall > 0 else None,
            # the share of the mission's wall time x this machine's cores not spent learning
            "orchestration_overhead": _r(1.0 - learning / (mission_wall * cores), 3) if mission_wall > 0 else None,
        },
        "device": str(mission.device),
        "machine": machine(),
    }
    ground_hardware = mission.plan.ground_hardware
    if ground_hardware is not None:  # the ground's trainings took simulated time on this computer
        summary["ground_computer"] = {"hardware": ground_hardware.name, "busy_hours": _r(ops.ground_compute_s / 3600.0)}
    if ops.isl is not None:  # crosslinks: bytes by kind, windows, on-orbit aggregations, energy
        summary["bytes"]["isl"] = dict(ops.isl.counts.bytes)
        summary["bytes"]["isl_total"] = sum(ops.isl.counts.bytes.values())
        summary["isl"] = ops.isl.summary()
        summary["energy_wh"]["isl_total"] = _r(ops.isl.energy_wh())
    return summary

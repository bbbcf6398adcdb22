"""The centralized experiment as resumable pieces: one student, rule and seed each, kept under
<pieces>/<config hash>/ with the teachers they used, and the summary over all finished pieces.

bench/eurosat_kd.py is the command line over this module. A piece is finished when its record
(<config hash>/pieces/<model>_<rule>_s<seed>.json) exists; a rerun runs only the others, with the
very same teachers (their weights are kept beside the pieces and restored into the teacher cache).
The summary (eurosat_kd.json) gathers this config's pieces and those of other schedules, picks the
best distilled student of each model on validation and plots the validation curves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from simsat.config.experiment import ExperimentConfig
from simsat.distill.teacher_cache import records_beside
from simsat.errors import ConfigError, SimsatError
from simsat.experiment.central import (
    Prepared,
    Progress,
    environment,
    measure_costs,
    prepare,
    run_student,
    teacher_ensemble_scores,
    teacher_probabilities,
    teacher_scores,
)
from simsat.experiment.report import compare, mean_std, plot_validation_curves
from simsat.models.registry import create_student
from simsat.results.atomic import write_json
from simsat.sweep.hashing import drop_keys, stable_hash
from simsat.sweep.pieces import PieceStore

log = logging.getLogger(__name__)
# experiment keys that choose pieces or say where they run, not what one piece computes
EXPERIMENT_EXECUTION_KEYS = (
    "seeds",
    "students",
    "rules",
    "output_dir",
    "progress",
    "threads",
    "device",
    "efficiency",
    "description",
    "data.cache_dir",
)


def bare_images_per_s(model_name: str, num_classes: int, batch: int, size: int, steps: int, warmup: int = 3) -> float:
    """Images/s of a plain training loop on random tensors (channels_last, AdamW, CE)."""
    torch.manual_seed(0)
    model = create_student(model_name, num_classes).to(memory_format=torch.channels_last).train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, num_classes, (batch,))
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - start)


def experiment_hash(cfg: ExperimentConfig) -> str:
    """Hash of everything that shapes one piece (not the grid, output or progress settings).

    The folder name of a config's pieces: it must not change for the committed ones."""
    d = drop_keys(dataclasses.asdict(cfg), EXPERIMENT_EXECUTION_KEYS)
    for key in ("path", "split_dir"):
        d["data"][key] = str(Path(d["data"][key]).resolve()) if d["data"][key] else ""
    return stable_hash(d)


def pieces(cfg: ExperimentConfig, only: str) -> list[tuple[str, str, int]]:
    grid = [(m, r, s) for m in cfg.students for r in cfg.rules for s in cfg.seeds]
    if not only:
        return grid
    chosen = []
    for item in only.split(","):
        parts = item.split(":")
        if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
            raise ConfigError(f"--only: expected model:rule:seed, got {item!r}")
        piece = (parts[0], parts[1], int(parts[2]))
        if piece not in grid:
            raise ConfigError(f"--only: {item!r} is not in the config's students x rules x seeds")
        chosen.append(piece)
    return chosen


def piece_stem(model: str, rule: str, seed: int) -> str:
    return f"{model}_{rule}_s{seed}"


def with_records(weights: list[Path]) -> list[Path]:
    """Teacher weight files followed by the records that exist beside them (versions, training)."""
    return weights + [f for w in weights for f in records_beside(w) if f.is_file()]


def restore_teachers(folder: Path, cache: Path) -> None:
    """Put the teacher weights (and their versions and training records) kept with the pieces into the teacher cache."""
    for kept in with_records(sorted((folder / "teachers").glob("*.pt"))):
        if not (cache / kept.name).is_file():
            cache.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kept, cache / kept.name)
            log.info("teacher weights %s restored from %s", kept.name, kept.parent)


def keep_teachers(folder: Path, files: list[Path]) -> None:
    """Keep a copy of the teachers' cached weights beside the pieces (they are committed)."""
    (folder / "teachers").mkdir(exist_ok=True)
    for f in files:
        if f.is_file() and not (folder / "teachers" / f.name).is_file():
            shutil.copyfile(f, folder / "teachers" / f.name)


def copy_best(folder: Path, out: Path, model: str, stem: str) -> None:
    """Copy the chosen piece's weights to <out>/<model>_kd.pt.

    Piece weights are not committed: where this clone lacks them, the file already in <out> is
    kept if the previous summary chose the same piece of the same config; anything else is an error.
    """
    source = folder / "pieces" / f"{stem}.pt"
    target = out / f"{model}_kd.pt"
    if source.is_file():
        shutil.copyfile(source, target)
        return
    previous = json.loads((out / "eurosat_kd.json").read_text()) if (out / "eurosat_kd.json").is_file() else {}
    chosen = previous.get("best_students", {}).get(model, {})
    same_config = chosen.get("config_hash", previous.get("config_hash")) == folder.name
    if target.is_file() and chosen.get("piece") == stem and same_config:
        return
    raise SimsatError(f"{source}: weights of the best {model} piece are missing; rerun it with --only")


def run_pieces(
    cfg: ExperimentConfig,
    folder: Path,
    command: str,
    only: str = "",
    prepare_only: bool = False,
    remeasure_efficiency: bool = False,
    bare_steps: int = 30,
    progress: Progress | None = None,
) -> None:
    """Prepare the teachers (kept beside the pieces) and run every requested piece not finished yet.

    `progress(stage, done, total)` hears of the teachers' and each student's training."""
    store = piece_store(folder)
    todo = [p for p in pieces(cfg, only) if not store.finished(piece_stem(*p))]
    needs_prep = prepare_only or todo or not (folder / "teachers.json").is_file()
    if not needs_prep:
        log.info("nothing to run: every requested piece is finished")
        return
    start = time.perf_counter()
    restore_teachers(folder, Path(cfg.data.cache_dir) / "teachers")
    prep = prepare(cfg, progress)
    weights = [Path(t.meta["cache_file"]) for t in prep.teachers]
    keep_teachers(folder, with_records(weights))
    teachers_json = folder / "teachers.json"
    if teachers_json.is_file():
        teachers = json.loads(teachers_json.read_text())
        if point_at_teacher_files(teachers, prep):
            write_json(teachers_json, teachers)
            log.info("%s: teacher keys and files brought up to date", teachers_json)
    else:
        probs = teacher_probabilities(prep)
        teachers = {
            "teachers": teacher_scores(prep, probs),
            "ensemble": teacher_ensemble_scores(prep, probs),
            "prepare_seconds": prep.seconds,
            "command": command,
            "normalize": prep.norm.as_dict(),
            "data": {"source": prep.data.source, "sizes": prep.data.sizes()},
        }
        point_at_teacher_files(teachers, prep)
        write_json(teachers_json, teachers)
    if remeasure_efficiency or not (folder / "efficiency.json").is_file():
        costs = measure_costs(prep)
        write_json(
            folder / "efficiency.json",
            {"models": [c.as_row() for c in costs], "comparison": compare(costs), "hardware": cfg.efficiency.hardware},
        )
    log.info("prepared in %.0f s", time.perf_counter() - start)
    if prepare_only:
        return
    size = int(prep.data.train.images.shape[1])
    for model, rule, seed in todo:
        record, result = run_student(prep, model, rule, seed, progress)
        bare = bare_images_per_s(model, prep.data.num_classes, cfg.train.batch_size, size, bare_steps)
        record.update(
            bare_images_per_s=bare,
            throughput_ratio=record["images_per_s"] / bare,
            command=command,
            environment=environment(),
        )
        stem = piece_stem(model, rule, seed)
        (folder / "pieces").mkdir(exist_ok=True)
        torch.save(result.state, folder / "pieces" / f"{stem}.pt")
        store.write(stem, record)
        log.info(
            "%s done: test accuracy %.4f, %.0f images/s (bare loop %.0f, ratio %.2f)",
            stem,
            record["test"]["accuracy"],
            record["images_per_s"],
            bare,
            record["throughput_ratio"],
        )


def point_at_teacher_files(teachers: dict[str, Any], prep: Prepared) -> bool:
    """Point a teachers.json payload at the teacher files in use now; True where it changed.

    teachers.json is written once, at the first prepare; its scores stay (the weights are the same),
    while its cache key and file name follow a change of the key's recipe. The file is named
    without the machine's cache folder.
    """
    current = {t.label: t.meta for t in prep.teachers}
    changed = False
    for record in teachers["teachers"]:
        meta = current.get(record["name"])
        if meta is None:
            continue
        fresh = {
            "key": meta["key"],
            "cache_file": Path(meta["cache_file"]).name,
            "trained_with": meta.get("trained_with"),
        }
        if meta.get("training") is not None:  # how the weights were trained, where it was recorded beside them
            fresh["training"] = meta["training"]
        if any(record.get(k) != v for k, v in fresh.items()):
            record.update(fresh)
            changed = True
    return changed


def piece_store(folder: Path) -> PieceStore:
    """The finished pieces of one config (<folder>/pieces/<model>_<rule>_s<seed>.json)."""
    return PieceStore(folder / "pieces", writer=write_json)


def read_records(folder: Path) -> list[dict[str, Any]]:
    return piece_store(folder).records()


def read_teachers(folder: Path) -> dict[str, Any]:
    """The config's teachers.json ({} before the teachers are prepared)."""
    path = folder / "teachers.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def results_by_rule(cfg: ExperimentConfig, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """model -> rule -> test metrics (mean, std, per seed), validation accuracy, time and throughput."""
    results: dict[str, dict[str, Any]] = {}
    for model in cfg.students:
        for rule in cfg.rules:
            runs = sorted((r for r in records if r["model"] == model and r["rule"] == rule), key=lambda r: r["seed"])
            if not runs:
                continue
            entry: dict[str, Any] = {"seeds": [r["seed"] for r in runs]}
            for metric in ("accuracy", "precision", "recall", "f1"):
                values = [r["test"][metric] for r in runs]
                entry[f"test_{metric}"] = {**mean_std(values), "per_seed": values}
            entry["validation_accuracy"] = {
                **mean_std([r["validation"]["accuracy"] for r in runs]),
                "per_seed": [r["validation"]["accuracy"] for r in runs],
            }
            entry["best_epoch"] = [r["best_epoch"] for r in runs]
            entry["wall_seconds"] = [r["wall_seconds"] for r in runs]
            entry["images_per_s"] = mean_std([r["images_per_s"] for r in runs])
            entry["bare_images_per_s"] = mean_std([r["bare_images_per_s"] for r in runs])
            entry["throughput_ratio"] = mean_std([r["throughput_ratio"] for r in runs])
            results.setdefault(model, {})[rule] = entry
    return results


def pick_best(models: list[str], runs: list[tuple[str, Path, dict[str, Any]]], out: Path) -> dict[str, Any]:
    """Per model, the distilled piece with the best validation accuracy over every schedule given.

    runs: (experiment name, pieces folder, record). Ties go to the lower seed, then to the
    schedule listed first. Its weights are copied to <out>/<model>_kd.pt.
    """

    def rank(i: int) -> tuple[float, int, int]:
        record = runs[i][2]
        return (record["validation"]["accuracy"], -record["seed"], -i)

    best: dict[str, Any] = {}
    for model in models:
        distilled = [i for i, (_, _, r) in enumerate(runs) if r["model"] == model and r["rule"] != "none"]
        if not distilled:
            continue
        experiment, folder, pick = runs[max(distilled, key=rank)]
        stem = piece_stem(pick["model"], pick["rule"], pick["seed"])
        copy_best(folder, out, model, stem)
        best[model] = {
            "file": f"{model}_kd.pt",
            "experiment": experiment,
            "config_hash": folder.name,
            "piece": stem,
            "rule": pick["rule"],
            "seed": pick["seed"],
            "epochs": pick["epochs"],
            "validation_accuracy": pick["validation"]["accuracy"],
            "test_accuracy": pick["test"]["accuracy"],
            "chosen_on": "validation accuracy",
        }
    return best


def teacher_rows(teachers: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: t[k] for k in ("name", "input_size", "epochs")}
        | {f"test_{m}": t["test"][m] for m in ("accuracy", "precision", "recall", "f1")}
        | {
            "validation_accuracy": t["validation"]["accuracy"],
            "validation_views_accuracy": t.get("validation_views_accuracy"),
            "test_views_accuracy": t.get("test_views_accuracy"),
        }
        for t in teachers.get("teachers", [])
    ]


def schedule_summary(name: str, cfg: ExperimentConfig, folder: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    """One more schedule of the same experiment (e.g. students on 40 epochs): its results and teachers."""
    teachers = read_teachers(folder)
    return {
        "experiment": name,
        "config_hash": folder.name,
        "description": cfg.description,
        "train_epochs": cfg.train.epochs,
        "pieces_done": len(records),
        "pieces_expected": len(pieces(cfg, "")),
        "commands": sorted({r["command"] for r in records}),
        "wall_seconds_total": sum(r["wall_seconds"] for r in records),
        "teachers": teacher_rows(teachers),
        "results": results_by_rule(cfg, records),
    }


def summarize_pieces(
    cfg: ExperimentConfig,
    folder: Path,
    out: Path,
    command: str,
    others: Sequence[tuple[str, ExperimentConfig, Path]] = (),
) -> Path:
    """Write <out>/eurosat_kd.json: this config's pieces, plus the finished pieces of other schedules."""
    records = read_records(folder)
    teachers = read_teachers(folder)
    runs = [(cfg.name, folder, r) for r in records]
    other_schedules = []
    for name, other_cfg, other_folder in others:
        other_records = read_records(other_folder)
        if other_records:
            other_schedules.append(schedule_summary(name, other_cfg, other_folder, other_records))
            runs += [(name, other_folder, r) for r in other_records]
    best = pick_best(list(cfg.students), runs, out)
    curves = None
    if runs:
        order = {m: i for i, m in enumerate(cfg.students)}
        ordered = sorted(
            ({**r, "schedule": name} for name, _, r in runs),
            key=lambda r: (order.get(r["model"], len(order)), r["epochs"]),
        )
        curves = plot_validation_curves(
            ordered, out / "eurosat_kd_curves.png", "EuroSAT students: validation accuracy per epoch (dots: epoch kept)"
        ).name
    prepare_s = sum(teachers.get("prepare_seconds", {}).values()) if teachers else 0.0
    efficiency = folder / "efficiency.json"
    payload = {
        "experiment": cfg.name,
        "command": command,
        "full_command": "python bench/eurosat_kd.py",
        "config_hash": folder.name,
        "config": dataclasses.asdict(cfg),
        "normalize": teachers.get("normalize"),
        "normalize_note": "images scaled to 0..1, then (x - mean) / std per RGB channel",
        "data": teachers.get("data"),
        "pieces_done": len(records),
        "pieces_expected": len(pieces(cfg, "")),
        "wall_seconds_total": prepare_s + sum(r["wall_seconds"] for r in records),
        "teacher_prepare_seconds": teachers.get("prepare_seconds"),
        "teachers": teacher_rows(teachers),
        "teacher_ensemble": None
        if not teachers.get("ensemble")
        else {
            f"{split}_accuracy": teachers["ensemble"][split]["accuracy"]
            for split in ("validation", "validation_views", "test", "test_views")
        },
        "teacher_targets": cfg.teacher_targets,
        "results": results_by_rule(cfg, records),
        "other_schedules": other_schedules,
        "best_students": best,
        "validation_curves_png": curves,
        "efficiency": json.loads(efficiency.read_text()) if efficiency.is_file() else None,
        "environment": environment(),
        "piece_environments": sorted({json.dumps(r["environment"], sort_keys=True) for _, _, r in runs}),
    }
    path = out / "eurosat_kd.json"
    write_json(path, payload)
    return path

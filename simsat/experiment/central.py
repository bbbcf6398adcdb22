"""The centralized distillation experiment (Le et al., arXiv 2411.00209) as plain functions.

Order: data -> normalisation -> teachers (trained once, cached) -> teacher logits on every
augmented view of the training images (cached) -> for each student x rule x seed: train,
keep the best epoch on validation, score on test -> efficiency table -> run folder.
`prepare` and `run_student` are public so a benchmark can run the grid in resumable pieces.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import timm
import torch
import yaml
from torch import nn

import simsat
from simsat.config.experiment import ExperimentConfig, needs_teachers
from simsat.data import ImageSet
from simsat.distill.device import resolve_device
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import evaluate
from simsat.experiment.data import ExperimentData, load_experiment_data
from simsat.experiment.report import (
    ModelCost,
    measure_cost,
    plot_confusion,
    plot_validation_curves,
    scores,
    summarize,
    write_efficiency,
    write_results,
)
from simsat.experiment.student import StudentTraining, train_student
from simsat.experiment.views import (
    cached_view_logits,
    probabilities_scores,
    teacher_targets,
    view_count,
)
from simsat.hardware.registry import default_registry
from simsat.machine import cpu_model
from simsat.models.inputs import Normalization, to_input
from simsat.models.registry import create_student
from simsat.results.folders import ExperimentFolder

logger = logging.getLogger(__name__)

Progress = Callable[[str, float, float], None]  # (stage, done, total)


@dataclass
class Teacher:
    """A trained teacher (eval mode) with its label, spec and cache metadata."""

    label: str
    spec: TeacherSpec
    module: nn.Module
    meta: dict[str, Any]


@dataclass
class Prepared:
    """Everything the student runs share: data, normalisation, teachers and their view logits."""

    config: ExperimentConfig
    data: ExperimentData
    norm: Normalization
    x_train: torch.Tensor  # normalised training images (channels_last when the recipe says so)
    teachers: list[Teacher]
    view_logits: torch.Tensor | None  # (K, n_views, N, C); None when no rule distils
    n_views: int
    train_fingerprint: str
    seconds: dict[str, float] = field(default_factory=dict)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


def teacher_specs(cfg: ExperimentConfig) -> list[TeacherSpec]:
    return [TeacherSpec(t.name, t.input_size, t.epochs, t.lr, t.batch_size, t.checkpoint or None) for t in cfg.teachers]


def teacher_labels(names: list[str]) -> list[str]:
    """Teacher names, suffixed with their position where a name repeats."""
    return [name if names.count(name) == 1 else f"{name}_{i}" for i, name in enumerate(names)]


def environment() -> dict[str, Any]:
    """Machine and library versions, for result files."""
    return {
        "platform": platform.platform(),
        "processor": cpu_model(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "simsat": simsat.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, float(done), float(total))


def teacher_cache_dir(cfg: ExperimentConfig) -> Path:
    """Where the teachers' weights and their view logits (training, validation, test) are cached."""
    return Path(cfg.data.cache_dir) / "teachers"


def prepare(cfg: ExperimentConfig, progress: Progress | None = None) -> Prepared:
    """Load data, train or load the teachers and their logits on every augmented view.

    `cfg` has been validated (simsat.cli.distill.load_experiment does it once per command).
    """
    seconds: dict[str, float] = {}
    device = resolve_device(cfg.device, "device")
    start = time.perf_counter()
    data = load_experiment_data(cfg.data, cfg.seed)
    norm = Normalization.from_images(data.train.images)
    x_train = to_input(data.train.images, norm, channels_last=cfg.train.channels_last)
    fingerprint = data.train.fingerprint()
    seconds["data"] = time.perf_counter() - start

    start = time.perf_counter()
    specs = teacher_specs(cfg)
    cache = teacher_cache_dir(cfg)
    trained = train_or_load_teachers(
        specs,
        data.train.images,
        data.train.labels,
        norm,
        data.num_classes,
        fingerprint,
        cache,
        cfg.seed,
        progress=None if progress is None else (lambda n, d, t: progress(f"teacher {n} (images)", d, t)),
        device=device,
    )
    labels = teacher_labels([s.name for s in specs])
    teachers = [Teacher(lab, spec, mod, meta) for lab, spec, (mod, meta) in zip(labels, specs, trained, strict=True)]
    seconds["teachers"] = time.perf_counter() - start

    start = time.perf_counter()
    height, width = data.train.images.shape[1:3]
    n_views = view_count(height, width, cfg.train.augment)
    view_logits = None
    if needs_teachers(list(cfg.rules)):
        per_teacher = []
        for t in teachers:
            logits, hit = cached_view_logits(
                t.module,
                t.meta["key"],
                t.spec.name,
                x_train,
                fingerprint,
                n_views,
                cache,
                _stage(progress, f"teacher {t.label} logits (views x images)"),
                device=device,
            )
            t.meta["view_logits_cache_hit"] = hit
            per_teacher.append(logits)
        view_logits = teacher_targets(torch.stack(per_teacher), cfg.teacher_targets)
    seconds["teacher_logits"] = time.perf_counter() - start
    return Prepared(cfg, data, norm, x_train, teachers, view_logits, n_views, fingerprint, seconds, device)


def _eval_splits(prep: Prepared) -> dict[str, ImageSet]:
    return {"validation": prep.data.validation, "test": prep.data.test}


def teacher_probabilities(prep: Prepared) -> dict[str, torch.Tensor]:
    """Validation and test softmax of every teacher on every view, (K, n_views, N, C) per split.

    Computed once per teacher and split and cached like the training views' logits (keyed by
    the teacher's cache key and the split's fingerprint): another experiment with the same
    teachers and data reads them back. teacher_scores and teacher_ensemble_scores read their
    figures from it.
    """
    cache = teacher_cache_dir(prep.config)
    probs = {}
    for split, s in _eval_splits(prep).items():
        x = to_input(s.images, prep.norm, channels_last=False)
        fingerprint = s.fingerprint()
        probs[split] = torch.stack(
            [
                cached_view_logits(t.module, t.meta["key"], t.spec.name, x, fingerprint, prep.n_views, cache)[
                    0
                ].softmax(dim=-1)
                for t in prep.teachers
            ]
        )
    return probs


def teacher_scores(prep: Prepared, probs: dict[str, torch.Tensor]) -> list[dict[str, Any]]:
    """Each teacher's own validation and test metrics with its cache metadata.

    Also each teacher's accuracy with its softmax averaged over the augmented views (close to
    what teacher_targets="mean" distils from). `probs` is teacher_probabilities(prep).
    """
    names = prep.data.train.class_names
    splits = _eval_splits(prep)
    records = []
    for i, t in enumerate(prep.teachers):
        plain = {split: probabilities_scores(probs[split][i, 0], s.labels, len(names)) for split, s in splits.items()}
        views = {
            f"{split}_views_accuracy": probabilities_scores(probs[split][i].mean(dim=0), s.labels, len(names)).accuracy
            for split, s in splits.items()
        }
        logger.info(
            "teacher %s: validation accuracy %.4f (%.4f over views), test accuracy %.4f",
            t.label,
            plain["validation"].accuracy,
            views["validation_views_accuracy"],
            plain["test"].accuracy,
        )
        meta = {k: v for k, v in t.meta.items() if k not in ("name", "input_size")}
        records.append(
            {
                "name": t.label,
                "timm_name": t.spec.name,
                "input_size": t.spec.input_size,
                "epochs": t.spec.epochs,
                "validation": scores(plain["validation"], names),
                "test": scores(plain["test"], names),
                **views,
                **meta,
            }
        )
    return records


def teacher_ensemble_scores(prep: Prepared, probs: dict[str, torch.Tensor]) -> dict[str, Any] | None:
    """The teachers' ensemble (mean softmax) on validation and test, on one view and on all views."""
    if len(prep.teachers) < 2:
        return None
    names = prep.data.train.class_names
    entry: dict[str, Any] = {"members": [t.label for t in prep.teachers]}
    for split, s in _eval_splits(prep).items():
        p = probs[split]
        for mean, suffix in ((p[:, 0].mean(dim=0), ""), (p.mean(dim=(0, 1)), "_views")):
            entry[f"{split}{suffix}"] = scores(probabilities_scores(mean, s.labels, len(names)), names)
    logger.info(
        "teacher ensemble: validation accuracy %.4f (%.4f over views), test %.4f",
        entry["validation"]["accuracy"],
        entry["validation_views"]["accuracy"],
        entry["test"]["accuracy"],
    )
    return entry


def run_student(
    prep: Prepared, model_name: str, rule: str, seed: int, progress: Progress | None = None
) -> tuple[dict[str, Any], StudentTraining]:
    """Train one student; its record (metrics, best epoch, timing) and the training result."""
    cfg = prep.config
    wall = time.perf_counter()
    names = prep.data.train.class_names
    torch.manual_seed(seed)
    model = create_student(model_name, len(names))
    t = cfg.train
    result = train_student(
        model,
        prep.x_train,
        prep.data.train.labels,
        prep.view_logits,
        prep.n_views,
        rule,
        cfg.temperature,
        t,
        prep.data.validation,
        prep.norm,
        _stage(progress, f"{model_name} {rule} s{seed} (images)"),
        seed=seed,
        device=prep.device,
    )
    val = evaluate(
        model, prep.data.validation.images, prep.data.validation.labels, prep.norm, len(names), device=prep.device
    )
    test = evaluate(model, prep.data.test.images, prep.data.test.labels, prep.norm, len(names), device=prep.device)
    model = model.cpu()
    record = {
        "model": model_name,
        "rule": rule,
        "seed": seed,
        "epochs": t.epochs,
        "best_epoch": result.best_epoch,
        "validation_curve": result.curve,
        "validation": scores(val, names),
        "test": scores(test, names),
        "train_seconds": result.train_seconds,
        "validation_seconds": result.validation_seconds,
        "wall_seconds": time.perf_counter() - wall,
        "images_seen": result.images_seen,
        "images_per_s": result.images_per_s,
        "mean_loss": result.mean_loss,
    }
    logger.info(
        "%s %s seed %d: best epoch %d, validation %.4f, test %.4f (%.0f images/s)",
        model_name,
        rule,
        seed,
        result.best_epoch,
        val.accuracy,
        test.accuracy,
        result.images_per_s,
    )
    return record, result


def measure_costs(prep: Prepared) -> list[ModelCost]:
    """Efficiency of every student (fresh weights: cost does not depend on them) and teacher."""
    e = prep.config.efficiency
    profile = default_registry().get(e.hardware)
    size = int(prep.data.train.images.shape[1])
    num_classes = prep.data.num_classes
    costs = [
        measure_cost(
            create_student(name, num_classes), name, "student", size, size, profile, e.batch_sizes, e.repeats, e.warmup
        )
        for name in prep.config.students
    ]
    costs += [
        measure_cost(t.module, t.label, "teacher", size, t.spec.input_size, profile, e.batch_sizes, e.repeats, e.warmup)
        for t in prep.teachers
    ]
    return costs


def run_experiment(cfg: ExperimentConfig, progress: Progress | None = None) -> Path:
    """Run the whole experiment and return its finished folder <output_dir>/<name>-s<seed>-<stamp>.

    `cfg` has been validated (simsat.cli.distill.load_experiment) and its files checked (run_distill).
    """
    wall = time.perf_counter()
    folder = ExperimentFolder(Path(cfg.output_dir), cfg.name, cfg.seed)
    try:
        _run(cfg, folder.path, progress, wall)
    except BaseException:
        folder.discard()
        raise
    return folder.finish()


def _run(cfg: ExperimentConfig, out: Path, progress: Progress | None, wall: float) -> None:
    (out / "config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False))
    prep = prepare(cfg, progress)
    names = prep.data.train.class_names
    probs = teacher_probabilities(prep)
    teachers = teacher_scores(prep, probs)
    ensemble = teacher_ensemble_scores(prep, probs)
    for t in teachers:
        plot_confusion(
            t["test"]["confusion"],
            names,
            out / f"confusion_teacher_{t['name']}.png",
            f"teacher {t['name']} (test accuracy {t['test']['accuracy']:.4f})",
        )
    (out / "students").mkdir()
    runs = []
    for model_name in cfg.students:
        for rule in cfg.rules:
            for seed in cfg.seeds:
                record, result = run_student(prep, model_name, rule, seed, progress)
                stem = f"{model_name}_{rule}_s{seed}"
                torch.save(result.state, out / "students" / f"{stem}.pt")
                plot_confusion(
                    record["test"]["confusion"],
                    names,
                    out / f"confusion_{stem}.png",
                    f"{model_name}, rule {rule}, seed {seed} (test accuracy "
                    f"{record['test']['accuracy']:.4f}, best epoch {record['best_epoch']})",
                )
                record.update(state_dict=f"students/{stem}.pt", confusion_png=f"confusion_{stem}.png")
                runs.append(record)
    plot_validation_curves(
        runs, out / "validation_curves.png", f"{cfg.name}: validation accuracy per epoch (dots: epoch kept)"
    )
    if cfg.efficiency.enabled:
        write_efficiency(out, measure_costs(prep), default_registry().get(cfg.efficiency.hardware))
    payload = {
        "experiment": cfg.name,
        "description": cfg.description,
        "data": {
            "source": prep.data.source,
            "sizes": prep.data.sizes(),
            "class_names": list(names),
            "normalize": prep.norm.as_dict(),
            "train_fingerprint": prep.train_fingerprint,
        },
        "teacher_logits": {"views": prep.n_views, "how": "precomputed once on every augmented view, eval mode"},
        "teachers": teachers,
        "teacher_ensemble": ensemble,
        "teacher_targets": cfg.teacher_targets,
        "runs": runs,
        "summary": summarize(runs),
        "seconds": {**prep.seconds, "total": time.perf_counter() - wall},
        "environment": environment(),
    }
    write_results(out, payload)

"""Report files of the experiment: metric records, confusion-matrix PNGs, results.json / .csv,
and the efficiency table (parameters, FLOPs, CPU latency, energy; students vs teachers).

Efficiency percentages of a student s against a teacher t, all computed from the counts:
fewer parameters 100 (1 - P_s / P_t), fewer FLOPs 100 (1 - F_s / F_t), less energy per image
100 (1 - E_s / E_t) (equal to fewer FLOPs: both run on one hardware profile), and faster at
batch b 100 (1 - L_s / L_t) (latency reduction of one forward pass of b images); speedup
L_t / L_s.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from torch import nn

from simsat.distill.metrics import EvalResult
from simsat.hardware.profiles import HardwareProfile
from simsat.models.cost import count_flops, count_parameters, measure_latency
from simsat.results.atomic import json_safe, write_json

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SUMMARY_METRICS = ("accuracy", "precision", "recall", "f1")
RESULT_COLUMNS = (
    "role",
    "model",
    "rule",
    "seed",
    "best_epoch",
    "test_accuracy",
    "test_precision",
    "test_recall",
    "test_f1",
    "test_loss",
    "validation_accuracy",
    "validation_precision",
    "validation_recall",
    "validation_f1",
    "train_seconds",
    "wall_seconds",
    "images_per_s",
)


def scores(result: EvalResult, class_names: Sequence[str]) -> dict[str, Any]:
    """Scalar metrics, per-class figures keyed by class name, and the confusion matrix as lists."""
    return {
        **result.as_dict(),
        "per_class": {class_names[c]: figures for c, figures in result.per_class.items()},
        "confusion": np.asarray(result.confusion).tolist(),
    }


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix with counts in the cells (rows: true class)."""
    conf = np.asarray(confusion, dtype=np.int64)
    support = conf.sum(axis=1, keepdims=True)
    share = np.divide(conf, support, out=np.zeros(conf.shape), where=support > 0)
    size = 2.0 + 0.55 * len(class_names)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, class_names, fontsize=8)
    for i in ticks:
        for j in ticks:
            if conf[i, j]:
                colour = "white" if share[i, j] > 0.6 else "black"
                ax.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_validation_curves(runs: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """Validation accuracy after each epoch: one panel per student, one line per rule and schedule.

    Each run needs model, rule, epochs and validation_curve ([{epoch, accuracy}, ...]) and may name
    its schedule (e.g. the experiment it belongs to); seeds of the same model, rule, epochs and
    schedule are averaged (the band spans their lowest and highest value) and the best epoch chosen
    on validation is marked on each seed's curve. A rule keeps its colour across panels; shorter
    schedules are dashed, and named schedules of equal length get a line style each.
    """
    models = list(dict.fromkeys(r["model"] for r in runs))
    if not models:
        raise ValueError("no runs to plot")
    colours = {rule: f"C{i}" for i, rule in enumerate(dict.fromkeys(r["rule"] for r in runs))}
    longest = max(int(r["epochs"]) for r in runs)
    schedules = list(dict.fromkeys(str(r.get("schedule", "")) for r in runs if int(r["epochs"]) == longest))
    styles = {name: ("-", ":", "-.")[i % 3] for i, name in enumerate(schedules)}
    fig, axes = plt.subplots(1, len(models), figsize=(6.0 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
        for r in runs:
            if r["model"] == model:
                groups.setdefault((r["rule"], int(r["epochs"]), str(r.get("schedule", ""))), []).append(r)
        for (rule, epochs, schedule), members in groups.items():
            length = min(len(m["validation_curve"]) for m in members)
            acc = np.array([[100 * e["accuracy"] for e in m["validation_curve"][:length]] for m in members])
            epoch = np.arange(1, length + 1)
            seeds = f"{len(members)} seed{'s' if len(members) > 1 else ''}"
            (line,) = ax.plot(
                epoch,
                acc.mean(axis=0),
                styles[schedule] if epochs == longest else "--",
                lw=1.4,
                color=colours[rule],
                label=f"{rule}, {f'{schedule}, ' if schedule else ''}{epochs} epochs ({seeds})",
            )
            if len(members) > 1:
                ax.fill_between(epoch, acc.min(axis=0), acc.max(axis=0), color=line.get_color(), alpha=0.15)
            for m in members:
                best = int(m["best_epoch"])
                if best <= length:
                    ax.plot(best, 100 * m["validation_curve"][best - 1]["accuracy"], "o", ms=4, color=line.get_color())
        top = max(100 * e["accuracy"] for r in runs if r["model"] == model for e in r["validation_curve"])
        ax.set_ylim(max(0.0, top - 6.0), min(100.0, top + 0.8))
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(model)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def mean_std(values: Sequence[float]) -> dict[str, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std}


def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and std over seeds of test (and validation accuracy) per model x rule, in run order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["model"], run["rule"]), []).append(run)
    summary = []
    for (model, rule), members in groups.items():
        entry: dict[str, Any] = {"model": model, "rule": rule, "seeds": [r["seed"] for r in members]}
        for metric in SUMMARY_METRICS:
            values = [r["test"][metric] for r in members]
            entry[f"test_{metric}"] = {**mean_std(values), "per_seed": values}
        entry["validation_accuracy"] = mean_std([r["validation"]["accuracy"] for r in members])
        entry["images_per_s"] = mean_std([r["images_per_s"] for r in members])
        summary.append(entry)
    return summary


def _row(record: dict[str, Any], role: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "role": role,
        "model": record.get("model", record.get("name")),
        "rule": record.get("rule", ""),
        "seed": record.get("seed", ""),
        "best_epoch": record.get("best_epoch", ""),
        "train_seconds": record.get("train_seconds", ""),
        "wall_seconds": record.get("wall_seconds", ""),
        "images_per_s": record.get("images_per_s", ""),
    }
    for split in ("test", "validation"):
        for metric in (*SUMMARY_METRICS, "loss"):
            if f"{split}_{metric}" in RESULT_COLUMNS:
                row[f"{split}_{metric}"] = record[split][metric]
    return row


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json_safe(v) for k, v in row.items()})
    return path


def write_results(folder: Path, payload: dict[str, Any]) -> None:
    """results.json (everything) and results.csv (one row per teacher and per student run)."""
    write_json(folder / "results.json", payload)
    rows = [_row(t, "teacher") for t in payload["teachers"]] + [_row(r, "student") for r in payload["runs"]]
    write_csv(folder / "results.csv", rows, RESULT_COLUMNS)


@dataclass
class ModelCost:
    """One model's cost: FLOPs of one forward pass at the size it runs at, latency per batch size."""

    role: str  # "student" | "teacher"
    name: str
    input_size: int  # the size the network itself sees (teachers resize internally)
    parameters: int
    flops: int  # one image, counted on a data-size input (includes a teacher's resize)
    latency_s: dict[int, float]  # batch size -> median seconds of one forward pass
    energy_j: float  # per image on the hardware profile: flops / flops_per_s * busy_w

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "role": self.role,
            "name": self.name,
            "input_size": self.input_size,
            "parameters": self.parameters,
            "flops": self.flops,
            "energy_j": self.energy_j,
        }
        for batch, seconds in self.latency_s.items():
            row[f"latency_ms_b{batch}"] = 1e3 * seconds
            row[f"latency_ms_per_image_b{batch}"] = 1e3 * seconds / batch
        return row


def measure_cost(
    model: nn.Module,
    name: str,
    role: str,
    data_size: int,
    input_size: int,
    profile: HardwareProfile,
    batch_sizes: Sequence[int],
    repeats: int = 20,
    warmup: int = 5,
) -> ModelCost:
    """Parameters, FLOPs and latency of `model` fed data_size x data_size images, energy on `profile`."""
    flops = count_flops(model, data_size, batch=1)
    latency = {int(b): measure_latency(model, data_size, int(b), repeats, warmup) for b in batch_sizes}
    return ModelCost(
        role=role,
        name=name,
        input_size=input_size,
        parameters=count_parameters(model),
        flops=flops,
        latency_s=latency,
        energy_j=flops / profile.flops_per_s * profile.busy_w,
    )


def _fewer(student: float, teacher: float) -> float:
    return 100.0 * (1.0 - student / teacher) if teacher > 0 else float("nan")


def compare(costs: Sequence[ModelCost]) -> list[dict[str, Any]]:
    """The paper's table: every student against every teacher, percentages from the counts."""
    rows = []
    for s in (c for c in costs if c.role == "student"):
        for t in (c for c in costs if c.role == "teacher"):
            row: dict[str, Any] = {
                "student": s.name,
                "teacher": t.name,
                "fewer_parameters_pct": _fewer(s.parameters, t.parameters),
                "fewer_flops_pct": _fewer(s.flops, t.flops),
                "less_energy_pct": _fewer(s.energy_j, t.energy_j),
            }
            for batch in s.latency_s:
                if batch in t.latency_s:
                    row[f"faster_pct_b{batch}"] = _fewer(s.latency_s[batch], t.latency_s[batch])
                    row[f"speedup_b{batch}"] = t.latency_s[batch] / s.latency_s[batch]
            rows.append(row)
    return rows


def write_efficiency(folder: Path, costs: Sequence[ModelCost], profile: HardwareProfile) -> dict[str, Any]:
    """efficiency.json (models, comparison, profile), efficiency.csv (models) and
    efficiency_comparison.csv (students vs teachers); returns the JSON payload."""
    models = [c.as_row() for c in costs]
    comparison = compare(costs)
    payload = {
        "hardware": {"name": profile.name, "flops_per_s": profile.flops_per_s, "busy_w": profile.busy_w},
        "latency": "median seconds of one forward pass on this machine's CPU, after warm-up",
        "models": models,
        "comparison": comparison,
    }
    write_json(folder / "efficiency.json", payload)
    write_csv(folder / "efficiency.csv", models, list(models[0]) if models else [])
    write_csv(folder / "efficiency_comparison.csv", comparison, list(comparison[0]) if comparison else [])
    return payload

"""The sweep's comparison plots: accuracy over simulated time per run, and the final accuracy
against each swept key. Failed and pending runs are left out."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simsat.results.style import save
from simsat.sweep.records import DONE

ACCURACY_PNG = "accuracy_runs.png"
FINAL_PNG = "final_accuracy.png"
MAX_LEGEND = 12


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _curve(metrics_csv: Path) -> tuple[list[float], list[float]]:
    with metrics_csv.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("accuracy") not in (None, "")]
    return [float(r["sim_hours"]) for r in rows], [float(r["accuracy"]) for r in rows]


def _colours(values: Sequence[str]) -> tuple[dict[str, Any], Normalize | None]:
    """A colour per distinct value: a sequential map for numbers, categorical colours otherwise."""
    distinct = list(dict.fromkeys(values))
    found = [_number(v) for v in distinct]
    numbers = [n for n in found if n is not None]
    if len(distinct) > 1 and len(numbers) == len(distinct):
        norm = Normalize(min(numbers), max(numbers))
        cmap = colormaps["viridis"]
        return {v: cmap(norm(n)) for v, n in zip(distinct, numbers, strict=True)}, norm
    cmap = colormaps["tab10"]
    return {v: cmap(i % 10) for i, v in enumerate(distinct)}, None


def plot_accuracy_runs(folder: Path, swept: Sequence[str], rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Every finished run's accuracy over simulated hours, coloured by the first swept key."""
    done = [r for r in rows if r["status"] == DONE]
    key = swept[0] if swept else None
    values = [str(r.get(key, "")) if key else "" for r in done]
    colours, norm = _colours(values)
    fig = Figure(figsize=(9, 5.1))
    ax = fig.add_subplot()
    for row, value in zip(done, values, strict=True):
        hours, accuracy = _curve(folder / row["run_folder"] / "metrics.csv")
        ax.step(hours, accuracy, where="post", color=colours[value], lw=1.3, alpha=0.85)
        ax.scatter(hours[-1:], accuracy[-1:], color=colours[value], s=18, zorder=3)
    ax.set_xlabel("simulated time (hours)")
    ax.set_ylabel("test accuracy of the global student")
    ax.grid(alpha=0.3)
    title = f"{len(done)} runs" + (f", coloured by {key}" if key else "")
    ax.set_title(f"Accuracy over simulated time: {title}")
    if key and norm is not None and len(colours) > MAX_LEGEND:
        from matplotlib.cm import ScalarMappable

        fig.colorbar(ScalarMappable(norm=norm, cmap=colormaps["viridis"]), ax=ax, label=key)
    elif key:
        handles = [Line2D([], [], color=c, lw=2) for c in colours.values()]
        ax.legend(handles, [f"{key}={v}" for v in colours], fontsize=8, loc="best")
    fig.tight_layout()
    return save(fig, path)


def plot_final_by_key(swept: Sequence[str], rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Final accuracy against each swept key (one panel per key; each dot one run, the line the mean)."""
    done = [r for r in rows if r["status"] == DONE and r.get("final_accuracy") is not None]
    keys = list(swept) or ["run"]
    fig = Figure(figsize=(max(4.5 * len(keys), 6.0), 4.2))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        values = [str(r.get(key, "")) for r in done]
        distinct = list(dict.fromkeys(values))
        numeric = all(_number(v) is not None for v in distinct)
        order = sorted(distinct, key=float) if numeric else distinct
        position = {v: (float(v) if numeric else j) for j, v in enumerate(order)}
        xs = [position[v] for v in values]
        ys = [float(r["final_accuracy"]) for r in done]
        ax.scatter(xs, ys, color="#3182bd", s=28, zorder=3, alpha=0.8)
        means = [
            (position[v], sum(y for y, w in zip(ys, values, strict=True) if w == v) / values.count(v)) for v in order
        ]
        if means:
            ax.plot(*zip(*means, strict=True), color="#08519c", lw=1.2, zorder=2)
        if not numeric:
            ax.set_xticks([position[v] for v in order], order, rotation=20, fontsize=8)
            ax.set_xlim(-0.5, len(order) - 0.5)
        elif len(order) <= MAX_LEGEND:
            ax.set_xticks([position[v] for v in order], order)
        ax.set_xlabel(key)
        ax.set_ylabel("final test accuracy" if i == 0 else "")
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"Final accuracy against each swept key\n{len(done)} runs (dots); line: the mean over the other keys",
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, path)


def plot_sweep(folder: Path, swept: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[Path]:
    """Both plots in the sweep folder (none while no run has finished)."""
    if not any(r["status"] == DONE for r in rows):
        return []
    rows = [{**r, "run": str(r["run"])} for r in rows]
    return [
        plot_accuracy_runs(folder, swept, rows, folder / ACCURACY_PNG),
        plot_final_by_key(swept, rows, folder / FINAL_PNG),
    ]

"""The comparison plots of a sweep (or of any folders compared), one point or line per configuration
with its seeds folded: accuracy over simulated time (mean line, band from the lowest to the highest
seed), final accuracy against each key with 95 % confidence intervals (seeds as rings beside each, no line
across them), and trade-offs (final accuracy against bytes down, onboard energy and hours to 0.80)
with the Pareto front marked.

Readable at 50 configurations: up to HIGHLIGHT configurations each get a colour and a legend entry;
beyond that the best HIGHLIGHT_BEST by mean final accuracy are coloured and labelled and the others
drawn thin and grey (the titles say so), and only the Pareto front is labelled in the trade-offs.
Failed and pending runs are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simsat.results.facts import human_bytes
from simsat.results.runfolder import read_metrics
from simsat.results.style import save
from simsat.sweep.fold import DONE, ConfigFold, Stat, bounds

ACCURACY_PNG = "accuracy.png"
FINAL_PNG = "final_accuracy.png"
TRADEOFFS_PNG = "tradeoffs.png"
PLOTS: tuple[tuple[str, str], ...] = (
    (ACCURACY_PNG, "Accuracy over simulated time per configuration: mean of its seeds, band from lowest to highest"),
    (FINAL_PNG, "Final accuracy against each key: mean and 95 % confidence interval per configuration, seeds as rings"),
    (TRADEOFFS_PNG, "Trade-offs: final accuracy against bytes down, onboard energy and hours to 0.80, Pareto front"),
)
HIGHLIGHT = 8  # up to this many configurations, every one has its colour
HIGHLIGHT_BEST = 5  # beyond, the best this many are coloured
GREY = "#b0b0b0"
TRADEOFF_AXES: tuple[tuple[str, str], ...] = (
    ("bytes_down", "bytes down (mean per run)"),
    ("energy_wh", "onboard training energy (Wh, mean per run)"),
    ("time_to_0.80_h", "simulated hours to 0.80 (seeds that reached it)"),
)


def finished(folds: Sequence[ConfigFold]) -> list[ConfigFold]:
    return [f for f in folds if f.done > 0]


def colours(folds: Sequence[ConfigFold]) -> tuple[dict[str, Any], str]:
    """A colour per configuration id (grey where not highlighted) and a note saying which are highlighted."""
    cmap = colormaps["tab10"]
    if len(folds) <= HIGHLIGHT:
        return {f.id: cmap(i % 10) for i, f in enumerate(folds)}, ""
    ranked = sorted(folds, key=lambda f: -(f.stats["final_accuracy"].mean or 0.0))[:HIGHLIGHT_BEST]
    best = {f.id: cmap(i) for i, f in enumerate(ranked)}
    note = f"the {len(best)} best of {len(folds)} configurations by mean final accuracy in colour, the others grey"
    return {f.id: best.get(f.id, GREY) for f in folds}, note


def _legend_label(fold: ConfigFold) -> str:
    """ "c3: aggregation=sync, share=0.3": each key by its last part (the table has the full keys)."""
    values = ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in fold.label.items()) or fold.title
    text = f"{fold.id}: {values}"
    return text if len(text) <= 60 else text[:57] + "..."


def seed_curves(fold: ConfigFold) -> list[tuple[list[float], list[float]]]:
    """Each finished seed's (hours, accuracy) from its metrics.csv."""
    curves = []
    for run in fold.runs:
        if run.status != DONE or run.folder is None:
            continue
        rows = [r for r in read_metrics(run.folder / "metrics.csv") if r.accuracy is not None]
        if rows:
            curves.append(([r.hours for r in rows], [float(r.accuracy or 0.0) for r in rows]))
    return curves


def _at(hours: Sequence[float], values: Sequence[float], t: float) -> float:
    """The step curve's value at t: the last evaluation at or before t (the first before any)."""
    current = values[0]
    for h, v in zip(hours, values, strict=True):
        if h > t:
            break
        current = v
    return current


def folded_curve(curves: Sequence[tuple[list[float], list[float]]]) -> tuple[list[float], ...]:
    """(times, mean, lowest, highest) of step curves on the union of their evaluation times."""
    times = sorted({h for hours, _ in curves for h in hours})
    mean, low, high = [], [], []
    for t in times:
        values = [_at(hours, acc, t) for hours, acc in curves]
        mean.append(sum(values) / len(values))
        low.append(min(values))
        high.append(max(values))
    return times, mean, low, high


def plot_accuracy(folds: Sequence[ConfigFold], path: Path) -> Path:
    done = finished(folds)
    colour, note = colours(done)
    fig = Figure(figsize=(9.5, 5.4))
    ax = fig.add_subplot()
    # grey ones first, so the coloured ones stay on top
    for fold in sorted(done, key=lambda f: colour[f.id] != GREY):
        curves = seed_curves(fold)
        if not curves:
            continue
        times, mean, low, high = folded_curve(curves)
        grey = colour[fold.id] == GREY
        if not grey and len(curves) > 1:
            ax.fill_between(times, low, high, step="post", color=colour[fold.id], alpha=0.18, lw=0)
        ax.step(
            times,
            mean,
            where="post",
            color=colour[fold.id],
            lw=0.8 if grey else 1.8,
            alpha=0.6 if grey else 1.0,
            label=None if grey else f"{_legend_label(fold)} ({len(curves)} seeds)",
            zorder=1 if grey else 3,
        )
    ax.set_xlabel("simulated time (hours)")
    ax.set_ylabel("test accuracy of the global student")
    ax.grid(alpha=0.3)
    ax.set_title(
        f"Accuracy over simulated time: {len(done)} configurations, mean of seeds, band lowest to highest seed"
        + (f"\n{note}" if note else ""),
        fontsize=10,
    )
    if done:
        ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    return save(fig, path)


def _order(values: Sequence[str]) -> list[str]:
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return distinct


def _seed_values(fold: ConfigFold, column: str) -> list[float]:
    return [v for r in fold.runs if r.status == DONE and (v := r.facts.get(column)) is not None]


def _err(column: str, s: Stat) -> list[list[float]] | None:
    """Error bar lengths below and above the mean: the 95 % interval clipped to what the value can be."""
    interval = bounds(column, s)
    if interval is None or s.mean is None:
        return None
    return [[s.mean - interval[0]], [interval[1] - s.mean]]


def plot_final_by_key(folds: Sequence[ConfigFold], keys: Sequence[str], path: Path) -> Path:
    """One panel per key: each configuration at its value (side by side where several share it),
    its mean final accuracy with the 95 % confidence interval, its seeds as rings beside it."""
    done = finished(folds)
    colour, note = colours(done)
    panels = list(keys) or ["configuration"]
    fig = Figure(figsize=(max(4.6 * len(panels), 6.5), 4.6))
    for i, key in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        values = [fold.label.get(key, fold.id) if keys else fold.id for fold in done]
        order = _order(values)
        for position, value in enumerate(order):
            here = [f for f, v in zip(done, values, strict=True) if v == value]
            width = min(0.7, 0.12 * len(here))
            for j, fold in enumerate(here):
                x = position + (j - (len(here) - 1) / 2) * (width / max(len(here) - 1, 1))
                s: Stat = fold.stats["final_accuracy"]
                if s.mean is None:
                    continue
                seeds = _seed_values(fold, "final_accuracy")
                offset = min(0.08, width / max(len(here), 1) / 3) if len(here) > 1 else 0.08
                ax.scatter(
                    [x + offset] * len(seeds), seeds, facecolors="none", edgecolors=colour[fold.id], s=14, alpha=0.7
                )
                ax.errorbar(
                    x,
                    s.mean,
                    yerr=_err("final_accuracy", s),
                    fmt="o",
                    ms=5,
                    color=colour[fold.id],
                    capsize=3,
                    elinewidth=1.2,
                    zorder=3,
                )
        ax.set_xticks(range(len(order)), order, rotation=20 if max(map(len, order), default=0) > 6 else 0, fontsize=8)
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.set_xlabel(key)
        ax.set_ylabel("final test accuracy" if i == 0 else "")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(
        "Final accuracy against each key: a configuration's mean\nwith its 95 % confidence interval,"
        " its seeds as rings beside it" + (f"\n{note}" if note else ""),
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, path)


def pareto_front(points: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The points no other beats on both axes (lower x, higher y), by increasing x."""
    front: list[tuple[float, float, str]] = []
    for x, y, name in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or y > front[-1][1]:
            front.append((x, y, name))
    return front


def _byte_axis(value: float, _: int) -> str:
    return human_bytes(value)


def plot_tradeoffs(folds: Sequence[ConfigFold], path: Path) -> Path:
    done = finished(folds)
    colour, note = colours(done)
    fig = Figure(figsize=(15, 4.9))
    for i, (column, label) in enumerate(TRADEOFF_AXES):
        ax = fig.add_subplot(1, len(TRADEOFF_AXES), i + 1)
        points = []
        left_out = 0
        for fold in done:
            sx, sy = fold.stats[column], fold.stats["final_accuracy"]
            if sx.mean is None or sy.mean is None:
                left_out += 1
                continue
            points.append((sx.mean, sy.mean, fold.id))
            ax.errorbar(
                sx.mean,
                sy.mean,
                xerr=_err(column, sx),
                yerr=_err("final_accuracy", sy),
                fmt="o",
                ms=5,
                color=colour[fold.id],
                capsize=2,
                elinewidth=1,
                zorder=3,
            )
        front = pareto_front(points)
        if front:
            xs, ys, names = zip(*front, strict=True)
            ax.step(xs, ys, where="post", color="#222222", ls="--", lw=1, zorder=2, label="Pareto front")
            ax.scatter(xs, ys, s=140, facecolors="none", edgecolors="#222222", lw=1.2, zorder=4)
            ax.legend(fontsize=8, loc="lower right")
        labelled = {p[2] for p in (points if len(points) <= 12 else front)}
        for x, y, name in points:
            if name in labelled:
                ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 5), fontsize=8)
        if column == "bytes_down":
            ax.xaxis.set_major_formatter(FuncFormatter(_byte_axis))
        ax.set_xlabel(label)
        ax.set_ylabel("final test accuracy (mean)" if i == 0 else "")
        ax.grid(alpha=0.3)
        if left_out:
            ax.set_title(f"{left_out} configuration(s) without a value left out", fontsize=8.5)
        if not points:
            empty = "no configuration reached 0.80" if column.startswith("time_to") else "no configuration has a value"
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(
        "Trade-offs: each configuration's mean with 95 % confidence intervals; Pareto front (higher accuracy"
        " for less) ringed and dashed" + (f"\n{note}" if note else ""),
        fontsize=10,
    )
    fig.tight_layout()
    return save(fig, path)


def plot_comparison(folds: Sequence[ConfigFold], keys: Sequence[str], folder: Path) -> list[Path]:
    """The three plots in `folder` (none while no run has finished)."""
    if not finished(folds):
        return []
    return [
        plot_accuracy(folds, folder / ACCURACY_PNG),
        plot_final_by_key(folds, keys, folder / FINAL_PNG),
        plot_tradeoffs(folds, folder / TRADEOFFS_PNG),
    ]

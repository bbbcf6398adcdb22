"""accuracy.png: the global student's accuracy over simulated time, aggregations marked by staleness."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simsat.results.runfolder import RunData, lookup
from simsat.results.style import (
    GROUND_ONLY,
    MARKER_CONTRIBUTORS_CAP,
    REFERENCE,
    STALENESS_COLOURS,
    STALENESS_LABELS,
    contributors_marker_size,
    save,
    staleness_class,
)


def _references(run: RunData) -> list[tuple[str, float, str, str]]:
    """(label, accuracy, colour, line style) for teachers and the ground-only reference."""
    refs = []
    for teacher in lookup(run.summary, "reference.teachers", []) or []:
        if isinstance(teacher, dict) and isinstance(teacher.get("accuracy"), (int, float)):
            refs.append((f"teacher {teacher.get('name', '')}".strip(), float(teacher["accuracy"]), REFERENCE, "--"))
    ground = lookup(run.summary, "reference.ground_only_accuracy")
    if isinstance(ground, (int, float)):
        refs.append(("ground-only student", float(ground), GROUND_ONLY, ":"))
    return refs


def _percent(threshold: str) -> str:
    try:
        return f"{float(threshold):.0%}"
    except ValueError:
        return threshold


def plot_accuracy(run: RunData, path: Path) -> Path:
    fig = Figure(figsize=(9, 5.1))
    ax = fig.add_subplot()
    hours_total = max(run.duration_s / 3600.0, 1e-3)
    scored = [(r, r.accuracy) for r in run.metrics if r.accuracy is not None]
    rows = [r for r, _ in scored]
    aggregations = [(r, acc) for r, acc in scored if r.event == "aggregation"]
    if scored:
        xs, ys = [r.hours for r, _ in scored], [acc for _, acc in scored]
        if xs[-1] < hours_total:  # the last model holds until the mission ends
            xs, ys = [*xs, hours_total], [*ys, ys[-1]]
        ax.step(xs, ys, where="post", color="#737373", lw=1.2, zorder=2)
        f1 = [(r.hours, r.values["f1"]) for r in rows if "f1" in r.values]
        if f1:
            ax.step(*zip(*f1, strict=True), where="post", color="#9e9ac8", lw=0.9, ls="--", zorder=1)
    for r, acc in aggregations:
        cls = staleness_class(r.staleness)
        size = contributors_marker_size(len(r.satellites), 25, 25)
        ax.scatter([r.hours], [acc], s=size, color=STALENESS_COLOURS[cls], edgecolor="black", lw=0.5, zorder=4)
    for r, acc in scored:
        if r.event in ("initial", "final"):
            ax.scatter(
                [r.hours],
                [acc],
                marker="s" if r.event == "initial" else "D",
                s=70,
                color="white",
                edgecolor="black",
                zorder=3,
            )
    # the largest fall between consecutive aggregations, with what the aggregation mixed in
    drops = [(a - b, row, b) for (_, a), (row, b) in pairwise(scored) if row.event == "aggregation"]
    if drops:
        fall, row, after = max(drops, key=lambda d: d[0])
        if fall >= 0.03:
            worst = max(row.staleness, default=0)
            why = (
                f"updates up to {worst} version{'s' if worst != 1 else ''} stale" if worst > 0 else "all updates fresh"
            )
            ax.annotate(
                f"−{fall:.2f} after v{row.version}: {why}",
                xy=(row.hours, after),
                xytext=(0, 34 if after < 0.5 else -34),
                textcoords="offset points",
                ha="right" if row.hours > 0.6 * hours_total else "left",
                fontsize=8,
                arrowprops={"arrowstyle": "->", "lw": 0.7},
            )
    placed: list[float] = []
    for label, value, colour, style in sorted(_references(run), key=lambda r: r[1]):
        ax.axhline(value, color=colour, ls=style, lw=1)
        y = max([value, *(p + 0.035 for p in placed)])  # labels never overlap
        placed.append(y)
        ax.text(
            1.01,
            y,
            f"{label} {value:.3f}",
            color=colour,
            fontsize=8,
            va="center",
            ha="left",
            transform=ax.get_yaxis_transform(),
        )
    if not aggregations:
        ax.text(
            0.5,
            0.55,
            "no aggregation in this run:\nthe global model never changed",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=13,
            color="#b2182b",
        )
    reached = lookup(run.summary, "time_to_accuracy_hours", {}) or {}
    if isinstance(reached, dict) and reached:
        parts = [
            f"{_percent(k)} {'not reached' if v is None else f'after {float(v):.1f} h'}" for k, v in reached.items()
        ]
        ax.set_title("time to accuracy:  " + "    ".join(parts), fontsize=8, loc="left", color="#404040")
    ax.set_xlim(-0.01 * hours_total, 1.01 * hours_total)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("global student accuracy (test split)")
    ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], color="#737373", lw=1.2, label="accuracy"),
        Line2D([], [], color="#9e9ac8", lw=0.9, ls="--", label="macro F1"),
    ]
    events = {r.event for r in rows}
    handles += [
        Line2D([], [], marker=m, ls="", color="white", markeredgecolor="black", label=e)
        for e, m in (("initial", "s"), ("final", "D"))
        if e in events
    ]
    used = sorted({staleness_class(r.staleness) for r, _ in aggregations})
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=STALENESS_COLOURS[c],
            markeredgecolor="black",
            markeredgewidth=0.5,
            label=f"aggregation, {STALENESS_LABELS[c]}",
        )
        for c in used
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        fontsize=7.5,
        frameon=False,
        ncol=min(len(handles), 4),
    )
    scenario = run.summary.get("scenario", run.folder.name)
    title = f"{scenario}: global student accuracy"
    if aggregations:
        made = max(len(run.of_kind("aggregation")), len(aggregations))
        counted = (
            f"{len(aggregations)} of {made} aggregations scored" if made > len(aggregations) else f"{made} aggregations"
        )
        title += f" ({counted}; marker size = contributors, up to {MARKER_CONTRIBUTORS_CAP})"
    fig.suptitle(title, fontsize=10, y=0.97)
    fig.subplots_adjust(left=0.08, right=0.77, top=0.88, bottom=0.2)
    return save(fig, path)

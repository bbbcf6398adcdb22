"""timeline.png: per satellite, eclipse, contacts, transfers (cut ones in red), crosslink transfers
and training; aggregations on the same time axis above."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from simsat.results.runfolder import Interval, RunData, intervals, transfers
from simsat.results.style import (
    AGGREGATION,
    CONTACT,
    CROSSLINK,
    CUT,
    DOWNLINK,
    ECLIPSE,
    MARKER_CONTRIBUTORS_CAP,
    STALENESS_COLOURS,
    TRAINING,
    UPLINK,
    contributors_marker_size,
    sample_satellites,
    save,
    staleness_class,
)

MAX_ROWS = 12
MIN_WIDTH = 0.003  # of the time axis: short events stay visible


def _bars(
    ax: Axes,
    spans: list[Interval],
    rows: dict[int, int],
    y0: float,
    height: float,
    colour: str,
    min_h: float,
    **style: Any,
) -> None:
    by_row: dict[int, list[tuple[float, float]]] = {}
    for s in spans:
        if s.satellite in rows:
            by_row.setdefault(rows[s.satellite], []).append(
                (s.start_s / 3600, max((s.end_s - s.start_s) / 3600, min_h))
            )
    for row, xs in by_row.items():
        ax.broken_barh(xs, (row + y0, height), facecolors=colour, **style)


def plot_timeline(run: RunData, path: Path) -> Path:
    sats, note = sample_satellites(run.satellites, MAX_ROWS)
    rows = {sat: i for i, sat in enumerate(sats)}
    hours = max(run.duration_s / 3600.0, 1e-3)
    min_h = MIN_WIDTH * hours
    top_in, bottom_in, strip_in, row_in = (0.75 if note else 0.5), 0.8, 0.45, 0.36
    body_in = row_in * max(len(sats), 1)
    height = top_in + strip_in + 0.08 + body_in + bottom_in
    fig = Figure(figsize=(11, height))
    grid = fig.add_gridspec(2, 1, height_ratios=[strip_in, body_in], hspace=0.08 / ((strip_in + body_in) / 2))
    top = fig.add_subplot(grid[0])
    ax = fig.add_subplot(grid[1], sharex=top)

    eclipses = intervals(run, "eclipse_start", "eclipse_end")
    _bars(ax, eclipses, rows, -0.5, 1.0, ECLIPSE, min_h, alpha=0.35, linewidth=0)
    _bars(ax, intervals(run, "contact_start", "contact_end"), rows, 0.0, 0.42, CONTACT, min_h, linewidth=0)
    moves = transfers(run)
    for direction, y0, colour in (("up", 0.22, UPLINK), ("down", 0.0, DOWNLINK)):
        done = [t for t in moves if t.direction == direction and t.complete]
        cut = [t for t in moves if t.direction == direction and not t.complete]
        _bars(ax, done, rows, y0, 0.2, colour, min_h, linewidth=0)
        _bars(ax, cut, rows, y0, 0.2, CUT, min_h, linewidth=0.6, edgecolor="black", hatch="////")
    _bars(ax, intervals(run, "train_start", "train_end"), rows, -0.4, 0.32, TRAINING, min_h, linewidth=0)
    crosslinks = transfers(run, "isl_transfer")  # on the sender's row, just below its next row's eclipse band
    _bars(ax, crosslinks, rows, 0.43, 0.06, CROSSLINK, min_h, linewidth=0)
    safe = [e for e in run.of_kind("safe_mode") if e.get("satellite") in rows]
    if safe:
        ax.scatter(
            [e["time_s"] / 3600 for e in safe],
            [rows[e["satellite"]] - 0.24 for e in safe],
            marker="x",
            color="black",
            s=22,
            zorder=5,
        )

    aggregations = run.of_kind("aggregation")
    for e in aggregations:
        x = e["time_s"] / 3600
        ax.axvline(x, color=AGGREGATION, lw=0.6, alpha=0.45, zorder=0)
        stale = [int(s) for s in e.get("staleness", []) if isinstance(s, (int, float))]
        count = len(e.get("satellites", []) or [])
        top.scatter(
            [x],
            [0.5],
            s=contributors_marker_size(count, 20, 18),
            color=STALENESS_COLOURS[staleness_class(stale)],
            edgecolor="black",
            lw=0.5,
            zorder=3,
        )
    top.set_ylim(0, 1)
    top.set_yticks([0.5])
    top.set_yticklabels(["aggregations"], fontsize=8)
    top.tick_params(axis="x", labelbottom=False)
    top.grid(axis="x", alpha=0.3)
    if not aggregations:
        top.text(
            0.5,
            0.5,
            "no aggregation in this run",
            transform=top.transAxes,
            ha="center",
            va="center",
            color="#b2182b",
            fontsize=9,
        )

    ax.set_xlim(-0.01 * hours, 1.01 * hours)
    ax.set_ylim(max(len(sats), 1) - 0.5, -0.5)
    ax.set_yticks(range(len(sats)))
    ax.set_yticklabels([run.satellite_name(s) for s in sats], fontsize=8)
    ax.set_xlabel("simulated time (h)")
    ax.grid(axis="x", alpha=0.3)
    legend = [
        Patch(color=ECLIPSE, alpha=0.35, label="eclipse"),
        Patch(color=CONTACT, label="contact"),
        Patch(color=UPLINK, label="uplink"),
        Patch(color=DOWNLINK, label="downlink"),
        Patch(facecolor=CUT, hatch="////", edgecolor="black", label="transfer cut by window end"),
        Patch(color=TRAINING, label="training"),
    ]
    if crosslinks:
        legend.append(Patch(color=CROSSLINK, label="crosslink (sent)"))
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=8, frameon=False)
    title = (
        f"timeline per satellite (aggregation marker: size = contributors up to {MARKER_CONTRIBUTORS_CAP}, "
        "colour = staleness)"
    )
    if note:
        title += f"\n{note}; aggregations include all satellites"
    top.set_title(title, fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.98, top=1 - top_in / height, bottom=bottom_in / height)
    return save(fig, path)

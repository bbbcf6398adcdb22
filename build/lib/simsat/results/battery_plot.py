"""battery.png: state of charge per satellite in small panels, with floor and resume levels."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simsat.results.runfolder import EMPTY_SOC, RunData, intervals, lookup
from simsat.results.style import CUT, ECLIPSE, sample_satellites, save

MAX_PANELS = 24
COLUMNS = 4
FLOOR_KEYS = ("satellite.power.floor_soc", "power.floor_soc", "battery.floor_soc")
RESUME_KEYS = ("satellite.power.resume_soc", "power.resume_soc", "battery.resume_soc")


def _level(run: RunData, keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = lookup(run.config, key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def plot_battery(run: RunData, path: Path) -> Path:
    sats, note = sample_satellites(list(run.battery) or run.satellites, MAX_PANELS)
    cols = min(COLUMNS, max(len(sats), 1))
    nrows = max(math.ceil(len(sats) / cols), 1)
    fig = Figure(figsize=(2.8 * cols + 0.6, 1.55 * nrows + 1.3))
    axes = fig.subplots(nrows, cols, sharex=True, sharey=True, squeeze=False)
    floor, resume = _level(run, FLOOR_KEYS), _level(run, RESUME_KEYS)
    hours = max(run.duration_s / 3600.0, 1e-3)
    eclipses = intervals(run, "eclipse_start", "eclipse_end")
    for i, ax in enumerate(axes.flat):
        if i >= len(sats):
            ax.set_visible(False)
            continue
        sat = sats[i]
        for e in eclipses:
            if e.satellite == sat:
                ax.axvspan(e.start_s / 3600, e.end_s / 3600, color=ECLIPSE, alpha=0.3, lw=0)
        times, socs = run.battery.get(sat, ([], []))
        label = run.satellite_name(sat)
        if times:
            x = [t / 3600 for t in times]
            ax.plot(x, socs, color="#2171b5", lw=1)
            ax.fill_between(x, 0, 1, where=[s <= EMPTY_SOC for s in socs], color=CUT, alpha=0.35, lw=0, step="post")
            label += f"  min {min(socs):.0%}"
        else:
            ax.text(0.5, 0.5, "no battery data", transform=ax.transAxes, ha="center", va="center", fontsize=8)
        if floor is not None:
            ax.axhline(floor, color=CUT, ls="--", lw=0.9)
        if resume is not None:
            ax.axhline(resume, color="#238b45", ls=":", lw=0.9)
        ax.set_title(label, fontsize=8, pad=2)
        ax.set_xlim(0, hours)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25)
    for ax in axes[-1]:
        ax.set_xlabel("simulated time (h)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("state of charge", fontsize=8)
    handles: list[Artist] = [Line2D([], [], color="#2171b5", lw=1, label="state of charge")]
    if floor is not None:
        handles.append(Line2D([], [], color=CUT, ls="--", label=f"floor {floor:.0%}: training waits below"))
    if resume is not None:
        handles.append(Line2D([], [], color="#238b45", ls=":", label=f"resume {resume:.0%}"))
    handles += [Patch(color=ECLIPSE, alpha=0.3, label="eclipse"), Patch(color=CUT, alpha=0.35, label="empty")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    title = "battery state of charge per satellite"
    if note:
        title += f" ({note})"
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(
        left=0.07,
        right=0.98,
        top=1 - 0.55 / fig.get_figheight(),
        bottom=0.8 / fig.get_figheight(),
        hspace=0.45,
        wspace=0.08,
    )
    return save(fig, path)

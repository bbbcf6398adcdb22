"""Shared look of the run plots: colours, staleness classes, satellite sampling, saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from simsat.results.atomic import write_with

DPI = 120
STALENESS_COLOURS = ("#1a9850", "#91cf60", "#fdae61", "#d73027")  # 0, 1, 2, 3 or more versions stale
STALENESS_LABELS = ("fresh (0)", "1 version stale", "2 versions stale", "3+ versions stale")
CONTACT = "#9ecae1"
UPLINK = "#08519c"
DOWNLINK = "#238b45"
CUT = "#e31a1c"
TRAINING = "#fd8d3c"
CROSSLINK = "#c51b7d"
ECLIPSE = "#bdbdbd"
AGGREGATION = "#6a3d9a"
REFERENCE = "#525252"
GROUND_ONLY = "#984ea3"


def staleness_class(staleness: Sequence[int]) -> int:
    """0..3: the worst staleness among an aggregation's contributors, capped at 3."""
    return min(max(staleness, default=0), 3)


MARKER_CONTRIBUTORS_CAP = 8  # an aggregation marker grows with its contributors up to this many


def contributors_marker_size(contributors: int, base: float, step: float) -> float:
    """Scatter area of an aggregation marker: grows with its contributors, at most
    `MARKER_CONTRIBUTORS_CAP` of them (so 200-update aggregations do not cover the plot)."""
    return base + step * min(max(contributors, 1), MARKER_CONTRIBUTORS_CAP)


def sample_satellites(satellites: Sequence[int], limit: int) -> tuple[list[int], str]:
    """At most `limit` satellites spread evenly over the list, and a note saying so ("" if all)."""
    sats = list(satellites)
    if len(sats) <= limit:
        return sats, ""
    step = len(sats) / limit
    chosen = sorted({sats[int(i * step)] for i in range(limit)})
    every = round(step)
    every_text = ("every " if abs(step - every) < 0.05 else "about every ") + _ordinal(every)
    return chosen, f"{len(chosen)} of {len(sats)} satellites shown ({every_text})"


def _ordinal(n: int) -> str:
    """2nd, 3rd, 11th, 83rd, 121st."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def save(fig: Figure, path: Path) -> Path:
    write_with(path, lambda handle: fig.savefig(handle, format=Path(path).suffix.lstrip(".") or "png", dpi=DPI))
    return path

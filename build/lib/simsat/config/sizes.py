"""Sizes a config implies (time samples, images, memory), checked against this machine before any
of it is allocated.

The estimates are deliberately simple upper-bound-ish figures (bytes per sample times samples);
they exist to refuse configs that cannot possibly fit (e.g. a mission of a billion hours), not
to predict a run's peak memory to the byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simsat.errors import ConfigError

# Contact plan: per satellite and time sample, its position (3 float64), elevation to the
# station being processed and the temporaries of the elevation computation.
CONTACT_BYTES_PER_SAMPLE = 96
# Battery: one (time, state of charge) record and its SimPy bookkeeping per power step.
BATTERY_BYTES_PER_STEP = 160
# Images: uint8 pixels plus two float32 copies (normalised inputs) at some point of a run.
BYTES_PER_PIXEL_VALUE = 9
IMAGE_SIDE = 64


def available_memory_bytes() -> int:
    """Memory this process can still use: MemAvailable on Linux, else total physical memory."""
    meminfo = Path("/proc/meminfo")
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 1 << 62  # unknown platform: do not refuse on memory


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Demand:
    """One allocation a config implies: what it is, in words that name the keys behind it, and its bytes."""

    what: str
    bytes: float


def check_demands(demands: list[Demand], available: int | None = None) -> None:
    """ConfigError naming the largest demand when their sum exceeds the available memory."""
    if not demands:
        return
    limit = available_memory_bytes() if available is None else available
    total = sum(d.bytes for d in demands)
    if total <= limit:
        return
    worst = max(demands, key=lambda d: d.bytes)
    others = f" ({format_bytes(total)} in all)" if total > worst.bytes * 1.01 else ""
    raise ConfigError(
        f"{worst.what} needs about {format_bytes(worst.bytes)}{others}, "
        f"more than this machine's {format_bytes(limit)} of available memory"
    )


def image_bytes(n_images: float, side: int = IMAGE_SIDE) -> float:
    return float(n_images) * side * side * 3 * BYTES_PER_PIXEL_VALUE

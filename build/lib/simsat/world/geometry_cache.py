"""Contact windows and sunlight kept on disk, so runs of one world compute them once.

Runs of a sweep (and repeated runs of a scenario) often share their world: the same orbits,
stations, start and duration. Its contact plan and every satellite's shadow intervals are a
pure function of those, so they are kept in a JSON file named by a digest of what they depend
on (the caller's `key`, which must name everything: orbits, stations, dates, grid steps, and
the contents of any TLE file). A file that cannot be read is computed again with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simsat.results.atomic import write_text
from simsat.world.contacts import ContactWindow
from simsat.world.satellites import Satellites
from simsat.world.sun import Sunlight
from simsat.world.timebase import Epoch

log = logging.getLogger(__name__)

FORMAT = 1  # bumped when what is stored (or how it is computed) changes

Intervals = list[tuple[float, float]]


def geometry_key(key: dict[str, Any]) -> str:
    canonical = json.dumps({"format": FORMAT, **key}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def cached_geometry(
    folder: Path | None,
    key: dict[str, Any],
    satellites: Satellites,
    epoch: Epoch,
    duration_s: float,
    sun_step_s: float,
    compute: Callable[[], tuple[list[ContactWindow], list[Sunlight]]],
) -> tuple[list[ContactWindow], list[Sunlight], bool]:
    """(contacts, sunlight, from_cache): read from `folder` when there, else computed and kept
    (`folder` None: always computed)."""
    if folder is None:
        contacts, sunlight = compute()
        return contacts, sunlight, False
    path = Path(folder) / f"world-{geometry_key(key)}.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            contacts = [ContactWindow(int(w[0]), int(w[1]), float(w[2]), float(w[3]), float(w[4])) for w in stored["c"]]
            sunlight = [
                Sunlight(satellites, i, epoch, duration_s, sun_step_s, (_pairs(shadow), _pairs(umbra)))
                for i, (shadow, umbra) in enumerate(stored["s"])
            ]
            if len(sunlight) != len(satellites):
                raise ValueError(f"{len(sunlight)} satellites stored, {len(satellites)} expected")
            return contacts, sunlight, True
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("ignoring unreadable world cache %s (%s): computing it again", path, exc)
    contacts, sunlight = compute()
    stored = {"c": [list(w) for w in contacts], "s": [[light.shadows, light.umbras] for light in sunlight]}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(stored, separators=(",", ":")))
    return contacts, sunlight, False


def _pairs(values: list[list[float]]) -> Intervals:
    return [(float(a), float(b)) for a, b in values]

"""Trained weights kept on disk, keyed by a digest of everything that shapes them.

The teachers have their own cache (`simsat.distill.teacher_cache`, timm modules with their
records); this one keeps plain arrays with a small JSON record, for the students the ground
trains before a mission (the ground-only reference). A file that cannot be read is ignored
with a warning and trained again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from simsat.results.atomic import write_with

log = logging.getLogger(__name__)

Arrays = dict[str, np.ndarray]
_RECORD = "__record__"


def weights_key(payload: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of `payload` (what the weights are defined by)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cached_weights(
    folder: Path, name: str, payload: dict[str, Any], compute: Callable[[], tuple[dict[str, Any], Arrays]]
) -> tuple[dict[str, Any], Arrays, bool]:
    """(record, arrays, from_cache): from `folder/<name>-<key>.npz` when it is there and readable,
    else `compute()`d and kept there (written whole or not at all)."""
    path = Path(folder) / f"{name}-{weights_key(payload)[:20]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
            record = json.loads(arrays.pop(_RECORD).tobytes().decode("utf-8"))
            return record, arrays, True
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable cached weights %s (%s): training them again", path, exc)
    record, arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8)
    savez: Callable[..., None] = np.savez  # numpy's stub does not type **arrays
    write_with(path, lambda handle: savez(handle, **arrays, **{_RECORD: meta}))
    return record, arrays, False

"""A run's journal: the result of every piece of real work, kept so a killed run can go on.

SimPy's processes are generators and cannot be saved, so a run is not resumed from a snapshot
but replayed: for a config and seed the mission is deterministic, so `simsat resume` plays it
again from the start and takes each expensive result (a satellite's training, an evaluation of
the global student, the teachers' soft labels, a training at the ground, the ground-only
reference) from the journal instead of computing it again. Past the last entry it goes on live.

One entry is one file ``<kind>-<ordinal>.npz`` in the journal folder, written to a temporary
name and renamed, so an entry is whole or absent whatever kills the process. Entries are not
flushed to disk one by one (a run writes thousands an hour): a power loss may leave the last
ones damaged or empty, which a replay tells from a whole entry and computes again.
Each entry keeps a fingerprint of its inputs: when a replay reaches an entry whose inputs
differ (the code, data or config changed since), the journal is dropped from there on and the
run goes on computing live, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from simsat.results.atomic import write_json, write_with

log = logging.getLogger(__name__)

T = TypeVar("T")
_META = "__meta__"
WALL_FILE = "wall.json"  # the run's wall seconds up to its last entry (within a second), over every process
WALL_EVERY_S = 1.0  # wall.json is written again after an entry at most this often
# what reading or decoding a damaged entry raises: cut short (a copy that broke off, a disk fault),
# garbage, or whole but of another shape (a field or an array missing, a value of another type)
DAMAGED = (
    OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError, zipfile.BadZipFile, zlib.error,
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """One journaled result: JSON-safe facts and named arrays."""

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def fingerprint(*parts: Any) -> str:
    """A short digest of numbers, strings and arrays (and dicts of arrays, by sorted key)."""
    digest = hashlib.blake2b(digest_size=12)

    def feed(part: Any) -> None:
        if isinstance(part, Mapping):
            for key in sorted(part):
                digest.update(str(key).encode())
                feed(part[key])
        elif isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            digest.update(repr(part).encode())

    for part in parts:
        feed(part)
    return digest.hexdigest()


class Journal:
    """The entries of one run folder's journal; `remember` looks one up or computes and keeps it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._ordinals: Counter[str] = Counter()
        self.live = False  # True once the replay has left the journal (a changed input)
        self.replayed = 0  # results taken from the journal by this process
        self.recorded = 0  # results this process computed and added
        # wall seconds the processes before this one spent, up to their last entry (None: a journal
        # written before the journal kept them, or none)
        self.earlier_wall_seconds = self._read_wall()
        self._started = time.perf_counter()
        self._wall_written = float("-inf")  # when this process last wrote wall.json (perf_counter)

    def _read_wall(self) -> float | None:
        path = self.folder / WALL_FILE
        if not path.exists():
            return None
        try:
            seconds = float(json.loads(path.read_text(encoding="utf-8"))["wall_seconds"])
            if not 0.0 <= seconds < float("inf"):
                raise ValueError(f"wall_seconds is {seconds}")
            return seconds
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.warning(
                "journal file %s is damaged (%s): the wall time of the processes before this one is not counted",
                path,
                type(exc).__name__,
            )
            return None

    def wall_seconds(self) -> float:
        """The run's wall seconds so far: this process's and those of the processes before it."""
        return (self.earlier_wall_seconds or 0.0) + time.perf_counter() - self._started

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.npz"))

    def next_key(self, kind: str) -> str:
        """The key of the next result of `kind` (results of one kind come in the same order on
        every replay)."""
        self._ordinals[kind] += 1
        return f"{kind}-{self._ordinals[kind]:06d}"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def recall(self, key: str, check: str) -> Entry | None:
        """The entry `key` if it is there and was made from the same inputs (`check`)."""
        path = self._path(key)
        if self.live or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
            if not isinstance(meta, dict):
                raise TypeError(f"its facts are a {type(meta).__name__}, not a mapping")
        except DAMAGED as exc:
            log.warning("journal entry %s is unreadable (%s): computing it again", path, _reason(exc))
            return None
        if meta.get("check") != check:
            log.warning(
                "journal entry %s was made from other inputs than this replay (code, data or config "
                "changed?): the run goes on computing from here",
                path.name,
            )
            self.live = True
            return None
        self.replayed += 1
        return Entry(meta, arrays)

    def recall_as(self, key: str, check: str, load: Callable[[Entry], T]) -> T | None:
        """The entry `key` decoded by `load`, or None when it is absent, from other inputs, or
        damaged in a way only decoding shows (a field or an array missing, a wrong type): then a
        warning names it and it is computed again, as an unreadable one is."""
        entry = self.recall(key, check)
        if entry is None:
            return None
        try:
            return load(entry)
        except DAMAGED as exc:
            log.warning("journal entry %s is damaged (%s): computing it again", self._path(key), _reason(exc))
            self.replayed -= 1
            return None

    def record(self, key: str, check: str, entry: Entry) -> None:
        """Keep `entry` under `key`, whole or not at all."""
        meta = json.dumps({**entry.meta, "check": check}).encode("utf-8")
        arrays = {**entry.arrays, _META: np.frombuffer(meta, dtype=np.uint8)}
        savez: Callable[..., None] = np.savez  # numpy's stub does not type **arrays
        write_with(self._path(key), lambda handle: savez(handle, **arrays), durable=False)
        self.recorded += 1
        now = time.perf_counter()
        if now - self._wall_written >= WALL_EVERY_S:
            self._wall_written = now
            write_json(self.folder / WALL_FILE, {"wall_seconds": round(self.wall_seconds(), 2)}, durable=False)

    def remember(
        self,
        kind: str,
        check: str,
        compute: Callable[[], T],
        save: Callable[[T], Entry],
        load: Callable[[Entry], T],
    ) -> T:
        """The next result of `kind`: from the journal when it holds it, else computed and kept."""
        key = self.next_key(kind)
        found = self.recall_as(key, check, lambda entry: (load(entry),))  # a 1-tuple: a result may be None
        if found is not None:
            return found[0]
        result = compute()
        self.record(key, check, save(result))
        return result

    def remove(self) -> None:
        """Delete the journal (the run it served has finished)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _reason(exc: BaseException) -> str:
    """What was wrong with an entry, on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- codecs for the results the mission journals ---------------------------------------------------
def arrays_entry(prefix: str, arrays: Mapping[str, np.ndarray]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Named arrays stored as ``<prefix><i>`` (names kept in order in the entry's meta)."""
    names = list(arrays)
    return names, {f"{prefix}{i}": np.asarray(arrays[name]) for i, name in enumerate(names)}


def entry_arrays(prefix: str, names: list[str], entry: Entry) -> dict[str, np.ndarray]:
    return {name: entry.arrays[f"{prefix}{i}"] for i, name in enumerate(names)}

"""Writes a run's event log (events.jsonl) and per-evaluation metrics (metrics.csv) as it goes."""

from __future__ import annotations

import csv
import json
import math
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

METRIC_COLUMNS = (
    "time_s",
    "sim_hours",
    "time_utc",
    "event",
    "version",
    "satellite",  # contributors, joined by ';'
    "staleness",  # per contributor, joined by ';'
    "accuracy",
    "precision",
    "recall",
    "f1",
    "loss",
    "bytes_up",
    "bytes_down",
    "images_down",
    "faults",  # faults recorded so far (cumulative; simsat.mission.faults)
)


def _plain(value: Any) -> Any:
    """JSON-safe scalars (numpy numbers to Python, NaN to None)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _seconds(value: Any) -> Any:
    """A time field of an event (`start_s`, `end_s`, `busy_s`, ...): six significant digits, and
    never coarser than the millisecond however late in the mission (six digits alone would keep
    only tenths of a second after 2.8 hours)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1000.0:
        return round(value, 3)
    return _plain(value)


PARTIAL = ".partial"  # suffix of the files while the mission writes them


@dataclass
class EventSlot:
    """An event whose place in the log is taken and whose fields may come later."""

    record: dict[str, Any]
    filled: bool = False


class Recorder:
    """Appends events and metric rows to files in `folder`; keeps them in memory for plots.

    While the mission runs the rows go to ``events.jsonl.partial`` and ``metrics.csv.partial``
    (flushed row by row, so they can be watched); `close(complete=True)` syncs them to disk and
    renames them to ``events.jsonl`` and ``metrics.csv``, so those appear whole or not at all.
    """

    def __init__(self, folder: Path, utc: Callable[[float], datetime] | None = None) -> None:
        """`utc` turns seconds from the mission start into a UTC datetime (time_utc columns)."""
        self.utc = utc
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._events: TextIO = (folder / f"events.jsonl{PARTIAL}").open("w", encoding="utf-8")
        self._metrics_file: TextIO = (folder / f"metrics.csv{PARTIAL}").open("w", newline="", encoding="utf-8")
        self._metrics = csv.DictWriter(self._metrics_file, fieldnames=METRIC_COLUMNS, extrasaction="ignore")
        self._metrics.writeheader()
        self.rows: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._in_order = True  # False once an event came earlier than the one before it
        self._unwritten: deque[EventSlot] = deque()  # in order; the first is still being filled
        self._held = 0  # reserved events not filled yet

    def event(self, kind: str, time_s: float, **fields: Any) -> None:
        self.fill(self.reserve(kind, time_s), **fields)

    def reserve(self, kind: str, time_s: float) -> EventSlot:
        """An event's place in the log, taken now; its fields come with `fill`, later. Events
        after it are written to the file once it is filled, so the file keeps the order in
        which the events were reserved."""
        record: dict[str, Any] = {"time_s": round(float(time_s), 3)}
        if self.utc is not None:
            record["time_utc"] = self._utc(time_s)
        record["kind"] = kind
        if self.events and record["time_s"] < self.events[-1]["time_s"]:
            self._in_order = False
        self.events.append(record)
        slot = EventSlot(record)
        self._unwritten.append(slot)
        self._held += 1
        return slot

    def fill(self, slot: EventSlot, **fields: Any) -> None:
        """Give a reserved event its fields, and write what can be written."""
        slot.record.update({k: _seconds(v) if k.endswith("_s") else _plain(v) for k, v in fields.items()})
        slot.filled = True
        self._held -= 1
        while self._unwritten and self._unwritten[0].filled:
            self._events.write(json.dumps(self._unwritten.popleft().record) + "\n")

    def metric(self, **fields: Any) -> None:
        row = {k: _plain(v) for k, v in fields.items()}
        row["sim_hours"] = round(float(row["time_s"]) / 3600.0, 4)
        if self.utc is not None:
            row["time_utc"] = self._utc(row["time_s"])
        self.rows.append(row)
        self._metrics.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in METRIC_COLUMNS})
        self._metrics_file.flush()

    def _utc(self, time_s: float) -> str:
        assert self.utc is not None
        return self.utc(float(time_s)).isoformat(timespec="seconds").replace("+00:00", "Z")

    def close(self, complete: bool = True) -> None:
        """Close the files; when `complete`, give them their final names (durably).

        Events recorded out of time order (those known only after the mission, such as eclipses)
        are merged into place first, so ``events.jsonl`` is in simulated time order.
        """
        if self._held:  # reserved and never filled (a mission cut short): left out
            unfilled = {id(slot.record) for slot in self._unwritten if not slot.filled}
            self.events = [record for record in self.events if id(record) not in unfilled]
            rest = [slot.record for slot in self._unwritten if slot.filled]
            self._unwritten.clear()
            self._held = 0
            if not self._events.closed:
                self._events.writelines(json.dumps(record) + "\n" for record in rest)
        if complete and not self._in_order and not self._events.closed:
            self.events.sort(key=lambda record: record["time_s"])  # stable: same-time events keep their order
            self._events.seek(0)
            self._events.truncate()
            self._events.writelines(json.dumps(record) + "\n" for record in self.events)
            self._in_order = True
        for handle in (self._events, self._metrics_file):
            if handle.closed:
                continue
            if complete:
                handle.flush()
                os.fsync(handle.fileno())
            handle.close()
            if complete:
                partial = Path(handle.name)
                os.replace(partial, partial.with_name(partial.name.removesuffix(PARTIAL)))

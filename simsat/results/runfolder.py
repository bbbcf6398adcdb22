"""Reading a mission run folder's files (the formats the mission writes) for plots, tables and the report.

Formats, all in the run folder:

- ``metrics.csv``: one row per evaluation of the global student; the columns are
  :data:`simsat.results.recorder.METRIC_COLUMNS` (``satellite``: the aggregation's contributors
  joined by ';'; ``staleness``: per contributor, same order), explained in
  :mod:`simsat.results.readme`.
- ``events.jsonl``: one JSON object per line with ``kind`` and ``time_s`` (simulated seconds);
  kinds: ``contact_start``/``contact_end`` (satellite, station), ``transfer`` (satellite,
  direction up|down, payload model|knowledge|imagery|update, bytes, total_bytes, complete,
  start_s; ``time_s`` is when it stopped), ``train_start``/``train_end`` (satellite, images,
  compute_s, wall_s, energy_wh), ``aggregation`` (version, satellites, staleness),
  ``eclipse_start``/``eclipse_end`` (satellite), ``safe_mode`` (satellite), ``fault`` and the
  ground's training events; :data:`simsat.results.readme.EVENT_KINDS` lists them.
- ``battery.csv``: ``time_s, satellite, soc`` (state of charge 0..1), one row per sample.
- ``summary.json``: the run's facts, grouped (see :mod:`simsat.results.table`).
- ``config.yaml``: the resolved config.

Every reader tolerates missing files and missing optional keys.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from simsat.results.atomic import write_text

BATTERY_COLUMNS = ("time_s", "satellite", "soc")
BatteryHistories = dict[int, tuple[list[float], list[float]]]  # satellite -> (times in s, states of charge)
EMPTY_SOC = 0.005  # at or below this the battery counts as empty


@dataclass
class MetricRow:
    time_s: float
    event: str
    version: int | None
    satellites: list[int]
    staleness: list[int]
    values: dict[str, float]  # accuracy, precision, recall, f1, loss where present

    @property
    def hours(self) -> float:
        return self.time_s / 3600.0

    @property
    def accuracy(self) -> float | None:
        return self.values.get("accuracy")


@dataclass
class Interval:
    satellite: int
    start_s: float
    end_s: float
    label: str = ""  # station for contacts, payload for transfers
    complete: bool = True
    direction: str = ""
    nbytes: int = 0  # bytes moved, for transfers


@dataclass
class RunData:
    folder: Path
    summary: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    config_text: str = ""
    metrics: list[MetricRow] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    battery: BatteryHistories = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Mission length: from the config, else the last time seen in any file."""
        hours = lookup(self.config, "mission.duration_hours")
        if isinstance(hours, (int, float)) and hours > 0:
            return float(hours) * 3600.0
        times = [r.time_s for r in self.metrics] + [float(e.get("time_s", 0.0)) for e in self.events]
        times += [t[-1] for t, _ in self.battery.values() if t]
        return max(times, default=0.0)

    @property
    def satellites(self) -> list[int]:
        """Every satellite named in the events or battery file, sorted."""
        found = {int(e["satellite"]) for e in self.events if isinstance(e.get("satellite"), int)}
        found |= set(self.battery)
        count = self.summary.get("satellites")
        if isinstance(count, int) and count > 0:
            found |= set(range(count))
        return sorted(found)

    def satellite_name(self, index: int) -> str:
        """A satellite's name (its name in the constellation, as `simsat contacts` writes it);
        `sat N` for a run folder whose summary names none."""
        names = self.summary.get("satellite_names")
        if isinstance(names, list) and 0 <= index < len(names) and isinstance(names[index], str):
            return names[index]
        return f"sat {index}"

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") in kinds]


def lookup(data: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    """`data["a"]["b"]` for "a.b", or `default` where any part is missing."""
    current: Any = data
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return default
        current = current[part]
    return current


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _ints(text: str | None) -> list[int]:
    out = []
    for part in (text or "").replace(",", ";").split(";"):
        value = _number(part.strip())
        if value is not None:
            out.append(int(value))
    return out


def read_metrics(path: Path) -> list[MetricRow]:
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        for raw in csv.DictReader(f):
            time_s = _number(raw.get("time_s"))
            if time_s is None:
                continue
            version = _number(raw.get("version"))
            values = {
                k: v
                for k in ("accuracy", "precision", "recall", "f1", "loss")
                if (v := _number(raw.get(k))) is not None
            }
            rows.append(
                MetricRow(
                    time_s,
                    (raw.get("event") or "").strip(),
                    None if version is None else int(version),
                    _ints(raw.get("satellite")),
                    _ints(raw.get("staleness")),
                    values,
                )
            )
    return rows


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "kind" in record and _number(str(record.get("time_s"))) is not None:
            record["time_s"] = float(record["time_s"])
            events.append(record)
    events.sort(key=lambda e: e["time_s"])
    return events


def read_battery(path: Path) -> BatteryHistories:
    if not path.is_file():
        return {}
    histories: BatteryHistories = {}
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows, [])
        if not all(name in header for name in BATTERY_COLUMNS):
            return {}
        at_t, at_sat, at_soc = (header.index(name) for name in BATTERY_COLUMNS)
        for raw in rows:  # csv.reader and plain float(): a day of 1,000 satellites is millions of rows
            try:
                t, sat, soc = float(raw[at_t]), float(raw[at_sat]), float(raw[at_soc])
            except (ValueError, IndexError):
                continue  # a short row, or a field that is not a number
            if not (math.isfinite(t) and math.isfinite(sat) and math.isfinite(soc)):
                continue
            times, socs = histories.setdefault(int(sat), ([], []))
            times.append(t)
            socs.append(soc)
    return dict(sorted(histories.items()))


def write_battery_csv(path: Path, histories: Mapping[int, Iterable[tuple[float, float]]]) -> BatteryHistories:
    """Write battery histories (satellite -> [(time_s, soc), ...]) as ``battery.csv`` (atomically);
    return them as `read_battery` reads the file back (rounded as written)."""
    lines = [",".join(BATTERY_COLUMNS)]
    written: BatteryHistories = {}
    for sat, history in sorted(histories.items()):
        times: list[float] = []
        socs: list[float] = []
        for t, soc in history:
            t_text, soc_text = f"{float(t):.1f}", f"{float(soc):.4f}"
            lines.append(f"{t_text},{int(sat)},{soc_text}")
            t_value, soc_value = float(t_text), float(soc_text)
            if math.isfinite(t_value) and math.isfinite(soc_value):
                times.append(t_value)
                socs.append(soc_value)
        if times:
            written[int(sat)] = (times, socs)
    lines.append("")
    write_text(path, "\r\n".join(lines))  # csv's own line ends, as the file always had
    return written


def battery_facts(histories: Mapping[int, tuple[Sequence[float], Sequence[float]]]) -> dict[str, Any]:
    """Lowest state of charge, and which satellites hit empty and for how long (for summary.json)."""
    lowest = 1.0
    empty_s: dict[int, float] = {}
    for sat, (times, socs) in histories.items():
        if socs:
            lowest = min(lowest, min(socs))
        # each interval takes the state of charge at its start; the last sample opens no interval
        spent = sum(b - a for (a, b), s in zip(pairwise(times), socs, strict=False) if s <= EMPTY_SOC)
        if spent > 0 or (socs and socs[-1] <= EMPTY_SOC):
            empty_s[sat] = spent
    return {
        "min_soc": round(lowest, 4) if histories else None,
        "satellites_empty": sorted(empty_s),
        "seconds_empty": round(sum(empty_s.values()), 1),
    }


def read_config(path: Path) -> tuple[dict[str, Any], str]:
    if not path.is_file():
        return {}, ""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), text


def read_summary(path: Path) -> dict[str, Any]:
    """summary.json as a dict ({} where absent or unreadable)."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def with_battery_facts(
    summary: dict[str, Any], battery: Mapping[int, tuple[Sequence[float], Sequence[float]]]
) -> dict[str, Any]:
    """The summary with a `battery` section computed from battery.csv where it has none."""
    if "battery" in summary or not battery:
        return summary
    return {**summary, "battery": battery_facts(battery)}


def load_summary(folder: Path) -> dict[str, Any]:
    """A run folder's summary.json, completed with battery facts from battery.csv where it lacks them."""
    folder = Path(folder)
    summary = read_summary(folder / "summary.json")
    if summary and "battery" not in summary:
        summary = with_battery_facts(summary, read_battery(folder / "battery.csv"))
    return summary


def read_run(folder: Path, battery: BatteryHistories | None = None) -> RunData:
    """Everything a run folder holds that the results need; absent files read as empty.
    `battery`: battery.csv's histories as the writer returned them (the file is then not read)."""
    folder = Path(folder)
    config, config_text = read_config(folder / "config.yaml")
    battery = read_battery(folder / "battery.csv") if battery is None else battery
    return RunData(
        folder=folder,
        summary=with_battery_facts(read_summary(folder / "summary.json"), battery),
        config=config,
        config_text=config_text,
        metrics=read_metrics(folder / "metrics.csv"),
        events=read_events(folder / "events.jsonl"),
        battery=battery,
    )


def payload_of(event: Mapping[str, Any]) -> str:
    """A transfer's payload (model, knowledge, imagery, update)."""
    return str(event.get("payload") or event.get("label") or event.get("what") or "")


def intervals(run: RunData, start: str, end: str, label_key: str = "station") -> list[Interval]:
    """Pair `start`/`end` events per satellite into intervals (an open one ends with the mission)."""
    open_at: dict[int, dict[str, Any]] = {}
    out = []
    for e in run.of_kind(start, end):
        sat = e.get("satellite")
        if not isinstance(sat, int):
            continue
        if e["kind"] == start:
            open_at[sat] = e
        elif sat in open_at:
            begin = open_at.pop(sat)
            out.append(Interval(sat, begin["time_s"], e["time_s"], str(begin.get(label_key, ""))))
    out += [
        Interval(sat, e["time_s"], max(run.duration_s, e["time_s"]), str(e.get(label_key, "")))
        for sat, e in open_at.items()
    ]
    return sorted(out, key=lambda i: (i.satellite, i.start_s))


def transfers(run: RunData, kind: str = "transfer") -> list[Interval]:
    """Transfers over the ground links (`transfer` events), or over crosslinks (`isl_transfer`:
    on the sending satellite's row, direction "crosslink")."""
    out = []
    for e in run.of_kind(kind):
        sat = e.get("satellite")
        if not isinstance(sat, int):
            continue
        start = _number(str(e.get("start_s"))) if e.get("start_s") is not None else None
        nbytes = _number(str(e.get("bytes")))
        out.append(
            Interval(
                sat,
                e["time_s"] if start is None else start,
                e["time_s"],
                payload_of(e),
                bool(e.get("complete", True)),
                str(e.get("direction", "crosslink" if kind == "isl_transfer" else "")),
                0 if nbytes is None else int(nbytes),
            )
        )
    return out

"""A small synthetic run folder in the formats a mission writes, so result tests need no mission.

Files: summary.json, metrics.csv, events.jsonl, config.yaml, battery.csv (see
simsat/results/runfolder.py for the formats). Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simsat.results.recorder import METRIC_COLUMNS  # the columns a mission writes

PERIOD_S = 5700.0  # ~95 min orbit
ECLIPSE_S = 0.36 * PERIOD_S
MODEL_BYTES = 420_000
KNOWLEDGE_BYTES = 180_000
UPDATE_BYTES = 420_000
IMAGERY_BYTES = 600_000
UP_BPS = 19_200 / 8
DOWN_BPS = 1_000_000 / 8


@dataclass
class FakeRun:
    satellites: int = 4
    hours: float = 12.0
    seed: int = 0
    aggregate: bool = True  # False: a run with no aggregation at all
    capacity_wh: float = 40.0  # small values drive the battery to empty
    accuracy_drop_at_end: bool = False
    buffer: int = 2  # updates per aggregation
    scenario: str = "fake"


def _names(satellites: int) -> list[str]:
    """Walker names as a real run's summary gives them: planes of about sqrt(n) satellites."""
    per_plane = max(1, int(np.sqrt(satellites)))
    return [f"walker-p{i // per_plane}s{i % per_plane}" for i in range(satellites)]


def _contacts(rng: np.random.Generator, sat: int, duration_s: float) -> list[tuple[float, float, str]]:
    windows = []
    t = (sat * PERIOD_S / 4.3) % PERIOD_S + 600.0
    while t < duration_s:
        if rng.random() < 0.75:
            length = float(rng.uniform(120, 600))
            station = "svalbard" if rng.random() < 0.7 else "troll"
            windows.append((round(t, 1), round(min(t + length, duration_s), 1), station))
        t += PERIOD_S * float(rng.choice([1, 1, 2]))
    return windows


def write_fake_run(folder: Path, spec: FakeRun | None = None) -> Path:
    """Write a run folder for `spec` into `folder` (created) and return it."""
    spec = spec or FakeRun()
    rng = np.random.default_rng(spec.seed)
    folder.mkdir(parents=True, exist_ok=True)
    duration = spec.hours * 3600.0
    events: list[dict[str, object]] = []
    updates: list[tuple[float, int, float]] = []  # (arrival time, satellite, time its base model left)
    bytes_up = {"model": 0, "knowledge": 0}
    bytes_down = {"update": 0, "imagery": 0}
    n_contacts = 0
    train_spans: dict[int, list[tuple[float, float]]] = {}
    for sat in range(spec.satellites):
        phase = (sat * 977.0) % PERIOD_S
        t = phase
        while t < duration:
            events.append({"kind": "eclipse_start", "time_s": round(t, 1), "satellite": sat})
            events.append({"kind": "eclipse_end", "time_s": round(min(t + ECLIPSE_S, duration), 1), "satellite": sat})
            t += PERIOD_S
        pending = False
        base_time = 0.0
        busy_until = 0.0
        train_spans[sat] = []
        for start, end, station in _contacts(rng, sat, duration):
            n_contacts += 1
            events.append({"kind": "contact_start", "time_s": start, "satellite": sat, "station": station})
            t = start + 5.0
            if pending and t >= busy_until:
                need = UPDATE_BYTES / DOWN_BPS
                done = min(need, end - t)
                sent = int(done * DOWN_BPS)
                complete = done >= need
                events.append(
                    {
                        "kind": "transfer",
                        "time_s": round(t + done, 1),
                        "start_s": round(t, 1),
                        "satellite": sat,
                        "direction": "down",
                        "kind_": "update",
                        "bytes": sent,
                        "total_bytes": UPDATE_BYTES,
                        "complete": complete,
                    }
                )
                bytes_down["update"] += sent
                t += done
                if complete:
                    updates.append((t, sat, base_time))
                    pending = False
            for kind, size in (("model", MODEL_BYTES), ("knowledge", KNOWLEDGE_BYTES)):
                if t >= end - 1:
                    break
                need = size / UP_BPS
                done = min(need, end - t)
                sent = int(done * UP_BPS)
                complete = done >= need
                events.append(
                    {
                        "kind": "transfer",
                        "time_s": round(t + done, 1),
                        "start_s": round(t, 1),
                        "satellite": sat,
                        "direction": "up",
                        "kind_": kind,
                        "bytes": sent,
                        "total_bytes": size,
                        "complete": complete,
                    }
                )
                bytes_up[kind] += sent
                t += done
                if not complete:
                    break
            else:
                if not pending and t >= busy_until:
                    compute = float(rng.uniform(900, 2400))
                    images = int(rng.integers(300, 700))
                    events.append({"kind": "train_start", "time_s": round(t, 1), "satellite": sat, "images": images})
                    events.append(
                        {
                            "kind": "train_end",
                            "time_s": round(min(t + compute, duration), 1),
                            "satellite": sat,
                            "images": images,
                            "compute_s": round(compute, 1),
                            "wall_s": round(compute / 400, 2),
                            "energy_wh": round(compute * 5 / 3600, 3),
                        }
                    )
                    train_spans[sat].append((t, t + compute))
                    busy_until = t + compute
                    pending = True
                    base_time = t
            if rng.random() < 0.3:
                sent = int(min(IMAGERY_BYTES, (end - t) * DOWN_BPS * 0.5))
                bytes_down["imagery"] += max(sent, 0)
            events.append({"kind": "contact_end", "time_s": end, "satellite": sat, "station": station})
    for e in events:  # `kind` of a transfer is the payload kind in the file; the event kind is "transfer"
        if "kind_" in e:
            e["payload"] = e.pop("kind_")

    rows: list[dict[str, object]] = []
    acc = 0.1

    def metric(t: float, event: str, version: int, sats: str, stale: str, accuracy: float) -> None:
        rows.append(
            {
                "time_s": round(t, 1),
                "time_utc": "",
                "event": event,
                "version": version,
                "satellite": sats,
                "staleness": stale,
                "accuracy": round(accuracy, 4),
                "precision": round(accuracy + 0.01, 4),
                "recall": round(accuracy - 0.005, 4),
                "f1": round(accuracy - 0.01, 4),
                "loss": round(2.3 * (1 - accuracy), 4),
                "bytes_up": 0,
                "bytes_down": 0,
                "images_down": 0,
                "faults": 0,
            }
        )

    metric(0.0, "initial", 0, "", "", acc)
    version = 0
    aggregations = 0
    aggregated_at: list[float] = []
    if spec.aggregate:
        updates.sort()
        i = 0
        while i < len(updates):
            batch = updates[i : i + spec.buffer]
            i += spec.buffer
            t = batch[-1][0]
            stale = [sum(1 for a in aggregated_at if a > base) for _, _, base in batch]
            aggregated_at.append(t)
            version += 1
            aggregations += 1
            worst = max(stale)
            acc += 0.2 * (0.93 - acc) * 0.85 ** min(worst, 4) + float(rng.normal(0, 0.006))
            if worst >= 3 and rng.random() < 0.25:
                acc -= 0.05
            acc = float(np.clip(acc, 0.05, 0.95))
            events.append(
                {
                    "kind": "aggregation",
                    "time_s": round(t, 1),
                    "version": version,
                    "satellites": [s for _, s, _ in batch],
                    "staleness": stale,
                }
            )
            metric(
                t, "aggregation", version, ";".join(str(s) for _, s, _ in batch), ";".join(str(s) for s in stale), acc
            )
    final_acc = acc - 0.06 if spec.accuracy_drop_at_end else acc
    metric(duration, "final", version, "", "", final_acc)
    events.sort(key=lambda e: (float(e["time_s"]), str(e["kind"])))
    with (folder / "events.jsonl").open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
    with (folder / "metrics.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)

    # battery: solar in sunlight, 4 W bus, +5 W while training; floor 0.3, resume 0.4
    with (folder / "battery.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["time_s", "satellite", "soc"])
        for sat in range(spec.satellites):
            soc = 0.8
            phase = (sat * 977.0) % PERIOD_S
            for t in np.arange(0.0, duration + 1, 60.0):
                dark = ((t - phase) % PERIOD_S) < ECLIPSE_S and t >= phase
                training = soc > 0.3 and any(a <= t < b for a, b in train_spans[sat])  # waits below the floor
                power = (0.0 if dark else 12.0) - 4.0 - (5.0 if training else 0.0)
                soc = float(np.clip(soc + power * 60 / 3600 / spec.capacity_wh, 0.0, 1.0))
                writer.writerow([f"{t:.0f}", sat, f"{soc:.4f}"])

    accs = [float(r["accuracy"]) for r in rows]

    def reached(x: float) -> float | None:
        return next((round(float(r["time_s"]) / 3600, 3) for r in rows if float(r["accuracy"]) >= x), None)

    summary = {
        "scenario": spec.scenario,
        "seed": spec.seed,
        "strategy": "fedkd",
        "aggregator": "fedbuff",
        "satellites": spec.satellites,
        "satellite_names": _names(spec.satellites),
        "duration_hours": spec.hours,
        "accuracy": {"initial": accs[0], "final": accs[-1], "best": max(accs)},
        "time_to_accuracy_hours": {"0.80": reached(0.8), "0.90": reached(0.9), "0.95": reached(0.95)},
        "bytes": {"up": bytes_up, "down": bytes_down},
        "contacts": n_contacts,
        "aggregations": aggregations,
        "energy_wh": {"compute": 41.3, "radio": 6.2, "total": 47.5},
        "wall": {"mission_wall_seconds": 61.4, "train_wall_seconds": 38.0, "eval_wall_seconds": 7.5},
        "reference": {
            "ground_only_accuracy": 0.45,
            "teachers": [{"name": "efficientvit_b0", "accuracy": 0.955}, {"name": "mobilevit_xxs", "accuracy": 0.921}],
        },
        "machine": {"cpu": "fake CPU, 2 cores", "python": "3.11", "torch": "2.x"},
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (folder / "config.yaml").write_text(
        f"name: fake\nseed: {spec.seed:d}\nmission:\n  duration_hours: {spec.hours:g}\nsatellite:\n  power:\n"
        f"    capacity_wh: {spec.capacity_wh:g}\n    floor_soc: 0.3\n    resume_soc: 0.4\n",
        encoding="utf-8",
    )
    return folder

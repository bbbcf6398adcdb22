"""TensorBoard files of a run (`results.tensorboard=true`, the optional extra `tracking`).

Written from the run folder's own files once the run has finished, into `tensorboard/` in the run
folder: each evaluation of the global student (`eval/accuracy`, `eval/precision`, `eval/recall`,
`eval/f1`, `eval/loss`), the bytes moved so far (`bytes/up`, `bytes/down`) and the onboard training
energy so far (`energy/onboard_wh`, at each training's end). A scalar's step is the simulated second
it belongs to and its time the simulated UTC time, so TensorBoard's "relative" axis reads simulated
hours. A sweep adds each run's swept keys as hyperparameters (`write_hparams`), so
`tensorboard --logdir SWEEP_DIR` compares every run in the HParams dashboard.

Only TensorBoard's own writer is used (no TensorFlow, no torch).
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from simsat.results.runfolder import RunData, lookup

TENSORBOARD_DIR = "tensorboard"
EVALUATION = ("accuracy", "precision", "recall", "f1", "loss")


def wanted(run: RunData) -> bool:
    """True when the run's config asks for TensorBoard files."""
    return lookup(run.config, "results.tensorboard") is True


def _start_seconds(run: RunData) -> float:
    """The mission's start as a POSIX time (0 where the folder does not say)."""
    text = run.summary.get("start_utc") or lookup(run.config, "mission.start_utc") or ""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


@contextmanager
def _writer(folder: Path) -> Iterator[Any]:
    """An event file writer on a fresh folder next to `folder`, moved into `folder` once closed."""
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    writer = EventFileWriter(str(partial))
    try:
        yield writer
    finally:
        writer.close()
    folder.mkdir(exist_ok=True)
    for path in partial.iterdir():
        path.replace(folder / path.name)
    partial.rmdir()


def _scalars(writer: Any, step_s: float, wall: float, values: Mapping[str, float]) -> None:
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary

    summary = Summary(value=[Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()])
    writer.add_event(Event(wall_time=wall, step=int(round(step_s)), summary=summary))


def write_run_scalars(run: RunData) -> Path:
    """The run's evaluations, bytes and onboard energy as TensorBoard scalars in its tensorboard/ folder."""
    folder = run.folder / TENSORBOARD_DIR
    shutil.rmtree(folder, ignore_errors=True)  # written again whole
    start = _start_seconds(run)
    rows = []
    metrics = run.folder / "metrics.csv"
    if metrics.is_file():
        with metrics.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    with _writer(folder) as writer:
        for row in rows:
            time_s = _number(row.get("time_s"))
            if time_s is None:
                continue
            values = {f"eval/{k}": v for k in EVALUATION if (v := _number(row.get(k))) is not None}
            values.update(
                {f"bytes/{d}": v for d in ("up", "down") if (v := _number(row.get(f"bytes_{d}"))) is not None}
            )
            _scalars(writer, time_s, start + time_s, values)
        energy = 0.0
        for event in run.of_kind("train_end"):
            energy += float(event.get("energy_wh") or 0.0)
            _scalars(writer, event["time_s"], start + event["time_s"], {"energy/onboard_wh": energy})
    return folder


def write_hparams(run_folder: Path, hparams: Mapping[str, str], name: str) -> Path:
    """A run's swept keys as TensorBoard hyperparameters (numbers as numbers), beside its scalars."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.plugins.hparams import summary_v2

    values: dict[str, Any] = {}
    for key, text in hparams.items():
        number = _number(text)
        values[key] = text if number is None else number
    folder = run_folder / TENSORBOARD_DIR
    with _writer(folder) as writer:
        writer.add_event(Event(wall_time=time.time(), summary=summary_v2.hparams_pb(values, trial_id=name)))
    return folder

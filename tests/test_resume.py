"""Runs that survive: SIGKILL part-way through the mission, `simsat resume`, and the same
metrics.csv byte for byte as a run that was never stopped; Ctrl-C and SIGTERM stop a run with
one line and keep its folder; `simsat resume` refuses what it cannot resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import yaml

from simsat.cli.main import main
from simsat.config.load import load_config
from simsat.mission.journal import Entry, Journal
from simsat.results.folders import read_status
from simsat.runner import run_scenario
from simsat.sweep.task import execute_run

ROOT = Path(__file__).resolve().parents[1]
# A small mission that still has every kind of journaled work: teachers' soft labels,
# evaluations, trainings on both satellites, the ground-only reference.
SMALL = [
    "mission.duration_hours=5",
    "data.n_images=300",
    "reference.epochs=1",
    "federation.ground_refine_epochs=1",  # refinements are journaled and replayed too
    "run.progress=false",
    "ray.object_store_mb=100",
    "distill.teachers=[{name: efficientvit_b0, input_size: 32, epochs: 1, lr: 0.002, batch_size: 64}]",
]
FOLDER_LINE = re.compile(r"^simsat: run folder (\S+) ")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _overrides(out: Path, cache: Path, engine: str) -> list[str]:
    return [f"run.output_dir={out}", f"data.cache_dir={cache}", f"run.engine={engine}", *SMALL]


@pytest.fixture(scope="module")
def uninterrupted(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mission played once without a stop (in this process)."""
    out = tmp_path_factory.mktemp("whole")
    return run_scenario(load_config("tiny", _overrides(out, cache, "in_process")))


class Child:
    """`simsat run` in its own process group (as a shell runs it), stderr read line by line."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simsat.cli.main", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def folder(self) -> Path:
        for line in self.lines:
            if match := FOLDER_LINE.match(line):
                return Path(match.group(1))
        raise AssertionError("no run folder announced:\n" + "\n".join(self.lines))

    def wait_for_journal(self, trainings: int, timeout_s: float = 600.0) -> Path:
        """Block until the run has journaled `trainings` trainings; return its folder."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "\n".join(self.lines)
            if any(FOLDER_LINE.match(line) for line in self.lines):
                journal = self.folder() / "journal"
                if len(list(journal.glob("train-*.npz"))) >= trainings:
                    return self.folder()
            time.sleep(0.2)
        raise AssertionError("the run journaled too little in time:\n" + "\n".join(self.lines))

    def finish(self, timeout_s: float = 60.0) -> int:
        code = self.proc.wait(timeout=timeout_s)
        self.reader.join(timeout=5)
        return code


def _summary_without_wall(folder: Path) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    summary.pop("wall")
    summary.pop("machine", None)
    return summary


def _events_without_wall(folder: Path) -> str:
    return re.sub(r', "wall_s": [-0-9.e]+', "", (folder / "events.jsonl").read_text())


@pytest.mark.slow  # a run, killed and resumed, against an uninterrupted one
def test_killed_run_resumes_to_the_same_metrics(
    uninterrupted: Path, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _kill_and_resume(uninterrupted, cache, tmp_path, capsys, "in_process")


@pytest.mark.slow  # Ray and Flower start twice: minutes on a busy machine
def test_killed_flower_run_resumes_to_the_same_metrics(
    uninterrupted: Path, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The satellites' nodes are Ray actors: journaled trainings are handed back to them."""
    _kill_and_resume(uninterrupted, cache, tmp_path, capsys, "flower")


def _kill_and_resume(
    uninterrupted: Path, cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    child = Child(["run", "scenario=tiny", *_overrides(tmp_path / "runs", cache, engine)])
    folder = child.wait_for_journal(trainings=2)
    child.proc.send_signal(signal.SIGKILL)
    assert child.finish() == -signal.SIGKILL
    assert read_status(folder)["state"] == "running"  # killed: nobody could say otherwise
    assert not (folder / "metrics.csv").exists()  # only the .partial file the mission was writing
    journaled = {p.name for p in (folder / "journal").glob("*.npz")}
    damaged = _damage_journal(folder / "journal") if engine == "in_process" else []

    assert main(["resume", str(folder)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    for name in damaged:  # each damaged file named in a warning, its work done again
        assert any(name in line and "WARNING" in line for line in captured.err.splitlines()), (name, captured.err)
    assert "Traceback" not in captured.err
    assert out.strip().splitlines()[-1] == str(folder)
    assert (folder / "metrics.csv").read_bytes() == (uninterrupted / "metrics.csv").read_bytes()
    assert _summary_without_wall(folder) == _summary_without_wall(uninterrupted)
    assert _events_without_wall(folder) == _events_without_wall(uninterrupted)
    assert read_status(folder)["state"] == "finished"
    assert not (folder / "journal").exists() and not list(folder.glob("*.partial"))
    assert any(name.startswith("train-") for name in journaled)  # the resume had work to replay
    assert '"kind": "ground_refine"' in (folder / "events.jsonl").read_text()


def _damage_journal(journal: Path) -> list[str]:
    """Damage the journal as a broken copy or disk would: a training entry cut short, an
    evaluation entry whole but without its scores (another shape), wall.json cut short."""
    train = sorted(journal.glob("train-*.npz"))[0]
    train.write_bytes(train.read_bytes()[: train.stat().st_size // 2])
    evaluation = sorted(journal.glob("eval-*.npz"))[0]
    with np.load(evaluation) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta.pop("scores")
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with evaluation.open("wb") as handle:
        np.savez(handle, **arrays)
    wall = journal / "wall.json"
    wall.write_text(wall.read_text()[:5])
    return [train.name, evaluation.name, "wall.json"]


@pytest.mark.slow  # a stopped and a finished run: minutes; the quick set keeps a killed run's resume
def test_a_sweep_task_resumes_a_stopped_run_and_takes_a_finished_one(
    uninterrupted: Path, cache: Path, tmp_path: Path
) -> None:
    """A sweep gives each config its own folder: a run a killed sweep left there is resumed from
    its journal, not started again, and one that finished after the sweep died is taken as it is."""
    out = tmp_path / "runs"
    child = Child(["run", "scenario=tiny", *_overrides(out, cache, "in_process")])
    folder = child.wait_for_journal(trainings=2)
    child.proc.send_signal(signal.SIGKILL)
    assert child.finish() == -signal.SIGKILL
    config = load_config("tiny", _overrides(out, cache, "in_process"))

    resumed = execute_run(config, str(tmp_path / "resumed.log"))
    assert resumed["status"] == "done", resumed["error"]
    assert resumed["resumed"] is True and Path(resumed["run_folder"]) == folder
    assert (folder / "metrics.csv").read_bytes() == (uninterrupted / "metrics.csv").read_bytes()
    wall = json.loads((folder / "summary.json").read_text())["wall"]
    assert wall["replayed_results"] > 0 and wall["seconds_before_resume"] > 0  # the killed process's time counts
    assert wall["total_seconds"] > wall["seconds_before_resume"] and resumed["wall_s"] == wall["total_seconds"]
    assert "resumed from its journal" in (tmp_path / "resumed.log").read_text()

    taken = execute_run(config, str(tmp_path / "taken.log"))
    assert taken["status"] == "done" and Path(taken["run_folder"]) == folder and taken["resumed"] is True
    assert taken["wall_s"] == json.loads((folder / "summary.json").read_text())["wall"]["total_seconds"]
    assert [p.name for p in out.iterdir()] == [folder.name]  # nothing started again


def test_sigint_stops_with_one_line_and_keeps_the_folder(cache: Path, tmp_path: Path) -> None:
    _interrupt(cache, tmp_path, "in_process", signal.SIGINT)


@pytest.mark.slow  # Ray and Flower start for it: a minute or more on a busy machine
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_flower_run_stops_cleanly_on_signals(cache: Path, tmp_path: Path, signum: signal.Signals) -> None:
    _interrupt(cache, tmp_path, "flower", signum)


def _interrupt(cache: Path, tmp_path: Path, engine: str, signum: signal.Signals) -> None:
    child = Child(["run", "scenario=tiny", *_overrides(tmp_path / "runs", cache, engine)])
    folder = child.wait_for_journal(trainings=1)
    processes = psutil.Process(child.proc.pid).children(recursive=True)
    seen = len(child.lines)
    start = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(child.proc.pid, signum)  # Ctrl-C: the terminal signals the whole group
    else:
        child.proc.send_signal(signum)
    code = child.finish()
    took = time.monotonic() - start
    after = child.lines[seen:]
    assert code == 128 + signum, "\n".join(child.lines)
    assert after == [f"simsat: interrupted; resume with: simsat resume {folder}"], "\n".join(after)
    assert took < 10.0
    assert child.proc.stdout is not None and child.proc.stdout.read() == ""
    status = read_status(folder)
    assert status is not None and status["state"] == "interrupted"
    assert (folder / "config.yaml").is_file() and list((folder / "journal").glob("*.npz"))
    _, alive = psutil.wait_procs(processes, timeout=5)
    assert not alive, [p.pid for p in alive]


def _refused(args: list[str], culprit: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and culprit in lines[0], err


def test_resume_refuses_a_finished_run(uninterrupted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(["resume", str(uninterrupted)], "finished run", capsys)


def test_resume_refuses_what_is_not_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(["resume", str(tmp_path)], "not a simsat run folder", capsys)
    _refused(["resume", str(tmp_path / "missing")], "not a simsat run folder", capsys)


def test_resume_refuses_a_config_that_no_longer_validates(
    uninterrupted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "stopped"
    folder.mkdir()
    config = yaml.safe_load((uninterrupted / "config.yaml").read_text())
    config["constellation"]["altitude_km"] = -500
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "status.json").write_text(json.dumps({"state": "interrupted"}))
    _refused(["resume", str(folder)], "constellation.altitude_km", capsys)


def test_journal_replays_whole_entries_and_goes_live_when_inputs_change(tmp_path: Path) -> None:
    calls: list[int] = []

    def remember(journal: Journal, check: str, value: int) -> dict:
        def work() -> dict:
            calls.append(value)
            return {"value": value}

        return journal.remember("eval", check, work, lambda r: Entry({"r": r}), lambda e: e.meta["r"])

    first = Journal(tmp_path / "journal")
    assert remember(first, "a", 1) == {"value": 1} and remember(first, "b", 2) == {"value": 2}
    (tmp_path / "journal" / ".eval-000003.npz.k2j4.tmp").write_bytes(b"cut by a kill")
    again = Journal(tmp_path / "journal")
    assert len(again) == 2
    assert remember(again, "a", 9) == {"value": 1}  # from the journal, not computed
    assert remember(again, "changed", 3) == {"value": 3}  # other inputs: computed, and live from here
    assert again.live and calls == [1, 2, 3]
    assert remember(again, "c", 4) == {"value": 4} and calls == [1, 2, 3, 4]


@pytest.mark.parametrize("damage", ["cut-short", "garbage", "empty", "no-field", "facts-a-list"])
def test_a_damaged_journal_entry_is_computed_again_with_a_warning_naming_it(
    damage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def remember(journal: Journal, value: int) -> dict:
        def work() -> dict:
            calls.append(value)
            return {"value": value}

        return journal.remember("eval", "same", work, lambda r: Entry({"r": r}), lambda e: dict(e.meta["r"]))

    first = Journal(tmp_path / "journal")
    remember(first, 1)
    path = tmp_path / "journal" / "eval-000001.npz"
    if damage == "cut-short":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        facts: object = {"check": "same"} if damage == "no-field" else ["check", "same"]
        np.savez(path, __meta__=np.frombuffer(json.dumps(facts).encode(), dtype=np.uint8))
    (tmp_path / "journal" / "wall.json").write_text('{"wall_sec')
    again = Journal(tmp_path / "journal")
    assert again.earlier_wall_seconds is None
    assert remember(again, 2) == {"value": 2} and calls == [1, 2]  # computed again ...
    assert not again.live and again.replayed == 0
    assert remember(Journal(tmp_path / "journal"), 3) == {"value": 2}  # ... and kept whole
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("eval-000001.npz" in w for w in warnings) and any("wall.json" in w for w in warnings), warnings

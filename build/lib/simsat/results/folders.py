"""Making run folders: `ExperimentFolder` (written under a temporary name, renamed when the run
succeeds) for experiments, `MissionFolder` (final name from the start, locked while a process works
in it, resumable until finished) for missions. What the files in a mission's folder hold and how they
are read: :mod:`simsat.results.runfolder`."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from simsat.errors import ConfigError
from simsat.results.atomic import write_json


class ExperimentFolder:
    """`path` is where files go while running; `finish()` moves them to `final` atomically.

    A failed run calls `discard()`, so no half-written folder is left behind.
    """

    def __init__(self, output_dir: Path, name: str, seed: int) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{name}-s{seed}-{stamp}"
        missing = [p for p in (output_dir, *output_dir.parents) if not p.exists()]
        self._created = missing[-1] if missing else None  # the top folder this run creates
        output_dir.mkdir(parents=True, exist_ok=True)
        final = output_dir / base
        counter = 1
        while final.exists() or final.with_name(final.name + ".partial").exists():
            counter += 1
            final = output_dir / f"{base}-{counter}"
        self.final = final
        self.path = final.with_name(final.name + ".partial")
        self.path.mkdir()

    def finish(self) -> Path:
        self.path.rename(self.final)
        return self.final

    def discard(self) -> None:
        """Remove the unfinished folder, and the output folders this run created if now empty."""
        shutil.rmtree(self.path, ignore_errors=True)
        remove_empty_parents(self.path, self._created)


def remove_empty_parents(path: Path, created: Path | None) -> None:
    """Remove the now empty folders above `path` up to and including `created` (the topmost
    output folder a run made; None: it made none)."""
    if created is None:
        return
    for folder in (path.parent, *path.parent.parents):
        if folder == created.parent:
            break
        try:
            folder.rmdir()
        except OSError:
            break


STATUS_FILE = "status.json"
LOCK_FILE = ".lock"
JOURNAL_DIR = "journal"
RESUMABLE = ("running", "interrupted", "failed")


def resume_command(path: Path) -> str:
    return f"simsat resume {path}"


class MissionFolder:
    """A mission's run folder, under its final name from the start.

    ``status.json`` says where the run stands: ``running`` (or killed while running),
    ``interrupted``, ``failed`` (all three resumable with ``simsat resume PATH``) or ``finished``.
    While a process works in the folder it holds an exclusive lock on ``.lock`` (the operating
    system releases it when the process dies, however it dies), so two processes never work in
    one folder. The journal of a run's results lives in ``journal/`` until the run finishes.
    """

    def __init__(self, path: Path, created: Path | None = None) -> None:
        self.path = Path(path)
        self._created = created  # the top folder a new run created (removed by discard when empty)
        self._lock: IO[bytes] | None = None

    @property
    def journal_dir(self) -> Path:
        return self.path / JOURNAL_DIR

    @classmethod
    def create(cls, output_dir: Path, name: str, seed: int) -> MissionFolder:
        """A new folder ``<name>-s<seed>-<date>-<time>[-n]`` in `output_dir`, locked, state running."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{name}-s{seed}-{stamp}"
        missing = [p for p in (output_dir, *output_dir.parents) if not p.exists()]
        output_dir.mkdir(parents=True, exist_ok=True)
        counter = 1
        while True:
            path = output_dir / (base if counter == 1 else f"{base}-{counter}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                counter += 1
        folder = cls(path, missing[-1] if missing else None)
        folder.lock()
        folder.mark("running")
        return folder

    @classmethod
    def open(cls, path: Path) -> MissionFolder:
        """An unfinished run folder to resume, locked; ConfigError (one line) when it is not one."""
        path = Path(path)
        status = read_status(path)
        if status is None:
            raise ConfigError(f"{path} is not a simsat run folder (no readable {STATUS_FILE} and config.yaml)")
        if status.get("state") == "finished":
            raise ConfigError(f"{path} is a finished run; there is nothing to resume")
        if status.get("state") not in RESUMABLE:
            raise ConfigError(f"{path}/{STATUS_FILE}: unknown state {status.get('state')!r}")
        folder = cls(path)
        folder.lock()
        return folder

    def lock(self) -> None:
        handle = (self.path / LOCK_FILE).open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ConfigError(f"{self.path} is in use by another simsat process") from None
        self._lock = handle

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def mark(self, state: str, **facts: Any) -> None:
        """Write `state` (and `facts`, e.g. the error) to status.json, atomically."""
        status = {"state": state, "pid": os.getpid(), "updated_utc": _utc_now(), **facts}
        if state != "finished":
            status["resume"] = resume_command(self.path)
        write_json(self.path / STATUS_FILE, status)

    def finish(self) -> Path:
        """Mark the run finished, drop its journal and lock; return the folder."""
        self.mark("finished")
        shutil.rmtree(self.journal_dir, ignore_errors=True)
        (self.path / LOCK_FILE).unlink(missing_ok=True)
        self.unlock()
        return self.path

    def discard(self) -> None:
        """Remove the folder (a run that never got anywhere), and output folders it created if empty."""
        self.unlock()
        shutil.rmtree(self.path, ignore_errors=True)
        remove_empty_parents(self.path, self._created)


def earlier_run(output_dir: Path) -> tuple[Path, str] | None:
    """The latest run folder directly in `output_dir` that finished or can be resumed, with its
    state ("finished" or one of RESUMABLE); None when there is none.

    A sweep gives each config its own output folder, so a run folder found there is a run of
    the same config: one a killed sweep left unfinished is resumed rather than started again.
    """
    if not Path(output_dir).is_dir():
        return None
    found = None
    for path in sorted(p for p in Path(output_dir).iterdir() if p.is_dir()):  # names sort by start time
        status = read_status(path)
        state = status.get("state") if status else None
        if state == "finished" or state in RESUMABLE:
            found = (path, str(state))
    return found


def read_status(path: Path) -> dict[str, Any] | None:
    """A run folder's status.json (None: not a run folder)."""
    try:
        status = json.loads((Path(path) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or not (Path(path) / "config.yaml").is_file():
        return None
    return status


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

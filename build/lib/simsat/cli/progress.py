"""Progress for the stages of a run (teachers, students, mission): bars on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

_LABELS = {"teachers": "training teachers (epochs)", "mission": "mission (simulated hours)"}

R = TypeVar("R", bound="Reporter")


class Reporter:
    """Runner progress, called as (stage, done, total); a context manager around the run."""

    def __enter__(self: R) -> R:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Called when the run starts."""

    def stop(self) -> None:
        """Called when the run ends, also on error."""

    def __call__(self, stage: str, done: float, total: float) -> None:
        raise NotImplementedError


class RichProgress(Reporter):
    """Progress bars on stderr, one per stage."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.1f}/{task.total:.1f}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self._tasks: dict[str, TaskID] = {}

    def start(self) -> None:
        self._progress.start()

    def stop(self) -> None:
        self._progress.stop()

    def __call__(self, stage: str, done: float, total: float) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(_LABELS.get(stage, stage), total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


class LogProgress(Reporter):
    """Progress as log lines, for runs in the background (stderr not a terminal).

    One line per tenth of each stage, with the time since the stage's first report and, until
    it ends, the time left at the rate so far.
    """

    def __init__(self, log: logging.Logger | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log or logging.getLogger("simsat.progress")
        self._clock = clock
        self._logged: dict[str, int] = {}
        self._start: dict[str, float] = {}

    def __call__(self, stage: str, done: float, total: float) -> None:
        now = self._clock()
        start = self._start.setdefault(stage, now)
        tenth = min(int(10 * done / total), 10) if total > 0 else 10
        if tenth <= self._logged.get(stage, 0):
            return
        self._logged[stage] = tenth
        elapsed = now - start
        if tenth >= 10:
            self._log.info("%s: %d %% after %s", stage, 10 * tenth, _minutes(elapsed))
        else:
            left = elapsed * (total - done) / done
            self._log.info("%s: %d %% after %s, about %s left", stage, 10 * tenth, _minutes(elapsed), _minutes(left))


def progress_reporter(enabled: bool, stream: TextIO | None = None) -> Reporter:
    """Bars where `stream` (stderr) is a terminal; log lines where it is a file or pipe; nothing if disabled."""
    stream = sys.stderr if stream is None else stream
    if enabled and not stream.isatty():
        return LogProgress()
    return RichProgress(enabled=enabled)

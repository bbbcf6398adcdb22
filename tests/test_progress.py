"""Progress reporters: log lines with time left for background runs, bars on a terminal."""

from __future__ import annotations

import io
import logging

import pytest

from simsat.cli.progress import LogProgress, RichProgress, progress_reporter


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_progress_writes_one_line_a_tenth_with_elapsed_and_left(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    progress = LogProgress(logging.getLogger("test.progress"), clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress("train (images)", 0, 1000)  # the stage's clock starts at its first report
        for done in range(50, 1001, 50):  # 20 reports, 12 s apart
            clock.now += 12.0
            progress("train (images)", done, 1000)
        progress("other", 5, 0)  # an empty total counts as finished
    lines = [r.getMessage() for r in caplog.records]
    train = [line for line in lines if line.startswith("train (images)")]
    assert len(train) == 10
    assert train[0] == "train (images): 10 % after 24 s, about 3.6 min left"  # 240 s * 900 / 100 images
    assert train[4] == "train (images): 50 % after 2.0 min, about 2.0 min left"
    assert train[-1] == "train (images): 100 % after 4.0 min"
    assert lines[-1] == "other: 100 % after 0 s"


def test_log_progress_keeps_stages_apart_and_never_repeats_a_tenth(caplog: pytest.LogCaptureFixture) -> None:
    progress = LogProgress(logging.getLogger("test.progress"), clock=_Clock())
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for done in (1, 2, 3, 10, 10, 11):
            progress("a", done, 10)
            progress("b", done / 2, 10)
    lines = [r.getMessage().split(" after")[0] for r in caplog.records]
    assert [x for x in lines if x.startswith("a")] == ["a: 10 %", "a: 20 %", "a: 30 %", "a: 100 %"]
    assert [x for x in lines if x.startswith("b")] == ["b: 10 %", "b: 50 %"]  # 0.5 of 10 is below a tenth


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_reporter_is_bars_on_a_terminal_and_log_lines_in_a_file() -> None:
    assert isinstance(progress_reporter(True, _Stream(tty=True)), RichProgress)
    assert isinstance(progress_reporter(True, _Stream(tty=False)), LogProgress)
    quiet = progress_reporter(False, _Stream(tty=False))
    assert isinstance(quiet, RichProgress) and not quiet.enabled

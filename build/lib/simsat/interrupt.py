"""Stopping a run cleanly on Ctrl-C (SIGINT) or SIGTERM.

The signal handler records the request. Where the main thread runs the work itself it raises
`Interrupted` at once; while the main thread runs Flower's simulation engine (the mission then
runs in Flower's ServerApp thread) it only records it, and the mission raises `Interrupted` at
its next step (`StopRequest.check`), so Flower and Ray wind down the way they do at the end of a
run instead of dying mid-message.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The run was asked to stop by a signal; `exit_code` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(int(signum))  # args are (signum,): SimPy re-raises it as type(exc)(*exc.args)
        self.signum = int(signum)

    def __str__(self) -> str:
        return f"interrupted by {signal.Signals(self.signum).name}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopRequest:
    """A stop asked for by a signal, seen by every thread of the run."""

    def __init__(self) -> None:
        self._signum: int | None = None
        self._lock = threading.Lock()
        self._defer = 0  # > 0: the main thread is inside code that must not be interrupted
        self.on_stop: Callable[[], None] | None = None  # called once, in the signal handler

    @property
    def requested(self) -> bool:
        return self._signum is not None

    def request(self, signum: int) -> bool:
        """Record a stop; True when it is the first one."""
        with self._lock:
            first = self._signum is None
            if first:
                self._signum = int(signum)
            return first

    def check(self) -> None:
        """Raise `Interrupted` when a stop was asked for."""
        if self._signum is not None:
            raise Interrupted(self._signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """While inside, a signal is only recorded (the work's own thread calls `check`)."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.request(signum):
            return
        if self.on_stop is not None:
            self.on_stop()
        if self._defer == 0:
            raise Interrupted(signum)


@contextmanager
def stop_on_signals(stop: StopRequest, on_stop: Callable[[], None] | None = None) -> Iterator[StopRequest]:
    """Route SIGINT and SIGTERM to `stop` (main thread only); the previous handlers come back after.
    `on_stop` runs once, when the first signal arrives."""
    stop.on_stop = on_stop
    previous = {s: signal.signal(s, stop._handle) for s in SIGNALS}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

"""Onboard computation that draws battery power and pauses when the battery runs low."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import simpy

from simsat.errors import ConfigError
from simsat.world import _validate as v
from simsat.world.power import Battery


@dataclass(frozen=True)
class ComputeResult:
    """Outcome of :func:`run_compute`.

    ``started_s`` is when computing first began (the wait for ``resume_soc`` before that is
    ``waited_s``); ``paused_s`` counts pauses after the start. ``completed`` is False when the
    process was interrupted, in which case ``busy_s`` is the work done so far.
    """

    started_s: float
    finished_s: float
    busy_s: float
    paused_s: float
    energy_wh: float
    waited_s: float = 0.0
    completed: bool = True


def run_compute(
    env: simpy.Environment,
    battery: Battery,
    seconds: float,
    busy_w: float,
    floor_soc: float,
    resume_soc: float,
    name: str = "compute",
) -> Generator[simpy.Event, object, ComputeResult]:
    """SimPy process: ``seconds`` of work drawing ``busy_w`` (extra load) from ``battery``.

    Waits until soc >= ``resume_soc`` before starting; while running, if soc falls to
    ``floor_soc`` (or the battery's safe-mode level, if higher) it removes its load and waits
    for ``resume_soc`` again (and for the end of safe mode, so no work runs in safe mode). On a SimPy
    ``Interrupt`` it removes its load and *returns* a partial result (completed=False);
    it does not re-raise.
    """
    work = v.non_negative("compute.seconds", seconds)
    watts = v.non_negative("compute.busy_w", busy_w)
    floor = v.in_range("compute.floor_soc", floor_soc, 0.0, 1.0)
    resume = v.in_range("compute.resume_soc", resume_soc, 0.0, 1.0)
    if resume <= floor:
        raise ConfigError(f"compute.resume_soc must be > floor_soc ({floor}), got {resume}")
    requested = float(env.now)
    started: float | None = None
    busy = paused = 0.0
    running_since: float | None = None
    paused_since: float | None = None
    pending: simpy.Event | None = None
    try:
        while True:  # wait for resume_soc, and for safe mode to end if it is on by then
            pending = battery.wait_for_soc(battery.resume_threshold(resume))
            yield pending
            if not battery.safe_mode:
                break
        started = float(env.now)
        while work - busy > 1e-9:
            battery.add_load(name, watts)
            running_since = float(env.now)
            remaining = work - busy
            pending = battery.wait_for_soc_below(max(floor, battery.safe_soc))
            yield env.timeout(remaining) | pending
            ran = float(env.now) - running_since
            running_since = None
            battery.remove_load(name)
            if ran >= remaining - 1e-9:
                busy = work
                battery.cancel_wait(pending)
                break
            busy += ran
            paused_since = float(env.now)
            while True:
                pending = battery.wait_for_soc(battery.resume_threshold(resume))
                yield pending
                if not battery.safe_mode:
                    break
            paused += float(env.now) - paused_since
            paused_since = None
    except simpy.Interrupt:
        now = float(env.now)
        if running_since is not None:
            busy += now - running_since
            battery.remove_load(name)
        if paused_since is not None:
            paused += now - paused_since
        if pending is not None:
            battery.cancel_wait(pending)
        begin = started if started is not None else now
        return ComputeResult(begin, now, busy, paused, watts * busy / 3600.0, begin - requested, False)
    assert started is not None
    now = float(env.now)
    return ComputeResult(started, now, busy, paused, watts * busy / 3600.0, started - requested, True)

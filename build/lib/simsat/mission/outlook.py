"""What a satellite's battery allows before a run: how many seconds of onboard training it could
keep up over the mission if it trained back to back, with the mission's own battery and compute
processes (`simsat run --dry-run` turns it into trainings).

The estimate is an upper bound on energy grounds: the satellite trains whenever its battery lets
it (from `resume_soc`, pausing at `floor_soc`, as the mission's trainings do), and draws nothing
else beyond the bus (radio time in contacts is not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from simsat.world.compute import ComputeResult, run_compute
from simsat.world.power import Battery


@dataclass(frozen=True)
class BatteryOutlook:
    """One satellite's mission with training back to back."""

    busy_s: float  # seconds of training the battery kept up
    paused_s: float  # seconds waiting for charge once started
    sunlit_s: float  # seconds with sunlight on the panels (any share of it)
    solar_in_wh: float  # energy the panels put into the battery


@dataclass(frozen=True)
class BatterySettings:
    capacity_wh: float
    initial_soc: float
    floor_soc: float
    resume_soc: float
    solar_w: float
    baseline_w: float
    step_s: float
    safe_soc: float
    safe_exit_soc: float


def battery_outlook(
    battery: BatterySettings,
    sunlit: Callable[[float], float],
    training_extra_w: float,
    duration_s: float,
    sample_s: float = 60.0,
) -> BatteryOutlook:
    """Play one satellite's battery through `duration_s` seconds while it trains back to back,
    drawing `training_extra_w` above its idle power; `sunlit(t)` is its share of peak solar power."""
    env = simpy.Environment()
    store = Battery(
        env,
        capacity_wh=battery.capacity_wh,
        initial_soc=battery.initial_soc,
        floor_soc=battery.floor_soc,
        solar_w=battery.solar_w,
        baseline_w=battery.baseline_w,
        sunlit=sunlit,
        step_s=battery.step_s,
        safe_soc=battery.safe_soc,
        safe_exit_soc=battery.safe_exit_soc,
    )
    work = env.process(
        run_compute(env, store, duration_s, training_extra_w, battery.floor_soc, battery.resume_soc, name="train")
    )
    env.run(until=duration_s)
    if work.is_alive:
        work.interrupt()
        env.run(until=work)
    result = work.value
    assert isinstance(result, ComputeResult)
    steps = max(1, int(duration_s // sample_s))
    lit = sum(1 for k in range(steps) if sunlit((k + 0.5) * duration_s / steps) > 0.0)
    return BatteryOutlook(
        busy_s=float(result.busy_s),
        paused_s=float(result.paused_s),
        sunlit_s=lit * duration_s / steps,
        solar_in_wh=float(store.solar_in_wh),
    )

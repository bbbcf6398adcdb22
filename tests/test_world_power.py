"""Battery integration and power-aware compute."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import simpy

from simsat.errors import ConfigError
from simsat.world.compute import ComputeResult, run_compute
from simsat.world.power import Battery
from simsat.world.solar import SolarInput, incidence, panel_peak_w
from simsat.world.sun import Sunlight
from simsat.world.timebase import Epoch
from simsat.world.walker import walker_satellites


def always(_t: float) -> bool:
    return True


def make(env: simpy.Environment, **kw: object) -> Battery:
    args: dict[str, object] = {
        "capacity_wh": 100.0,
        "initial_soc": 0.2,
        "floor_soc": 0.2,
        "solar_w": 10.0,
        "baseline_w": 2.0,
        "sunlit": always,
    }
    args.update(kw)
    return Battery(env, **args)  # type: ignore[arg-type]


def test_one_sunlit_hour_adds_eight_wh() -> None:
    env = simpy.Environment()
    battery = make(env)
    env.run(until=3600.0)
    assert battery.level_wh == pytest.approx(28.0)
    assert battery.soc == pytest.approx(0.28)
    assert battery.solar_in_wh == pytest.approx(10.0)
    assert battery.baseline_wh == pytest.approx(2.0)
    assert len(battery.history) == 120  # t = 0 and every 30 s before the run stops at 3600
    assert battery.history[60] == (1800.0, pytest.approx(0.24))


def test_level_is_clipped_at_capacity_and_at_zero() -> None:
    env = simpy.Environment()
    full = make(env, capacity_wh=25.0, initial_soc=0.8)
    empty = make(env, capacity_wh=25.0, initial_soc=0.04, sunlit=lambda t: False)
    env.run(until=3600.0)
    assert full.level_wh == pytest.approx(25.0)
    assert full.wasted_wh == pytest.approx(3.0)
    assert empty.level_wh == 0.0
    assert empty.unmet_wh == pytest.approx(1.0)


def test_eclipse_and_loads() -> None:
    env = simpy.Environment()
    battery = make(env, sunlit=lambda t: t < 1800.0)

    def script() -> simpy.events.ProcessGenerator:
        yield env.timeout(600.0)
        battery.add_load("camera", 5.0)
        yield env.timeout(615.0)
        battery.remove_load("camera")

    env.process(script())
    env.run(until=3600.0)
    # 10 W * 0.5 h - 2 W * 1 h - 5 W * (615/3600) h
    assert battery.level_wh == pytest.approx(20.0 + 5.0 - 2.0 - 5.0 * 615.0 / 3600.0)
    assert battery.energy_used_wh == {"camera": pytest.approx(5.0 * 615.0 / 3600.0)}
    times = [t for t, _ in battery.history]
    assert 600.0 in times and 1215.0 in times
    assert battery.loads == {}


def test_wait_for_soc_fires_at_the_exact_crossing() -> None:
    env = simpy.Environment()
    battery = make(env, capacity_wh=10.0, solar_w=9.0, baseline_w=2.0)  # +7 W from 2 Wh
    fired: list[float] = []

    def waiter() -> simpy.events.ProcessGenerator:
        value = yield battery.wait_for_soc(0.5)
        fired.append(env.now)
        assert value == pytest.approx(0.5)
        yield battery.wait_for_soc(0.1)  # already above: fires at once
        fired.append(env.now)

    env.process(waiter())
    env.run(until=4000.0)
    assert fired[0] == pytest.approx(3.0 / 7.0 * 3600.0, abs=1e-6)  # 1542.857 s
    assert fired[1] == fired[0]


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"capacity_wh": 0.0}, "power.capacity_wh"),
        ({"floor_soc": 1.0}, "power.floor_soc"),
        ({"initial_soc": 1.5}, "power.initial_soc"),
        ({"solar_w": -1.0}, "power.solar_w"),
        ({"baseline_w": -1.0}, "power.baseline_w"),
    ],
)
def test_battery_validation(kwargs: dict[str, object], culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit.replace(".", r"\.")):
        make(simpy.Environment(), **kwargs)


def test_negative_load_rejected() -> None:
    battery = make(simpy.Environment())
    with pytest.raises(ConfigError, match=r"power\.loads\.radio"):
        battery.add_load("radio", -3.0)


def _paused_scenario() -> tuple[simpy.Environment, Battery, simpy.Process]:
    """10 Wh at 50 %, +5 W idle (6 W solar - 1 W bus), compute 10 W (net -5 W) for 1 h."""
    env = simpy.Environment()
    battery = make(env, capacity_wh=10.0, initial_soc=0.5, solar_w=6.0, baseline_w=1.0)
    proc = env.process(run_compute(env, battery, 3600.0, 10.0, floor_soc=0.2, resume_soc=0.5))
    return env, battery, proc


def test_compute_pauses_at_floor_and_resumes() -> None:
    env, battery, proc = _paused_scenario()
    env.run(until=proc)
    # runs 3 Wh / 5 W = 2160 s to the floor, recharges 3 Wh at 5 W = 2160 s,
    # then runs the last 1440 s (down 2 Wh to 30 %)
    assert proc.value == ComputeResult(0.0, 5760.0, 3600.0, 2160.0, pytest.approx(10.0), 0.0, True)
    assert battery.soc == pytest.approx(0.3)
    assert battery.energy_used_wh["compute"] == pytest.approx(10.0)
    assert battery.loads == {}
    low = min(soc for _, soc in battery.history)
    assert low == pytest.approx(0.2)


def test_compute_waits_for_resume_level_before_starting() -> None:
    env = simpy.Environment()
    battery = make(env, capacity_wh=10.0, initial_soc=0.3, solar_w=6.0, baseline_w=1.0)
    proc = env.process(run_compute(env, battery, 600.0, 10.0, floor_soc=0.2, resume_soc=0.5))
    env.run(until=proc)
    result = proc.value
    assert result.waited_s == pytest.approx(1440.0)  # 2 Wh at +5 W
    assert result.started_s == pytest.approx(1440.0)
    assert result.finished_s == pytest.approx(2040.0)
    assert result.paused_s == 0.0
    assert battery.soc == pytest.approx(0.5 - 5.0 * 600.0 / 3600.0 / 10.0)


@pytest.mark.parametrize(
    ("at", "busy", "paused"),
    [(1000.0, 1000.0, 0.0), (3000.0, 2160.0, 840.0)],
)
def test_compute_interrupt_returns_partial_result(at: float, busy: float, paused: float) -> None:
    env, battery, proc = _paused_scenario()

    def stopper() -> simpy.events.ProcessGenerator:
        yield env.timeout(at)
        proc.interrupt("contact lost")

    env.process(stopper())
    env.run(until=proc)
    result = proc.value
    assert not result.completed
    assert result.finished_s == at
    assert result.busy_s == pytest.approx(busy)
    assert result.paused_s == pytest.approx(paused)
    assert result.energy_wh == pytest.approx(10.0 * busy / 3600.0)
    assert battery.loads == {}
    level_before = battery.level_wh
    env.run(until=at + 360.0)  # afterwards the battery only charges (+5 W)
    assert battery.level_wh == pytest.approx(min(level_before + 0.5, 10.0))


def test_compute_validation() -> None:
    env = simpy.Environment()
    battery = make(env)
    with pytest.raises(ConfigError, match="compute.resume_soc"):
        next(run_compute(env, battery, 10.0, 5.0, floor_soc=0.5, resume_soc=0.4))
    with pytest.raises(ConfigError, match="compute.seconds"):
        next(run_compute(env, battery, -1.0, 5.0, floor_soc=0.1, resume_soc=0.4))


def test_stop_ends_the_integration_process() -> None:
    env = simpy.Environment()
    battery = make(env)
    env.run(until=900.0)
    battery.stop()
    env.run()  # returns because nothing is left scheduled except stale timeouts
    assert battery.history[-1] == (900.0, pytest.approx(0.22))
    assert not battery.process.is_alive


# ----- shadow depth, attitude, safe mode, energy balance -----


def test_fractional_sunlight_scales_solar_input() -> None:
    env = simpy.Environment()
    battery = make(env, sunlit=lambda t: 0.25)
    env.run(until=3600.0)
    battery.stop()
    assert battery.solar_in_wh == pytest.approx(2.5)
    assert battery.level_wh == pytest.approx(20.0 + 2.5 - 2.0)


def test_empty_battery_enters_safe_mode_sheds_payload_and_recovers() -> None:
    env = simpy.Environment()
    dark_until = 3600.0
    battery = make(
        env,
        capacity_wh=10.0,
        initial_soc=0.1,
        floor_soc=0.05,
        solar_w=12.0,
        baseline_w=2.0,
        sunlit=lambda t: t >= dark_until,
        safe_exit_soc=0.3,
        safe_baseline_w=1.0,
    )

    def script() -> simpy.events.ProcessGenerator:
        battery.add_load("camera", 4.0)
        battery.add_load("radio:downlink:x", 1.0)
        yield env.timeout(1.0)

    env.process(script())
    env.run(until=dark_until)
    # 1 Wh drained at 7 W: empty after 514 s, then safe: camera shed, bus at 1 W, radio stays
    assert battery.safe_events[0] == (pytest.approx(1.0 / 7.0 * 3600.0), "enter")
    assert battery.safe_mode and battery.loads == {"radio:downlink:x": 1.0}
    assert battery.energy_used_wh["camera"] == pytest.approx(4.0 / 7.0)
    battery.add_load("compute", 5.0)  # refused while in safe mode: held back
    assert "compute" not in battery.loads
    env.run(until=dark_until + 3600.0)
    # sunlit: +12 - 1 (safe bus) - 1 (radio) = +10 W: 3 Wh back to 30 % after 1080 s
    assert battery.safe_events[1] == (pytest.approx(dark_until + 1080.0), "exit")
    assert not battery.safe_mode and set(battery.loads) == {"camera", "radio:downlink:x", "compute"}
    assert battery.safe_s == pytest.approx(dark_until + 1080.0 - 1.0 / 7.0 * 3600.0)


def test_compute_does_no_work_in_safe_mode() -> None:
    env = simpy.Environment()
    battery = make(
        env, capacity_wh=10.0, initial_soc=0.0, floor_soc=0.0, solar_w=7.0, baseline_w=2.0, safe_exit_soc=0.5
    )
    proc = env.process(run_compute(env, battery, 600.0, 10.0, floor_soc=0.0, resume_soc=0.2))
    env.run(until=proc)
    # empty at t=0 (safe); +5 W reaches the safe exit (50 %, 5 Wh) at 3600 s, only then it computes
    assert proc.value.started_s == pytest.approx(3600.0)
    assert battery.safe_events == [(0.0, "enter"), (pytest.approx(3600.0), "exit")]


def test_panel_power_and_attitudes() -> None:
    assert panel_peak_w(0.06, 0.3) == pytest.approx(0.06 * 0.3 * 1361.0)
    pos = np.array([[7000.0, 0.0, 0.0]] * 3)
    vel = np.array([[0.0, 7.5, 0.0]] * 3)
    sun = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    assert incidence("sun_pointing", pos, vel, sun) == pytest.approx([1, 1, 1])
    assert incidence("nadir_zenith", pos, vel, sun) == pytest.approx([1, 0, 0])
    assert incidence("nadir_body", pos, vel, sun) == pytest.approx([1, 1, 0])  # zenith face, a side face, none (nadir)
    with pytest.raises(ConfigError, match="attitude"):
        incidence("spinning", pos, vel, sun)


def test_battery_energy_is_conserved_over_a_day_of_orbits() -> None:
    start = datetime(2025, 3, 20, tzinfo=timezone.utc)
    sats = walker_satellites(550.0, 97.6, 1, 1, 0, epoch=start, raan0_deg=0.0)
    light = Sunlight(sats, 0, Epoch(start), 86400.0)
    env = simpy.Environment()
    battery = make(
        env, capacity_wh=60.0, initial_soc=0.5, solar_w=12.0, baseline_w=4.0, sunlit=SolarInput(light, "nadir_body")
    )

    def duty() -> simpy.events.ProcessGenerator:
        while True:
            battery.add_load("camera", 6.0)
            yield env.timeout(900.0)
            battery.remove_load("camera")
            yield env.timeout(2700.0)

    env.process(duty())
    env.run(until=86400.0)
    battery.stop()
    drawn = battery.baseline_wh + sum(battery.energy_used_wh.values())
    balance = 30.0 + battery.solar_in_wh - drawn - battery.wasted_wh + battery.unmet_wh
    assert battery.level_wh == pytest.approx(balance, abs=1e-6)
    assert battery.solar_in_wh > 0.0
    assert 0.3 < light.dark_fraction() < 0.4  # a noon-midnight plane at the equinox

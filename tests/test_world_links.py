"""Link rates and window-limited transfers."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
import simpy

from simsat.errors import ConfigError
from simsat.world.linkbudget import PRESETS, LinkBudget, free_space_loss_db, link_preset
from simsat.world.links import LinkRates, Transfer, bytes_in, seconds_for, transmit
from simsat.world.power import Battery
from simsat.world.rates import RateProfile


def test_bytes_in_and_seconds_for() -> None:
    assert bytes_in(1.5, 9600.0) == 1800
    assert bytes_in(0.1, 8.0 * 3) == 0  # 0.3 byte
    assert bytes_in(-1.0, 1e6) == 0
    assert bytes_in(10.0, 1e6) == 1_250_000
    assert seconds_for(1_250_000, 1e6) == pytest.approx(10.0)


def test_link_rates_validation() -> None:
    rates = LinkRates(uplink_bps=1e6, downlink_bps=4e6)
    assert rates.rate("uplink") == 1e6 and rates.rate("downlink") == 4e6
    with pytest.raises(ConfigError, match=r"^uplink_bps must be > 0"):
        LinkRates(0.0, 1e6)
    with pytest.raises(ConfigError, match=r"^downlink_bps"):
        LinkRates(1e6, -2.0)
    with pytest.raises(ConfigError, match="direction"):
        rates.rate("sideways")


def test_transfer_validation() -> None:
    with pytest.raises(ConfigError, match="nbytes"):
        Transfer(-1, "uplink", "model")
    with pytest.raises(ConfigError, match="direction"):
        Transfer(10, "up", "model")


def test_transfer_cut_at_window_end_and_resumed_in_next_window() -> None:
    env = simpy.Environment()
    battery = Battery(env, 50.0, 1.0, 0.2, 0.0, 0.0, lambda t: False)
    transfer = Transfer(10_000, "downlink", "update-3")
    sent: list[tuple[float, int]] = []

    def satellite() -> simpy.events.ProcessGenerator:
        n = yield env.process(transmit(env, transfer, 8000.0, window_end_s=4.0, battery=battery, radio_w=4.0))
        sent.append((env.now, n))
        assert transfer.bytes_done == 4000 and transfer.remaining == 6000 and not transfer.done
        yield env.timeout(100.0 - env.now)
        n = yield env.process(transmit(env, transfer, 8000.0, window_end_s=200.0, battery=battery, radio_w=4.0))
        sent.append((env.now, n))
        n = yield env.process(transmit(env, transfer, 8000.0, window_end_s=200.0))
        sent.append((env.now, n))

    env.process(satellite())
    env.run(until=300.0)
    assert sent == [(4.0, 4000), (106.0, 6000), (106.0, 0)]
    assert transfer.done and transfer.bytes_done == 10_000
    assert battery.energy_used_wh == {"radio:downlink:update-3": pytest.approx(4.0 * 10.0 / 3600.0)}
    assert battery.level_wh == pytest.approx(50.0 - 4.0 * 10.0 / 3600.0)
    assert battery.loads == {}


def test_closed_window_sends_nothing() -> None:
    env = simpy.Environment(initial_time=50.0)
    transfer = Transfer(100, "uplink")
    proc = env.process(transmit(env, transfer, 1e3, window_end_s=50.0))
    env.run()
    assert proc.value == 0 and transfer.bytes_done == 0 and env.now == 50.0


def test_interrupted_transfer_counts_whole_bytes_sent() -> None:
    env = simpy.Environment()
    transfer = Transfer(10_000, "uplink", "kd-packet")
    proc = env.process(transmit(env, transfer, 8000.0, window_end_s=100.0))

    def stopper() -> simpy.events.ProcessGenerator:
        yield env.timeout(2.5)
        proc.interrupt()

    env.process(stopper())
    env.run()
    assert proc.value == 2500 and transfer.bytes_done == 2500


def test_transfer_accepts_numpy_sizes() -> None:
    import numpy as np

    transfer = Transfer(np.int64(4096), "downlink", "update")
    assert type(transfer.nbytes) is int and transfer.remaining == 4096


# ----- rate profiles and link budgets -----


def test_rate_profile_bytes_and_times() -> None:
    profile = RateProfile(np.array([10.0, 20.0, 30.0, 40.0]), np.array([8000.0, 0.0, 16000.0]))
    assert profile.bytes_between(10.0, 20.0) == 10_000
    assert profile.bytes_between(15.0, 35.0) == 5_000 + 10_000
    assert profile.bytes_between(0.0, 100.0) == 30_000
    assert profile.time_to_send(10.0, 10_000) == pytest.approx(20.0)
    assert profile.time_to_send(15.0, 6_000) == pytest.approx(30.5)  # 5 kB by 20 s, nothing until 30 s
    assert profile.time_to_send(10.0, 30_001) == float("inf")
    assert profile.rate_at(25.0) == 0.0 and profile.rate_at(35.0) == 16000.0
    assert profile.mean_rate_bps() == pytest.approx(8000.0)
    with pytest.raises(ConfigError, match="increase"):
        RateProfile(np.array([0.0, 0.0]), np.array([1.0]))


def test_transmit_follows_the_rate_in_force() -> None:
    env = simpy.Environment()
    profile = RateProfile(np.array([0.0, 10.0, 20.0]), np.array([8000.0, 80000.0]))
    transfer = Transfer(nbytes=20_000, direction="downlink")
    proc = env.process(transmit(env, transfer, profile, 20.0))
    env.run()
    # 10 kB in the first 10 s at 1 kB/s, the other 10 kB at 10 kB/s: done at 11 s
    assert proc.value == 20_000 and env.now == pytest.approx(11.0)


def test_transmit_with_a_profile_is_cut_at_the_window_end_and_resumes() -> None:
    env = simpy.Environment()
    first = RateProfile(np.array([0.0, 10.0]), np.array([8000.0]))
    transfer = Transfer(nbytes=15_000, direction="uplink")
    proc = env.process(transmit(env, transfer, first, 10.0))
    env.run()
    assert proc.value == 10_000 and transfer.remaining == 5_000
    second = RateProfile(np.array([100.0, 200.0]), np.array([4000.0]))

    def later() -> simpy.events.ProcessGenerator:
        yield env.timeout(100.0 - env.now)
        sent = yield env.process(transmit(env, transfer, second, 200.0))
        return sent

    proc2 = env.process(later())
    env.run()
    assert proc2.value == 5_000 and transfer.done and env.now == pytest.approx(110.0)


def test_free_space_loss_reference_value() -> None:
    # 20 log10(4 pi d f / c) at 1,000 km and 2.2 GHz is 159.29 dB
    assert float(free_space_loss_db(1000.0, 2.2e9)) == pytest.approx(159.29, abs=0.01)


def test_budget_rate_rises_and_falls_over_a_pass() -> None:
    from simsat.world import Station, compute_contacts, walker_satellites
    from simsat.world.passrates import pass_geometry, pass_rate_profile
    from simsat.world.timebase import Epoch

    start = datetime(2025, 3, 20, 6, tzinfo=timezone.utc)
    sats = walker_satellites(550.0, 97.6, 1, 1, 0, epoch=start, ltan_hours=10.5)
    station = Station("lux", 49.61, 6.13, 0.3, 5.0)
    epoch = Epoch(start)
    best = max(compute_contacts(sats, [station], epoch, 6 * 3600.0), key=lambda w: w.max_elevation_deg)
    assert best.max_elevation_deg > 60.0
    budget = link_preset("sband_downlink")
    profile = pass_rate_profile(budget, sats, best, [station], epoch, step_s=5.0)
    rates = profile.rates_bps
    peak = int(np.argmax(rates))
    assert rates[0] < rates[peak] and rates[-1] < rates[peak]
    assert np.all(np.diff(rates[: peak + 1]) >= 0) and np.all(np.diff(rates[peak:]) <= 0)
    _, elev = pass_geometry(sats, 0, station, epoch, np.array([best.start_s, best.end_s]))
    assert elev == pytest.approx([5.0, 5.0], abs=1e-3)
    supported = budget.supported_bps(np.array([2200.0, 550.0]), np.array([5.0, 90.0]))
    path_db = 20 * np.log10(2200 / 550)  # free-space loss scales with range squared
    air_db = budget.atmospheric_zenith_db * (1 / np.sin(np.radians(5)) - 1)  # more air at 5 degrees
    assert 10 * np.log10(supported[1] / supported[0]) == pytest.approx(path_db + air_db, abs=1e-9)


def test_presets_and_bad_budgets() -> None:
    assert set(PRESETS) == {"sband_downlink", "sband_uplink", "xband_downlink"}
    for budget in PRESETS.values():
        assert budget.source and budget.rate_steps_bps
        at_zenith = budget.rate_bps(550.0, 90.0)[0]
        assert at_zenith == max(budget.rate_steps_bps)
    assert link_preset("xband_downlink").rate_bps(2200.0, 5.0)[0] >= 5e6
    with pytest.raises(ConfigError, match="link.downlink_budget must be one of"):
        link_preset("ka_band", "link.downlink_budget")
    with pytest.raises(ConfigError, match=r"rate_steps_bps"):
        LinkBudget("bad", 2e9, 0.0, 0.0, 4.4, rate_steps_bps=(2e6, 1e6))
    no_link = LinkBudget("weak", 2e9, -40.0, -30.0, 4.4, rate_steps_bps=(1e6,))
    assert no_link.rate_bps(2000.0, 5.0)[0] == 0.0

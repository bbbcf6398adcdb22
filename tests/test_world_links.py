"""Link rates and window-limited transfers."""

from __future__ import annotations

import pytest
import simpy

from simsat.errors import ConfigError
from simsat.world.links import LinkRates, Transfer, bytes_in, seconds_for, transmit
from simsat.world.power import Battery


def test_bytes_in_and_seconds_for() -> None:
    assert bytes_in(1.5, 9600.0) == 1800
    assert bytes_in(0.1, 8.0 * 3) == 0  # 0.3 byte
    assert bytes_in(-1.0, 1e6) == 0
    assert bytes_in(10.0, 1e6) == 1_250_000
    assert seconds_for(1_250_000, 1e6) == pytest.approx(10.0)


def test_link_rates_validation() -> None:
    rates = LinkRates(uplink_bps=1e6, downlink_bps=4e6)
    assert rates.rate("uplink") == 1e6 and rates.rate("downlink") == 4e6
    with pytest.raises(ConfigError, match=r"link\.uplink_bps must be > 0"):
        LinkRates(0.0, 1e6)
    with pytest.raises(ConfigError, match=r"link\.downlink_bps"):
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

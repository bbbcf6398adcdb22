"""The aggregation rules on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.mission.aggregation import (
    Aggregation,
    AggregatorSettings,
    Discarded,
    FedAsyncAggregator,
    FedBuffAggregator,
    SyncAggregator,
    make_aggregator,
)
from simsat.mission.packets import ModelArrays, UpdatePacket


def _m(*values: float) -> ModelArrays:
    return {"w": np.array(values, np.float32), "n": np.array(4, np.int64)}


def _u(base: int, value: float, examples: int = 10, n: int = 4) -> UpdatePacket:
    return UpdatePacket(base, {"w": np.array([value, value], np.float32), "n": np.array(n, np.int64)}, examples, 0.1)


def _history(models: dict[int, ModelArrays]):
    return lambda version: models[version]


def test_fedasync_mixes_with_polynomial_staleness_discount() -> None:
    rule = FedAsyncAggregator(AggregatorSettings(mixing=0.5, staleness_exponent=1.0), 3)
    # fresh update: a = 0.5 -> w = 0.5 * 0 + 0.5 * 4 = 2
    out = rule.receive(_m(0.0, 0.0), 0, 1, _u(0, 4.0), 0.0, _history({}))
    assert isinstance(out, Aggregation)
    assert out.version == 1 and out.staleness == [0] and out.weights == [0.5]
    assert out.model["w"].tolist() == pytest.approx([2.0, 2.0])
    # staleness 3: a = 0.5 / 4 = 0.125 -> w = 0.875 * 2 + 0.125 * 10 = 3.0
    out = rule.receive(_m(2.0, 2.0), 4, 2, _u(1, 10.0, n=8), 0.0, _history({}))
    assert isinstance(out, Aggregation)
    assert out.staleness == [3] and out.weights == [0.125]
    assert out.model["w"].tolist() == pytest.approx([3.0, 3.0])
    assert int(out.model["n"]) == 4  # 0.875 * 4 + 0.125 * 8 = 4.5, rounded half to even
    assert out.model["n"].dtype == np.int64


def test_fedbuff_applies_mean_weighted_delta_every_k_updates() -> None:
    rule = FedBuffAggregator(AggregatorSettings(buffer_size=2, server_lr=1.0), 4)
    history = _history({0: _m(0.0, 0.0), 2: _m(1.0, 1.0)})
    assert rule.receive(_m(1.0, 1.0), 2, 0, _u(2, 3.0), 0.0, history) is None  # delta +2, staleness 0
    assert rule.waiting() == 1
    out = rule.receive(_m(1.0, 1.0), 2, 1, _u(0, 4.0), 0.0, history)  # delta +4, staleness 2
    assert isinstance(out, Aggregation)
    s2 = 1 / np.sqrt(3.0)
    assert out.weights == pytest.approx([1.0, s2])
    expected = 1.0 + (1.0 * 2.0 + s2 * 4.0) / 2
    assert out.model["w"].tolist() == pytest.approx([expected, expected], rel=1e-6)
    assert out.satellites == [0, 1] and out.staleness == [0, 2] and out.version == 3
    assert rule.waiting() == 0


def test_sync_discards_old_rounds_and_closes_at_size_or_deadline() -> None:
    rule = SyncAggregator(AggregatorSettings(round_size=3, deadline_hours=1.0), 5)
    rule.opened(2, 100.0)
    assert rule.deadline_s() == pytest.approx(3700.0)
    model = _m(0.0, 0.0)
    out = rule.receive(model, 2, 0, _u(1, 9.0), 200.0, _history({}))
    assert out == Discarded(0, 1)
    assert rule.receive(model, 2, 1, _u(2, 2.0, examples=10), 300.0, _history({})) is None
    assert rule.receive(model, 2, 2, _u(2, 5.0, examples=30), 400.0, _history({})) is None
    assert rule.expire(model, 2, 3000.0) is None  # before the deadline
    out = rule.expire(model, 2, 3700.0)
    assert isinstance(out, Aggregation)
    assert out.satellites == [1, 2] and out.version == 3
    assert out.model["w"].tolist() == pytest.approx([(2.0 * 10 + 5.0 * 30) / 40] * 2)


def test_sync_deadline_on_an_empty_round_closes_at_first_arrival() -> None:
    rule = SyncAggregator(AggregatorSettings(round_size=4, deadline_hours=0.5), 4)
    rule.opened(0, 0.0)
    assert rule.expire(_m(0.0, 0.0), 0, 1800.0) is None
    assert rule.deadline_s() is None
    out = rule.receive(_m(0.0, 0.0), 0, 3, _u(0, 1.0), 2000.0, _history({}))
    assert isinstance(out, Aggregation) and out.satellites == [3]


def test_sync_round_size_is_clipped_to_the_constellation() -> None:
    rule = SyncAggregator(AggregatorSettings(round_size=10), 2)
    model = _m(0.0, 0.0)
    assert rule.receive(model, 0, 0, _u(0, 1.0), 0.0, _history({})) is None
    assert isinstance(rule.receive(model, 0, 1, _u(0, 1.0), 0.0, _history({})), Aggregation)


def test_unknown_rule_and_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="^aggregation must be one of"):
        make_aggregator("fedprox", AggregatorSettings(), 2)
    with pytest.raises(ConfigError, match=r"^mixing must be in \(0, 1\]") as caught:
        AggregatorSettings(mixing=1.5)
    assert caught.value.key == "mixing"

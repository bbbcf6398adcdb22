"""What runs share and what a run keeps: the world's contact plan and sunlight read from the
cache equal a fresh computation; cached weights come back as stored; a refined student on the
ground worker reads as the student computed in place."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simsat.config.compile import build_world
from simsat.config.load import load_config
from simsat.distill.weights_cache import cached_weights
from simsat.mission.ground_worker import GroundWorker, PendingModel, model_signature


def test_world_from_the_cache_equals_a_fresh_one(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = load_config("quickstart", ["mission.duration_hours=6"])
    fresh = build_world(config)
    first = build_world(config, tmp_path)  # computed and kept
    assert len(list(tmp_path.glob("world-*.json"))) == 1
    with caplog.at_level("INFO"):
        again = build_world(config, tmp_path)
    assert "read from the cache" in caplog.text
    for world in (first, again):
        assert world.contacts == fresh.contacts
        for mine, theirs in zip(world.sunlit, fresh.sunlit, strict=True):
            assert mine.sunlight.shadows == theirs.sunlight.shadows and mine.sunlight.umbras == theirs.sunlight.umbras
            times = np.linspace(0, world.duration_s, 97)
            assert [mine(t) for t in times] == [theirs(t) for t in times]
    # another world (a later start) is another file
    build_world(
        load_config("quickstart", ["mission.duration_hours=6", "mission.start_utc=2025-06-01T00:00:00Z"]), tmp_path
    )
    assert len(list(tmp_path.glob("world-*.json"))) == 2
    # an unreadable file is computed again
    for path in tmp_path.glob("world-*.json"):
        path.write_text("{")
    assert build_world(config, tmp_path).contacts == fresh.contacts


def test_cached_weights_come_back_as_stored(tmp_path: Path) -> None:
    calls = []

    def train() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        calls.append(1)
        return {"accuracy": 0.5}, {"w": np.arange(4, dtype=np.float32)}

    record, arrays, hit = cached_weights(tmp_path, "reference", {"seed": 0}, train)
    assert not hit and record == {"accuracy": 0.5}
    record, arrays, hit = cached_weights(tmp_path, "reference", {"seed": 0}, train)
    assert hit and record == {"accuracy": 0.5} and np.array_equal(arrays["w"], np.arange(4, dtype=np.float32))
    cached_weights(tmp_path, "reference", {"seed": 1}, train)  # other inputs: trained again
    assert len(calls) == 2


def test_a_pending_student_waits_only_when_read() -> None:
    base = {"a": np.zeros(3, np.float32), "b": np.ones((2, 2), np.int64)}
    gate = threading.Event()
    worker = GroundWorker()
    try:
        pending = PendingModel(worker.submit(lambda: (gate.wait(5), {k: v + 1 for k, v in base.items()})[1]), base)
        # its architecture is known at once (the uplink's size), without waiting
        assert model_signature(pending) == model_signature(base)
        assert not pending._future.done()
        gate.set()
        assert sorted(pending) == ["a", "b"] and np.array_equal(pending["a"], np.ones(3, np.float32))
        assert dict(pending.items()).keys() == base.keys() and len(pending) == 2
        # a job asked for later sees it done (one worker, in order)
        assert worker.submit(lambda: float(pending["b"].sum())).result() == 8.0
    finally:
        worker.close()
    inline = GroundWorker(threaded=False).submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        inline.result()

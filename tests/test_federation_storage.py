"""A node's onboard storage and the byte counts that skip serialising the student."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from flwr.app import Context, RecordDict

from simsat.federation import payloads
from simsat.federation.storage import NodeMemory, OnboardStorage
from simsat.mission.onboard import model_arrays
from simsat.mission.packets import KnowledgePacket, UpdatePacket, UplinkPacket
from simsat.models.registry import create_student


def _context(satellite: int = 3) -> Context:
    return Context(run_id=0, node_id=1, node_config={"partition-id": satellite}, state=RecordDict(), run_config={})


def _knowledge(n: int) -> KnowledgePacket:
    rng = np.random.default_rng(n)
    return KnowledgePacket(
        ids=np.arange(n, dtype=np.int64) * 7,
        targets=rng.random((n, 10)).astype(np.float16),
        kd_weight=rng.random(n).astype(np.float32),
        ce_weight=rng.random(n).astype(np.float32),
    )


@pytest.mark.parametrize("labels", [0, 1, 63, 64, 1000])
@pytest.mark.parametrize("version", [0, 127, 128, 20_000])
def test_sizes_equal_the_serialised_messages(labels: int, version: int) -> None:
    torch.manual_seed(0)
    model = model_arrays(create_student("resnet8", 10))
    sizes = payloads.Sizes()
    for packet in (UplinkPacket(version, model, _knowledge(labels)), UplinkPacket(version, None, _knowledge(labels))):
        assert sizes.uplink(packet) == payloads.uplink_bytes(packet)
    update = UpdatePacket(version, model, labels, 0.25 + labels)
    assert sizes.update(update) == payloads.update_bytes(update)
    # the record made once per student is the same record a fresh conversion gives
    assert payloads.serialized_bytes(RecordDict({payloads.MODEL: sizes.record(model)})) == sizes.model_item(model)
    assert sizes.record(model) is sizes.record(model)


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_node_reads_back_what_it_stored(tmp_path: Path, on_disk: bool) -> None:
    folder = str(tmp_path / "onboard") if on_disk else ""
    storage = OnboardStorage(10, folder)
    context = _context()
    assert storage.load(3, context).version == -1
    model = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}
    storage.save(3, context, NodeMemory(4, model, _knowledge(5)))
    # the Context carries a generation, not the memory
    assert list(context.state.array_records) == []
    memory = storage.load(3, context)
    assert memory.version == 4 and memory.model is not None and np.array_equal(memory.model["w"], model["w"])
    assert np.array_equal(memory.knowledge.ids, _knowledge(5).ids)
    if on_disk:
        # another worker (a fresh storage over the same folder) reads the node's memory from disk
        other = OnboardStorage(10, folder)
        seen = other.load(3, context)
        assert seen.version == 4 and seen.model is not None and np.array_equal(seen.model["w"], model["w"])
        assert np.array_equal(seen.knowledge.targets, _knowledge(5).targets)
        # its own model (`local`) is kept with the satellite, and a stale cache is read again
        own = {"w": -np.ones((2, 3), np.float32)}
        other.save(3, context, NodeMemory(4, own, seen.knowledge, own=True))
        again = storage.load(3, context)
        assert again.own and again.model is not None and np.array_equal(again.model["w"], own["w"])
        assert len(list((tmp_path / "onboard").glob("satellite_0003-*.npz"))) == 1  # older generations removed

"""Packets, FedAvg, the ground segment's uplink budget, and Flower serialisation sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from simsat.federation import payloads
from simsat.mission.aggregation import AggregatorSettings, fedavg, make_aggregator
from simsat.mission.ground import GroundSegment
from simsat.mission.knowledge import labelled_plus_soft, training_knowledge
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket
from simsat.mission.strategies import get_strategy


def _ground(
    model: ModelArrays, queues: list[KnowledgePacket], aggregation: str = "sync", **settings: float
) -> GroundSegment:
    n = len(queues)
    return GroundSegment(
        model=model,
        strategy=get_strategy("fedkd"),
        aggregator=make_aggregator(aggregation, AggregatorSettings(**settings), n),  # type: ignore[arg-type]
        num_satellites=n,
        num_classes=10,
        queue=list(queues),
    )


def _knowledge(ids: list[int], classes: int = 10, weight: float = 1.0) -> KnowledgePacket:
    n = len(ids)
    targets = np.full((n, classes), 1.0 / classes, np.float16)
    return KnowledgePacket(
        ids=np.array(ids, np.int64),
        targets=targets,
        kd_weight=np.full(n, weight, np.float32),
        ce_weight=np.full(n, 1 - weight / 2, np.float32),
    )


def test_merge_prefers_newer_and_sorts_by_id() -> None:
    old = _knowledge([5, 1, 3], weight=0.2)
    new = _knowledge([3, 7], weight=0.9)
    merged = old.merge(new)
    assert merged.ids.tolist() == [1, 3, 5, 7]
    assert merged.kd_weight.tolist() == pytest.approx([0.2, 0.9, 0.2, 0.9])


def test_fedavg_weights_by_examples_and_keeps_integer_dtype() -> None:
    a = UpdatePacket(0, {"w": np.array([0.0, 4.0], np.float32), "n": np.array(2, np.int64)}, 1, 0.0)
    b = UpdatePacket(0, {"w": np.array([4.0, 0.0], np.float32), "n": np.array(6, np.int64)}, 3, 0.0)
    avg = fedavg([a, b])
    assert avg["w"].tolist() == pytest.approx([3.0, 1.0])
    assert avg["n"].dtype == np.int64 and int(avg["n"]) == 5


def test_payload_round_trip_and_size_grows_with_labels() -> None:
    model = {"conv.weight": np.random.default_rng(0).normal(size=(16, 3, 3, 3)).astype(np.float32)}
    packet = UplinkPacket(3, model, _knowledge(list(range(100))))
    back = payloads.content_uplink(payloads.uplink_content(packet))
    assert back.version == 3
    np.testing.assert_array_equal(back.model["conv.weight"], model["conv.weight"])
    np.testing.assert_array_equal(back.knowledge.ids, packet.knowledge.ids)
    small = payloads.uplink_bytes(UplinkPacket(3, model, _knowledge(list(range(10)))))
    large = payloads.uplink_bytes(packet)
    raw_per_label = 8 + 10 * 2 + 4 + 4  # id + float16 targets + two float32 weights
    assert large - small == pytest.approx(90 * raw_per_label, rel=0.05)
    assert small > model["conv.weight"].nbytes


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.asfortranarray(np.arange(15, dtype=np.float64).reshape(3, 5)),
        np.arange(24, dtype=">f4").reshape(2, 3, 4),  # big-endian
        np.array(7, dtype=np.int64),  # a 0-d array, as BatchNorm's num_batches_tracked
        np.zeros((2, 0, 3), dtype=np.uint8),
        np.array([1.5, -2.0], dtype=np.float16),
        np.array([True, False]),
    ],
)
def test_arrays_come_out_of_flower_records_as_numpy_reads_them(array: np.ndarray) -> None:
    from flwr.app import Array

    wrapped = Array(array)
    got, expected = payloads.values(wrapped), wrapped.numpy()
    assert got.dtype == expected.dtype and got.shape == expected.shape and got.tobytes() == expected.tobytes()
    assert got.flags.writeable and got.flags.c_contiguous == expected.flags.c_contiguous
    assert got.flags.f_contiguous == expected.flags.f_contiguous
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    object_array = Array(dtype="O", shape=(1,), stype="numpy.ndarray", data=pickled.getvalue())
    with pytest.raises(ValueError, match="allow_pickle"):  # refused, as Flower refuses it
        payloads.values(object_array)


def test_build_uplink_fits_budget_and_resumes_queue() -> None:
    model = {"w": np.zeros(1000, np.float32)}
    ground = _ground(model, [_knowledge(list(range(500)))])
    size = payloads.uplink_bytes
    model_only = size(UplinkPacket(0, model, _knowledge([])))
    budget = model_only + 100 * 36
    packet = ground.build_uplink(0, -1, budget, size)
    assert packet is not None and packet.model is not None
    assert size(packet) <= budget
    assert 90 <= len(packet.knowledge) <= 100
    ground.mark_delivered(0, packet)
    # The satellite now holds the current version: the next packet carries only new labels.
    follow = ground.build_uplink(0, 0, 10_000_000, size)
    assert follow is not None and follow.model is None
    assert follow.knowledge.ids[0] == len(packet.knowledge)
    assert len(follow.knowledge) == 500 - len(packet.knowledge)
    ground.mark_delivered(0, follow)
    assert ground.build_uplink(0, 0, 10_000_000, size) is None


def test_model_larger_than_window_is_sent_alone() -> None:
    model = {"w": np.zeros(10_000, np.float32)}
    ground = _ground(model, [_knowledge([1, 2])])
    packet = ground.build_uplink(0, -1, 1_000, payloads.uplink_bytes)
    assert packet is not None and packet.model is not None and len(packet.knowledge) == 0


def test_sync_round_aggregates_when_full() -> None:
    ground = _ground({"w": np.zeros(2, np.float32)}, [_knowledge([])] * 2, round_size=2)
    u0 = UpdatePacket(0, {"w": np.array([1.0, 1.0], np.float32)}, 10, 0.5)
    u1 = UpdatePacket(0, {"w": np.array([3.0, 3.0], np.float32)}, 30, 0.5)
    assert ground.receive_update(0, u0, 10.0) is None
    agg = ground.receive_update(1, u1, 20.0)
    assert agg is not None and not isinstance(agg, type(None))
    assert agg.version == 1 and agg.satellites == [0, 1]  # type: ignore[union-attr]
    assert agg.staleness == [0, 0] and agg.num_examples == 40  # type: ignore[union-attr]
    assert ground.version == 1
    assert ground.model["w"].tolist() == pytest.approx([2.5, 2.5])


def _pooling_ground(refine_images: int = 0, seed: int = 0) -> GroundSegment:
    """A fedkd ground of two satellites that keeps the imagery it receives (labelled by id)."""
    return GroundSegment(
        model={"w": np.zeros(3, np.float32)},
        strategy=get_strategy("fedkd"),
        aggregator=make_aggregator("fedasync", AggregatorSettings(), 2),
        num_satellites=2,
        num_classes=10,
        labeller=lambda images, ids: _knowledge([int(i) for i in ids]),
        keeps_pool=True,
        refine_images=refine_images,
        seed=seed,
    )


def test_refine_replaces_the_current_version_with_the_trained_student() -> None:
    ground = _pooling_ground()
    ground.receive_imagery(1, np.full((2, 4, 4, 3), 7, np.uint8), np.array([4, 9]))
    seen: list[tuple[int, list[int]]] = []

    def trainer(arrays: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        seen.append((len(images), knowledge.ids.tolist()))
        return {k: v + 1 for k, v in arrays.items()}

    assert ground.refine(trainer) == 2
    assert seen == [(2, [4, 9])]
    assert ground.version == 0 and ground.history[0] is ground.model
    assert ground.model["w"].tolist() == [1.0, 1.0, 1.0]


def test_refinement_trains_on_a_seeded_sample_when_capped() -> None:
    """`federation.ground_refine_images`: at most that many received images per refinement, the
    same sample for the same seed and version, a different one for another version."""

    def ground_with_pool(seed: int) -> GroundSegment:
        ground = _pooling_ground(refine_images=4, seed=seed)
        ids = np.arange(20)
        ground.receive_imagery(0, ids.reshape(20, 1, 1, 1).repeat(3, axis=3).astype(np.uint8), ids)
        return ground

    def sample(ground: GroundSegment) -> list[int]:
        seen: list[int] = []

        def trainer(arrays: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
            assert images[:, 0, 0, 0].tolist() == knowledge.ids.tolist()  # images stay with their labels
            seen.extend(knowledge.ids.tolist())
            return arrays

        assert ground.refine(trainer) == 4
        return seen

    first = sample(ground_with_pool(0))
    assert len(set(first)) == 4 and first == sorted(first)
    assert sample(ground_with_pool(0)) == first
    later = ground_with_pool(0)
    later.version = 3
    assert sample(later) != first


def test_labelled_images_get_cross_entropy_only() -> None:
    soft = training_knowledge(_knowledge([3, 5], weight=0.8))
    joint = labelled_plus_soft(3, soft, 10)
    assert len(joint) == 5
    assert joint.kd_weight.tolist()[:3] == [0, 0, 0] and joint.ce_weight.tolist()[:3] == [1, 1, 1]
    assert torch.equal(joint.targets[3:], soft.targets) and torch.allclose(joint.kd_weight[3:], soft.kd_weight)


def test_a_held_back_student_is_offered_and_kept_until_it_is_published() -> None:
    """While the ground's computer trains the current student (`hold_back`), uplinks carry the
    one before it with its version, and that version outlives `forget_versions_before`."""
    ground = _ground({"w": np.zeros(2, np.float32)}, [_knowledge([1, 2]), _knowledge([3])], "fedasync")
    update = UpdatePacket(0, {"w": np.ones(2, np.float32)}, 10, 0.0)
    assert ground.receive_update(0, update, 100.0) is not None and ground.version == 1
    ground.hold_back(0)
    assert ground.offered()[0] == 0 and ground.offered()[1] is ground.history[0]
    packet = ground.build_uplink(1, -1, 10**9, lambda p: 100 + 10 * len(p.knowledge))
    assert packet is not None and packet.version == 0 and packet.model is ground.history[0]
    assert ground.build_uplink(0, 0, 10**9, lambda p: 100 + 10 * len(p.knowledge)).model is None  # type: ignore[union-attr]
    ground.forget_versions_before(5)
    assert set(ground.history) == {0, 1}
    ground.publish()
    assert ground.offered() == (1, ground.model)
    ground.forget_versions_before(5)
    assert set(ground.history) == {1}

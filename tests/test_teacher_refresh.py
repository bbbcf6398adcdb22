"""The ground's teacher refresh (`distill.refresh`): the teachers continue on the ground's labels
plus the consistency term on the imagery received, every received image is labelled again and
its label re-sent; validated up front, journaled and replayed like the rest of the ground's work."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from simsat.assembly import Mission, assemble
from simsat.config.load import compose_config, load_config, to_typed
from simsat.config.schema import SimsatConfig
from simsat.config.validate import validate_config
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised, train_semi_supervised
from simsat.distill.train import train_supervised
from simsat.errors import ConfigError
from simsat.ground import GroundLearning
from simsat.mission.aggregation import AggregatorSettings, make_aggregator
from simsat.mission.ground import GroundSegment
from simsat.mission.journal import Journal
from simsat.mission.operations import Operations
from simsat.mission.packets import KnowledgePacket
from simsat.mission.strategies import get_strategy
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student
from simsat.results.recorder import Recorder
from simsat.summary import mission_summary

REFRESH = ["distill.refresh.hours=[6]", "distill.refresh.epochs=1", "distill.refresh.ratio=1", "data.image_size=32"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _play(
    cache: Path, out: Path, *overrides: str, journal: Journal | None = None, stages: list[tuple] | None = None
) -> tuple[Mission, Operations, Recorder]:
    config = load_config("tiny", [f"data.cache_dir={cache}", "reference.epochs=0", *REFRESH, *overrides])
    with assemble(config) as mission:
        recorder = Recorder(out)

        def progress(stage: str, done: float, total: float) -> None:
            if stages is not None and stage != "mission":
                stages.append((stage, done, total))

        ops = mission.run(recorder, progress, in_process=True, journal=journal)
        recorder.close()
    return mission, ops, recorder


# -- the training function --------------------------------------------------------------------
def _images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_semi_supervised_training_without_the_term_is_supervised_training() -> None:
    images, labels, unlabelled = _images(48, 0), np.arange(48) % 10, _images(40, 1)
    norm = Normalization.from_images(images)
    recipe = TrainRecipe(epochs=1, batch_size=16, lr=1e-3)
    torch.manual_seed(0)
    start = create_student("resnet8", 10)
    plain, off, on, again = (copy.deepcopy(start) for _ in range(4))
    train_supervised(plain, images, labels, recipe, norm, seed=3)
    train_semi_supervised(off, images, labels, unlabelled, recipe, norm, SemiSupervised(0.0), seed=3)
    # threshold 0: every pseudo-label counts, so the term always changes the gradient
    term = SemiSupervised(1.0, threshold=0.0, ratio=2)
    train_semi_supervised(on, images, labels, unlabelled, recipe, norm, term, seed=3)
    train_semi_supervised(again, images, labels, unlabelled, recipe, norm, term, seed=3)
    for a, b in zip(_weights(plain), _weights(off), strict=True):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(_weights(plain), _weights(on), strict=True))
    for a, b in zip(_weights(on), _weights(again), strict=True):
        assert torch.equal(a, b)  # same seed, same result


# -- the ground segment -------------------------------------------------------------------------
def _packet(ids: np.ndarray, value: float) -> KnowledgePacket:
    n = len(ids)
    return KnowledgePacket(
        ids=np.asarray(ids, np.int64),
        targets=np.full((n, 10), value, np.float16),
        kd_weight=np.ones(n, np.float32),
        ce_weight=np.ones(n, np.float32),
    )


def _refreshing_ground(satellites: int, label_value: list[float]) -> GroundSegment:
    """A fedkd ground that keeps its imagery; its teachers label every image `label_value[0]`."""
    return GroundSegment(
        model={"w": np.zeros(2, np.float32)},
        strategy=get_strategy("fedkd"),
        aggregator=make_aggregator("fedasync", AggregatorSettings(), satellites),
        num_satellites=satellites,
        num_classes=10,
        labeller=lambda images, ids: _packet(ids, label_value[0]),
        keeps_pool=True,
        keeps_imagery=True,
    )


def test_relabel_requeues_every_received_image_with_the_new_labels() -> None:
    labeller_value = [0.1]
    ground = _refreshing_ground(2, labeller_value)
    ground.receive_imagery(0, np.zeros((3, 4, 4, 3), np.uint8), np.array([5, 1, 7]))
    ground.receive_imagery(1, np.ones((2, 4, 4, 3), np.uint8), np.array([2, 3]))
    ground.receive_imagery(0, np.full((1, 4, 4, 3), 2, np.uint8), np.array([9]))
    ground.sent = [2, 0]  # satellite 0 has had two labels delivered
    ground.pool_trained = ground.pool_size()
    assert ground.received_imagery().shape == (6, 4, 4, 3)

    labeller_value[0] = 0.5  # the refreshed teachers
    assert ground.relabel() == 6
    q0, q1 = ground.queue
    assert q0.ids.tolist() == [5, 1, 5, 1, 7, 9]  # the two delivered, then every image again
    assert q0.targets[:2].tolist() == [[np.float16(0.1)] * 10] * 2
    assert np.all(q0.targets[2:] == np.float16(0.5))
    assert q1.ids.tolist() == [2, 3] and np.all(q1.targets == np.float16(0.5))
    assert ground.labels_pending(0) == 4 and ground.labels_pending(1) == 2
    images, knowledge = ground.pool()
    assert len(images) == 6 and np.all(knowledge.targets == np.float16(0.5))
    assert ground.pool_trained == 0  # the `ground` strategy trains on the new labels


def test_labels_in_flight_at_a_refresh_are_delivered_and_the_new_ones_follow() -> None:
    """A packet built before the refresh still arrives; every new label goes up after it."""
    value = [0.1]
    ground = _refreshing_ground(1, value)
    ground.receive_imagery(0, np.zeros((4, 4, 4, 3), np.uint8), np.array([0, 1, 2, 3]))
    ground.sent = [1]
    ground.version = 1  # the satellite already holds this version: a labels-only packet
    in_flight = ground.build_uplink(0, 1, 10**6, lambda packet: 100 + 40 * len(packet.knowledge))
    assert in_flight is not None and in_flight.knowledge.ids.tolist() == [1, 2, 3]
    value[0] = 0.5
    ground.relabel()
    ground.mark_delivered(0, in_flight)  # the old labels of 1, 2, 3 arrive
    after = ground.build_uplink(0, 1, 10**6, lambda packet: 100 + 40 * len(packet.knowledge))
    assert after is not None and after.knowledge.ids.tolist() == [0, 1, 2, 3]
    assert np.all(after.knowledge.targets == np.float16(0.5))


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["distill.refresh.hours=[13]"], "distill.refresh.hours[0] must be <= 12"),
        (["distill.refresh.hours=[0]"], "distill.refresh.hours[0] must be > 0"),
        (["distill.refresh.hours=[4,4]"], "distill.refresh.hours[1] must be later"),
        (["distill.refresh.epochs=0"], "distill.refresh.epochs must be >= 1"),
        (["distill.refresh.lr=0"], "distill.refresh.lr must be > 0"),
        (["distill.refresh.threshold=1.5"], "distill.refresh.threshold must be <= 1"),
        (["distill.refresh.weight=-1"], "distill.refresh.weight must be >= 0"),
        (["distill.refresh.hours=[3]", "federation.strategy=fedavg_labels"], "not fedavg_labels"),
    ],
)
def test_bad_refresh_settings_are_named(overrides: list[str], message: str) -> None:
    config = to_typed(compose_config("tiny", overrides), "tiny")
    assert isinstance(config, SimsatConfig)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_config(config)


# -- the mission ----------------------------------------------------------------------------------
# fedkd's mission takes minutes: slow (the quick set keeps `ground`'s)
@pytest.mark.slow  # a mission with a refresh: minutes
@pytest.mark.parametrize("strategy", ["fedkd", "ground"])
def test_a_mission_refreshes_its_teachers_and_labels_everything_again(
    cache: Path, tmp_path: Path, strategy: str
) -> None:
    stages: list[tuple] = []
    mission, ops, recorder = _play(cache, tmp_path, f"federation.strategy={strategy}", stages=stages)
    # a long refresh shows its progress, one step per epoch of each teacher
    assert stages == [(f"teacher {name} refresh (epochs)", 1.0, 1.0) for name in ("efficientvit_b0", "mobilevit_xxs")]
    (refresh,) = [e for e in recorder.events if e["kind"] == "teacher_refresh"]
    assert refresh["time_s"] == 6 * 3600.0
    received_by_then = sum(
        e["images"] for e in recorder.events if e["kind"] == "imagery_received" and e["time_s"] <= refresh["time_s"]
    )
    assert refresh["images"] == received_by_then > 0
    assert [t["name"] for t in refresh["teachers"]] == ["efficientvit_b0", "mobilevit_xxs"]
    assert all(0.0 <= t["accuracy"] <= 1.0 for t in refresh["teachers"])
    assert ops.teacher_refreshes == [{k: v for k, v in refresh.items() if k not in ("time_s", "kind", "wall_s")}]
    assert ops.clock.teacher_refresh_s > 0
    if strategy == "fedkd":
        # every image labelled before the refresh is queued again, with a label of the new teachers
        for queue in ops.ground.queue:
            ids, counts = np.unique(queue.ids, return_counts=True)
            twice = ids[counts == 2]
            assert len(twice) > 0
            first = {int(i): queue.targets[j] for j, i in reversed(list(enumerate(queue.ids)))}
            last = {int(i): queue.targets[j] for j, i in enumerate(queue.ids)}
            assert any(not np.array_equal(first[int(i)], last[int(i)]) for i in twice)
    else:
        trainings = [e["time_s"] for e in recorder.events if e["kind"] == "ground_training"]
        assert refresh["time_s"] in trainings  # the student learns the new labels at once
    summary = mission_summary(mission, ops, recorder.rows, None, 1.0)
    assert summary["teacher_refreshes"] == ops.teacher_refreshes
    assert summary["wall"]["teacher_refresh_seconds"] > 0
    json.dumps(summary)  # the summary stays plain JSON


@pytest.mark.slow  # two missions: minutes
def test_a_replayed_run_takes_the_refreshed_teachers_from_its_journal(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_dir = tmp_path / "journal"
    _, first, first_rec = _play(cache, tmp_path / "a", journal=Journal(journal_dir))
    assert any(p.name.startswith("teacher_refresh-") for p in journal_dir.iterdir())

    def no_training(self: GroundLearning, images: np.ndarray, *args: object) -> None:
        raise AssertionError("the replay trained the teachers again")

    monkeypatch.setattr(GroundLearning, "refresh_teachers", no_training)
    journal = Journal(journal_dir)
    _, second, second_rec = _play(cache, tmp_path / "b", journal=journal)
    assert journal.recorded == 0
    assert second.teacher_refreshes == first.teacher_refreshes
    wall = ("wall_s", "seconds")

    def plain(events: list[dict]) -> list[dict]:
        return [{k: v for k, v in e.items() if k not in wall} for e in events]

    assert plain(second_rec.events) == plain(first_rec.events)

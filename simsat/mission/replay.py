"""The mission's real work through its journal (see :mod:`simsat.mission.journal`).

`JournaledTransport` wraps the satellites' transport: a training whose result is journaled is
not handed to its node; when its simulated end comes, the node is given the journaled update
(as if it had just trained) and the mission the journaled report. Everything else a node does
(store an uplink, hand over its update, encode imagery) is cheap and done for real, so the
nodes hold the same state as in the run that was killed. `journaled_ground` does the same for
the ground's evaluations, soft labels and trainings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from simsat.mission.journal import Entry, Journal, arrays_entry, entry_arrays, fingerprint
from simsat.mission.packets import ImageryPacket, KnowledgePacket, ModelArrays, TrainReport, UpdatePacket, UplinkPacket
from simsat.mission.transport import Reply, TrainOrder

Evaluate = Callable[[ModelArrays], dict[str, float]]
Label = Callable[[np.ndarray, np.ndarray], KnowledgePacket]
GroundTrain = Callable[[ModelArrays, np.ndarray, KnowledgePacket], ModelArrays]
# the received imagery -> each refreshed teacher's weights and a report (its scores, seconds)
RefreshTeachers = Callable[[np.ndarray], tuple[list[ModelArrays], dict[str, Any]]]


class RestorableTransport(Protocol):
    """A Transport that can also hand out and put back what a training left on a node."""

    def uplink_bytes(self, packet: UplinkPacket) -> int: ...

    def update_bytes(self, packet: UpdatePacket) -> int: ...

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]: ...

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None: ...

    def finish_training_update(self, satellite: int) -> tuple[TrainReport, UpdatePacket | None]: ...

    def restore_training(self, satellite: int, update: UpdatePacket | None) -> None: ...

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]: ...

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]: ...

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None: ...


def _no_stop() -> None:
    return None


# -- codecs ------------------------------------------------------------------------------------
def model_entry(model: ModelArrays, **meta: Any) -> Entry:
    names, arrays = arrays_entry("m", model)
    return Entry({**meta, "names": names}, arrays)


def entry_model(entry: Entry) -> ModelArrays:
    return entry_arrays("m", entry.meta["names"], entry)


def training_entry(result: tuple[TrainReport, UpdatePacket | None]) -> Entry:
    report, update = result
    meta: dict[str, Any] = {
        "num_examples": report.num_examples,
        "loss": report.loss,
        "wall_seconds": report.wall_seconds,
        "unlabelled": report.unlabelled,
    }
    if update is None:
        return Entry(meta)
    update_meta = {"base_version": update.base_version, "num_examples": update.num_examples, "loss": update.loss}
    return model_entry(update.model, **meta, update=update_meta)


def entry_training(entry: Entry) -> tuple[TrainReport, UpdatePacket | None]:
    m = entry.meta
    report = TrainReport(int(m["num_examples"]), float(m["loss"]), float(m["wall_seconds"]), int(m["unlabelled"]))
    if "update" not in m:
        return report, None
    u = m["update"]
    update = UpdatePacket(int(u["base_version"]), entry_model(entry), int(u["num_examples"]), float(u["loss"]))
    return report, update


def knowledge_entry(packet: KnowledgePacket) -> Entry:
    arrays = {
        "ids": packet.ids,
        "targets": packet.targets,
        "kd_weight": packet.kd_weight,
        "ce_weight": packet.ce_weight,
    }
    return Entry({}, arrays)


def entry_knowledge(entry: Entry) -> KnowledgePacket:
    a = entry.arrays
    return KnowledgePacket(ids=a["ids"], targets=a["targets"], kd_weight=a["kd_weight"], ce_weight=a["ce_weight"])


# -- the satellites ----------------------------------------------------------------------------
class JournaledTransport:
    """`inner` with every training's result journaled (and taken from the journal on a replay).

    `stop` is called before each exchange with a node: it raises to stop the mission.
    """

    def __init__(self, inner: RestorableTransport, journal: Journal, stop: Callable[[], None] = _no_stop) -> None:
        self.inner = inner
        self.journal = journal
        self.stop = stop
        # satellite -> key, check, the journaled result (decoded)
        self._pending: dict[int, tuple[str, str, tuple[TrainReport, UpdatePacket | None] | None]] = {}
        self._delivered: dict[int, str] = {}  # satellite -> fingerprint of the last uplink it got

    def uplink_bytes(self, packet: UplinkPacket) -> int:
        return self.inner.uplink_bytes(packet)

    def update_bytes(self, packet: UpdatePacket) -> int:
        return self.inner.update_bytes(packet)

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]:
        self.stop()
        delivered = fingerprint(packet.version, packet.model is None, packet.knowledge.ids)
        if train is not None:
            # the training that follows is recalled from the fingerprint of this uplink
            entry = self._recall(satellite, train.acquired, delivered)
            if entry is None:
                self._delivered[satellite] = delivered
                return self.inner.deliver(satellite, packet, train)

        def taken(_: None) -> None:
            self._delivered[satellite] = delivered

        return self.inner.deliver(satellite, packet).then(taken)

    def _recall(self, satellite: int, acquired: int, delivered: str) -> tuple[TrainReport, UpdatePacket | None] | None:
        """The journaled result of the satellite's next training (None: it is computed; a damaged
        entry counts as absent)."""
        key = self.journal.next_key(f"train-s{satellite:04d}")
        check = fingerprint("train", satellite, acquired, delivered)
        journaled = self.journal.recall_as(key, check, entry_training)
        self._pending[satellite] = (key, check, journaled)
        return journaled

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None:
        self.stop()
        # an injected failure (`fail`, drawn from the seed) is drawn the same on a replay
        if self._recall(satellite, acquired, self._delivered.get(satellite, "")) is None:
            self.inner.start_training(satellite, acquired, fail)

    def finish_training(self, satellite: int) -> TrainReport:
        self.stop()
        key, check, journaled = self._pending.pop(satellite)
        if journaled is not None:
            report, update = journaled
            self.inner.restore_training(satellite, update)
            return report
        result = self.inner.finish_training_update(satellite)
        self.journal.record(key, check, training_entry(result))
        return result[0]

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]:
        self.stop()
        return self.inner.downlink(satellite)

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]:
        self.stop()
        return self.inner.imagery(satellite, start, stop, budget_bytes)

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None:
        self.stop()
        self.inner.prefetch_imagery(satellite, start, stop, budget_bytes)


# -- the ground --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroundWork:
    """The ground's expensive functions, as the mission calls them."""

    score: Evaluate
    label: Label
    train: GroundTrain
    refine: GroundTrain  # an aggregated student refined at the ground
    refresh: RefreshTeachers | None = None  # the teachers continued on the received imagery


def teachers_entry(result: tuple[list[ModelArrays], dict[str, Any]]) -> Entry:
    teachers, report = result
    names, arrays = [], {}
    for i, weights in enumerate(teachers):
        teacher_names, teacher_arrays = arrays_entry(f"t{i}_", weights)
        names.append(teacher_names)
        arrays.update(teacher_arrays)
    return Entry({"names": names, "report": report}, arrays)


def entry_teachers(entry: Entry) -> tuple[list[ModelArrays], dict[str, Any]]:
    names = entry.meta["names"]
    return [entry_arrays(f"t{i}_", n, entry) for i, n in enumerate(names)], entry.meta["report"]


def journaled_ground(work: GroundWork, journal: Journal, stop: Callable[[], None] = _no_stop) -> GroundWork:
    """`work` with each result journaled (and taken from the journal on a replay)."""

    def score(model: ModelArrays) -> dict[str, float]:
        stop()
        return journal.remember(
            "eval",
            fingerprint("eval", model),
            lambda: work.score(model),
            lambda scores: Entry({"scores": scores}),
            lambda entry: {k: float(v) for k, v in entry.meta["scores"].items()},
        )

    def label(images: np.ndarray, ids: np.ndarray) -> KnowledgePacket:
        stop()
        return journal.remember(
            "label",
            fingerprint("label", images, ids),
            lambda: work.label(images, ids),
            knowledge_entry,
            entry_knowledge,
        )

    def train(model: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        stop()
        check = fingerprint("ground_train", model, images, knowledge.ids, knowledge.targets)
        return journal.remember(
            "ground_train", check, lambda: work.train(model, images, knowledge), model_entry, entry_model
        )

    def refine(model: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        stop()
        check = fingerprint("ground_refine", model, images, knowledge.ids, knowledge.targets)
        return journal.remember(
            "ground_refine", check, lambda: work.refine(model, images, knowledge), model_entry, entry_model
        )

    refresh = None
    if work.refresh is not None:
        compute_refresh = work.refresh

        def refresh(images: np.ndarray) -> tuple[list[ModelArrays], dict[str, Any]]:
            stop()
            return journal.remember(
                "teacher_refresh",
                fingerprint("teacher_refresh", images),
                lambda: compute_refresh(images),
                teachers_entry,
                entry_teachers,
            )

    return GroundWork(score, label, train, refine, refresh)


def journaled_reference(
    compute: Callable[[], tuple[dict[str, float], ModelArrays]], journal: Journal, epochs: int
) -> tuple[dict[str, float], ModelArrays]:
    """The ground-only reference (its scores and weights; trained once per run), journaled like the rest."""
    return journal.remember(
        "reference",
        fingerprint("reference", epochs),
        compute,
        lambda result: model_entry(result[1], report=result[0]),
        lambda entry: (entry.meta["report"], entry_model(entry)),
    )

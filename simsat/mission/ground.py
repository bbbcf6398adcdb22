"""The ground station's side of the mission: the global student, received imagery, soft labels
to send, and the aggregation rule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simsat.mission.aggregation import Aggregation, Aggregator, Discarded, Outcome
from simsat.mission.ground_worker import GroundWorker, PendingModel
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket
from simsat.mission.strategies import Strategy

log = logging.getLogger(__name__)

SizeFn = Callable[[UplinkPacket], int]
# The teachers at the ground: decoded images and their ids -> soft labels (most useful first)
Labeller = Callable[[np.ndarray, np.ndarray], KnowledgePacket]
# Ground-side training: (current student, images, their soft labels) -> new student
GroundTrainer = Callable[[ModelArrays, np.ndarray, KnowledgePacket], ModelArrays]


@dataclass
class GroundSegment:
    """Holds the global student (as arrays), what each satellite has sent down and what is due up.

    `queue[s]` is the soft labels made for satellite s, in sending order; `sent[s]` how many of
    them have been delivered; `relayed[s]` how many (after those) were handed to a plane-mate to
    carry to it over crosslinks and have not reached it yet; `received[s]` how many of its images
    have arrived.
    """

    model: ModelArrays
    strategy: Strategy
    aggregator: Aggregator
    num_satellites: int
    num_classes: int
    labeller: Labeller | None = None
    max_labels_per_contact: int = 0
    keeps_pool: bool = False  # keep received images and their soft labels to train on at the ground
    refine_images: int = 0  # received images a refinement trains on at most (a seeded sample; 0: all)
    keeps_imagery: bool = False  # keep every received image (a teacher refresh learns from them all)
    seed: int = 0
    version: int = 0
    queue: list[KnowledgePacket] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=list)  # labels of the last packet built and not yet delivered
    relayed: list[int] = field(default_factory=list)  # labels on their way to a satellite over crosslinks
    received: list[int] = field(default_factory=list)
    pool_images: list[np.ndarray] = field(default_factory=list)
    pool_knowledge: list[KnowledgePacket] = field(default_factory=list)
    pool_trained: int = 0  # pool images the last ground training saw
    imagery: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)  # (satellite, images, ids)
    satellite_models: dict[int, ModelArrays] = field(default_factory=dict)
    history: dict[int, ModelArrays] = field(default_factory=dict)
    discarded: int = 0
    # the version satellites are offered while the ground's computer trains a newer one (`hold_back`);
    # None: the current one
    published: int | None = None

    def __post_init__(self) -> None:
        n = self.num_satellites
        self.queue = self.queue or [KnowledgePacket.empty(self.num_classes) for _ in range(n)]
        self.sent = self.sent or [0] * n
        self.in_flight = self.in_flight or [0] * n
        self.relayed = self.relayed or [0] * n
        self.received = self.received or [0] * n
        self.history[self.version] = self.model

    # -- imagery and soft labels ---------------------------------------------------------------
    def receive_imagery(self, satellite: int, images: np.ndarray, ids: np.ndarray) -> int:
        """Decoded images arrived from `satellite`; label them for it and/or keep them to train on.
        Returns the number of soft labels made."""
        self.received[satellite] += len(ids)
        if len(ids) == 0 or self.labeller is None:
            return 0
        if self.keeps_imagery:
            self.imagery.append((satellite, images, ids))
        labels = self.labeller(images, ids)
        if self.strategy.knowledge:
            self.queue[satellite] = concat_knowledge([self.queue[satellite], labels])
        self._pool_labelled(images, ids, labels)
        return len(labels)

    def _pool_labelled(self, images: np.ndarray, ids: np.ndarray, labels: KnowledgePacket) -> None:
        if self.strategy.ground_trains or self.keeps_pool:
            order = np.argsort(ids)
            rows = order[np.searchsorted(ids[order], labels.ids)]
            self.pool_images.append(images[rows])
            self.pool_knowledge.append(labels)

    def received_imagery(self) -> np.ndarray:
        """Every image received so far, in arrival order (kept only with `keeps_imagery`)."""
        if not self.imagery:
            return np.zeros((0, 1, 1, 3), np.uint8)
        return np.concatenate([images for _, images, _ in self.imagery])

    def relabel(self) -> int:
        """After the teachers changed: label every received image again (`keeps_imagery`). The
        pool the ground trains on is rebuilt from the new labels (and trained on again), and each
        satellite's queue keeps what was sent or is on its way (the packet in flight) and then
        holds the new labels of all its images, so they go up after it and replace the old ones
        on board. Returns the labels made."""
        assert self.labeller is not None and self.keeps_imagery
        self.pool_images, self.pool_knowledge = [], []
        fresh: dict[int, list[KnowledgePacket]] = {}
        made = 0
        for satellite, images, ids in self.imagery:
            labels = self.labeller(images, ids)
            fresh.setdefault(satellite, []).append(labels)
            self._pool_labelled(images, ids, labels)
            made += len(labels)
        if self.strategy.knowledge:
            for satellite, packets in fresh.items():
                delivered = self.queue[satellite].take(slice(0, self._handed(satellite) + self.in_flight[satellite]))
                self.queue[satellite] = concat_knowledge([delivered, *packets])
        self.pool_trained = 0
        return made

    def _handed(self, satellite: int) -> int:
        """Labels delivered or on their way over crosslinks: the next packet starts after them."""
        return self.sent[satellite] + self.relayed[satellite]

    def labels_pending(self, satellite: int) -> int:
        """Labels made for the satellite that no packet has taken yet (or only its own, in flight)."""
        return len(self.queue[satellite]) - self._handed(satellite)

    def build_uplink(
        self, satellite: int, satellite_version: int, budget_bytes: int, size: SizeFn
    ) -> UplinkPacket | None:
        """The largest packet that fits `budget_bytes`: the global student if the strategy sends it,
        then as many pending soft labels as fit. A student larger than the budget is still
        returned alone (its transfer continues in later windows). None when nothing is due."""
        packet = self._build_uplink(satellite, satellite_version, budget_bytes, size)
        self.in_flight[satellite] = 0 if packet is None else len(packet.knowledge)  # until delivered
        return packet

    def _build_uplink(
        self, satellite: int, satellite_version: int, budget_bytes: int, size: SizeFn
    ) -> UplinkPacket | None:
        """The packet `build_uplink` hands out (see there)."""
        version, current = self.offered()
        model = current if self.strategy.sends_model(satellite_version, version) else None
        packet, pending = self._next_labels(satellite, version, model)
        if model is None and pending == 0:
            return None
        count = _most_that_fit(packet, pending, budget_bytes, size)
        if count == 0 and model is None:
            return None
        return packet(count)

    def build_relay(self, satellite: int, budget_bytes: int, size: SizeFn) -> KnowledgePacket | None:
        """Pending soft labels of `satellite` for a plane-mate to carry to it over crosslinks: as
        many as fit `budget_bytes` as a labels-only packet, at most `max_labels_per_contact`
        (None: none pending, one of its own packets with labels is in flight, or none fit). They
        count as relayed from now on: no packet of its own carries them again."""
        if self.in_flight[satellite] > 0:
            return None  # its own packet holds the next labels: they go in order
        packet, pending = self._next_labels(satellite, self.offered()[0], None)
        count = _most_that_fit(packet, pending, budget_bytes, size) if pending > 0 else 0
        if count == 0:
            return None
        self.relayed[satellite] += count
        return packet(count).knowledge

    def _next_labels(
        self, satellite: int, version: int, model: ModelArrays | None
    ) -> tuple[Callable[[int], UplinkPacket], int]:
        """A packet of `model` (global `version`) and the satellite's next `count` labels (as a
        function of count), and how many labels may go: those no packet has taken, at most
        `max_labels_per_contact`."""
        queue = self.queue[satellite]
        start = self._handed(satellite)
        pending = len(queue) - start
        if self.max_labels_per_contact > 0:
            pending = min(pending, self.max_labels_per_contact)

        def packet(count: int) -> UplinkPacket:
            return UplinkPacket(version, model, queue.take(slice(start, start + count)))

        return packet, pending

    def relay_delivered(self, satellite: int, count: int) -> None:
        """`count` relayed labels reached the satellite over crosslinks."""
        self.relayed[satellite] -= count
        self.sent[satellite] += count

    def mark_delivered(self, satellite: int, packet: UplinkPacket) -> None:
        self.sent[satellite] += len(packet.knowledge)
        self.in_flight[satellite] = 0

    # -- the global student ----------------------------------------------------------------------
    def offered(self) -> tuple[int, ModelArrays]:
        """The global student satellites are sent now, and its version: the current one, or the
        one held back while the ground's computer trains the current one (`hold_back`)."""
        if self.published is None:
            return self.version, self.model
        return self.published, self.history[self.published]

    def hold_back(self, version: int) -> None:
        """Offer the student of `version` (kept in `history`) until `publish`: the current one is
        still being trained at the ground."""
        self.published = version

    @property
    def held_back(self) -> bool:
        """Whether a student is held back (the ground's computer is training the current one)."""
        return self.published is not None

    def publish(self) -> None:
        """The current student is ready: it is the one offered from now on."""
        self.published = None

    def _version_model(self, version: int) -> ModelArrays:
        return self.history[version]

    def receive_update(self, satellite: int, update: UpdatePacket, now_s: float) -> Outcome:
        """An update arrived; what the aggregation rule made of it (None: it waits)."""
        if not self.strategy.aggregates:
            self.satellite_models[satellite] = update.model
            return None
        outcome = self.aggregator.receive(self.model, self.version, satellite, update, now_s, self._version_model)
        if isinstance(outcome, Discarded):
            self.discarded += 1
        elif isinstance(outcome, Aggregation):
            self.apply(outcome, now_s)
        return outcome

    def expire(self, now_s: float) -> Aggregation | None:
        outcome = self.aggregator.expire(self.model, self.version, now_s)
        if outcome is not None:
            self.apply(outcome, now_s)
        return outcome

    def apply(self, aggregation: Aggregation, now_s: float) -> None:
        self.model = aggregation.model
        self.version = aggregation.version
        self.history[self.version] = self.model
        self.aggregator.opened(self.version, now_s)
        log.debug("version %d from satellites %s", self.version, aggregation.satellites)

    def forget_versions_before(self, oldest_in_use: int) -> None:
        """Drop global students no satellite can still send an update from."""
        keep = {self.version, self.published}
        for version in [v for v in self.history if v < oldest_in_use and v not in keep]:
            del self.history[version]

    def pool_size(self) -> int:
        return sum(len(k) for k in self.pool_knowledge)

    def pool(self) -> tuple[np.ndarray, KnowledgePacket]:
        """Every received image the teachers labelled, with its soft label."""
        if not self.pool_images:
            return np.zeros((0, 1, 1, 3), np.uint8), KnowledgePacket.empty(self.num_classes)
        return np.concatenate(self.pool_images), concat_knowledge(self.pool_knowledge)

    def train_on_pool(self, trainer: GroundTrainer, worker: GroundWorker | None = None) -> bool:
        """`ground`: train the student on every labelled image received so far (a new version; on
        `worker`, a PendingModel until it is done). False: nothing new (no image arrived and no
        label changed since the last training)."""
        if self.pool_size() <= self.pool_trained:
            return False
        images, knowledge = self.pool()
        base = self.model
        if worker is None:
            self.model = trainer(base, images, knowledge)
        else:
            self.model = PendingModel(worker.submit(lambda: trainer(base, images, knowledge)), base)
        self.version += 1
        self.history[self.version] = self.model
        self.pool_trained = len(knowledge)
        return True

    def refine(self, trainer: GroundTrainer, worker: GroundWorker | None = None) -> int:
        """The current global student trained further at the ground before any satellite gets it
        (same version); on `worker`, the refined student is a PendingModel until it is done.
        Returns the number of received images it trains on: all of them, or a sample of
        `refine_images` drawn from the seed and the version."""
        images, knowledge = self.pool()
        if 0 < self.refine_images < len(knowledge):
            rng = np.random.default_rng([self.seed, self.version])
            keep = np.sort(rng.choice(len(knowledge), self.refine_images, replace=False))
            images, knowledge = images[keep], knowledge.take(keep)
        base = self.model
        if worker is None:
            self.model = trainer(base, images, knowledge)
        else:
            self.model = PendingModel(worker.submit(lambda: trainer(base, images, knowledge)), base)
        self.history[self.version] = self.model
        return len(knowledge)


def _most_that_fit(packet: Callable[[int], UplinkPacket], pending: int, budget_bytes: int, size: SizeFn) -> int:
    """The most of `pending` labels `packet(count)` can hold within `budget_bytes` (0 when even
    the packet without labels does not fit)."""
    base = size(packet(0))
    if base >= budget_bytes or pending == 0:
        return 0
    probe = min(pending, 64)
    per_label = (size(packet(probe)) - base) / probe
    count = min(pending, int((budget_bytes - base) / per_label))
    while count > 0 and size(packet(count)) > budget_bytes:
        count -= 1
    return max(count, 0)


def concat_knowledge(packets: list[KnowledgePacket]) -> KnowledgePacket:
    """The packets one after another (at least one)."""
    return KnowledgePacket(
        ids=np.concatenate([k.ids for k in packets]),
        targets=np.concatenate([k.targets for k in packets]),
        kd_weight=np.concatenate([k.kd_weight for k in packets]),
        ce_weight=np.concatenate([k.ce_weight for k in packets]),
    )

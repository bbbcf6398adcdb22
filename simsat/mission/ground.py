"""The ground station's side of the mission: the global student, knowledge to send, aggregation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from simsat.mission.aggregation import fedavg
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket

log = logging.getLogger(__name__)

SizeFn = Callable[[UplinkPacket], int]


@dataclass
class Aggregation:
    """One FedAvg step: which satellites contributed and how stale their bases were."""

    version: int
    satellites: list[int]
    staleness: list[int]
    num_examples: int


@dataclass
class GroundSegment:
    """Holds the global student as arrays, the per-satellite knowledge queues and the FedAvg buffer.

    `knowledge[s]` is satellite s's knowledge in sending order (most confident first).
    """

    model: ModelArrays
    knowledge: Sequence[KnowledgePacket]
    buffer_size: int
    max_labels_per_contact: int = 0
    version: int = 0
    sent: list[int] = field(default_factory=list)
    buffer: list[tuple[int, UpdatePacket]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sent:
            self.sent = [0] * len(self.knowledge)

    def labels_pending(self, satellite: int) -> int:
        return len(self.knowledge[satellite]) - self.sent[satellite]

    def build_uplink(
        self, satellite: int, satellite_version: int, budget_bytes: int, size: SizeFn
    ) -> UplinkPacket | None:
        """The largest packet that fits `budget_bytes`: the global student if the satellite's is
        older, then as many pending soft labels as fit. A student larger than the budget is still
        returned alone (its transfer continues in later windows). None when nothing is due."""
        model = self.model if satellite_version < self.version else None
        queue = self.knowledge[satellite]
        start = self.sent[satellite]
        pending = len(queue) - start
        if self.max_labels_per_contact > 0:
            pending = min(pending, self.max_labels_per_contact)

        def packet(count: int) -> UplinkPacket:
            return UplinkPacket(self.version, model, queue.take(slice(start, start + count)))

        if model is None and pending == 0:
            return None
        base = size(packet(0))
        if base >= budget_bytes or pending == 0:
            return packet(0) if model is not None else None
        probe = min(pending, 64)
        per_label = (size(packet(probe)) - base) / probe
        count = min(pending, int((budget_bytes - base) / per_label))
        while count > 0 and size(packet(count)) > budget_bytes:
            count -= 1
        if count == 0 and model is None:
            return None
        return packet(count)

    def mark_delivered(self, satellite: int, packet: UplinkPacket) -> None:
        self.sent[satellite] += len(packet.knowledge)

    def receive(self, satellite: int, update: UpdatePacket) -> Aggregation | None:
        """Buffer an update; run FedAvg when the buffer is full and return what it did."""
        self.buffer.append((satellite, update))
        if len(self.buffer) < self.buffer_size:
            return None
        updates = [u for _, u in self.buffer]
        self.model = fedavg(updates)
        self.version += 1
        result = Aggregation(
            version=self.version,
            satellites=[s for s, _ in self.buffer],
            staleness=[self.version - 1 - u.base_version for u in updates],
            num_examples=int(np.sum([u.num_examples for u in updates])),
        )
        self.buffer = []
        log.debug("aggregated %s into version %d", result.satellites, result.version)
        return result

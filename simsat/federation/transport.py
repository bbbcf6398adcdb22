"""The Transport the mission uses, over Flower messages to the satellites' ClientApps."""

from __future__ import annotations

import itertools
import logging
import time
from abc import ABC, abstractmethod

from flwr.app import Context, Message, Metadata, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid

from simsat.federation import payloads
from simsat.mission.packets import TrainReport, UpdatePacket, UplinkPacket

log = logging.getLogger(__name__)


class SatelliteError(RuntimeError):
    """A satellite's ClientApp answered with an error."""


class MessageTransport(ABC):
    """The mission's Transport expressed as Flower messages to the satellites' ClientApps."""

    @abstractmethod
    def _exchange(self, satellite: int, message_type: str, content: RecordDict) -> Message:
        """Send one message to a satellite's node and return its (checked) reply."""

    @staticmethod
    def _check(reply: Message, what: str) -> None:
        if reply.has_error():
            raise SatelliteError(f"{what} failed on a satellite: {reply.error.reason}")

    def uplink_bytes(self, packet: UplinkPacket) -> int:
        return payloads.uplink_bytes(packet)

    def deliver(self, satellite: int, packet: UplinkPacket) -> None:
        self._exchange(satellite, "train.deliver", payloads.uplink_content(packet))

    def compute(self, satellite: int) -> TrainReport:
        reply = self._exchange(satellite, "train.compute", RecordDict())
        report = reply.content.metric_records["report"]
        return TrainReport(
            num_examples=int(report["num_examples"]),
            loss=float(report["loss"]),
            wall_seconds=float(report["wall_seconds"]),
        )

    def downlink(self, satellite: int) -> tuple[UpdatePacket, int] | None:
        reply = self._exchange(satellite, "query.downlink", RecordDict())
        if payloads.MODEL not in reply.content.array_records:
            return None
        return payloads.content_update(reply.content), payloads.serialized_bytes(reply.content)


class FlowerTransport(MessageTransport):
    """Sends Message API messages through a Flower Grid; maps satellites to node ids."""

    def __init__(self, grid: Grid, num_satellites: int, timeout_s: float = 600.0) -> None:
        self.grid = grid
        self.timeout_s = timeout_s
        self.nodes = self._identify(num_satellites)

    def _identify(self, num_satellites: int) -> dict[int, int]:
        deadline = time.monotonic() + self.timeout_s
        node_ids = list(self.grid.get_node_ids())
        while len(node_ids) < num_satellites:
            if time.monotonic() > deadline:
                raise SatelliteError(f"only {len(node_ids)} of {num_satellites} satellite nodes joined")
            time.sleep(0.1)
            node_ids = list(self.grid.get_node_ids())
        messages = [
            Message(content=RecordDict(), dst_node_id=node, message_type="query.identify")
            for node in node_ids
        ]
        nodes: dict[int, int] = {}
        for reply in self.grid.send_and_receive(messages, timeout=self.timeout_s):
            self._check(reply, "identify")
            partition = int(reply.content.config_records["node"]["partition_id"])
            nodes[partition] = reply.metadata.src_node_id
        missing = sorted(set(range(num_satellites)) - set(nodes))
        if missing:
            raise SatelliteError(f"no node answered for satellites {missing}")
        return nodes

    def _exchange(self, satellite: int, message_type: str, content: RecordDict) -> Message:
        message = Message(content=content, dst_node_id=self.nodes[satellite], message_type=message_type)
        replies = list(self.grid.send_and_receive([message], timeout=self.timeout_s))
        if not replies:
            raise SatelliteError(f"satellite {satellite} did not answer {message_type}")
        self._check(replies[0], f"{message_type} (satellite {satellite})")
        return replies[0]


class InProcessTransport(MessageTransport):
    """Runs the same ClientApp in this process, one Context per satellite, without Ray.

    For debugging and fast tests of the mission logic; `simsat run` uses FlowerTransport.
    """

    def __init__(self, client_app: ClientApp, num_satellites: int) -> None:
        self.app = client_app
        self._ids = itertools.count()
        self.contexts = [
            Context(
                run_id=0,
                node_id=i + 1,
                node_config={"partition-id": i, "num-partitions": num_satellites},
                state=RecordDict(),
                run_config={},
            )
            for i in range(num_satellites)
        ]

    def _exchange(self, satellite: int, message_type: str, content: RecordDict) -> Message:
        metadata = Metadata(
            run_id=0,
            message_id=f"local-{next(self._ids)}",
            src_node_id=0,
            dst_node_id=satellite + 1,
            reply_to_message_id="",
            group_id="",
            created_at=time.time(),
            ttl=3600.0,
            message_type=message_type,
        )
        reply = self.app(Message(content=content, metadata=metadata), self.contexts[satellite])
        self._check(reply, f"{message_type} (satellite {satellite})")
        return reply

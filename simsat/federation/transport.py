"""The Transport the mission uses, over Flower messages to the satellites' ClientApps."""

from __future__ import annotations

import itertools
import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable

from flwr.app import ConfigRecord, Context, Message, Metadata, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid

from simsat.federation import payloads
from simsat.federation.client_app import ERROR_DIVERGED, ERROR_INJECTED, TRAIN, train_order
from simsat.mission.faults import SatelliteFailure
from simsat.mission.packets import ImageryPacket, TrainReport, UpdatePacket, UplinkPacket
from simsat.mission.transport import MessageCounts, Reply, TrainOrder

log = logging.getLogger(__name__)


class SatelliteError(SatelliteFailure):
    """A satellite's ClientApp answered with an error (or not in time); the mission records it."""


_CAUSES = {ERROR_INJECTED: "injected", ERROR_DIVERGED: "diverged"}


def _report(reply: Message) -> TrainReport:
    report = reply.content.metric_records["report"]
    return TrainReport(
        num_examples=payloads.record_int(report, "num_examples"),
        loss=payloads.record_float(report, "loss"),
        wall_seconds=payloads.record_float(report, "wall_seconds"),
        unlabelled=payloads.record_int(report, "unlabelled"),
    )


def _sized(packet: ImageryPacket) -> tuple[ImageryPacket, int]:
    """The packet with the bytes of the reply that would carry it (a part of a reply asked ahead)."""
    return packet, payloads.serialized_bytes(payloads.imagery_content(packet))


class MessageTransport(ABC):
    """The mission's Transport expressed as Flower messages to the satellites' ClientApps."""

    @abstractmethod
    def _push(self, satellite: int, message_type: str, content: RecordDict) -> str:
        """Send one message to a satellite's node; return a handle for `_wait`."""

    @abstractmethod
    def _pull(self, handle: str, what: str) -> Message:
        """The reply to a pushed message (blocks until it is there)."""

    @abstractmethod
    def _discard(self, handle: str) -> None:
        """Drop the reply to a pushed message, now or when it comes: nobody will read it."""

    def _send(self, satellite: int, message_type: str, content: RecordDict) -> str:
        self.counts.sent += 1
        return self._push(satellite, message_type, content)

    def _wait(self, handle: str, what: str) -> Message:
        start = time.perf_counter()
        try:
            return self._pull(handle, what)
        finally:
            self.counts.wait_seconds += time.perf_counter() - start

    def _command(self, satellite: int, message_type: str, content: RecordDict) -> Reply[Message]:
        """Push a command now; its reply is pulled when the Reply is collected."""
        handle = self._send(satellite, message_type, content)
        return Reply(lambda: self._wait(handle, f"{message_type} (satellite {satellite})"))

    @staticmethod
    def _check(reply: Message, what: str) -> Message:
        if reply.has_error():
            cause = _CAUSES.get(reply.error.code, "error")
            raise SatelliteError(f"{what} failed on a satellite: {reply.error.reason}", cause)
        return reply

    def __init__(self) -> None:
        self._training: dict[int, tuple[str, str]] = {}  # satellite -> (handle, what)
        self._updates: dict[int, UpdatePacket] = {}  # satellite -> its last training's update, until downlinked
        # satellite -> ((start, stop, budget) asked ahead, the handle of its message)
        self._prefetched: dict[int, tuple[tuple[int, int, int], str]] = {}
        self.sizes = payloads.Sizes()
        self.counts = MessageCounts()
        self.interrupt: Callable[[], None] = lambda: None  # called while waiting; raises to stop

    def uplink_bytes(self, packet: UplinkPacket) -> int:
        return self.sizes.uplink(packet)

    def update_bytes(self, packet: UpdatePacket) -> int:
        return self.sizes.update(packet)

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]:
        content = payloads.uplink_content(packet, self.sizes)
        if train is None:
            return self._command(satellite, "train.deliver", content).then(lambda _: None)
        # the training follows in the same message; a failure shows in its reply (finish_training)
        self._begin_training(satellite, "train.deliver", content, train.acquired, train.fail)
        return Reply.ready(None)

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None:
        self._begin_training(satellite, "train.compute", RecordDict(), acquired, fail)

    def _begin_training(
        self, satellite: int, message_type: str, content: RecordDict, acquired: int, fail: bool
    ) -> None:
        if satellite in self._training:
            raise SatelliteError(f"satellite {satellite} is already training")
        content[TRAIN] = train_order(acquired, fail)
        self._training[satellite] = (self._send(satellite, message_type, content), message_type)

    def finish_training(self, satellite: int) -> TrainReport:
        return self.finish_training_update(satellite)[0]

    def finish_training_update(self, satellite: int) -> tuple[TrainReport, UpdatePacket | None]:
        """The training's report and the update it left on the node (None: it trained nothing)."""
        handle, message_type = self._training.pop(satellite)
        reply = self._wait(handle, f"{message_type} (satellite {satellite})")
        update = payloads.content_update(reply.content) if payloads.MODEL in reply.content.array_records else None
        if update is not None:
            self._updates[satellite] = update
        return _report(reply), update

    def restore_training(self, satellite: int, update: UpdatePacket | None) -> None:
        """Leave `update` on the node as if it had just trained (a journaled training, replayed)."""
        if update is not None:
            self._updates[satellite] = update
            self._command(satellite, "train.restore", payloads.update_content(update)).result()

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]:
        """The update the node's last training left (held aside from its reply), with the bytes
        its message takes on the link."""
        update = self._updates.pop(satellite, None)
        return Reply.ready(None if update is None else (update, self.sizes.update(update)))

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]:
        ahead = self._prefetched.pop(satellite, None)
        if ahead is not None:
            (first, last, budget), handle = ahead
            if start == first and stop <= last and budget_bytes <= budget:
                return self._imagery_reply(satellite, handle).then(
                    lambda content: _sized(payloads.content_imagery(content).within(stop - start, int(budget_bytes)))
                )
            self._discard(handle)
        asked = self._imagery_reply(satellite, self._ask_imagery(satellite, start, stop, budget_bytes))
        return asked.then(lambda content: (payloads.content_imagery(content), payloads.serialized_bytes(content)))

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None:
        ahead = self._prefetched.pop(satellite, None)
        if ahead is not None:
            self._discard(ahead[1])
        handle = self._ask_imagery(satellite, start, stop, budget_bytes)
        self._prefetched[satellite] = ((start, stop, int(budget_bytes)), handle)

    def _ask_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> str:
        ask = RecordDict({"imagery": ConfigRecord({"start": start, "stop": stop, "budget": int(budget_bytes)})})
        return self._send(satellite, "query.imagery", ask)

    def _imagery_reply(self, satellite: int, handle: str) -> Reply[RecordDict]:
        what = f"query.imagery (satellite {satellite})"
        return Reply(lambda: self._wait(handle, what).content)


_IDENTIFY_CHUNK = 128  # identify messages in Flower's hands at a time while the nodes are identified


class FlowerTransport(MessageTransport):
    """Pushes Message API messages through a Flower Grid and pulls each reply exactly once.

    At most `in_flight` messages are in Flower's hands at a time (pushed, reply not pulled);
    later ones wait here, in the order they were sent, and go out as replies come back. Flower's
    simulation engine looks through every message it holds for every node each time it polls,
    so a mission that ran ahead of its workers by hundreds of messages would spend its cores in
    that scan; a few more messages than workers keep every worker busy.
    """

    def __init__(self, grid: Grid, num_satellites: int, timeout_s: float = 3600.0, in_flight: int = 16) -> None:
        super().__init__()
        if in_flight < 1:
            raise ValueError(f"in_flight must be >= 1, got {in_flight}")
        self.grid = grid
        self.timeout_s = timeout_s
        self.in_flight = in_flight
        self.replies: dict[str, Message] = {}  # local handle -> its reply, pulled and not yet collected
        self._ids = itertools.count()
        self._queued: deque[tuple[str, Message]] = deque()  # (local handle, message) not pushed yet
        self._flying: dict[str, tuple[str, int]] = {}  # Flower's message id -> (local handle, node), not pulled
        self._dropped: set[str] = set()  # local handles whose replies nobody reads
        self.nodes: dict[int, int] = {}  # satellite -> its node's id
        self.nodes = self._identify(num_satellites)
        # the identify exchange is the run's start-up, not the mission's: its messages and wait apart
        self.identify_counts, self.counts = self.counts, MessageCounts()

    def _identify(self, num_satellites: int) -> dict[int, int]:
        deadline = time.monotonic() + self.timeout_s
        node_ids = list(self.grid.get_node_ids())
        while len(node_ids) < num_satellites:
            if time.monotonic() > deadline:
                raise SatelliteError(f"only {len(node_ids)} of {num_satellites} satellite nodes joined")
            time.sleep(0.1)
            node_ids = list(self.grid.get_node_ids())
        # in chunks: the engine's poll costs its nodes times the messages it holds, and waits 0.1 s
        asks = [Message(content=RecordDict(), dst_node_id=node, message_type="query.identify") for node in node_ids]
        handles = [self._enqueue(ask) for ask in asks]
        self.counts.sent += len(handles)
        nodes: dict[int, int] = {}
        for handle in handles:
            reply = self._wait(handle, "identify")
            partition = payloads.record_int(reply.content.config_records["node"], "partition_id")
            nodes[partition] = reply.metadata.src_node_id
        missing = sorted(set(range(num_satellites)) - set(nodes))
        if missing:
            raise SatelliteError(f"no node answered for satellites {missing}")
        return nodes

    def _push(self, satellite: int, message_type: str, content: RecordDict) -> str:
        return self._enqueue(Message(content=content, dst_node_id=self.nodes[satellite], message_type=message_type))

    def _enqueue(self, message: Message) -> str:
        handle = f"sent-{next(self._ids)}"
        self._queued.append((handle, message))
        self._exchange()
        return handle

    def _hurry(self, handle: str) -> None:
        """The mission waits for `handle`: if it is still queued here, it goes out next (unless
        an earlier message to the same node is queued, which it must not pass)."""
        for position, (queued, message) in enumerate(self._queued):
            if queued == handle:
                node = message.metadata.dst_node_id
                if all(m.metadata.dst_node_id != node for _, m in itertools.islice(self._queued, position)):
                    del self._queued[position]
                    self._queued.appendleft((handle, message))
                return

    def _exchange(self) -> bool:
        """Pull the replies that are there, then push queued messages while there is room, one
        at a time per node (a node takes one message at a time; Flower's engine would run two
        to one node at once). True if a reply came in."""
        arrived = False
        if self._flying:
            for reply in self.grid.pull_messages(set(self._flying)):
                handle, _ = self._flying.pop(reply.metadata.reply_to_message_id)
                if handle in self._dropped:
                    self._dropped.discard(handle)
                else:
                    self.replies[handle] = reply
                arrived = True
        room = max(self.in_flight, _IDENTIFY_CHUNK if not self.nodes else 0) - len(self._flying)
        if room > 0 and self._queued:
            busy = {node for _, node in self._flying.values()}
            batch: list[tuple[str, Message]] = []
            waiting: deque[tuple[str, Message]] = deque()
            for handle, message in self._queued:
                node = message.metadata.dst_node_id
                if len(batch) < room and node not in busy:
                    batch.append((handle, message))
                else:
                    waiting.append((handle, message))
                busy.add(node)  # later messages to this node wait for this one
            self._queued = waiting
            if batch:
                ids = list(self.grid.push_messages([message for _, message in batch]))
                for (handle, message), message_id in zip(batch, ids, strict=True):
                    self._flying[str(message_id)] = (handle, message.metadata.dst_node_id)
        return arrived

    def _discard(self, handle: str) -> None:
        if self.replies.pop(handle, None) is None:
            self._dropped.add(handle)

    def _pull(self, handle: str, what: str) -> Message:
        self._hurry(handle)
        deadline = time.monotonic() + self.timeout_s
        pause = 0.001
        while handle not in self.replies:
            if self._exchange():
                pause = 0.001
                continue
            self.interrupt()
            if time.monotonic() > deadline:
                raise SatelliteError(f"{what}: no reply within {self.timeout_s:.0f} s", "timeout")
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
        return self._check(self.replies.pop(handle), what)


class InProcessTransport(MessageTransport):
    """Runs the same ClientApp in this process, one Context per satellite, without Ray.

    A message runs when it is pushed, so trainings run one after another; the mission sees the
    same replies in the same simulated order as with FlowerTransport. For tests and debugging.
    """

    def __init__(self, client_app: ClientApp, num_satellites: int) -> None:
        super().__init__()
        self.app = client_app
        self._ids = itertools.count()
        self.replies: dict[str, Message] = {}
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

    def _push(self, satellite: int, message_type: str, content: RecordDict) -> str:
        handle = f"local-{next(self._ids)}"
        metadata = Metadata(
            run_id=0,
            message_id=handle,
            src_node_id=0,
            dst_node_id=satellite + 1,
            reply_to_message_id="",
            group_id="",
            created_at=time.time(),
            ttl=3600.0,
            message_type=message_type,
        )
        # Message's overloads leave out `metadata`, which it accepts to carry a message id of our own
        message = Message(content=content, metadata=metadata)  # type: ignore[call-overload]
        self.replies[handle] = self.app(message, self.contexts[satellite])
        return handle

    def _pull(self, handle: str, what: str) -> Message:
        return self._check(self.replies.pop(handle), what)

    def _discard(self, handle: str) -> None:
        self.replies.pop(handle, None)

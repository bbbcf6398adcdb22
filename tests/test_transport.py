"""The Flower transport's own rules: a node takes one message at a time, only a few messages are
in Flower's hands at once, imagery asked ahead answers a smaller ask exactly; the recorder keeps
a reserved event's place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from flwr.app import ConfigRecord, Message, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from simsat.federation import payloads
from simsat.federation.transport import FlowerTransport
from simsat.mission.imagery import ImageCodec, encode_within
from simsat.results.recorder import Recorder

IMAGES = np.random.default_rng(0).integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)
IDS = np.arange(100, 140)


@pytest.fixture
def in_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flower's messages take their run id from the ServerApp's process; here, a made-up one."""
    monkeypatch.setattr(TaskIdentity, "_run_id", 1)
    monkeypatch.setattr(TaskIdentity, "_node_id", 0)
    monkeypatch.setattr(TaskIdentity, "_task_id", 1)


class _Grid:
    """A stand-in for Flower's Grid: node i+1 plays satellite i. It answers every message it
    holds when pulled, and checks what the engine relies on: never two messages to one node at
    once, never more than `limit` messages held."""

    def __init__(self, satellites: int, limit: int) -> None:
        self.limit = limit
        self.satellites = satellites
        self.held: dict[str, Message] = {}
        self.pushed: list[Message] = []
        self._ids = 0

    def get_node_ids(self) -> Iterable[int]:
        return range(1, self.satellites + 1)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = []
        for message in messages:
            node = message.metadata.dst_node_id
            assert all(m.metadata.dst_node_id != node for m in self.held.values()), "two messages to one node"
            self._ids += 1
            message.metadata.__dict__["_message_id"] = str(self._ids)
            self.held[str(self._ids)] = message
            self.pushed.append(message)
            ids.append(str(self._ids))
        assert len(self.held) <= max(self.limit, 128), f"{len(self.held)} messages held"
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        replies = []
        for message_id in list(message_ids):
            message = self.held.pop(message_id, None)
            if message is not None:
                replies.append(Message(content=self._answer(message), reply_to=message))
        return replies

    @staticmethod
    def _answer(message: Message) -> RecordDict:
        satellite = message.metadata.dst_node_id - 1
        if message.metadata.message_type == "query.identify":
            return RecordDict({"node": ConfigRecord({"partition_id": satellite})})
        ask = message.content.config_records["imagery"]
        start, stop, budget = (payloads.record_int(ask, k) for k in ("start", "stop", "budget"))
        return payloads.imagery_content(encode_within(ImageCodec(), IMAGES, IDS, start, stop, budget))


def test_a_smaller_ask_is_the_start_of_a_larger_one() -> None:
    codec = ImageCodec()
    whole = encode_within(codec, IMAGES, IDS, 5, 35, 6000)
    for stop, budget in [(35, 6000), (20, 6000), (35, 2500), (12, 900), (6, 10), (5, 6000)]:
        expected = encode_within(codec, IMAGES, IDS, 5, stop, budget)
        got = whole.within(stop - 5, budget)
        assert got.ids.tolist() == expected.ids.tolist()
        assert got.offsets.tolist() == expected.offsets.tolist()
        assert got.data.tobytes() == expected.data.tobytes()


def test_one_message_per_node_and_a_few_in_flight(in_a_run: None) -> None:
    grid = _Grid(satellites=4, limit=3)
    transport = FlowerTransport(grid, 4, timeout_s=5.0, in_flight=3)  # type: ignore[arg-type]
    assert transport.nodes == {s: s + 1 for s in range(4)}
    satellites = [0, 0, 1, 0, 2, 2, 3, 1, 0, 3] * 3
    replies = [transport.imagery(s, k, k + 10, 10_000) for k, s in enumerate(satellites)]  # several per node
    for k, reply in reversed(list(enumerate(replies))):  # collected in any order
        assert reply.result()[0].ids.tolist() == IDS[k : k + 10].tolist()
    asks = [m for m in grid.pushed if m.metadata.message_type == "query.imagery"]
    for node in range(4):  # each node's messages went out in the order they were sent
        starts = [m.content.config_records["imagery"]["start"] for m in asks if m.metadata.dst_node_id == node + 1]
        assert starts == [k for k, s in enumerate(satellites) if s == node]
    # the identify exchange is counted apart from the mission's messages
    assert transport.identify_counts.sent == 4 and transport.counts.sent == 30 and not grid.held


def test_imagery_asked_ahead_answers_the_ask_without_a_message(in_a_run: None) -> None:
    grid = _Grid(satellites=2, limit=4)
    transport = FlowerTransport(grid, 2, timeout_s=5.0, in_flight=4)  # type: ignore[arg-type]
    sent = transport.counts.sent
    transport.prefetch_imagery(1, 3, 30, 8000)
    packet, nbytes = transport.imagery(1, 3, 20, 3000).result()  # covered: same start, less
    expected = encode_within(ImageCodec(), IMAGES, IDS, 3, 20, 3000)
    assert packet.ids.tolist() == expected.ids.tolist()
    assert nbytes == payloads.serialized_bytes(payloads.imagery_content(expected))
    assert transport.counts.sent == sent + 1
    transport.prefetch_imagery(1, 3, 30, 8000)
    again, _ = transport.imagery(1, 4, 20, 3000).result()  # another start: asked for real
    assert again.ids.tolist() == encode_within(ImageCodec(), IMAGES, IDS, 4, 20, 3000).ids.tolist()
    assert transport.counts.sent == sent + 3 and not transport.replies  # the unused answer is dropped


def test_a_reserved_event_keeps_its_place(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.event("a", 1.0, x=1)
    slot = recorder.reserve("train_end", 2.0)
    recorder.event("c", 3.0, x=3)
    assert [e["kind"] for e in recorder.events] == ["a", "train_end", "c"]
    recorder.fill(slot, images=7, busy_s=1.5)
    dropped = recorder.reserve("train_end", 4.0)  # never filled: a mission cut short
    recorder.event("e", 5.0)
    recorder.close()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in lines] == ["a", "train_end", "c", "e"]
    assert lines[1] == {"time_s": 2.0, "kind": "train_end", "images": 7, "busy_s": 1.5}
    assert dropped.record not in recorder.events

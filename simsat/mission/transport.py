"""How the ground segment reaches a satellite's computer; Flower provides the real one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from simsat.mission.packets import ImageryPacket, TrainReport, UpdatePacket, UplinkPacket

T = TypeVar("T")
U = TypeVar("U")


class Reply(Generic[T]):
    """A satellite's answer to a command, possibly still on its way: `result()` waits for it
    (once; later calls return the same value) and raises what the exchange raised."""

    def __init__(self, get: Callable[[], T]) -> None:
        self._get = get
        self._done = False
        self._value: T | None = None

    @staticmethod
    def ready(value: T) -> Reply[T]:
        return Reply(lambda: value)

    def result(self) -> T:
        if not self._done:
            self._value = self._get()
            self._done = True
        return self._value  # type: ignore[return-value]

    def then(self, f: Callable[[T], U]) -> Reply[U]:
        """The answer passed through `f` when it is collected."""
        return Reply(lambda: f(self.result()))


@dataclass
class MessageCounts:
    """Messages the mission sent to satellites' nodes and the real time it waited for replies."""

    sent: int = 0
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class TrainOrder:
    """A training the node starts right after it took an uplink: on its first `acquired` images;
    `fail` tells it to raise (an injected fault)."""

    acquired: int
    fail: bool = False


class Transport(Protocol):
    """Delivers packets to satellites' nodes, runs their onboard training, fetches their data.

    Byte counts are those of the serialised messages, so the world can time the transfers.
    A command (`deliver`, `imagery`) is sent when called; its `Reply` is collected when the
    mission needs the answer, so commands to different satellites can be in flight together.
    A satellite usually trains right after an uplink: `deliver(..., train=TrainOrder)` sends
    both in one message, and the training runs on the node while the simulated clock goes on;
    `start_training` starts one without an uplink. `prefetch_imagery` asks a node early for
    the most imagery a coming `imagery` call may ask (same start, no later stop, no larger
    budget), which is then answered from it: the same images and bytes, without a message.
    `finish_training` waits for the training's report; the update it left is handed over by
    `downlink` (the node's reply is kept aside until the simulated downlink). The mission starts
    a training at its simulated start and reads its report when it next needs it, so trainings
    run on the nodes while the mission goes on. A node holds at most one command or training at
    a time. An answer that is an error raises
    `simsat.mission.faults.SatelliteFailure`.
    """

    def uplink_bytes(self, packet: UplinkPacket) -> int: ...

    def update_bytes(self, packet: UpdatePacket) -> int: ...

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]: ...

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None: ...

    def finish_training(self, satellite: int) -> TrainReport: ...

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]: ...

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]: ...

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None: ...

"""How the ground segment reaches a satellite's computer; Flower provides the real one."""

from __future__ import annotations

from collections.abc import Callable
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


class Transport(Protocol):
    """Delivers packets to satellites' nodes, runs their onboard training, fetches their data.

    Byte counts are those of the serialised messages, so the world can time the transfers.
    A command (`deliver`, `downlink`, `imagery`) is sent when called; its `Reply` is collected
    when the mission needs the answer, so commands to different satellites can be in flight
    together. Training is split the same way: `start_training` hands the work to the
    satellite's node and returns at once; `finish_training` waits for its report. The mission
    calls them at the simulated start and end of the training, so trainings that overlap in
    simulated time run at the same time for real. `fail` tells the node to raise (an injected
    fault). A node holds at most one command or training at a time. An answer that is an error
    raises `simsat.mission.faults.SatelliteFailure`.
    """

    def uplink_bytes(self, packet: UplinkPacket) -> int: ...

    def deliver(self, satellite: int, packet: UplinkPacket) -> Reply[None]: ...

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None: ...

    def finish_training(self, satellite: int) -> TrainReport: ...

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]: ...

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]: ...

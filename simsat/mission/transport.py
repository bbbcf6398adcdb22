"""How the ground segment reaches a satellite's computer; Flower provides the real one."""

from __future__ import annotations

from typing import Protocol

from simsat.mission.packets import ImageryPacket, TrainReport, UpdatePacket, UplinkPacket


class Transport(Protocol):
    """Delivers packets to satellites' nodes, runs their onboard training, fetches their data.

    Byte counts are those of the serialised messages, so the world can time the transfers.
    Training is split in two: `start_training` hands the work to the satellite's node and
    returns at once; `finish_training` waits for its report. The mission calls them at the
    simulated start and end of the training, so trainings that overlap in simulated time run
    at the same time for real. `fail` tells the node to raise (an injected fault). A reply that
    is an error raises `simsat.mission.faults.SatelliteFailure`.
    """

    def uplink_bytes(self, packet: UplinkPacket) -> int: ...

    def deliver(self, satellite: int, packet: UplinkPacket) -> None: ...

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None: ...

    def finish_training(self, satellite: int) -> TrainReport: ...

    def downlink(self, satellite: int) -> tuple[UpdatePacket, int] | None: ...

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> tuple[ImageryPacket, int]: ...

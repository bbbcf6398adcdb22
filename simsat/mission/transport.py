"""How the ground segment reaches a satellite's computer; Flower provides the real one."""

from __future__ import annotations

from typing import Protocol

from simsat.mission.packets import TrainReport, UpdatePacket, UplinkPacket


class Transport(Protocol):
    """Delivers packets to satellites' nodes and runs their onboard training.

    Byte counts are those of the serialised messages, so the world can time the transfers.
    """

    def uplink_bytes(self, packet: UplinkPacket) -> int: ...

    def deliver(self, satellite: int, packet: UplinkPacket) -> None: ...

    def compute(self, satellite: int) -> TrainReport: ...

    def downlink(self, satellite: int) -> tuple[UpdatePacket, int] | None: ...

"""The mission as SimPy processes: contacts, transfers, onboard training, aggregation.

Each satellite is one process walking through its contact windows. In a window it takes a
ground-station antenna, downlinks its pending update (aggregating at the ground when the FedAvg
buffer fills), then uplinks the global student and as many soft labels as the window allows.
After an uplink completes, its computer trains once the battery allows. Transfers cut by the end
of a window resume in the next one. Real work (serialisation, training) goes through a Transport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from simsat.hardware.profiles import HardwareProfile
from simsat.mission.ground import GroundSegment
from simsat.mission.packets import ModelArrays, UpdatePacket, UplinkPacket
from simsat.mission.transport import Transport
from simsat.results.recorder import Recorder
from simsat.world.compute import run_compute
from simsat.world.contacts import ContactWindow
from simsat.world.links import LinkRates, Transfer, bytes_in, transmit
from simsat.world.power import Battery

log = logging.getLogger(__name__)

Evaluate = Callable[[ModelArrays], dict[str, float]]


@dataclass(frozen=True)
class OperationsPlan:
    """Everything the processes need that does not change during the mission."""

    duration_s: float
    contacts: Sequence[ContactWindow]
    antennas: Sequence[int]  # per ground station
    rates: LinkRates
    hardware: HardwareProfile
    floor_soc: float
    resume_soc: float
    train_flops_per_image: float
    epochs: int


@dataclass
class SatelliteState:
    index: int
    battery: Battery
    model_version: int = -1
    training: bool = False
    update_ready: bool = False
    uplink: tuple[Transfer, UplinkPacket] | None = None
    downlink: tuple[Transfer, UpdatePacket] | None = None
    bytes_up: int = 0
    bytes_down: int = 0
    contacts: int = 0
    trainings: int = 0
    energy_train_wh: float = 0.0


class Operations:
    """Runs the mission in a SimPy environment and records what happens."""

    def __init__(
        self,
        env: simpy.Environment,
        plan: OperationsPlan,
        ground: GroundSegment,
        transport: Transport,
        batteries: Sequence[Battery],
        recorder: Recorder,
        evaluate: Evaluate,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.env = env
        self.plan = plan
        self.ground = ground
        self.transport = transport
        self.recorder = recorder
        self.evaluate = evaluate
        self.progress = progress
        self.satellites = [SatelliteState(i, b) for i, b in enumerate(batteries)]
        self.antennas = [simpy.Resource(env, capacity=n) for n in plan.antennas]

    # -- bookkeeping -------------------------------------------------------------------------
    @property
    def bytes_up(self) -> int:
        return sum(s.bytes_up for s in self.satellites)

    @property
    def bytes_down(self) -> int:
        return sum(s.bytes_down for s in self.satellites)

    def _event(self, kind: str, **fields: Any) -> None:
        self.recorder.event(kind, self.env.now, **fields)

    def _metric(self, kind: str, satellite: int | None, **extra: Any) -> None:
        scores = self.evaluate(self.ground.model)
        soc = self.satellites[satellite].battery.soc if satellite is not None else None
        self.recorder.metric(
            time_s=self.env.now,
            event=kind,
            satellite=satellite,
            version=self.ground.version,
            bytes_up=self.bytes_up,
            bytes_down=self.bytes_down,
            battery_soc=soc,
            **scores,
            **extra,
        )

    # -- processes ---------------------------------------------------------------------------
    def run(self) -> None:
        self._metric("initial", None)
        by_satellite: dict[int, list[ContactWindow]] = {}
        for window in self.plan.contacts:
            by_satellite.setdefault(window.satellite, []).append(window)
        for sat in self.satellites:
            self.env.process(self._satellite(sat, by_satellite.get(sat.index, [])))
        if self.progress is not None:
            self.env.process(self._ticker())
        self.env.run(until=self.plan.duration_s)

    def _ticker(self) -> Generator[simpy.Event, Any, None]:
        step = max(self.plan.duration_s / 200.0, 1.0)
        while True:
            assert self.progress is not None
            self.progress(self.env.now)
            yield self.env.timeout(step)

    def _satellite(
        self, sat: SatelliteState, windows: Sequence[ContactWindow]
    ) -> Generator[simpy.Event, Any, None]:
        for window in windows:
            if window.end_s <= self.env.now:
                continue
            if window.start_s > self.env.now:
                yield self.env.timeout(window.start_s - self.env.now)
            yield from self._contact(sat, window)

    def _contact(
        self, sat: SatelliteState, window: ContactWindow
    ) -> Generator[simpy.Event, Any, None]:
        antenna = self.antennas[window.station]
        with antenna.request() as request:
            closes = self.env.timeout(max(window.end_s - self.env.now, 0.0))
            granted = yield request | closes
            if request not in granted:
                self._event("contact_missed", satellite=sat.index, station=window.station)
                return
            sat.contacts += 1
            self._event(
                "contact_start",
                satellite=sat.index,
                station=window.station,
                end_s=window.end_s,
                max_elevation_deg=window.max_elevation_deg,
            )
            yield from self._downlink(sat, window)
            yield from self._uplink(sat, window)
            # The antenna keeps tracking the satellite until it sets.
            if window.end_s > self.env.now:
                yield self.env.timeout(window.end_s - self.env.now)
            self._event("contact_end", satellite=sat.index, station=window.station)

    def _send(
        self, sat: SatelliteState, transfer: Transfer, window: ContactWindow, uplink: bool
    ) -> Generator[simpy.Event, Any, int]:
        rate = self.plan.rates.uplink_bps if uplink else self.plan.rates.downlink_bps
        radio_w = self.plan.hardware.radio_rx_w if uplink else self.plan.hardware.radio_tx_w
        sent = yield self.env.process(
            transmit(self.env, transfer, rate, window.end_s, sat.battery, radio_w)
        )
        if uplink:
            sat.bytes_up += sent
        else:
            sat.bytes_down += sent
        self._event(
            "transfer",
            satellite=sat.index,
            direction="up" if uplink else "down",
            label=transfer.label,
            bytes=sent,
            total_bytes=transfer.nbytes,
            complete=transfer.done,
        )
        return sent

    def _downlink(
        self, sat: SatelliteState, window: ContactWindow
    ) -> Generator[simpy.Event, Any, None]:
        if sat.downlink is None and sat.update_ready:
            fetched = self.transport.downlink(sat.index)
            sat.update_ready = False
            if fetched is not None:
                update, nbytes = fetched
                sat.downlink = (Transfer(nbytes, "downlink", f"update v{update.base_version}"), update)
        if sat.downlink is None:
            return
        transfer, update = sat.downlink
        yield from self._send(sat, transfer, window, uplink=False)
        if not transfer.done:
            return
        sat.downlink = None
        aggregation = self.ground.receive(sat.index, update)
        if aggregation is not None:
            self._event(
                "aggregation",
                version=aggregation.version,
                satellites=aggregation.satellites,
                staleness=aggregation.staleness,
                num_examples=aggregation.num_examples,
            )
            self._metric(
                "aggregation",
                sat.index,
                staleness=sum(aggregation.staleness) / len(aggregation.staleness),
            )

    def _uplink(
        self, sat: SatelliteState, window: ContactWindow
    ) -> Generator[simpy.Event, Any, None]:
        if sat.training or self.env.now >= window.end_s:
            return
        if sat.uplink is None:
            budget = bytes_in(window.end_s - self.env.now, self.plan.rates.uplink_bps)
            packet = self.ground.build_uplink(
                sat.index, sat.model_version, budget, self.transport.uplink_bytes
            )
            if packet is None:
                return
            nbytes = self.transport.uplink_bytes(packet)
            label = f"global v{packet.version}" if packet.model is not None else "knowledge"
            label += f" + {len(packet.knowledge)} labels"
            sat.uplink = (Transfer(nbytes, "uplink", label), packet)
        transfer, packet = sat.uplink
        yield from self._send(sat, transfer, window, uplink=True)
        if not transfer.done:
            return
        sat.uplink = None
        self.transport.deliver(sat.index, packet)
        self.ground.mark_delivered(sat.index, packet)
        if packet.model is not None:
            sat.model_version = packet.version
        if sat.model_version >= 0:
            self.env.process(self._train(sat))

    def _train(self, sat: SatelliteState) -> Generator[simpy.Event, Any, None]:
        sat.training = True
        report = self.transport.compute(sat.index)
        if report.num_examples == 0:
            sat.training = False
            self._event("train_skipped", satellite=sat.index, reason="no soft labels yet")
            return
        flops = self.plan.train_flops_per_image * report.num_examples * self.plan.epochs
        seconds = self.plan.hardware.compute_seconds(flops)
        extra_w = self.plan.hardware.busy_w - self.plan.hardware.idle_w
        self._event(
            "train_start",
            satellite=sat.index,
            images=report.num_examples,
            compute_s=seconds,
            soc=sat.battery.soc,
        )
        result = yield self.env.process(
            run_compute(
                self.env,
                sat.battery,
                seconds,
                extra_w,
                self.plan.floor_soc,
                self.plan.resume_soc,
                name="train",
            )
        )
        sat.training = False
        sat.update_ready = True
        sat.trainings += 1
        sat.energy_train_wh += result.energy_wh
        self._event(
            "train_end",
            satellite=sat.index,
            loss=report.loss,
            busy_s=result.busy_s,
            paused_s=result.paused_s,
            energy_wh=result.energy_wh,
            soc=sat.battery.soc,
            wall_s=report.wall_seconds,
        )

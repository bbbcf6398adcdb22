"""The mission as SimPy processes: contacts, transfers, onboard training, aggregation.

Each satellite is one process walking through its contact windows. In a window it takes a
ground-station antenna, downlinks its pending update (the aggregation rule decides what the
ground does with it), then imagery within its share of the window's downlink (the ground's
teachers label what arrives), then uplinks what the strategy sends: the global student and as
many soft labels as the window allows. After an uplink completes the satellite trains once its
battery allows: the real training is handed to its node when the simulated training starts and
collected when it ends, so trainings that overlap in simulated time run at the same time.
Transfers cut by the end of a window resume in the next one. Faults (injected or a ClientApp
that fails) are recorded and skipped by `simsat.mission.faults`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import simpy

from simsat.mission.aggregation import Aggregation, Discarded
from simsat.mission.faults import Faults, SatelliteFailure
from simsat.mission.ground import GroundSegment, GroundTrainer
from simsat.mission.ground_worker import GroundWorker
from simsat.mission.imagery import decode_packet
from simsat.mission.isl import IslMission
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket
from simsat.mission.state import (
    BYTE_KINDS,
    Clock,
    OperationsPlan,
    PlannedTraining,
    SatelliteState,
)
from simsat.mission.transport import MessageCounts, Reply, TrainOrder, Transport
from simsat.results.recorder import EventSlot, Recorder
from simsat.world.compute import ComputeResult, run_compute
from simsat.world.contacts import ContactWindow
from simsat.world.links import Transfer, bytes_in, transmit
from simsat.world.power import Battery
from simsat.world.rates import RateProfile

log = logging.getLogger(__name__)

Evaluate = Callable[[ModelArrays], dict[str, float]]
# the received imagery -> the teachers learn from it and are used from then on; their report
TeacherRefresher = Callable[[np.ndarray], dict[str, Any]]
T = TypeVar("T")


@dataclass(frozen=True)
class TrainingEnd:
    """What the mission knew when a training's simulated end came: its compute, the battery
    then, whether its reply counts as late (injected), whether the satellite was gone."""

    compute: ComputeResult
    soc: float
    late: bool
    gone: bool


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
        ground_trainer: GroundTrainer | None = None,
        ground_refiner: GroundTrainer | None = None,
        progress: Callable[[float], None] | None = None,
        teacher_refresher: TeacherRefresher | None = None,
        worker: GroundWorker | None = None,
    ) -> None:
        self.env = env
        self.plan = plan
        self.ground = ground
        self.strategy = ground.strategy
        self.transport = transport
        self.recorder = recorder
        self.evaluate = evaluate
        self.ground_trainer = ground_trainer
        self.ground_refiner = ground_refiner
        self.teacher_refresher = teacher_refresher
        self.worker = worker if worker is not None else GroundWorker(threaded=False)
        self.progress = progress
        self.teacher_refreshes: list[dict[str, Any]] = []  # one report per refresh, for the summary
        self.satellites = [SatelliteState(i, b) for i, b in enumerate(batteries)]
        self.antennas = [simpy.PriorityResource(env, capacity=s.antennas) for s in plan.world.stations]
        self.clock = Clock()
        self.version_changed = env.event()
        self.local_scores: dict[int, dict[str, float]] = {}
        self.initial_scores: dict[str, float] = {}
        self._model_bytes: dict[int, int] = {}
        self.mission_wall_seconds = 0.0
        self.messages = MessageCounts()  # the transport's, where it counts them (Flower messages)
        self.faults = Faults(plan.faults, len(self.satellites), self._event)
        self._last_eval_s = 0.0
        self._last_refine_s: float | None = None  # when the ground last refined (None: never)
        self._unscored: tuple[str, Sequence[int], Sequence[int]] | None = None  # a change not evaluated yet
        self._asked: dict[int, Reply[Any]] = {}  # satellite -> command in flight (plan.command_s > 0)
        self._ordered: set[int] = set()  # satellites whose training went with an uplink and has not started yet
        self._due: dict[int, tuple[TrainingEnd, EventSlot]] = {}  # trainings ended whose report is not read yet
        # metrics rows in mission order, each with its scores (a Future while the ground worker scores it)
        self._rows: list[tuple[dict[str, Any], dict[str, float] | Future[dict[str, float]]]] = []
        self.isl = IslMission(self, plan.isl) if plan.isl is not None else None

    # -- bookkeeping -------------------------------------------------------------------------
    def bytes_by_kind(self) -> dict[str, dict[str, int]]:
        return {
            direction: {kind: sum(s.bytes[kind] for s in self.satellites) for kind in kinds}
            for direction, kinds in BYTE_KINDS.items()
        }

    @property
    def bytes_up(self) -> int:
        return sum(self.bytes_by_kind()["up"].values())

    @property
    def bytes_down(self) -> int:
        return sum(self.bytes_by_kind()["down"].values())

    @property
    def train_wall_seconds(self) -> float:
        return sum(s.train_wall_seconds for s in self.satellites)

    def _event(self, kind: str, **fields: Any) -> None:
        self.recorder.event(kind, self.env.now, **fields)

    # -- what the ISL federation (simsat.mission.isl) uses -----------------------------------------
    def event(self, kind: str, **fields: Any) -> None:
        """Record an event at the current simulated time."""
        self._event(kind, **fields)

    def reply_guard(self, satellite: int, what: str) -> contextlib.AbstractContextManager[None]:
        """Around a call to a satellite's node: a failed reply is recorded and swallowed."""
        return self._reply(satellite, what)

    def node_busy(self, satellite: int) -> bool:
        """The node trains, has a training ordered, a command in flight or an uplink on its way."""
        sat = self.satellites[satellite]
        return sat.training or sat.uplink is not None or satellite in self._ordered or satellite in self._asked

    def _event_at(self, time_s: float, kind: str, **fields: Any) -> None:
        self.recorder.event(kind, time_s, **fields)

    def _score(self, model: ModelArrays) -> dict[str, float]:
        start = time.perf_counter()
        try:
            return self.evaluate(model)
        finally:
            self.clock.eval_s += time.perf_counter() - start

    def score_later(self, model: ModelArrays) -> Future[dict[str, float]]:
        """The model's scores, computed on the ground worker (after the jobs asked for before)."""
        return self.worker.submit(lambda: self._score(model))

    def metric(
        self,
        kind: str,
        satellites: Sequence[int],
        staleness: Sequence[int],
        scores: dict[str, float] | Future[dict[str, float]],
    ) -> None:
        """A metrics row as of now; written once its scores are there (rows keep their order)."""
        self._settle_all()  # the row counts the faults so far
        fields = {
            "time_s": self.env.now,
            "event": kind,
            "version": self.ground.version,
            "satellite": ";".join(str(s) for s in satellites),
            "staleness": ";".join(str(s) for s in staleness),
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "images_down": sum(s.images_down for s in self.satellites),
            "faults": self.faults.total,
        }
        self._rows.append((fields, scores))
        self._write_rows()

    def _write_rows(self, wait: bool = False) -> None:
        """Write the rows whose scores are there, in order (`wait`: all of them)."""
        while self._rows:
            fields, scores = self._rows[0]
            if isinstance(scores, Future):
                if not wait and not scores.done():
                    return
                scores = scores.result()
            self._rows.pop(0)
            self.recorder.metric(**fields, **scores)

    @contextmanager
    def _reply(self, satellite: int, what: str) -> Iterator[None]:
        """Around a call to a satellite's node: a failed reply is recorded and swallowed (the
        caller sees its result unset); MissionError when no satellite can contribute any more."""
        try:
            yield
        except SatelliteFailure as failure:
            self.faults.failed(satellite, what, failure)
        else:
            self.faults.answered(satellite, what)

    def _ask(self, satellite: int, what: str, reply: Reply[T]) -> Generator[simpy.Event, Any, tuple[bool, T | None]]:
        """A command's answer, `plan.command_s` simulated seconds after it was sent (the other
        satellites go on meanwhile, so commands to different satellites are in flight together):
        (True, answer), or (False, None) when the node failed (recorded)."""
        if self.plan.command_s > 0:
            self._asked[satellite] = reply
            yield self.env.timeout(self.plan.command_s)
            del self._asked[satellite]
        with self._reply(satellite, what):
            return True, reply.result()
        return False, None

    def _global_metric(self, kind: str, satellites: Sequence[int] = (), staleness: Sequence[int] = ()) -> None:
        if self.env.now - self._last_eval_s < self.plan.eval_interval_s:
            self._unscored = (kind, satellites, staleness)  # evaluated later, or at the end
            return
        self._unscored = None
        self._last_eval_s = self.env.now
        self.metric(kind, satellites, staleness, self.score_later(self.ground.model))

    # -- processes ---------------------------------------------------------------------------
    def run(self) -> None:
        self.initial_scores = self._score(self.ground.model)
        self.metric("initial", (), (), self.initial_scores)
        by_satellite: dict[int, list[ContactWindow]] = {}
        for window in self.plan.world.contacts:
            by_satellite.setdefault(window.satellite, []).append(window)
        self.env.process(self.faults.deaths(self.env))
        for sat in self.satellites:
            self.env.process(self._satellite(sat, by_satellite.get(sat.index, [])))
        if self.strategy.aggregates:
            self.env.process(self._deadlines())
        if self.strategy.ground_trains:
            self.env.process(self._ground_training())
        if self.teacher_refresher is not None and self.plan.refresh_s:
            self.env.process(self._teacher_refreshes())
        if self.progress is not None:
            self.env.process(self._ticker())
        if self.isl is not None:
            self.isl.start()
        self.env.run(until=self.plan.duration_s)
        self._settle_all()
        if self._unscored is not None:  # the last global student, evaluated at the end of the mission
            self.metric(*self._unscored, self.score_later(self.ground.model))
        self._write_rows(wait=True)
        self._collect_unfinished()
        for sat in self.satellites:
            for t, change in sat.battery.safe_events:
                self._event_at(t, "safe_mode", satellite=sat.index, change=change)

    def _collect_unfinished(self) -> None:
        """Commands and trainings still running when the mission ends: their real work is
        waited for (so no node is left busy); trainings are counted, but their updates never
        reach the ground."""
        for satellite, reply in sorted(self._asked.items()):
            with self._reply(satellite, "command at the end of the mission"):
                reply.result()
        self._asked.clear()
        for sat in self.satellites:
            if sat.training or sat.index in self._ordered:
                wall_s = 0.0
                with self._reply(sat.index, "train.compute"):
                    wall_s = self.transport.finish_training(sat.index).wall_seconds
                sat.train_wall_seconds += wall_s
                self._event("train_cut", satellite=sat.index, reason="mission ended", wall_s=wall_s)

    def _ticker(self) -> Generator[simpy.Event, Any, None]:
        step = max(self.plan.duration_s / 200.0, 1.0)
        while True:
            assert self.progress is not None
            self.progress(self.env.now)
            yield self.env.timeout(step)

    def _new_version(self) -> None:
        event, self.version_changed = self.version_changed, self.env.event()
        event.succeed()
        in_use = [s.model_version for s in self.satellites if s.model_version >= 0]
        self.ground.forget_versions_before(min(in_use, default=self.ground.version))

    def _deadlines(self) -> Generator[simpy.Event, Any, None]:
        """Calls the aggregation rule when its deadline (e.g. a sync round's) passes."""
        while True:
            deadline = self.ground.aggregator.deadline_s()
            changed = self.version_changed
            if deadline is None:
                yield changed
                continue
            timer = self.env.timeout(max(deadline - self.env.now, 0.0))
            yield timer | changed
            if changed.triggered or self.ground.aggregator.deadline_s() != deadline:
                continue
            aggregation = self.ground.expire(self.env.now)
            if aggregation is not None:
                self._aggregated(aggregation, reason="deadline")
            else:
                yield self.version_changed  # the rule now waits for the next arrival

    def _ground_training(self) -> Generator[simpy.Event, Any, None]:
        assert self.ground_trainer is not None
        while True:
            yield self.env.timeout(self.plan.ground_interval_s)
            start = time.perf_counter()
            trained = self.ground.train_on_pool(self.ground_trainer)
            self.clock.ground_train_s += time.perf_counter() - start
            if trained:
                self._event("ground_training", version=self.ground.version, images=self.ground.pool_trained)
                self._global_metric("ground_training")
                self._new_version()

    def _teacher_refreshes(self) -> Generator[simpy.Event, Any, None]:
        """At each `plan.refresh_s`: the teachers learn from the imagery received so far, then
        every received image is labelled again (and its label re-queued for its satellite)."""
        assert self.teacher_refresher is not None
        for at_s in self.plan.refresh_s:
            yield self.env.timeout(max(at_s - self.env.now, 0.0))
            images = self.ground.received_imagery()
            if len(images) == 0:
                self._event("teacher_refresh", images=0, skipped="no imagery received yet")
                continue
            start = time.perf_counter()
            report = self.teacher_refresher(images)
            labelled = time.perf_counter()
            labels = self.ground.relabel()
            done = time.perf_counter()
            self.clock.teacher_refresh_s += labelled - start
            self.clock.label_s += done - labelled
            entry = {"hour": round(self.env.now / 3600.0, 4), "images": len(images), "labels": labels, **report}
            self.teacher_refreshes.append(entry)
            self._event("teacher_refresh", **entry, wall_s=round(done - start, 3))

    def _satellite(self, sat: SatelliteState, windows: Sequence[ContactWindow]) -> Generator[simpy.Event, Any, None]:
        for n, window in enumerate(windows):
            if window.end_s <= self.env.now:
                continue
            self._prefetch_imagery(sat, window)
            if window.start_s > self.env.now:
                yield self.env.timeout(window.start_s - self.env.now)
            self._settle(sat.index)
            if not self.faults.usable(sat.index, self.env.now):
                return
            if self.faults.contact_lost(sat.index, n, self.plan.world.stations[window.station].name):
                continue
            yield from self._contact(sat, window)

    def _contact(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        antenna = self.antennas[window.station]
        station = self.plan.world.stations[window.station].name
        # simpy types priority as int; it only compares priorities, and the tuple orders requests
        with antenna.request(priority=self.plan.world.antenna_priority(window)) as request:  # type: ignore[arg-type]
            closes = self.env.timeout(max(window.end_s - self.env.now, 0.0))
            granted = yield request | closes
            if request not in granted:
                self._event("contact_missed", satellite=sat.index, station=station)
                return
            sat.contacts += 1
            self._event(
                "contact_start",
                satellite=sat.index,
                station=station,
                end_s=window.end_s,
                max_elevation_deg=window.max_elevation_deg,
            )
            yield from self._downlink_update(sat, window)
            yield from self._downlink_imagery(sat, window)
            yield from self._uplink(sat, window)
            # The antenna keeps tracking the satellite until it sets.
            if window.end_s > self.env.now:
                yield self.env.timeout(window.end_s - self.env.now)
            self._event("contact_end", satellite=sat.index, station=station)

    def _send(
        self, sat: SatelliteState, transfer: Transfer, window: ContactWindow, uplink: bool, shares: dict[str, int]
    ) -> Generator[simpy.Event, Any, int]:
        """Transmit within the window. `shares` orders the transfer's bytes by kind (first kind
        first); the bytes sent are added to the satellite's counters by kind."""
        rate = self.plan.world.link_rate(window, "uplink" if uplink else "downlink")
        hardware = self.plan.hardware[sat.index]
        radio_w = hardware.radio_rx_w if uplink else hardware.radio_tx_w
        start_s, before = self.env.now, transfer.bytes_done
        sent = yield self.env.process(transmit(self.env, transfer, rate, window.end_s, sat.battery, radio_w))
        by_kind: dict[str, int] = {}
        offset = 0
        for kind, size in shares.items():
            lo, hi = offset, offset + size
            part = max(0, min(before + sent, hi) - max(before, lo))
            offset = hi
            if part:
                by_kind[kind] = part
                sat.bytes[kind] += part
        self._event(
            "transfer",
            satellite=sat.index,
            direction="up" if uplink else "down",
            payload="+".join(shares),
            label=transfer.label,
            bytes=sent,
            bytes_by_kind=by_kind,
            total_bytes=transfer.nbytes,
            complete=transfer.done,
            start_s=round(start_s, 3),
        )
        return int(sent)

    def _downlink_update(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        if sat.downlink is None and self.isl is not None:  # its plane's aggregate, or its gossiped model
            carried = self.isl.to_ground(sat.index)
            if carried is not None:
                nbytes = self.transport.update_bytes(carried)
                sat.downlink = (Transfer(nbytes, "downlink", f"update v{carried.base_version}"), carried)
        if sat.downlink is None and sat.update_ready:
            _, fetched = yield from self._ask(sat.index, "query.downlink", self.transport.downlink(sat.index))
            sat.update_ready = False
            if fetched is not None:
                update, nbytes = fetched
                sat.downlink = (Transfer(nbytes, "downlink", f"update v{update.base_version}"), update)
        if sat.downlink is None:
            return
        transfer, update = sat.downlink
        yield from self._send(sat, transfer, window, uplink=False, shares={"update": transfer.nbytes})
        if not transfer.done:
            return
        sat.downlink = None
        self._update_arrived(sat, update)

    def _update_arrived(self, sat: SatelliteState, update: UpdatePacket) -> None:
        if self.isl is not None and self.isl.arrived(sat.index, update):
            return
        outcome = self.ground.receive_update(sat.index, update, self.env.now)
        if not self.strategy.aggregates:  # local: the satellite's own model is scored
            self.local_scores[sat.index] = self._score(update.model)
            mean = {
                k: float(np.mean([self.local_scores.get(s.index, self.initial_scores)[k] for s in self.satellites]))
                for k in self.initial_scores
            }
            self._event("local_update", satellite=sat.index, accuracy=self.local_scores[sat.index]["accuracy"])
            self.metric("local_update", [sat.index], [0], mean)
        elif isinstance(outcome, Discarded):
            self._event("update_discarded", satellite=sat.index, staleness=outcome.staleness)
        elif isinstance(outcome, Aggregation):
            self._aggregated(outcome, reason="arrival")
        else:
            self._event("update_buffered", satellite=sat.index, waiting=self.ground.aggregator.waiting())

    def _aggregated(self, aggregation: Aggregation, reason: str) -> None:
        self._event(
            "aggregation",
            version=aggregation.version,
            satellites=aggregation.satellites,
            staleness=aggregation.staleness,
            weights=[round(w, 4) for w in aggregation.weights],
            num_examples=aggregation.num_examples,
            reason=reason,
        )
        if self.ground_refiner is not None and self._refine_due():
            self._last_refine_s = self.env.now
            # on the ground worker: the mission goes on until the refined student is read
            images = self.ground.refine(self._refine, self.worker)
            self._event("ground_refine", version=self.ground.version, images=images)
        self._global_metric("aggregation", aggregation.satellites, aggregation.staleness)
        self._new_version()

    def _refine(self, model: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        assert self.ground_refiner is not None
        start = time.perf_counter()
        try:
            return self.ground_refiner(model, images, knowledge)
        finally:
            self.clock.ground_train_s += time.perf_counter() - start

    def _refine_due(self) -> bool:
        last = self._last_refine_s
        return last is None or self.env.now - last >= self.plan.refine_interval_s

    def _prefetch_imagery(self, sat: SatelliteState, window: ContactWindow) -> None:
        """Before a contact, ask the node for the most imagery the contact can ask of it (the
        images acquired by the window's end, within the bytes of its downlink share), so that
        it is on the ground when the contact asks (`Transport.prefetch_imagery`: the ask is
        answered from it, the same images and bytes). The images the ground takes are those the
        ask names, when it names them; the prefetch only takes the message off the critical path."""
        plan = self.plan.imagery
        if not self.strategy.imagery or plan.share <= 0 or sat.imagery is not None:
            return
        start = self.ground.received[sat.index]
        stop = plan.acquired(self.plan.images_held[sat.index], window.end_s)
        begins = max(window.start_s, self.env.now)
        if stop <= start or begins >= window.end_s:
            return
        budget = self.plan.world.bytes_available(window, "downlink", begins, window.end_s)
        rate = self.plan.world.link_rate(window, "downlink")
        if not isinstance(rate, RateProfile):  # no ask spans more than the share of the window
            budget = min(budget, bytes_in(plan.share * (window.end_s - window.start_s), rate))
        if budget > 0:
            self.transport.prefetch_imagery(sat.index, start, stop, budget)

    def _downlink_imagery(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        plan = self.plan.imagery
        if not self.strategy.imagery or plan.share <= 0 or self.env.now >= window.end_s:
            return
        if sat.imagery is None:
            if sat.training:
                return  # the node is busy; its images wait for the next window
            start = self.ground.received[sat.index]
            stop = plan.acquired(self.plan.images_held[sat.index], self.env.now)
            until = min(self.env.now + plan.share * (window.end_s - window.start_s), window.end_s)
            budget = self.plan.world.bytes_available(window, "downlink", self.env.now, until)
            if stop <= start or budget <= 0:
                return
            asked = self.transport.imagery(sat.index, start, stop, budget)
            _, reply = yield from self._ask(sat.index, "query.imagery", asked)
            if reply is None:
                return
            packet, nbytes = reply
            if len(packet) == 0:
                return
            sat.imagery = (Transfer(nbytes, "downlink", f"{len(packet)} images"), packet)
        transfer, packet = sat.imagery
        yield from self._send(sat, transfer, window, uplink=False, shares={"imagery": transfer.nbytes})
        if not transfer.done:
            return
        sat.imagery = None
        sat.images_down += len(packet)
        began = time.perf_counter()
        images = decode_packet(plan.codec, packet, plan.edge)
        labels = self.ground.receive_imagery(sat.index, images, packet.ids)
        self.clock.label_s += time.perf_counter() - began
        self._event(
            "imagery_received",
            satellite=sat.index,
            images=len(packet),
            encoded_bytes=packet.encoded_bytes,
            soft_labels=labels,
        )

    def _model_share(self, packet: UplinkPacket) -> int:
        """Bytes of the packet that are the student (with the packet's framing); the rest are
        soft labels."""
        if packet.model is None:
            return 0
        if packet.version not in self._model_bytes:
            alone = UplinkPacket(packet.version, packet.model, packet.knowledge.take(slice(0, 0)))
            self._model_bytes[packet.version] = self.transport.uplink_bytes(alone)
        return self._model_bytes[packet.version]

    def _uplink(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        if sat.training or self.env.now >= window.end_s:
            return
        if sat.uplink is None:
            budget = self.plan.world.bytes_available(window, "uplink", self.env.now, window.end_s)
            packet = self.ground.build_uplink(sat.index, sat.model_version, budget, self.transport.uplink_bytes)
            own = 0 if packet is None else self.transport.uplink_bytes(packet)
            again = sat.retrain or (self.isl is not None and self.isl.trains_each_contact)
            if packet is None and again and sat.model_version >= 0 and self.strategy.downlinks_updates:
                self.env.process(self._train(sat))
                return
            # plane-mates' soft labels the satellite carries to them over crosslinks, after its own
            relay = 0 if self.isl is None else self.isl.relay_up(sat.index, budget - own)
            if packet is None and relay == 0:
                return
            parts = [] if packet is None else [_uplink_label(packet)]
            label = " + ".join(parts + (["labels to relay"] if relay else []))
            model_share = 0 if packet is None else min(self._model_share(packet), own)
            sat.uplink = (Transfer(own + relay, "uplink", label), packet, model_share)
        transfer, uplinked, model_share = sat.uplink
        shares = {"model": model_share, "knowledge": transfer.nbytes - model_share}
        yield from self._send(sat, transfer, window, uplink=True, shares={k: v for k, v in shares.items() if v})
        if not transfer.done:
            return
        sat.uplink = None
        if self.isl is not None:
            self.isl.relay_arrived(sat.index)
        if uplinked is not None:
            yield from self.deliver(sat, uplinked)

    def deliver(
        self, sat: SatelliteState, packet: UplinkPacket, from_ground: bool = True, train: bool = True
    ) -> Generator[simpy.Event, Any, bool]:
        """`packet` has reached the satellite (from a station, or over a crosslink when not
        `from_ground`): its node takes it and, with `train`, trains next (in the same message).
        False: the node did not take it."""
        self._settle(sat.index)
        planned = None
        if train and (sat.model_version >= 0 or packet.model is not None):
            planned = self._plan_training(sat, self.env.now + self.plan.command_s, len(packet.knowledge))
        order = planned.order if planned is not None and self.strategy.downlinks_updates else None
        sent = self.transport.deliver(sat.index, packet, order)
        if order is not None:
            self._ordered.add(sat.index)
        delivered, _ = yield from self._ask(sat.index, "train.deliver", sent)
        if not delivered:
            return False  # the node did not take it: the model and labels are sent again
        if from_ground:
            self.ground.mark_delivered(sat.index, packet)
        if packet.model is not None:
            sat.model_version = packet.version
            if from_ground and self.isl is not None:
                self.isl.new_model()
        if train and sat.model_version >= 0 and self.strategy.downlinks_updates:
            self.env.process(self._train(sat, planned))
        return True

    def _training_images(self, sat: SatelliteState, acquired: int, arriving: int = 0) -> tuple[int, int]:
        """(images with a target, unlabelled images) per epoch of the coming training, with
        `arriving` soft labels on their way to the node."""
        labelled = acquired if self.strategy.onboard == "labels" else self.ground.sent[sat.index] + arriving
        unlabelled = self.plan.semi_ratio * labelled if self.plan.semi_ratio and acquired > labelled else 0
        return labelled, unlabelled

    def _plan_training(self, sat: SatelliteState, at_s: float, arriving: int = 0) -> PlannedTraining:
        """The training a satellite starts at `at_s` (its images, or why it does not train), with
        `arriving` soft labels delivered before then; its fault draws are peeked, not taken."""
        acquired = self.plan.imagery.acquired(self.plan.images_held[sat.index], at_s)
        labelled, unlabelled = self._training_images(sat, acquired, arriving)
        if labelled == 0:
            return PlannedTraining(acquired, labelled, unlabelled, skip="no training targets yet")
        if not self.faults.usable(sat.index, at_s):
            return PlannedTraining(acquired, labelled, unlabelled, skip="unusable")
        fails, _ = self.faults.peek_training(sat.index)
        return PlannedTraining(acquired, labelled, unlabelled, order=TrainOrder(acquired, fails))

    def _train(self, sat: SatelliteState, planned: PlannedTraining | None = None) -> Generator[simpy.Event, Any, None]:
        """One training from its simulated start to its end. `planned`: planned (and, with an
        order, sent to the node with its uplink) when the uplink was delivered."""
        self._settle(sat.index)
        pushed = planned is not None and planned.order is not None
        self._ordered.discard(sat.index)
        if planned is None:
            planned = self._plan_training(sat, self.env.now)
        acquired, labelled, unlabelled = planned.acquired, planned.labelled, planned.unlabelled
        if planned.skip == "no training targets yet":
            self._event("train_skipped", satellite=sat.index, reason="no training targets yet")
            return
        if planned.skip:
            return
        fails, late = self.faults.next_training(sat.index)
        sat.training, sat.retrain = True, False
        hardware = self.plan.hardware[sat.index]
        # forward + backward on images with a target and on the strong views; forward only on
        # the weak views that make the pseudo-labels (a third of a training step's work).
        per_epoch = labelled + unlabelled * (4.0 / 3.0)
        flops = self.plan.train_flops_per_image * per_epoch * self.plan.epochs
        seconds = hardware.compute_seconds(flops)
        if not pushed:
            self.transport.start_training(sat.index, acquired, fail=fails)
        self._event(
            "train_start",
            satellite=sat.index,
            board=hardware.name,
            images=labelled,
            unlabelled=unlabelled,
            compute_s=seconds,
            soc=sat.battery.soc,
        )
        result = yield self.env.process(
            run_compute(
                self.env,
                sat.battery,
                seconds,
                hardware.busy_w - hardware.idle_w,
                self.plan.floor_soc,
                self.plan.resume_soc,
                name="train",
            )
        )
        sat.training = False
        sat.train_seconds += result.busy_s
        sat.energy_train_wh += result.energy_wh
        ended = TrainingEnd(result, sat.battery.soc, late, gone=not self.faults.usable(sat.index, self.env.now))
        if fails or late or self.isl is not None:
            self._finish(sat, ended)  # a fault to record now, or crosslinks that carry the update at once
        else:  # the report is read when the mission next needs it (see `_settle`)
            self._due[sat.index] = (ended, self.recorder.reserve("train_end", self.env.now))

    def _finish(self, sat: SatelliteState, ended: TrainingEnd, slot: EventSlot | None = None) -> None:
        """Collect a training's report from its node and apply it as of the training's end
        (`slot`: its `train_end` event's place in the log, taken then)."""
        report = None
        with self._reply(sat.index, "train.compute"):
            report = self.transport.finish_training(sat.index)
        fault = "failed" if report is None else None
        sat.retrain = report is None or ended.late
        if report is not None:
            sat.train_wall_seconds += report.wall_seconds
            if ended.late:
                self.faults.reply_late(sat.index)
                fault = "client_timeout"
            elif ended.gone:
                fault = "satellite gone"
            elif report.num_examples > 0:
                sat.update_ready = True
                sat.trainings += 1
                if self.isl is not None:
                    self.isl.trained(sat)  # the update stays on board for the crosslinks
        result = ended.compute
        fields = {
            "satellite": sat.index,
            "images": 0 if report is None else report.num_examples,
            "loss": float("nan") if report is None else report.loss,
            **({"dropped": fault} if fault else {}),
            "busy_s": result.busy_s,
            "paused_s": result.paused_s,
            "energy_wh": result.energy_wh,
            "soc": ended.soc,
            "wall_s": 0.0 if report is None else report.wall_seconds,
        }
        if slot is None:
            self._event("train_end", **fields)
        else:
            self.recorder.fill(slot, **fields)
        if self.isl is not None:
            self.isl.idle(sat.index)  # labels relayed to it while it trained go on board now

    def _settle(self, satellite: int) -> None:
        """Apply the satellite's last training's report if it is still due: before anything
        reads what it changes (the satellite's next contact or training, a metrics row's fault
        count, the end of the mission). Trainings' replies are thus collected at moments fixed
        by simulated time, not when the mission's clock passes their end: the nodes train while
        the mission runs ahead, and results do not depend on how fast they answer."""
        due = self._due.pop(satellite, None)
        if due is not None:
            self._finish(self.satellites[satellite], due[0], due[1])

    def _settle_all(self) -> None:
        for satellite in sorted(self._due):
            self._settle(satellite)


def _uplink_label(packet: UplinkPacket) -> str:
    """How a transfer names an uplink packet: "global v3 + 12 labels" or "knowledge + 12 labels"."""
    what = f"global v{packet.version}" if packet.model is not None else "knowledge"
    return f"{what} + {len(packet.knowledge)} labels"

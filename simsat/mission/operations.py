"""The mission as SimPy processes: `Operations` wires them, runs them and records what happens.

Each satellite is one process walking through its contact windows; each contact is a process of
`simsat.mission.contact` (update down, imagery down, uplink), and a delivered uplink starts an
onboard training, a process of `simsat.mission.training`. The ground's processes are here: the
aggregation rule's deadlines and what follows an aggregation (refining, scoring, a new version),
the ground's own training, the teachers' refreshes. Crosslinks, when the plan has them, are
`simsat.mission.isl`'s processes. Faults (injected or a ClientApp that fails) are recorded and
skipped by `simsat.mission.faults`. Operations also keeps the books: bytes by kind, events, the
metrics rows in mission order, the commands in flight to the satellites' nodes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import simpy

from simsat.mission.aggregation import Aggregation, Discarded
from simsat.mission.contact import Contacts
from simsat.mission.faults import Faults, SatelliteFailure
from simsat.mission.ground import GroundSegment, GroundTrainer
from simsat.mission.ground_worker import GroundWorker
from simsat.mission.isl import IslMission
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket
from simsat.mission.state import BYTE_KINDS, Clock, OperationsPlan, SatelliteState
from simsat.mission.training import SatelliteTraining
from simsat.mission.transport import MessageCounts, Reply, Transport
from simsat.results.recorder import Recorder
from simsat.world.contacts import ContactWindow
from simsat.world.power import Battery

log = logging.getLogger(__name__)

Evaluate = Callable[[ModelArrays], dict[str, float]]
# the received imagery -> the teachers learn from it and are used from then on; their report
TeacherRefresher = Callable[[np.ndarray], dict[str, Any]]
T = TypeVar("T")


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
        self.clock = Clock()
        self.version_changed = env.event()
        self.local_scores: dict[int, dict[str, float]] = {}
        self.initial_scores: dict[str, float] = {}
        self.mission_wall_seconds = 0.0
        self.messages = MessageCounts()  # the transport's, where it counts them (Flower messages)
        self.faults = Faults(plan.faults, len(self.satellites), self.event)
        self._last_eval_s = 0.0
        self._last_refine_s: float | None = None  # when the ground last refined (None: never)
        self._unscored: tuple[str, Sequence[int], Sequence[int]] | None = None  # a change not evaluated yet
        self._asked: dict[int, Reply[Any]] = {}  # satellite -> command in flight (plan.command_s > 0)
        # updates that arrived while the ground's computer trains a student the satellites do not get yet
        self._inbox: list[tuple[SatelliteState, UpdatePacket]] = []
        self.ground_compute_s = 0.0  # simulated seconds the ground's computer trained
        # metrics rows in mission order, each with its scores (a Future while the ground worker scores it)
        self._rows: list[tuple[dict[str, Any], dict[str, float] | Future[dict[str, float]]]] = []
        self.training = SatelliteTraining(self)  # the satellites' onboard trainings
        self.contacts = Contacts(self)  # the ground contacts: antennas, transfers, deliveries
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

    # -- what the mission's processes (contact, training, isl) use -----------------------------
    def event(self, kind: str, **fields: Any) -> None:
        """Record an event at the current simulated time."""
        self.recorder.event(kind, self.env.now, **fields)

    def node_busy(self, satellite: int) -> bool:
        """The node trains, has a training ordered, a command in flight or an uplink on its way."""
        sat = self.satellites[satellite]
        return sat.training or sat.uplink is not None or satellite in self.training.ordered or satellite in self._asked

    def deliver(
        self, sat: SatelliteState, packet: UplinkPacket, from_ground: bool = True, train: bool = True
    ) -> Generator[simpy.Event, Any, bool]:
        """`packet` has reached the satellite (see `Contacts.deliver`): its node takes it and,
        with `train`, trains next. False: the node did not take it."""
        return self.contacts.deliver(sat, packet, from_ground, train)

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
        self.training.settle_all()  # the row counts the faults so far
        fields = {
            "time_s": self.env.now,
            "event": kind,
            "version": self.ground.offered()[0],
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
    def reply_guard(self, satellite: int, what: str) -> Iterator[None]:
        """Around a call to a satellite's node: a failed reply is recorded and swallowed (the
        caller sees its result unset); MissionError when no satellite can contribute any more."""
        try:
            yield
        except SatelliteFailure as failure:
            self.faults.failed(satellite, what, failure)
        else:
            self.faults.answered(satellite, what)

    def ask(self, satellite: int, what: str, reply: Reply[T]) -> Generator[simpy.Event, Any, tuple[bool, T | None]]:
        """A command's answer, `plan.command_s` simulated seconds after it was sent (the other
        satellites go on meanwhile, so commands to different satellites are in flight together):
        (True, answer), or (False, None) when the node failed (recorded)."""
        if self.plan.command_s > 0:
            self._asked[satellite] = reply
            yield self.env.timeout(self.plan.command_s)
            del self._asked[satellite]
        with self.reply_guard(satellite, what):
            return True, reply.result()
        return False, None

    def _global_metric(self, kind: str, satellites: Sequence[int] = (), staleness: Sequence[int] = ()) -> None:
        if self.env.now - self._last_eval_s < self.plan.eval_interval_s:
            self._unscored = (kind, satellites, staleness)  # evaluated later, or at the end
            return
        self._unscored = None
        self._last_eval_s = self.env.now
        self.metric(kind, satellites, staleness, self.score_later(self.ground.offered()[1]))

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
        self.training.settle_all()
        if self._unscored is not None:  # the last global student, evaluated at the end of the mission
            self.metric(*self._unscored, self.score_later(self.ground.offered()[1]))
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
            with self.reply_guard(satellite, "command at the end of the mission"):
                reply.result()
        self._asked.clear()
        for sat in self.satellites:
            if sat.training or sat.index in self.training.ordered:
                wall_s = 0.0
                with self.reply_guard(sat.index, "train.compute"):
                    wall_s = self.transport.finish_training(sat.index).wall_seconds
                sat.train_wall_seconds += wall_s
                self.event("train_cut", satellite=sat.index, reason="mission ended", wall_s=wall_s)

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
        in_use += [update.base_version for _, update in self._inbox]  # waiting for the ground's computer
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
            if self.ground.held_back:  # looked at again once the ground's student is ready
                yield self.version_changed
                continue
            aggregation = self.ground.expire(self.env.now)
            if aggregation is not None:
                self._aggregated(aggregation, reason="deadline")
            else:
                yield self.version_changed  # the rule now waits for the next arrival

    def _ground_training(self) -> Generator[simpy.Event, Any, None]:
        assert self.ground_trainer is not None
        train = self._timed(self.ground_trainer)
        while True:
            yield self.env.timeout(self.plan.ground_interval_s)
            # on the ground worker: the mission goes on until the trained student is read
            if self.ground.train_on_pool(train, self.worker):
                seconds = self._ground_seconds(self.ground.pool_trained, self.plan.epochs)
                timed = {"compute_s": seconds} if self.plan.ground_hardware is not None else {}
                self.event("ground_training", version=self.ground.version, images=self.ground.pool_trained, **timed)
                if seconds > 0:
                    yield self._busy_ground_computer(seconds, "ground_training")
                    continue
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
                self.event("teacher_refresh", images=0, skipped="no imagery received yet")
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
            self.event("teacher_refresh", **entry, wall_s=round(done - start, 3))

    def _satellite(self, sat: SatelliteState, windows: Sequence[ContactWindow]) -> Generator[simpy.Event, Any, None]:
        for n, window in enumerate(windows):
            if window.end_s <= self.env.now:
                continue
            self.contacts.prefetch_imagery(sat, window)
            if window.start_s > self.env.now:
                yield self.env.timeout(window.start_s - self.env.now)
            self.training.settle(sat.index)
            if not self.faults.usable(sat.index, self.env.now):
                return
            if self.faults.contact_lost(sat.index, n, self.plan.world.stations[window.station].name):
                continue
            yield from self.contacts.contact(sat, window)

    def update_arrived(self, sat: SatelliteState, update: UpdatePacket) -> None:
        """`update` from the satellite has reached the ground: the crosslinks' (the aggregate the
        satellite carried), or the aggregation rule's (buffered, discarded or aggregated); with no
        aggregation, the satellite's own model is scored."""
        if self.isl is not None and self.isl.arrived(sat.index, update):
            return
        if self.ground.held_back:  # the ground's computer is training: the update waits for it
            self._inbox.append((sat, update))
            self.event("update_waits", satellite=sat.index, reason="the ground's computer is training")
            return
        self._aggregate(sat, update)

    def _aggregate(self, sat: SatelliteState, update: UpdatePacket) -> None:
        """`update` handed to the aggregation rule (or, with no aggregation, scored)."""
        outcome = self.ground.receive_update(sat.index, update, self.env.now)
        if not self.strategy.aggregates:  # local: the satellite's own model is scored
            self.local_scores[sat.index] = self._score(update.model)
            mean = {
                k: float(np.mean([self.local_scores.get(s.index, self.initial_scores)[k] for s in self.satellites]))
                for k in self.initial_scores
            }
            self.event("local_update", satellite=sat.index, accuracy=self.local_scores[sat.index]["accuracy"])
            self.metric("local_update", [sat.index], [0], mean)
        elif isinstance(outcome, Discarded):
            self.event("update_discarded", satellite=sat.index, staleness=outcome.staleness)
        elif isinstance(outcome, Aggregation):
            self._aggregated(outcome, reason="arrival")
        else:
            self.event("update_buffered", satellite=sat.index, waiting=self.ground.aggregator.waiting())

    def _aggregated(self, aggregation: Aggregation, reason: str) -> None:
        self.event(
            "aggregation",
            version=aggregation.version,
            satellites=aggregation.satellites,
            staleness=aggregation.staleness,
            weights=[round(w, 4) for w in aggregation.weights],
            num_examples=aggregation.num_examples,
            reason=reason,
        )
        seconds = 0.0
        if self.ground_refiner is not None and self._refine_due():
            self._last_refine_s = self.env.now
            # on the ground worker: the mission goes on until the refined student is read
            images = self.ground.refine(self._timed(self.ground_refiner), self.worker)
            seconds = self._ground_seconds(images, self.plan.refine_epochs)
            timed = {"compute_s": seconds} if self.plan.ground_hardware is not None else {}
            self.event("ground_refine", version=self.ground.version, images=images, **timed)
        if seconds > 0:
            self._busy_ground_computer(seconds, "aggregation", aggregation.satellites, aggregation.staleness)
            return
        self._global_metric("aggregation", aggregation.satellites, aggregation.staleness)
        self._new_version()

    def _ground_seconds(self, images: int, epochs: int) -> float:
        """Simulated seconds the ground's computer takes to train the student `epochs` passes over
        its own labelled images and `images` received ones (0: `plan.ground_hardware` is None)."""
        hardware = self.plan.ground_hardware
        if hardware is None:
            return 0.0
        per_epoch = self.plan.ground_images + images
        return hardware.compute_seconds(self.plan.train_flops_per_image * per_epoch * epochs)

    def _busy_ground_computer(
        self, seconds: float, kind: str, satellites: Sequence[int] = (), staleness: Sequence[int] = ()
    ) -> simpy.Process:
        """The ground's computer trains the current student for `seconds`: until then satellites
        are sent the one before, and updates wait in the inbox; then it is the global student
        (its metrics row of `kind`, a new version for the satellites) and the inbox is aggregated
        in order. Returns the process that ends when it is ready."""
        self.ground.hold_back(self.ground.version - 1)  # from now: an update arriving at this moment waits too
        self.ground_compute_s += seconds
        return self.env.process(self._ready_after(seconds, kind, satellites, staleness))

    def _ready_after(
        self, seconds: float, kind: str, satellites: Sequence[int], staleness: Sequence[int]
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(seconds)
        self.ground.publish()
        self.event("ground_ready", version=self.ground.version, waiting=len(self._inbox))
        self._global_metric(kind, satellites, staleness)
        self._new_version()
        while self._inbox and not self.ground.held_back:
            self._aggregate(*self._inbox.pop(0))

    def _timed(self, trainer: GroundTrainer) -> GroundTrainer:
        """`trainer`, its wall seconds counted in `clock.ground_train_s`."""

        def timed(model: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
            start = time.perf_counter()
            try:
                return trainer(model, images, knowledge)
            finally:
                self.clock.ground_train_s += time.perf_counter() - start

        return timed

    def _refine_due(self) -> bool:
        last = self._last_refine_s
        return last is None or self.env.now - last >= self.plan.refine_interval_s

"""A satellite's onboard training in the mission, from its plan to its report.

A training is planned when the uplink that feeds it is delivered (its images, or why it does
not train; with the uplink's message when the strategy sends updates down), starts once the
satellite's battery allows, and ends after its simulated compute time: the real training is
handed to the satellite's node when the simulated training starts and its report is collected
after it ends, so trainings that overlap in simulated time run at the same time. A report is read
when the mission next needs what it changes (the satellite's next contact or training, a metrics
row, the end of the mission), at moments fixed by simulated time: results do not depend on how
fast the nodes answer. `SatelliteTraining` runs these processes for `simsat.mission.operations`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from simsat.mission.state import PlannedTraining, SatelliteState
from simsat.mission.transport import TrainOrder
from simsat.results.recorder import EventSlot
from simsat.world.compute import ComputeResult, run_compute

if TYPE_CHECKING:
    from simsat.mission.operations import Operations


@dataclass(frozen=True)
class TrainingEnd:
    """What the mission knew when a training's simulated end came: its compute, the battery
    then, whether its reply counts as late (injected), whether the satellite was gone."""

    compute: ComputeResult
    soc: float
    late: bool
    gone: bool


class SatelliteTraining:
    """The satellites' onboard trainings: planning, the SimPy process of each, their reports.
    `ordered`: the satellites whose training was ordered with an uplink and has not started yet."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.env = ops.env
        # satellites whose training went with an uplink (ordered in its message) and has not started yet
        self.ordered: set[int] = set()
        self._due: dict[int, tuple[TrainingEnd, EventSlot]] = {}  # trainings ended whose report is not read yet

    def _training_images(self, sat: SatelliteState, acquired: int, arriving: int = 0) -> tuple[int, int]:
        """(images with a target, unlabelled images) per epoch of the coming training, with
        `arriving` soft labels on their way to the node."""
        ops = self.ops
        labelled = acquired if ops.strategy.onboard == "labels" else ops.ground.sent[sat.index] + arriving
        unlabelled = ops.plan.semi_ratio * labelled if ops.plan.semi_ratio and acquired > labelled else 0
        return labelled, unlabelled

    def plan(self, sat: SatelliteState, at_s: float, arriving: int = 0) -> PlannedTraining:
        """The training a satellite starts at `at_s` (its images, or why it does not train), with
        `arriving` soft labels delivered before then; its fault draws are peeked, not taken."""
        ops = self.ops
        acquired = ops.plan.imagery.acquired(ops.plan.images_held[sat.index], at_s)
        labelled, unlabelled = self._training_images(sat, acquired, arriving)
        if labelled == 0:
            return PlannedTraining(acquired, labelled, unlabelled, skip="no training targets yet")
        if not ops.faults.usable(sat.index, at_s):
            return PlannedTraining(acquired, labelled, unlabelled, skip="unusable")
        fails, _ = ops.faults.peek_training(sat.index)
        return PlannedTraining(acquired, labelled, unlabelled, order=TrainOrder(acquired, fails))

    def train(self, sat: SatelliteState, planned: PlannedTraining | None = None) -> Generator[simpy.Event, Any, None]:
        """One training from its simulated start to its end (a SimPy process). `planned`: planned
        (and, with an order, sent to the node with its uplink) when the uplink was delivered."""
        ops = self.ops
        self.settle(sat.index)
        pushed = planned is not None and planned.order is not None
        self.ordered.discard(sat.index)
        if planned is None:
            planned = self.plan(sat, self.env.now)
        acquired, labelled, unlabelled = planned.acquired, planned.labelled, planned.unlabelled
        if planned.skip == "no training targets yet":
            ops.event("train_skipped", satellite=sat.index, reason="no training targets yet")
            return
        if planned.skip:
            return
        fails, late = ops.faults.next_training(sat.index)
        sat.training, sat.retrain = True, False
        hardware = ops.plan.hardware[sat.index]
        # forward + backward on images with a target and on the strong views; forward only on
        # the weak views that make the pseudo-labels (a third of a training step's work).
        per_epoch = labelled + unlabelled * (4.0 / 3.0)
        flops = ops.plan.train_flops_per_image * per_epoch * ops.plan.epochs
        seconds = hardware.compute_seconds(flops)
        if not pushed:
            ops.transport.start_training(sat.index, acquired, fail=fails)
        ops.event(
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
                ops.plan.floor_soc,
                ops.plan.resume_soc,
                name="train",
            )
        )
        sat.training = False
        sat.train_seconds += result.busy_s
        sat.energy_train_wh += result.energy_wh
        ended = TrainingEnd(result, sat.battery.soc, late, gone=not ops.faults.usable(sat.index, self.env.now))
        if fails or late or ops.isl is not None:
            self._finish(sat, ended)  # a fault to record now, or crosslinks that carry the update at once
        else:  # the report is read when the mission next needs it (see `settle`)
            self._due[sat.index] = (ended, ops.recorder.reserve("train_end", self.env.now))

    def _finish(self, sat: SatelliteState, ended: TrainingEnd, slot: EventSlot | None = None) -> None:
        """Collect a training's report from its node and apply it as of the training's end
        (`slot`: its `train_end` event's place in the log, taken then)."""
        ops = self.ops
        report = None
        with ops.reply_guard(sat.index, "train.compute"):
            report = ops.transport.finish_training(sat.index)
        fault = "failed" if report is None else None
        sat.retrain = report is None or ended.late
        if report is not None:
            sat.train_wall_seconds += report.wall_seconds
            if ended.late:
                ops.faults.reply_late(sat.index)
                fault = "client_timeout"
            elif ended.gone:
                fault = "satellite gone"
            elif report.num_examples > 0:
                sat.update_ready = True
                sat.trainings += 1
                if ops.isl is not None:
                    ops.isl.trained(sat)  # the update stays on board for the crosslinks
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
            ops.event("train_end", **fields)
        else:
            ops.recorder.fill(slot, **fields)
        if ops.isl is not None:
            ops.isl.idle(sat.index)  # labels relayed to it while it trained go on board now

    def settle(self, satellite: int) -> None:
        """Apply the satellite's last training's report if it is still due: before anything
        reads what it changes (the satellite's next contact or training, a metrics row's fault
        count, the end of the mission). Trainings' replies are thus collected at moments fixed
        by simulated time, not when the mission's clock passes their end: the nodes train while
        the mission runs ahead, and results do not depend on how fast they answer."""
        due = self._due.pop(satellite, None)
        if due is not None:
            self._finish(self.ops.satellites[satellite], due[0], due[1])

    def settle_all(self) -> None:
        """`settle` every satellite whose report is due, in satellite order."""
        for satellite in sorted(self._due):
            self.settle(satellite)

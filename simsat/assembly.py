"""One assembly: a validated config in, the wired mission out.

`assemble(config)` loads the data, trains (or loads) the teachers, writes the satellites'
shards and builds the ground segment, the operations plan and the onboard setup. The runner,
the bench scripts and the tests all go through it; `Mission.run` drives the SimPy mission over
Flower's simulation engine (or, for tests, the same ClientApp in this process).

Wiring only: what the config decides comes compiled, as the `Scenario`
(`simsat.config.compile`); nothing here reads a config key.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import simpy
import torch

from simsat.config.compile import RAY_ADDRESS_KEY, DataSettings, EngineSettings, Scenario, compile_scenario
from simsat.config.schema import SimsatConfig
from simsat.data import (
    MissionData,
    load_eurosat,
    load_eurosat_splits,
    split_mission,
    split_mission_from_splits,
    synthetic_mission,
)
from simsat.distill.device import resolve_device
from simsat.distill.teacher_cache import train_or_load_teachers
from simsat.distill.train import evaluate
from simsat.federation.client_app import make_client_app
from simsat.federation.server_app import make_server_app
from simsat.federation.simulation import federation_engine, run_federation, stop_satellite_workers
from simsat.federation.transport import InProcessTransport, MessageTransport
from simsat.ground import GroundLearning, Progress, no_progress
from simsat.hardware.profiles import HardwareProfile
from simsat.interrupt import Interrupted, StopRequest
from simsat.mission.aggregation import make_aggregator
from simsat.mission.ground import GroundSegment, Labeller
from simsat.mission.ground_worker import GroundWorker
from simsat.mission.imagery import ProductSizedImagery
from simsat.mission.journal import Journal
from simsat.mission.onboard import OnboardSetup, build_student, model_arrays, save_shard
from simsat.mission.operations import Operations
from simsat.mission.plan import WorldPlan
from simsat.mission.replay import (
    GroundWork,
    JournaledTransport,
    RestorableTransport,
    journaled_ground,
)
from simsat.mission.state import OperationsPlan
from simsat.mission.transport import Transport
from simsat.models.cost import count_flops, training_flops_per_image
from simsat.models.inputs import Normalization
from simsat.results.recorder import Recorder
from simsat.world.power import Battery

log = logging.getLogger(__name__)


def load_mission_data(d: DataSettings, n_sats: int) -> MissionData:
    """The mission's images, split between the ground, validation, test and `n_sats` satellites."""
    if d.source == "synthetic":
        return synthetic_mission(d.n_images, n_sats, d.seed, **d.split(), image_size=d.image_size)
    if d.split_dir is not None:
        parts = load_eurosat_splits(d.path, d.split_dir, cache_dir=d.cache_dir)
        return split_mission_from_splits(
            parts["train"],
            parts["validation"],
            parts["test"],
            n_sats,
            d.ground_fraction,
            d.partition,
            d.alpha,
            d.seed,
        )
    return split_mission(load_eurosat(d.path, cache_dir=d.cache_dir), n_sats, seed=d.seed, **d.split())


@dataclass
class Mission:
    """Everything a run needs, wired; `run` plays it once."""

    config: SimsatConfig  # as the run's summary and folder report it; the mission reads `scenario`
    scenario: Scenario  # the config compiled (simsat.config.compile)
    data: MissionData
    num_classes: int
    learning: GroundLearning  # the ground's torch work: teachers, reference, refinement, labels, scores
    teacher_report: list[dict[str, Any]]
    plan: OperationsPlan
    setup: OnboardSetup
    hardware: list[HardwareProfile]
    inference_flops_per_image: float
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds of each stage before the mission
    mission_end: float = 0.0  # time.perf_counter() at the end of the mission's simulated time

    @property
    def world(self) -> WorldPlan:
        return self.scenario.world

    @property
    def device(self) -> torch.device:
        return self.learning.device

    @property
    def num_satellites(self) -> int:
        return len(self.data.satellites)

    def ground_segment(self, labeller: Labeller | None = None) -> GroundSegment:
        scenario, g = self.scenario, self.scenario.ground
        strategy = scenario.strategy
        return GroundSegment(
            model=self.learning.launch_model(),
            strategy=strategy,
            aggregator=make_aggregator(scenario.aggregation, scenario.aggregator, self.num_satellites),
            num_satellites=self.num_satellites,
            num_classes=self.num_classes,
            labeller=(labeller or self.learning.label) if (strategy.knowledge or strategy.ground_trains) else None,
            max_labels_per_contact=g.max_labels_per_contact,
            keeps_pool=g.refines,  # only refinement uses it
            refine_images=g.refine_images,
            keeps_imagery=bool(g.refresh_s),
            seed=scenario.learning.seed,
        )

    # -- playing it ------------------------------------------------------------------------------
    def operations(
        self,
        transport: Transport,
        recorder: Recorder,
        progress: Progress = no_progress,
        journal: Journal | None = None,
        stop: Callable[[], None] = lambda: None,
        worker: GroundWorker | None = None,
    ) -> Operations:
        """The mission's processes; with a `journal`, every result of real work goes through it
        (taken from it when a resumed run replays, else computed and added)."""
        self.learning.start()
        refreshes = bool(self.scenario.ground.refresh_s)
        work = GroundWork(
            self.learning.score,
            self.learning.label,
            self.learning.train_at_ground,
            self.learning.refine_at_ground,
            (lambda images: self.learning.refresh_teachers(images, progress)) if refreshes else None,
        )
        if journal is not None:
            work = journaled_ground(work, journal, stop)
            transport = JournaledTransport(cast(RestorableTransport, transport), journal, stop)
        product_bytes = self.scenario.imagery.bytes_per_image
        if product_bytes > 0:
            # the link carries each image at the product's size; the ground decodes the real JPEG
            transport = ProductSizedImagery(transport, product_bytes)
        env = simpy.Environment()
        p = self.scenario.power
        batteries = [
            Battery(
                env,
                capacity_wh=p.capacity_wh,
                initial_soc=p.initial_soc,
                floor_soc=p.floor_soc,
                solar_w=self.world.solar_peak_w,
                baseline_w=p.baseline_w,
                sunlit=self.world.sunlit[i],
                step_s=p.step_s,
                safe_soc=p.safe_soc,
                safe_exit_soc=p.safe_exit_soc,
            )
            for i in range(self.num_satellites)
        ]
        hours = self.world.duration_s / 3600.0
        ground = self.ground_segment(work.label)
        refresh = work.refresh
        refresher = None
        if refresh is not None and ground.labeller is not None:

            def refresher(images: np.ndarray) -> dict[str, Any]:
                weights, report = refresh(images)
                self.learning.adopt_teachers(weights)
                return report

        return Operations(
            env,
            self.plan,
            ground,
            transport,
            batteries,
            recorder,
            work.score,
            ground_trainer=work.train if ground.strategy.ground_trains else None,
            ground_refiner=work.refine if ground.keeps_pool else None,
            progress=lambda t: progress("mission", t / 3600.0, hours),
            teacher_refresher=refresher,
            worker=worker,
        )

    def run(
        self,
        recorder: Recorder,
        progress: Progress = no_progress,
        in_process: bool = False,
        journal: Journal | None = None,
        stop: StopRequest | None = None,
    ) -> Operations:
        """Play the mission once; Flower's simulation engine on Ray unless `in_process`.

        With a `journal` the results of real work are journaled (and replayed from it); with a
        `stop`, a signal stops the mission at its next step (`Interrupted`)."""
        state: dict[str, Operations] = {}
        hours = self.world.duration_s / 3600.0
        check = stop.check if stop is not None else (lambda: None)

        called = time.perf_counter()

        def operate(transport: Transport) -> None:
            # the engine's start-up up to here (its nodes, the satellites' workers, identifying the
            # nodes) is set-up: the stage "nodes"
            start = time.perf_counter()
            self.stages["nodes"] = start - called
            if isinstance(transport, MessageTransport):
                transport.interrupt = check
            worker = GroundWorker()  # refinement and evaluation beside the mission's loop
            ops = self.operations(transport, recorder, progress, journal, check, worker)
            if isinstance(transport, MessageTransport):
                ops.messages = transport.counts
            try:
                ops.run()
            except Interrupted:
                worker.close(cancel=True)
                if not in_process:
                    stop_satellite_workers()  # trainings in flight would hold the engine up
                raise
            except BaseException:
                worker.close(cancel=True)
                raise
            worker.close()
            self.mission_end = time.perf_counter()
            ops.mission_wall_seconds = self.mission_end - start
            progress("mission", hours, hours)
            state["ops"] = ops

        if in_process:  # one process plays every node: their memory stays in it
            app = make_client_app(replace(self.setup, storage_dir=""))
            operate(InProcessTransport(app, self.num_satellites))
        else:
            try:
                with stop.deferred() if stop is not None else nullcontext():
                    ray = self.scenario.engine.ray
                    run_federation(
                        make_server_app(self.num_satellites, operate, in_flight=ray.messages_in_flight),
                        make_client_app(self.setup),
                        self.num_satellites,
                        ray,
                    )
            except Exception:
                check()  # a stop explains whatever the engine raised on its way down
                raise
            check()
        return state["ops"]


def federation_session(engine: EngineSettings) -> AbstractContextManager[None]:
    """The federation's engine for a run, entered before the run's expensive start: Flower's Ray
    started (a failure is one line before any training), or nothing for an in-process engine."""
    if engine.in_process:
        return nullcontext()
    return federation_engine(engine.ray, RAY_ADDRESS_KEY)


@contextmanager
def assemble(
    config: SimsatConfig, progress: Progress = no_progress, scenario: Scenario | None = None
) -> Iterator[Mission]:
    """The wired mission for `config` (a validated config); its satellites' shards live in a
    temporary folder for as long as the context is open. `scenario`: the config, already compiled.
    Only `compile_scenario` and the `Mission` (for the run's summary) see `config`."""
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - clock
        clock = now

    if scenario is None:
        scenario = compile_scenario(config)
        stage("world")
    device = resolve_device(scenario.engine.device)
    world, learn = scenario.world, scenario.learning
    data = load_mission_data(scenario.data, len(world.satellites))
    num_classes = len(data.test.class_names)
    n_sats = len(data.satellites)
    norm = Normalization.from_images(data.ground.images)
    log.info(
        "data: %d ground, %d on %d satellites, %d test images",
        len(data.ground),
        sum(len(s) for s in data.satellites),
        n_sats,
        len(data.test),
    )
    strategy = scenario.strategy
    stage("data")
    teachers: list[torch.nn.Module] = []
    teacher_report: list[dict[str, Any]] = []
    if strategy.knowledge or strategy.ground_trains:
        specs = list(learn.teachers)
        loaded = train_or_load_teachers(
            specs,
            data.ground.images,
            data.ground.labels,
            norm,
            num_classes,
            data.ground.fingerprint(),
            learn.cache_dir / "teachers",
            learn.seed,
            progress=lambda name, done, total: progress(f"teacher {name} (images)", done, total),
            device=device,
        )
        for spec, (teacher, meta) in zip(specs, loaded, strict=True):
            score = evaluate(teacher, data.test.images, data.test.labels, norm, num_classes, device=device).as_dict()
            teacher_report.append({"name": spec.name, "input_size": spec.input_size, **score, **meta})
            log.info("teacher %s: test accuracy %.3f", spec.name, score["accuracy"])
            teachers.append(teacher)

    stage("teachers")
    torch.manual_seed(learn.seed)
    student = build_student(learn.model, num_classes)
    edge = int(data.test.images.shape[1])
    flops_per_image = training_flops_per_image(student, edge)
    inference_flops = count_flops(student, edge)
    hardware = list(scenario.hardware)
    onboard = scenario.onboard
    plan = OperationsPlan(
        world=world,
        hardware=hardware,
        floor_soc=scenario.power.floor_soc,
        resume_soc=scenario.power.resume_soc,
        train_flops_per_image=flops_per_image,
        epochs=learn.recipe.epochs,
        images_held=[len(s) for s in data.satellites],
        imagery=scenario.imagery.plan(world, data, edge),
        semi_ratio=onboard.semi_ratio,
        ground_interval_s=scenario.ground.ground_interval_s,
        eval_interval_s=scenario.ground.eval_interval_s,
        refine_interval_s=scenario.ground.refine_interval_s,
        ground_hardware=scenario.ground.hardware,
        ground_images=len(data.ground),
        refine_epochs=learn.refine_epochs,
        command_s=scenario.command_s,
        refresh_s=scenario.ground.refresh_s,
        faults=scenario.faults,
        isl=scenario.isl,
    )
    with tempfile.TemporaryDirectory(prefix="simsat-shards-") as shards:
        for i, sat in enumerate(data.satellites):
            save_shard(Path(shards), i, sat.images, sat.ids, sat.labels)
        setup = OnboardSetup(
            shards_dir=shards,
            model_name=learn.model,
            num_classes=num_classes,
            temperature=learn.temperature,
            training=learn.recipe,
            seed=learn.seed,
            norm_mean=norm.mean,
            norm_std=norm.std,
            mode=strategy.onboard,
            semi=onboard.semi,
            keep_own_model=not strategy.aggregates and not strategy.ground_trains,
            threads=onboard.threads,
            image_size=scenario.imagery.codec.size,
            image_quality=scenario.imagery.codec.quality,
            storage_dir=str(Path(shards) / "onboard"),
            device=onboard.device,
        )
        stage("plan")
        learning = GroundLearning(
            settings=learn,
            data=data,
            norm=norm,
            num_classes=num_classes,
            teachers=teachers,
            initial_model=model_arrays(student),
            device=device,
            progress=progress,
        )
        yield Mission(
            config=config,
            scenario=scenario,
            data=data,
            num_classes=num_classes,
            learning=learning,
            teacher_report=teacher_report,
            plan=plan,
            setup=setup,
            hardware=hardware,
            inference_flops_per_image=inference_flops,
            stages=stages,
        )

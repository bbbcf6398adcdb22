"""The one place a scenario's config becomes what the mission runs.

`compile_scenario(config)` turns a validated config into a `Scenario`: the world (satellites,
stations, contacts, sunlight, link rates), each satellite's board and battery, the injected
faults, the crosslinks the federation uses, the strategy, the ground's aggregation rule, what
else the ground does and when, its learning (the students' recipe, the teachers, the
ground-only reference, the teachers' refresh), the mission's data and how it is split, the
imagery, what the satellites' computers are told, and the engine that runs it all. The assembly
wires the mission from it; `mission/`, `world/` and `ground/` read no config. Validation runs the
same builders (`build_satellites`, `build_stations`, `build_link_budgets`, `solar_peak_w`) on the
config, so a config that validates is one that compiles. Where a builder hands a lower layer a
config's values, it names the keys they come from (`simsat.config.keys.config_keys`): that
layer's errors name its own parameters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simsat.config.keys import config_keys
from simsat.config.schema import SimsatConfig
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised
from simsat.distill.teacher_cache import TeacherSpec
from simsat.errors import ConfigError
from simsat.federation.simulation import RaySettings
from simsat.hardware import HardwareRegistry, assign_fleet, default_registry
from simsat.hardware.profiles import HardwareProfile
from simsat.mission.aggregation import AggregatorSettings
from simsat.mission.faults import DeadSatellite, FaultSettings
from simsat.mission.imagery import ImageCodec, imagery_share, mean_encoded_bytes
from simsat.mission.isl import IslLink, IslPlan
from simsat.mission.plan import WorldPlan
from simsat.mission.state import ImageryPlan
from simsat.mission.strategies import Strategy, get_strategy
from simsat.world.antennas import check_policy
from simsat.world.contacts import ContactWindow, compute_contacts
from simsat.world.geometry_cache import cached_geometry
from simsat.world.isl import IslSpan, compute_isl, orbit_planes
from simsat.world.linkbudget import LinkBudget, link_preset
from simsat.world.links import LinkRates
from simsat.world.passrates import pass_rate_profile
from simsat.world.rates import RateProfile
from simsat.world.satellites import SatelliteGroup, Satellites
from simsat.world.solar import ATTITUDES, SolarInput, panel_peak_w
from simsat.world.stations import Station
from simsat.world.sun import Sunlight, sunlight_all
from simsat.world.timebase import Epoch
from simsat.world.tle import tle_satellites
from simsat.world.walker import walker_satellites

if TYPE_CHECKING:
    from simsat.data import MissionData

log = logging.getLogger(__name__)

RAY_ADDRESS_KEY = "ray.address"  # how a run's Ray that cannot start names the cluster's setting
LINK_MODELS = ("constant", "budget")
SUN_STEP_S = 30.0  # screening grid of the shadow intervals (edges are refined)


@dataclass(frozen=True)
class PowerSettings:
    """`satellite.power`: each satellite's battery, and the charge its trainings pause below."""

    capacity_wh: float
    initial_soc: float
    floor_soc: float  # below: training waits
    resume_soc: float  # training resumes once charged back to this
    baseline_w: float
    step_s: float
    safe_soc: float
    safe_exit_soc: float


@dataclass(frozen=True)
class GroundSettings:
    """What the ground does beside aggregating, and how often (simulated seconds)."""

    max_labels_per_contact: int  # 0: as many as the uplink allows
    refines: bool  # refine each aggregated student on the received imagery (strategies that aggregate)
    refine_images: int  # received images a refinement trains on at most (0: all)
    refine_interval_s: float
    refresh_s: tuple[float, ...]  # when the teachers learn from the received imagery (distill.refresh)
    ground_interval_s: float  # `ground` strategy: how often the ground retrains
    eval_interval_s: float  # a new global student is evaluated at most this often
    # the ground's computer (`ground.hardware`): its trainings take simulated time (None: none)
    hardware: HardwareProfile | None = None


@dataclass(frozen=True)
class RefreshSettings:
    """`distill.refresh`: the teachers continued on the received imagery (consistency term)."""

    epochs: int
    lr: float
    semi: SemiSupervised


@dataclass(frozen=True)
class LearningSettings:
    """The ground's torch work: the students' model and recipe, the soft labels, the ground-only
    reference, the teachers and their refresh."""

    model: str  # the students' architecture (satellite.model)
    seed: int
    recipe: TrainRecipe  # the students' training recipe (onboard, ground, refinement)
    reference: TrainRecipe  # the ground-only reference's (epochs 0: no reference)
    refine_epochs: int  # an aggregated student's refinement at the ground
    temperature: float
    weighting: str
    reference_teacher: bool  # the reference joins the teachers
    teachers: tuple[TeacherSpec, ...]
    refresh: RefreshSettings
    launch_from_reference: bool  # the mission starts from the reference (federation.initial_model)
    cache_dir: Path  # data.cache_dir: trained teachers and references are kept here


@dataclass(frozen=True)
class DataSettings:
    """`data`: where the mission's images come from, and how they are split between the ground
    (its labelled images), validation, test and the satellites."""

    source: str  # synthetic | eurosat
    seed: int
    n_images: int  # synthetic: how many
    image_size: int  # synthetic: their edge in pixels
    path: Path  # eurosat: the dataset's folder
    split_dir: Path | None  # eurosat: fixed train/validation/test splits (None: split here)
    cache_dir: Path  # eurosat: decoded pixels are kept here
    ground_fraction: float
    validation_fraction: float
    test_fraction: float
    partition: str  # iid | dirichlet
    alpha: float  # dirichlet's concentration

    def split(self) -> dict[str, Any]:
        """The split's keyword arguments, as the data loaders take them."""
        return {
            "ground_fraction": self.ground_fraction,
            "validation_fraction": self.validation_fraction,
            "test_fraction": self.test_fraction,
            "partition": self.partition,
            "alpha": self.alpha,
        }


@dataclass(frozen=True)
class ImagerySettings:
    """`imagery`: how the satellites encode, acquire and send down their images; `plan` resolves
    the shares that depend on the data and the contact plan."""

    codec: ImageCodec
    share: float  # of each window's downlink time
    capture_per_hour: float  # 0: every image held from the start
    fraction: float  # > 0: the share is derived so that about this fraction of the images comes down
    capture_hours: float  # > 0: the capture rate is derived so that the images held take this long
    bytes_per_image: int  # > 0: the link carries each image at this size (the product's)

    def plan(self, world: WorldPlan, data: MissionData, edge: int) -> ImageryPlan:
        """The imagery as the operations use it: `fraction` turned into a share of each window's
        downlink (from the contact plan's capacity), `capture_hours` into images per hour."""
        held = [len(s) for s in data.satellites]
        share, capture = self.share, self.capture_per_hour
        if self.fraction > 0:
            per_image = self.bytes_per_image or mean_encoded_bytes(self.codec, data.satellites[0].images)
            capacity = sum(world.bytes_available(w, "downlink", w.start_s, w.end_s) for w in world.contacts)
            share = imagery_share(self.fraction, sum(held), per_image, capacity)
            log.info(
                "imagery: %.4f of each window's downlink for %.0f%% of %d images at %.0f bytes (capacity %.3g bytes)",
                share,
                100 * self.fraction,
                sum(held),
                per_image,
                capacity,
            )
        if self.capture_hours > 0:
            capture = float(np.mean(held)) / self.capture_hours
        return ImageryPlan(share, capture, self.codec, edge)


@dataclass(frozen=True)
class OnboardSettings:
    """What the satellites' computers are told beside the students' recipe."""

    semi: SemiSupervised  # the semi-supervised term of their trainings (off unless they distil)
    threads: int  # torch threads of a training
    device: str  # "auto": the GPU share their Ray workers get (ray.client_gpus > 0), else "cpu"

    @property
    def semi_ratio(self) -> int:
        """Unlabelled images per labelled one in a training (0: no semi-supervised term)."""
        return self.semi.ratio if self.semi.active else 0


@dataclass(frozen=True)
class EngineSettings:
    """What runs the mission: Flower's Ray engine (`ray`) or, with `in_process`, the same
    ClientApp in this process, one training at a time; the ground's torch `device`."""

    in_process: bool
    ray: RaySettings
    device: str  # auto, cpu, cuda or cuda:N


@dataclass(frozen=True)
class Scenario:
    """A scenario compiled: everything the mission runs that the config decides, typed."""

    world: WorldPlan
    hardware: tuple[HardwareProfile, ...]  # each satellite's board
    faults: FaultSettings
    isl: IslPlan | None  # the crosslinks the federation uses (None: federation.isl_aggregation none)
    strategy: Strategy
    aggregation: str  # the ground's aggregation rule
    aggregator: AggregatorSettings
    ground: GroundSettings
    power: PowerSettings
    command_s: float  # simulated seconds a satellite's computer takes to answer a command
    learning: LearningSettings
    data: DataSettings
    imagery: ImagerySettings
    onboard: OnboardSettings
    engine: EngineSettings


def compile_scenario(config: SimsatConfig, cache_dir: Path | None = None) -> Scenario:
    """`config` (validated) compiled; with a `cache_dir`, a contact plan and sunlight already
    computed for the same world are read from it."""
    world = build_world(config, cache_dir)
    f, p = config.federation, config.satellite.power
    strategy = federation_strategy(config)
    boards = default_registry(config.hardware.files)
    return Scenario(
        world=world,
        hardware=tuple(satellite_hardware(config, len(world.satellites), boards)),
        faults=fault_settings(config),
        isl=isl_mission_plan(config, world),
        strategy=strategy,
        aggregation=f.aggregation,
        aggregator=aggregator_settings(config),
        ground=GroundSettings(
            max_labels_per_contact=f.max_labels_per_contact,
            refines=f.ground_refine_epochs > 0 and strategy.aggregates,
            refine_images=f.ground_refine_images,
            refine_interval_s=f.ground_refine_interval_hours * 3600.0,
            refresh_s=tuple(h * 3600.0 for h in config.distill.refresh.hours),
            ground_interval_s=f.ground_interval_hours * 3600.0,
            eval_interval_s=f.eval_interval_hours * 3600.0,
            hardware=ground_hardware(config, boards),
        ),
        power=PowerSettings(
            p.capacity_wh, p.initial_soc, p.floor_soc, p.resume_soc, p.baseline_w, p.step_s, p.safe_soc, p.safe_exit_soc
        ),
        command_s=config.mission.command_s,
        learning=learning_settings(config),
        data=data_settings(config),
        imagery=imagery_settings(config),
        onboard=onboard_settings(config, strategy),
        engine=engine_settings(config),
    )


def data_settings(config: SimsatConfig) -> DataSettings:
    """The mission's data and its split (see `DataSettings`)."""
    d = config.data
    return DataSettings(
        source=d.source,
        seed=config.seed,
        n_images=d.n_images,
        image_size=d.image_size,
        path=Path(d.path).expanduser(),
        split_dir=Path(d.split_dir).expanduser() if d.split_dir else None,
        cache_dir=Path(d.cache_dir) / "eurosat",
        ground_fraction=d.ground_fraction,
        validation_fraction=d.validation_fraction,
        test_fraction=d.test_fraction,
        partition=d.partition,
        alpha=d.alpha,
    )


def imagery_settings(config: SimsatConfig) -> ImagerySettings:
    """The `imagery` section (see `ImagerySettings`)."""
    im = config.imagery
    with config_keys("imagery", "size", "quality"):
        codec = ImageCodec(im.size, im.quality)
    return ImagerySettings(codec, im.share, im.capture_per_hour, im.fraction, im.capture_hours, im.bytes_per_image)


def onboard_settings(config: SimsatConfig, strategy: Strategy) -> OnboardSettings:
    """What the satellites' computers are told (see `OnboardSettings`)."""
    t = config.training
    semi = SemiSupervised(t.semi_weight, t.semi_threshold, t.semi_ratio)
    return OnboardSettings(
        semi=semi if strategy.onboard == "distill" else SemiSupervised(),
        threads=t.threads,
        device="auto" if config.ray.client_gpus > 0 else "cpu",
    )


def ray_settings(config: SimsatConfig) -> RaySettings:
    """The `ray` section: the Ray that Flower's engine runs on."""
    r = config.ray
    return RaySettings(r.address, r.num_cpus, r.client_cpus, r.object_store_mb, r.client_gpus)


def engine_settings(config: SimsatConfig) -> EngineSettings:
    """What runs the mission (`run.engine`, `ray`, `run.device`)."""
    return EngineSettings(config.run.engine == "in_process", ray_settings(config), config.run.device)


def student_recipe(config: SimsatConfig, epochs: int | None = None) -> TrainRecipe:
    """The one training recipe of the mission's students (onboard, ground, reference): the
    scenario's ``training`` section without its onboard keys; ``epochs`` replaces its epochs."""
    recipe = config.training.recipe()
    return recipe if epochs is None else replace(recipe, epochs=epochs)


def reference_recipe(config: SimsatConfig) -> TrainRecipe:
    """The ground-only reference's recipe: the students' with `reference.epochs` and, where set,
    its own peak lr `reference.lr` (a reference trained from scratch wants a larger lr than the
    students fine-tuned from it)."""
    recipe = student_recipe(config, config.reference.epochs)
    return replace(recipe, lr=config.reference.lr) if config.reference.lr > 0 else recipe


def teacher_specs(config: SimsatConfig) -> tuple[TeacherSpec, ...]:
    """The ground's teacher ensemble (`distill.teachers`)."""
    return tuple(
        TeacherSpec(t.name, t.input_size, t.epochs, t.lr, t.batch_size, t.checkpoint or None)
        for t in config.distill.teachers
    )


def learning_settings(config: SimsatConfig) -> LearningSettings:
    """What the ground's torch work reads (see `LearningSettings`)."""
    d, r = config.distill, config.distill.refresh
    return LearningSettings(
        model=config.satellite.model,
        seed=config.seed,
        recipe=student_recipe(config),
        reference=reference_recipe(config),
        refine_epochs=config.federation.ground_refine_epochs,
        temperature=d.temperature,
        weighting=d.weighting,
        reference_teacher=d.reference_teacher,
        teachers=teacher_specs(config),
        refresh=RefreshSettings(r.epochs, r.lr, SemiSupervised(r.weight, r.threshold, r.ratio)),
        launch_from_reference=config.federation.initial_model == "reference",
        cache_dir=Path(config.data.cache_dir),
    )


def federation_strategy(config: SimsatConfig) -> Strategy:
    """The strategy `federation.strategy` names."""
    with config_keys("federation", "strategy"):
        return get_strategy(config.federation.strategy)


def aggregator_settings(config: SimsatConfig) -> AggregatorSettings:
    """The `federation` keys every aggregation rule reads (each its own)."""
    f = config.federation
    with config_keys("federation", *(field.name for field in dataclasses.fields(AggregatorSettings))):
        return AggregatorSettings(
            f.round_size, f.deadline_hours, f.mixing, f.staleness_exponent, f.buffer_size, f.server_lr
        )


def build_epoch(config: SimsatConfig) -> Epoch:
    return Epoch.parse(config.mission.start_utc, "mission.start_utc")


def build_satellites(config: SimsatConfig, epoch: Epoch | None = None) -> Satellites:
    """The Walker shell (planes > 0), the TLE file's satellites, or both in that order."""
    at = epoch if epoch is not None else build_epoch(config)
    c = config.constellation
    parts: list[Satellites] = []
    if c.planes != 0:
        parts.append(
            walker_satellites(
                c.altitude_km,
                c.inclination_deg,
                c.planes,
                c.sats_per_plane,
                c.phasing,
                epoch=at,
                raan0_deg=None if c.ltan_hours is not None else c.raan0_deg,
                ltan_hours=c.ltan_hours,
                name=c.name,
                j2=c.j2,
                prefix="constellation",
            )
        )
    if c.tle:
        with config_keys("constellation", rename={"path": "tle"}):
            tle = tle_satellites(c.tle)
        tle.check_epochs(at, start_name="mission.start_utc")
        parts.append(tle)
    if not parts:
        raise ConfigError("constellation.planes is 0 and constellation.tle is empty: no satellites, got planes=0")
    return parts[0] if len(parts) == 1 else SatelliteGroup(parts)


def build_stations(config: SimsatConfig) -> list[Station]:
    if not config.ground_stations:
        raise ConfigError("ground_stations needs at least one station, got []")
    return [
        Station(
            name=g.name,
            latitude_deg=g.latitude_deg,
            longitude_deg=g.longitude_deg,
            altitude_km=g.altitude_km,
            min_elevation_deg=g.min_elevation_deg,
            antennas=g.antennas,
        )
        for g in config.ground_stations
    ]


def build_link_budgets(config: SimsatConfig) -> tuple[LinkBudget, LinkBudget] | None:
    """(uplink, downlink) budgets when link.model is budget, else None."""
    link = config.link
    if link.model not in LINK_MODELS:
        raise ConfigError(f"link.model must be one of {', '.join(LINK_MODELS)}, got {link.model!r}")
    budgets = (
        link_preset(link.uplink_budget, "link.uplink_budget"),
        link_preset(link.downlink_budget, "link.downlink_budget"),
    )
    return None if link.model == "constant" else budgets


def solar_peak_w(config: SimsatConfig) -> float:
    """Peak panel power: from panel area and efficiency when the area is set, else solar_w."""
    p = config.satellite.power
    if p.attitude not in ATTITUDES:
        raise ConfigError(f"satellite.power.attitude must be one of {', '.join(ATTITUDES)}, got {p.attitude!r}")
    if p.panel_area_m2 > 0:
        with config_keys("satellite.power", rename={"area_m2": "panel_area_m2", "efficiency": "panel_efficiency"}):
            return panel_peak_w(p.panel_area_m2, p.panel_efficiency)
    return float(p.solar_w)


def _geometry_key(config: SimsatConfig) -> dict[str, Any]:
    """Everything the contact plan and the sunlight depend on (a TLE file by its contents)."""
    constellation = dataclasses.asdict(config.constellation)
    if config.constellation.tle:
        constellation["tle"] = hashlib.sha256(Path(config.constellation.tle).expanduser().read_bytes()).hexdigest()
    return {
        "constellation": constellation,
        "stations": [dataclasses.asdict(g) for g in config.ground_stations],
        "start_utc": config.mission.start_utc,
        "duration_hours": config.mission.duration_hours,
        "contact_step_s": config.mission.contact_step_s,
        "sun_step_s": SUN_STEP_S,
    }


def build_world(config: SimsatConfig, cache_dir: Path | None = None) -> WorldPlan:
    """Satellites, stations, contact windows, sunlight and link rates for the whole mission.
    With a `cache_dir`, the contact plan and sunlight of a world already computed are read from
    it (see `simsat.world.geometry_cache`)."""
    epoch = build_epoch(config)
    satellites = build_satellites(config, epoch)
    stations = build_stations(config)
    duration_s = config.mission.duration_hours * 3600.0

    def geometry() -> tuple[list[ContactWindow], list[Sunlight]]:
        contacts = compute_contacts(satellites, stations, epoch, duration_s, step_s=config.mission.contact_step_s)
        return contacts, sunlight_all(satellites, epoch, duration_s, SUN_STEP_S)

    key = _geometry_key(config) if cache_dir is not None else {}
    contacts, sunlight, cached = cached_geometry(cache_dir, key, satellites, epoch, duration_s, SUN_STEP_S, geometry)
    if cached:
        log.info("contact plan and sunlight read from the cache (%s)", cache_dir)
    with config_keys("satellite.power", "attitude"):
        sunlit = [SolarInput(light, config.satellite.power.attitude) for light in sunlight]
    return WorldPlan(
        epoch=epoch,
        satellites=satellites,
        stations=stations,
        contacts=contacts,
        sunlit=sunlit,
        duration_s=duration_s,
        solar_peak_w=solar_peak_w(config),
        rates=link_rates(config),
        antenna_policy=check_policy(config.mission.antenna_policy, "mission.antenna_policy"),
        profiles=rate_profiles(config, satellites, stations, contacts, epoch),
    )


def link_rates(config: SimsatConfig) -> LinkRates:
    """The constant rates of the `link` section."""
    with config_keys("link", "uplink_bps", "downlink_bps"):
        return LinkRates(config.link.uplink_bps, config.link.downlink_bps)


def rate_profiles(
    config: SimsatConfig,
    satellites: Satellites,
    stations: list[Station],
    contacts: list[ContactWindow],
    epoch: Epoch,
) -> list[dict[str, RateProfile]]:
    """Each contact window's uplink and downlink rates along the pass when link.model is budget,
    else none (the constant rates hold)."""
    budgets = build_link_budgets(config)
    if budgets is None:
        return []
    with config_keys("link", rename={"step_s": "profile_step_s"}):
        return [
            {
                direction: pass_rate_profile(budget, satellites, w, stations, epoch, config.link.profile_step_s)
                for direction, budget in zip(("uplink", "downlink"), budgets, strict=True)
            }
            for w in contacts
        ]


def divergence_hint(lr: float, temperature: float, onboard: str) -> str:
    """The likely cause of a diverged onboard training, in config keys."""
    hint = f"likely cause: training.lr={lr:g} too high"
    if onboard == "distill":
        hint += f", or distill.temperature={temperature:g}"
    return hint


def fault_settings(config: SimsatConfig) -> FaultSettings:
    """FaultSettings from a validated config."""
    f = config.faults
    onboard = federation_strategy(config).onboard
    return FaultSettings(
        seed=config.seed,
        train_failure_rate=f.train_failure_rate,
        contact_loss_rate=f.contact_loss_rate,
        client_timeout_rate=f.client_timeout_rate,
        isl_loss_rate=f.isl_loss_rate,
        dead=tuple(DeadSatellite(d.satellite, d.at_hours * 3600.0) for d in f.dead_satellites),
        max_divergences=f.max_divergences,
        max_client_errors=f.max_client_errors,
        divergence_hint=divergence_hint(config.training.lr, config.distill.temperature, onboard),
        max_divergences_name="faults.max_divergences",
        dead_source="faults.dead_satellites",
    )


def isl_mission_plan(config: SimsatConfig, world: WorldPlan) -> IslPlan | None:
    """The crosslinks the federation uses (`federation.isl_aggregation` plane or gossip): the
    windows of the `isl` section over the mission, and the orbit planes. None for `none`."""
    mode, isl = config.federation.isl_aggregation, config.isl
    if mode == "none":
        return None
    spans = isl_spans(config, world)
    log.info("isl: %d link windows (%s pairs) for isl_aggregation=%s", len(spans), isl.pairs, mode)
    return IslPlan(
        mode=mode,
        windows=tuple(IslLink(w.a, w.b, w.start_s, w.end_s) for w in spans),
        planes=tuple(tuple(p) for p in orbit_planes(world.satellites, world.epoch)),
        rate_bps=isl.rate_bps,
        setup_s=isl.setup_s,
        power_w=isl.power_w,
        terminals=isl.terminals,
        relay_labels=isl.relay_labels,
    )


def isl_spans(config: SimsatConfig, world: WorldPlan) -> list[IslSpan]:
    """The windows of the `isl` section's links over the mission."""
    isl = config.isl
    with config_keys("isl", "max_range_km", "grazing_altitude_km", "pairs"):
        return compute_isl(
            world.satellites, world.epoch, world.duration_s, isl.max_range_km, isl.grazing_altitude_km, isl.pairs
        )


def satellite_hardware(
    config: SimsatConfig, num_satellites: int, registry: HardwareRegistry | None = None
) -> list[HardwareProfile]:
    """Each satellite's board: one name for all, a list by satellite, or shares of boards (looked
    up in `registry`, else in one made from `hardware.files`)."""
    registry = registry if registry is not None else default_registry(config.hardware.files)
    return assign_fleet(config.satellite.hardware, num_satellites, registry)


def ground_hardware(config: SimsatConfig, registry: HardwareRegistry) -> HardwareProfile | None:
    """The ground's computer (`ground.hardware`; None: its work takes no simulated time)."""
    name = config.ground.hardware
    return registry.get(name) if name else None

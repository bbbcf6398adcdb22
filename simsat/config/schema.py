"""Structured config schema: dataclasses that Hydra validates every scenario and override against.

Only plain values live here (numbers, strings, names). Names are resolved through simsat's own
registries (hardware profiles, weighting rules, timm model names); a config never names a Python
object to import or instantiate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from simsat.distill.recipe import TrainRecipe


@dataclass
class ConstellationConfig:
    """A Walker-delta shell (i:T/P/F) with J2 drift, satellites from a TLE file, or both.

    Plane 0 is placed by ``raan0_deg`` or, when set, by ``ltan_hours`` (local time of the
    ascending node at mission start). ``planes: 0`` leaves only the TLE satellites.
    """

    altitude_km: float = 550.0  # shell altitude above the equatorial radius
    inclination_deg: float = 97.6  # orbit inclination (97.6: sun-synchronous at 550 km)
    planes: int = 2  # orbital planes P (0: TLE satellites only)
    sats_per_plane: int = 2  # satellites per plane (T = planes * sats_per_plane)
    phasing: int = 1  # Walker phasing F
    raan0_deg: float = 0.0  # right ascension of plane 0 (unless ltan_hours is set)
    ltan_hours: Optional[float] = None  # local time of the ascending node of plane 0 at mission start
    j2: bool = True  # the Earth's oblateness drifts the planes (J2)
    name: str = "walker"  # prefix of the Walker satellites' names
    tle: str = ""  # path to a two- or three-line element file (SGP4)


@dataclass
class GroundStationConfig:
    """A station on the WGS-84 ellipsoid (geodetic latitude, height above the ellipsoid)."""

    name: str = "station"  # the name events, plots and the contact plan use
    latitude_deg: float = 49.6  # geodetic latitude, north positive
    longitude_deg: float = 6.1  # east positive
    altitude_km: float = 0.3  # height above the WGS-84 ellipsoid
    min_elevation_deg: float = 10.0  # elevation mask: a contact needs the satellite above it
    antennas: int = 1  # satellites the station serves at once


@dataclass
class LinkConfig:
    """Data rates per direction: constant (bits per second) or from a link budget along each pass."""

    model: str = "constant"  # "constant" | "budget"
    uplink_bps: float = 256_000.0  # ground to satellite (model=constant)
    downlink_bps: float = 2_000_000.0  # satellite to ground (model=constant)
    uplink_budget: str = "sband_uplink"  # a preset of simsat.world.linkbudget (model=budget)
    downlink_budget: str = "sband_downlink"  # a preset of simsat.world.linkbudget (model=budget)
    profile_step_s: float = 5.0  # step of the rate profile along a pass (model=budget)


@dataclass
class PowerConfig:
    capacity_wh: float = 40.0  # battery capacity
    initial_soc: float = 0.8  # state of charge at mission start (0 to 1)
    floor_soc: float = 0.3  # below: onboard training waits
    resume_soc: float = 0.4  # training resumes once charged back to this
    solar_w: float = 20.0  # peak solar power; used when panel_area_m2 is 0
    baseline_w: float = 4.0  # bus power drawn at all times
    step_s: float = 30.0  # integration step of the battery
    panel_area_m2: float = 0.0  # > 0: peak = area * efficiency * 1361 W/m2
    panel_efficiency: float = 0.28  # solar cell efficiency (panel_area_m2 > 0)
    attitude: str = "sun_pointing"  # "sun_pointing" | "nadir_zenith" | "nadir_body"
    safe_soc: float = 0.0  # at or below: safe mode (payload and training off)
    safe_exit_soc: float = 0.3  # safe mode ends once charged back to this


@dataclass
class IslConfig:
    """Inter-satellite links: which pairs may link (simsat.world.isl) and what a link carries.

    The defaults are an RF crosslink (simsat/configs/isl/rf_crosslink.yaml says where its numbers come
    from); `simsat contacts` writes the windows when enabled. The mission sends over them when
    `federation.isl_aggregation` is `plane` or `gossip` (simsat.mission.isl).
    """

    enabled: bool = False
    pairs: str = "neighbours"  # "neighbours" (ring in each plane) | "grid" (+ nearest in adjacent planes) | "all"
    max_range_km: float = 5000.0  # longest range a link closes at
    grazing_altitude_km: float = 80.0  # the line between two satellites must pass this high above the Earth
    rate_bps: float = 38_400.0  # constant rate of a link while it is up
    setup_s: float = 5.0  # acquisition time of a terminal before bytes flow
    power_w: float = 15.0  # drawn from the battery while a terminal is busy
    terminals: int = 2  # links a satellite holds at once
    # federation.isl_aggregation=plane with soft labels: a satellite at a station also takes up the
    # labels the ground holds for its plane-mates, and the ring relays them (false: each satellite
    # gets its labels only at its own passes)
    relay_labels: bool = True


@dataclass
class SatelliteConfig:
    # The board of each satellite: a profile name for all, a list of names (one per satellite),
    # or a mapping of names to shares summing to 1 ({jetson_nano_5w: 0.5, raspberry_pi4: 0.5}).
    # Typed Any because Hydra has no str|list|dict union; simsat.hardware.fleet checks the shape.
    hardware: Any = "jetson_nano_5w"
    model: str = "resnet8"  # the student every satellite trains (resnet8 | resnet16)
    power: PowerConfig = field(default_factory=PowerConfig)


@dataclass
class GroundConfig:
    """The ground's computer, where refinement and the `ground` strategy's training run (the
    stations themselves are `ground_stations`, which the config group `ground=...` sets)."""

    # A hardware profile name (like satellite.hardware): each ground training then takes its FLOPs
    # over the profile's rate in simulated time, one at a time, and a student it makes goes up only
    # once it is done. Empty: the ground's work takes no simulated time.
    hardware: str = ""


@dataclass
class HardwareConfig:
    """User hardware profiles: YAML/JSON files or folders of them, loaded before validation."""

    files: list[str] = field(default_factory=list)  # paths relative to the working directory


@dataclass
class DataConfig:
    source: str = "synthetic"  # "synthetic" | "eurosat"
    path: str = ""  # EuroSAT folder (source=eurosat)
    n_images: int = 4000  # synthetic dataset size
    image_size: int = 64  # synthetic: edge of the generated images in pixels (16-256)
    ground_fraction: float = 0.3  # share of the images whose labels the ground holds
    validation_fraction: float = 0.1  # share held out to choose checkpoints
    test_fraction: float = 0.15  # share held out to report accuracy
    partition: str = "dirichlet"  # "iid" | "dirichlet"
    alpha: float = 0.5  # Dirichlet concentration over the satellites (small: non-IID)
    cache_dir: str = ".simsat_cache"  # decoded images, trained teachers and their logits
    # EuroSAT only: a folder with train/validation/test.csv and label_map.json. When set, the ground
    # holds ground_fraction of the train split, the satellites the rest of it, and validation /
    # test are the split files' (validation_fraction and test_fraction are then not used).
    split_dir: str = ""


@dataclass
class TeacherConfig:
    name: str = "efficientvit_b0"  # a timm model name, or resnet8 / resnet16
    input_size: int = 64  # edge in pixels the teacher sees
    epochs: int = 2  # training at the ground on the ground's labels
    lr: float = 2e-3  # peak learning rate
    batch_size: int = 64  # images per batch
    checkpoint: str = ""  # a state_dict to load instead of training (empty: train)


@dataclass
class TeacherRefreshConfig:
    """The ground continues its teachers mid-mission: cross-entropy on its labels plus the
    FixMatch-style consistency term on the imagery it has received, then labels every received
    image again and re-sends the labels (a satellite keeps the newest label of an image)."""

    hours: list[float] = field(default_factory=list)  # simulated hours of each refresh (empty: none)
    epochs: int = 30  # passes over the ground's labelled images
    lr: float = 3e-3  # one-cycle peak lr
    weight: float = 1.0  # weight of the consistency term (0: labels alone)
    threshold: float = 0.95  # confidence a pseudo-label needs
    ratio: int = 7  # received images per labelled image in a batch


@dataclass
class DistillConfig:
    weighting: str = "paper"  # none | static | paper | entropy | maxprob (how teachers are weighted per image)
    temperature: float = 5.0  # softmax temperature of the soft labels
    teachers: list[TeacherConfig] = field(  # the ground's teacher ensemble
        default_factory=lambda: [
            TeacherConfig(name="efficientvit_b0"),
            TeacherConfig(name="mobilevit_xxs"),
        ]
    )
    # the ground-only reference (the student trained on the ground's labels) joins the teachers as
    # one more member (needs reference.epochs > 0)
    reference_teacher: bool = False
    refresh: TeacherRefreshConfig = field(default_factory=TeacherRefreshConfig)  # the reference is not refreshed


@dataclass
class TrainingConfig(TrainRecipe):
    """Student training: onboard after each delivery, at the ground (`ground` strategy) and for
    the ground-only reference. The recipe's keys (epochs, batch_size, lr, weight_decay, schedule,
    augment, channels_last; see simsat.distill.recipe) and the onboard settings below."""

    epochs: int = 2
    threads: int = 1  # torch threads of one onboard training (one per Ray worker)
    semi_weight: float = 0.0  # weight of the FixMatch-style term on images without soft labels (0: off)
    semi_threshold: float = 0.95  # confidence a pseudo-label needs
    semi_ratio: int = 2  # unlabelled images per image with a target in a batch


@dataclass
class FederationConfig:
    strategy: str = "fedkd"  # fedkd | ground | fedavg_labels | local
    aggregation: str = "fedasync"  # sync | fedasync | fedbuff
    round_size: int = 4  # sync: satellites per round (clipped to the constellation size)
    deadline_hours: float = 2.0  # sync: a round closes this long after it opened (with >= 1 update)
    mixing: float = 0.6  # fedasync: mixing weight of a fresh update
    staleness_exponent: float = 0.5  # fedasync: weight * (1 + staleness) ** -exponent
    buffer_size: int = 2  # fedbuff: updates per aggregation
    server_lr: float = 1.0  # fedbuff: server step on the mean staleness-weighted delta
    max_labels_per_contact: int = 0  # 0 = as many as the uplink window allows
    # strategies that aggregate (fedkd, fedavg_labels): epochs the ground trains each aggregated student
    # on its own labelled images plus the soft-labelled imagery it received, before it goes up (0: off;
    # other strategies ignore it)
    ground_refine_epochs: int = 0
    ground_refine_images: int = 0  # received images a refinement trains on at most (a seeded sample); 0: all
    # refine at most once per this many simulated hours (an aggregation sooner than that goes up as
    # aggregated); 0: every aggregation
    ground_refine_interval_hours: float = 0.0
    # the ground evaluates a new global student at most once per this many simulated hours (and the
    # last one at the end of the mission); 0: after every change
    eval_interval_hours: float = 0.0
    ground_interval_hours: float = 1.0  # `ground`: how often the ground retrains on new imagery
    # the student the satellites start from: `random` (a fresh initialisation) or `reference` (the
    # ground-only reference, trained at the ground on its labels before launch; needs reference.epochs > 0)
    initial_model: str = "random"
    # what satellites do over inter-satellite links (needs isl.enabled): `none` (nothing: every
    # update goes down on its own), `plane` (a plane combines its updates over the ring and the
    # satellite of the plane that meets a station next carries them down as one; the global student
    # and, with soft labels, the labels a satellite at a station takes up for its plane-mates spread
    # along the plane), `gossip` (neighbours average their models; no ground aggregation)
    isl_aggregation: str = "none"


@dataclass
class ImageryConfig:
    """What satellites send down of their images (JPEG) and when they acquire them."""

    share: float = 0.3  # of each window's downlink time spent on imagery
    capture_per_hour: float = 0.0  # images acquired per hour (0: all held from the start)
    size: int = 0  # edge in pixels an image is encoded at (0: native)
    quality: int = 90  # JPEG quality
    # > 0: imagery.share is derived from the contact plan so the downlink can carry about this
    # fraction of the satellites' images over the mission (leave imagery.share at its default then)
    fraction: float = 0.0
    # > 0: bytes one image occupies on the link (a real product's size, e.g. 106496 for the 13-band
    # 64x64 uint16 Sentinel-2 patch); the ground still decodes the JPEG it carries
    bytes_per_image: int = 0
    # > 0: satellites acquire their (mean) shard evenly over this many hours (instead of capture_per_hour)
    capture_hours: float = 0.0


@dataclass
class ReferenceConfig:
    """The ground-only reference: the student trained at the ground on the ground's labels."""

    epochs: int = 10  # 0: no reference
    lr: float = 0.0  # peak lr of its training (0: training.lr, the students' fine-tuning lr)


@dataclass
class MissionConfig:
    start_utc: str = "2025-03-20T00:00:00Z"  # ISO 8601 with a zone
    duration_hours: float = 12.0  # simulated hours
    contact_step_s: float = 120.0  # screening grid of the contact plan (edges are refined)
    antenna_policy: str = "first_come"  # "first_come" | "highest_elevation" | "longest_remaining"
    # simulated seconds a satellite's computer takes to answer a command in a contact (hand over its
    # update, encode imagery, store an uplink); meanwhile the other satellites go on, so commands to
    # different satellites are in flight together (0: answered at once, one at a time)
    command_s: float = 0.0


@dataclass
class RayConfig:
    address: str = ""  # empty: start a local Ray
    num_cpus: int = 2  # CPUs of the local Ray (ignored with an address)
    client_cpus: float = 1.0  # CPUs per Ray worker: num_cpus / client_cpus trainings run at once
    client_gpus: float = 0.0  # GPU share per Ray worker (> 0: onboard trainings run on the worker's GPU)
    object_store_mb: int = 256  # Ray's object store


@dataclass
class RunConfig:
    output_dir: str = "runs"  # where run folders go
    threads: int = 2  # torch threads of the main process (evaluation, ground-side training)
    progress: bool = True  # progress bars or log lines on stderr
    # "flower": ClientApps on Flower's Ray engine; "in_process": the same ClientApp here, one training at a time
    engine: str = "flower"
    # the ground's torch work (teachers, reference, refinement, labelling, refresh, evaluation):
    # auto (CUDA when torch sees one, else CPU), cpu, cuda or cuda:N
    device: str = "auto"


@dataclass
class SweepConfig:
    """`simsat sweep`: where sweep folders go and what each run reserves on Ray."""

    output_dir: str = "sweeps"  # where sweep folders go
    run_cpus: float = 0.0  # Ray CPUs each run reserves; 0: max(run.threads, training.threads)
    run_gpus: float = 0.0  # Ray GPUs each run reserves (a share: 0.5 puts two runs on one GPU)
    max_runs: int = 1000  # a grid of more runs is refused before anything is validated or run


@dataclass
class ResultsConfig:
    """Extra result files of a run (what it computes does not change: left out of config hashes)."""

    tensorboard: bool = False  # TensorBoard scalars under the run folder's tensorboard/ (extra `tracking`)


@dataclass
class DeadSatelliteConfig:
    satellite: int = 0  # index, 0 .. satellites - 1
    at_hours: float = 0.0  # simulated hours from the mission start at which it stops answering


@dataclass
class FaultsConfig:
    """Faults injected into the mission, drawn from the run seed (simsat.mission.faults); each is
    recorded (events.jsonl kind "fault", metrics.csv `faults`, summary.json `faults`) and the run
    goes on. Real ClientApp errors are handled the same way."""

    train_failure_rate: float = 0.0  # probability that a satellite's training raises
    contact_loss_rate: float = 0.0  # probability that a contact window is lost (nothing sent in it)
    client_timeout_rate: float = 0.0  # probability that a training's reply comes too late (update dropped)
    isl_loss_rate: float = 0.0  # probability that an inter-satellite link window is lost (nothing sent in it)
    # satellites that stop answering from a simulated time on, e.g. [{satellite: 1, at_hours: 6}]
    dead_satellites: list[DeadSatelliteConfig] = field(default_factory=list)
    max_divergences: int = 2  # trainings whose loss turned NaN/inf that are skipped; one more stops the run
    max_client_errors: int = 3  # failed replies (no training back in between) after which a satellite is dropped


@dataclass
class SimsatConfig:
    name: str = "custom"  # names the run folder
    description: str = ""  # one line shown by simsat scenarios
    seed: int = 0  # every random draw of the run (same seed: same results)
    mission: MissionConfig = field(default_factory=MissionConfig)
    constellation: ConstellationConfig = field(default_factory=ConstellationConfig)
    # one entry per station
    ground_stations: list[GroundStationConfig] = field(default_factory=lambda: [GroundStationConfig()])
    link: LinkConfig = field(default_factory=LinkConfig)
    isl: IslConfig = field(default_factory=IslConfig)
    satellite: SatelliteConfig = field(default_factory=SatelliteConfig)
    ground: GroundConfig = field(default_factory=GroundConfig)
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    data: DataConfig = field(default_factory=DataConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    imagery: ImageryConfig = field(default_factory=ImageryConfig)
    reference: ReferenceConfig = field(default_factory=ReferenceConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    run: RunConfig = field(default_factory=RunConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    results: ResultsConfig = field(default_factory=ResultsConfig)
    faults: FaultsConfig = field(default_factory=FaultsConfig)

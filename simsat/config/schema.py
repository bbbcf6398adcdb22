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

    altitude_km: float = 550.0
    inclination_deg: float = 97.6
    planes: int = 2
    sats_per_plane: int = 2
    phasing: int = 1
    raan0_deg: float = 0.0
    ltan_hours: Optional[float] = None
    j2: bool = True
    name: str = "walker"
    tle: str = ""  # path to a two- or three-line element file (SGP4)


@dataclass
class GroundStationConfig:
    """A station on the WGS-84 ellipsoid (geodetic latitude, height above the ellipsoid)."""

    name: str = "station"
    latitude_deg: float = 49.6
    longitude_deg: float = 6.1
    altitude_km: float = 0.3
    min_elevation_deg: float = 10.0
    antennas: int = 1


@dataclass
class LinkConfig:
    """Data rates per direction: constant (bits per second) or from a link budget along each pass."""

    model: str = "constant"  # "constant" | "budget"
    uplink_bps: float = 256_000.0
    downlink_bps: float = 2_000_000.0
    uplink_budget: str = "sband_uplink"  # a preset of simsat.world.linkbudget (model=budget)
    downlink_budget: str = "sband_downlink"
    profile_step_s: float = 5.0


@dataclass
class PowerConfig:
    capacity_wh: float = 40.0
    initial_soc: float = 0.8
    floor_soc: float = 0.3
    resume_soc: float = 0.4
    solar_w: float = 20.0  # peak solar power; used when panel_area_m2 is 0
    baseline_w: float = 4.0
    step_s: float = 30.0
    panel_area_m2: float = 0.0  # > 0: peak = area * efficiency * 1361 W/m2
    panel_efficiency: float = 0.28
    attitude: str = "sun_pointing"  # "sun_pointing" | "nadir_zenith" | "nadir_body"
    safe_soc: float = 0.0  # at or below: safe mode (payload and training off)
    safe_exit_soc: float = 0.3


@dataclass
class SatelliteConfig:
    # The board of each satellite: a profile name for all, a list of names (one per satellite),
    # or a mapping of names to shares summing to 1 ({jetson_nano_5w: 0.5, raspberry_pi4: 0.5}).
    # Typed Any because Hydra has no str|list|dict union; simsat.hardware.fleet checks the shape.
    hardware: Any = "jetson_nano_5w"
    model: str = "resnet8"
    power: PowerConfig = field(default_factory=PowerConfig)


@dataclass
class HardwareConfig:
    """User hardware profiles: YAML/JSON files or folders of them, loaded before validation."""

    files: list[str] = field(default_factory=list)


@dataclass
class DataConfig:
    source: str = "synthetic"  # "synthetic" | "eurosat"
    path: str = ""  # EuroSAT folder (source=eurosat)
    n_images: int = 4000  # synthetic dataset size
    image_size: int = 64  # synthetic: edge of the generated images in pixels (16-256)
    ground_fraction: float = 0.3
    validation_fraction: float = 0.1
    test_fraction: float = 0.15
    partition: str = "dirichlet"  # "iid" | "dirichlet"
    alpha: float = 0.5
    cache_dir: str = ".simsat_cache"
    # EuroSAT only: a folder with train/validation/test.csv and label_map.json. When set, the ground
    # holds ground_fraction of the train split, the satellites the rest of it, and validation /
    # test are the split files' (validation_fraction and test_fraction are then not used).
    split_dir: str = ""


@dataclass
class TeacherConfig:
    name: str = "efficientvit_b0"
    input_size: int = 64
    epochs: int = 2
    lr: float = 2e-3
    batch_size: int = 64
    checkpoint: str = ""


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
    weighting: str = "paper"
    temperature: float = 5.0
    teachers: list[TeacherConfig] = field(
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


@dataclass
class ImageryConfig:
    """What satellites send down of their images (JPEG) and when they acquire them."""

    share: float = 0.3  # of each window's downlink time spent on imagery
    capture_per_hour: float = 0.0  # images acquired per hour (0: all held from the start)
    size: int = 0  # edge in pixels an image is encoded at (0: native)
    quality: int = 90  # JPEG quality
    # > 0: imagery.share is derived from the contact plan so the downlink can carry about this
    # fraction of the satellites' images over the mission (overrides imagery.share)
    fraction: float = 0.0
    # > 0: bytes one image occupies on the link (a real product's size, e.g. 106496 for the 13-band
    # 64x64 uint16 Sentinel-2 patch); the ground still decodes the JPEG it carries
    bytes_per_image: int = 0
    capture_hours: float = 0.0  # > 0: satellites acquire their (mean) shard evenly over this many hours


@dataclass
class ReferenceConfig:
    """The ground-only reference: the student trained at the ground on the ground's labels."""

    epochs: int = 10  # 0: no reference
    lr: float = 0.0  # peak lr of its training (0: training.lr, the students' fine-tuning lr)


@dataclass
class MissionConfig:
    start_utc: str = "2025-03-20T00:00:00Z"  # ISO 8601 with a zone
    duration_hours: float = 12.0
    contact_step_s: float = 120.0  # screening grid of the contact plan (edges are refined)
    antenna_policy: str = "first_come"  # "first_come" | "highest_elevation" | "longest_remaining"
    # simulated seconds a satellite's computer takes to answer a command in a contact (hand over its
    # update, encode imagery, store an uplink); meanwhile the other satellites go on, so commands to
    # different satellites are in flight together (0: answered at once, one at a time)
    command_s: float = 0.0


@dataclass
class RayConfig:
    address: str = ""  # empty: start a local Ray
    num_cpus: int = 2
    client_cpus: float = 1.0  # CPUs per Ray worker: num_cpus / client_cpus trainings run at once
    object_store_mb: int = 256


@dataclass
class RunConfig:
    output_dir: str = "runs"
    threads: int = 2
    progress: bool = True
    # "flower": ClientApps on Flower's Ray engine; "in_process": the same ClientApp here, one training at a time
    engine: str = "flower"


@dataclass
class SweepConfig:
    """`simsat sweep`: where sweep folders go and what each run reserves on Ray."""

    output_dir: str = "sweeps"
    run_cpus: float = 0.0  # Ray CPUs each run reserves; 0: max(run.threads, training.threads)
    max_runs: int = 1000  # a grid of more runs is refused before anything is validated or run


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
    # satellites that stop answering from a simulated time on, e.g. [{satellite: 1, at_hours: 6}]
    dead_satellites: list[DeadSatelliteConfig] = field(default_factory=list)
    max_divergences: int = 2  # trainings whose loss turned NaN/inf that are skipped; one more stops the run
    max_client_errors: int = 3  # failed replies (no training back in between) after which a satellite is dropped


@dataclass
class SimsatConfig:
    name: str = "custom"
    description: str = ""
    seed: int = 0
    mission: MissionConfig = field(default_factory=MissionConfig)
    constellation: ConstellationConfig = field(default_factory=ConstellationConfig)
    ground_stations: list[GroundStationConfig] = field(default_factory=lambda: [GroundStationConfig()])
    link: LinkConfig = field(default_factory=LinkConfig)
    satellite: SatelliteConfig = field(default_factory=SatelliteConfig)
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
    faults: FaultsConfig = field(default_factory=FaultsConfig)

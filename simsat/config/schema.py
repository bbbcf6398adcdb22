"""Structured config schema: dataclasses that Hydra validates every scenario and override against.

Only plain values live here (numbers, strings, names). Names are resolved through simsat's own
registries (hardware profiles, weighting rules, timm model names); a config never names a Python
object to import or instantiate.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ConstellationConfig:
    """A Walker-delta constellation on circular orbits (i:T/P/F)."""

    altitude_km: float = 550.0
    inclination_deg: float = 97.6
    planes: int = 2
    sats_per_plane: int = 2
    phasing: int = 1


@dataclass
class GroundStationConfig:
    name: str = "station"
    latitude_deg: float = 49.6
    longitude_deg: float = 6.1
    altitude_km: float = 0.3
    min_elevation_deg: float = 10.0
    antennas: int = 1


@dataclass
class LinkConfig:
    """Constant data rates per direction, in bits per second."""

    uplink_bps: float = 256_000.0
    downlink_bps: float = 2_000_000.0


@dataclass
class PowerConfig:
    capacity_wh: float = 40.0
    initial_soc: float = 0.8
    floor_soc: float = 0.3
    resume_soc: float = 0.4
    solar_w: float = 20.0
    baseline_w: float = 4.0
    step_s: float = 30.0


@dataclass
class SatelliteConfig:
    hardware: str = "jetson_nano_5w"
    model: str = "resnet8"
    power: PowerConfig = field(default_factory=PowerConfig)


@dataclass
class DataConfig:
    source: str = "synthetic"  # "synthetic" | "eurosat"
    path: str = ""  # EuroSAT folder (source=eurosat)
    n_images: int = 4000  # synthetic dataset size
    ground_fraction: float = 0.3
    validation_fraction: float = 0.1
    test_fraction: float = 0.15
    partition: str = "dirichlet"  # "iid" | "dirichlet"
    alpha: float = 0.5
    cache_dir: str = ".simsat_cache"


@dataclass
class TeacherConfig:
    name: str = "efficientvit_b0"
    input_size: int = 64
    epochs: int = 2
    lr: float = 2e-3
    batch_size: int = 64
    checkpoint: str = ""


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


@dataclass
class TrainingConfig:
    """Onboard (student) training per delivered global model."""

    epochs: int = 2
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 5e-4


@dataclass
class FederationConfig:
    aggregation: str = "fedavg"
    buffer_size: int = 2  # updates collected before FedAvg aggregates them
    max_labels_per_contact: int = 0  # 0 = as many as the uplink window allows


@dataclass
class MissionConfig:
    duration_hours: float = 12.0
    day_of_year: int = 80
    contact_step_s: float = 10.0


@dataclass
class RayConfig:
    address: str = ""  # empty: start a local Ray
    num_cpus: int = 2
    client_cpus: float = 2.0
    object_store_mb: int = 256


@dataclass
class RunConfig:
    output_dir: str = "runs"
    threads: int = 2
    progress: bool = True


@dataclass
class SimsatConfig:
    name: str = "custom"
    description: str = ""
    seed: int = 0
    mission: MissionConfig = field(default_factory=MissionConfig)
    constellation: ConstellationConfig = field(default_factory=ConstellationConfig)
    ground_stations: list[GroundStationConfig] = field(
        default_factory=lambda: [GroundStationConfig()]
    )
    link: LinkConfig = field(default_factory=LinkConfig)
    satellite: SatelliteConfig = field(default_factory=SatelliteConfig)
    data: DataConfig = field(default_factory=DataConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    run: RunConfig = field(default_factory=RunConfig)

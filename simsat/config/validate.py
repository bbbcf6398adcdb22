"""Value checks on a composed config, run before anything expensive starts.

Checks that belong to a domain object (orbits, stations, links, hardware) are done by building
that object, so each rule lives in one place; the rest are checked here.
"""

from __future__ import annotations

from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError
from simsat.hardware.fleet import memory_shortfall
from simsat.hardware.profiles import BYTES_PER_MB, HardwareProfile

STUDENT_INPUT_SIZE = 64  # both data sources give 64x64 images


def _require(ok: bool, key: str, rule: str, value: object) -> None:
    if not ok:
        raise ConfigError(f"{key} {rule}, got {value!r}")


def _check_fraction(key: str, value: float) -> None:
    _require(0.0 < value < 1.0, key, "must be between 0 and 1", value)


def _check_fleet_memory(fleet: list[HardwareProfile], config: SimsatConfig) -> None:
    """Every satellite's board must hold the student's training footprint at the batch size."""
    from simsat.data import CLASS_NAMES
    from simsat.models.memory import training_memory

    model, batch = config.satellite.model, config.training.batch_size
    memory = training_memory(model, len(CLASS_NAMES), batch, STUDENT_INPUT_SIZE)
    short = memory_shortfall(fleet, memory.total)
    if short is not None:
        index, profile = short
        raise ConfigError(
            f"satellite.hardware: satellite {index} carries {profile.name!r} with {profile.memory_mb:g} MB of"
            f" memory, but training {model} at training.batch_size={batch} needs {memory.total / BYTES_PER_MB:.1f} MB"
            f" (weights, gradients and AdamW state {(memory.total - memory.activations) / BYTES_PER_MB:.1f},"
            f" activations {memory.activations / BYTES_PER_MB:.1f})"
        )


def validate_config(config: SimsatConfig) -> None:
    """Raise ConfigError naming the first invalid key; return None when the config is valid."""
    # Domain objects validate their own fields (imported here to keep config loading light).
    from simsat.distill.weighting import get_weighting
    from simsat.hardware.fleet import assign_fleet
    from simsat.hardware.registry import default_registry
    from simsat.mission.plan import build_epoch, build_link_budgets, build_satellites, build_stations, solar_peak_w
    from simsat.world.antennas import check_policy
    from simsat.world.links import LinkRates

    epoch = build_epoch(config)
    satellites = build_satellites(config, epoch)
    _require(len(config.ground_stations) >= 1, "ground_stations", "needs at least one station", [])
    build_stations(config)
    LinkRates(config.link.uplink_bps, config.link.downlink_bps)
    build_link_budgets(config)
    _require(config.link.profile_step_s > 0, "link.profile_step_s", "must be > 0", config.link.profile_step_s)
    check_policy(config.mission.antenna_policy)
    solar_peak_w(config)
    files = config.hardware.files
    _require(isinstance(files, list), "hardware.files", "must be a list of profile files or folders", files)
    fleet = assign_fleet(config.satellite.hardware, len(satellites), default_registry(files))

    p = config.satellite.power
    _require(p.capacity_wh > 0, "satellite.power.capacity_wh", "must be > 0", p.capacity_wh)
    _require(0 <= p.initial_soc <= 1, "satellite.power.initial_soc", "must be in [0, 1]", p.initial_soc)
    _require(0 <= p.floor_soc < 1, "satellite.power.floor_soc", "must be in [0, 1)", p.floor_soc)
    _require(
        p.floor_soc <= p.resume_soc <= 1,
        "satellite.power.resume_soc",
        "must be in [floor_soc, 1]",
        p.resume_soc,
    )
    _require(p.solar_w >= 0, "satellite.power.solar_w", "must be >= 0", p.solar_w)
    _require(p.baseline_w >= 0, "satellite.power.baseline_w", "must be >= 0", p.baseline_w)
    _require(p.step_s > 0, "satellite.power.step_s", "must be > 0", p.step_s)
    _require(0 <= p.safe_soc < 1, "satellite.power.safe_soc", "must be in [0, 1)", p.safe_soc)
    _require(p.safe_soc < p.safe_exit_soc <= 1, "satellite.power.safe_exit_soc", "must be in (safe_soc, 1]", p.safe_exit_soc)
    _require(0 < p.panel_efficiency <= 1, "satellite.power.panel_efficiency", "must be in (0, 1]", p.panel_efficiency)
    _require(p.panel_area_m2 >= 0, "satellite.power.panel_area_m2", "must be >= 0", p.panel_area_m2)
    _require(
        config.satellite.model in ("resnet8", "resnet16"),
        "satellite.model",
        "must be one of resnet8, resnet16",
        config.satellite.model,
    )

    d = config.data
    _require(d.source in ("synthetic", "eurosat"), "data.source", "must be synthetic or eurosat", d.source)
    if d.source == "eurosat":
        _require(bool(d.path), "data.path", "must name a EuroSAT folder when data.source=eurosat", d.path)
    _require(d.n_images >= 10, "data.n_images", "must be >= 10", d.n_images)
    for key in ("ground_fraction", "validation_fraction", "test_fraction"):
        _check_fraction(f"data.{key}", getattr(d, key))
    total = d.ground_fraction + d.validation_fraction + d.test_fraction
    _require(total < 1.0, "data fractions", "(ground + validation + test) must be < 1", round(total, 4))
    _require(d.partition in ("iid", "dirichlet"), "data.partition", "must be iid or dirichlet", d.partition)
    _require(d.alpha > 0, "data.alpha", "must be > 0", d.alpha)

    k = config.distill
    get_weighting(k.weighting)
    _require(k.temperature > 0, "distill.temperature", "must be > 0", k.temperature)
    _require(len(k.teachers) >= 1, "distill.teachers", "needs at least one teacher", [])
    for i, t in enumerate(k.teachers):
        _require(bool(t.name), f"distill.teachers[{i}].name", "must be a timm model name", t.name)
        _require(t.input_size >= 16, f"distill.teachers[{i}].input_size", "must be >= 16", t.input_size)
        _require(t.epochs >= 0, f"distill.teachers[{i}].epochs", "must be >= 0", t.epochs)
        _require(t.lr > 0, f"distill.teachers[{i}].lr", "must be > 0", t.lr)
        _require(t.batch_size >= 1, f"distill.teachers[{i}].batch_size", "must be >= 1", t.batch_size)
    if k.weighting == "paper":
        _require(len(k.teachers) == 2, "distill.teachers", "must hold 2 teachers for the paper rule", len(k.teachers))

    tr = config.training
    _require(tr.epochs >= 1, "training.epochs", "must be >= 1", tr.epochs)
    _require(tr.batch_size >= 1, "training.batch_size", "must be >= 1", tr.batch_size)
    _require(0 < tr.lr < 10, "training.lr", "must be in (0, 10)", tr.lr)
    _require(0 <= tr.weight_decay < 10, "training.weight_decay", "must be in [0, 10)", tr.weight_decay)
    _require(tr.threads >= 1, "training.threads", "must be >= 1", tr.threads)
    _require(0 <= tr.semi_weight < 100, "training.semi_weight", "must be in [0, 100)", tr.semi_weight)
    _require(0 < tr.semi_threshold <= 1, "training.semi_threshold", "must be in (0, 1]", tr.semi_threshold)
    _require(tr.semi_ratio >= 1, "training.semi_ratio", "must be >= 1", tr.semi_ratio)

    _check_fleet_memory(fleet, config)

    f = config.federation
    from simsat.mission.aggregation import AGGREGATORS, AggregatorSettings
    from simsat.mission.strategies import get_strategy

    get_strategy(f.strategy)
    known = ", ".join(sorted(AGGREGATORS))
    _require(f.aggregation in AGGREGATORS, "federation.aggregation", f"must be one of {known}", f.aggregation)
    AggregatorSettings(f.round_size, f.deadline_hours, f.mixing, f.staleness_exponent, f.buffer_size, f.server_lr)
    _require(f.max_labels_per_contact >= 0, "federation.max_labels_per_contact", "must be >= 0", f.max_labels_per_contact)
    _require(
        0 < f.ground_interval_hours <= 1e4, "federation.ground_interval_hours", "must be in (0, 1e4]", f.ground_interval_hours
    )
    im = config.imagery
    _require(0 <= im.share <= 1, "imagery.share", "must be in [0, 1]", im.share)
    _require(0 <= im.capture_per_hour < 1e7, "imagery.capture_per_hour", "must be >= 0", im.capture_per_hour)
    _require(im.size == 0 or 8 <= im.size <= 4096, "imagery.size", "must be 0 (native) or in [8, 4096]", im.size)
    _require(1 <= im.quality <= 95, "imagery.quality", "must be in [1, 95]", im.quality)
    _require(0 <= config.reference.epochs <= 1000, "reference.epochs", "must be in [0, 1000]", config.reference.epochs)

    m = config.mission
    _require(m.duration_hours > 0, "mission.duration_hours", "must be > 0", m.duration_hours)
    _require(m.contact_step_s > 0, "mission.contact_step_s", "must be > 0", m.contact_step_s)

    r = config.ray
    _require(r.num_cpus >= 1, "ray.num_cpus", "must be >= 1", r.num_cpus)
    _require(0 < r.client_cpus <= r.num_cpus, "ray.client_cpus", "must be in (0, ray.num_cpus]", r.client_cpus)
    _require(r.object_store_mb >= 78, "ray.object_store_mb", "must be >= 78 (Ray's minimum)", r.object_store_mb)
    _require(config.run.threads >= 1, "run.threads", "must be >= 1", config.run.threads)

"""The one validator of config values, for scenarios (`validate_config`) and experiments
(`validate_experiment`), run once per command before anything expensive starts.

Shared keys (teachers, optimiser, data, names, output) go through the same rules in
`simsat.config.sections`; every message names the key as a user writes it. Files and folders a
config names are checked separately (`simsat.config.inputs`), since checking them reads the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simsat.config import checks as c
from simsat.config import sections as s
from simsat.config.experiment import TEACHER_TARGETS, ExperimentConfig
from simsat.config.keys import config_keys
from simsat.config.schema import ImageryConfig, SimsatConfig
from simsat.config.sizes import (
    BATTERY_BYTES_PER_STEP,
    CONTACT_BYTES_PER_SAMPLE,
    Demand,
    check_demands,
    image_bytes,
)
from simsat.distill.device import DEVICE_CHOICES, resolve_device
from simsat.errors import ConfigError

if TYPE_CHECKING:
    from simsat.hardware.registry import HardwareRegistry

PARTITIONS = ("iid", "dirichlet")
MIN_SCENARIO_IMAGES = 10
MIN_EXPERIMENT_IMAGES = 30
STUDENT_INPUT_SIZE = 64  # both data sources give 64x64 images
MB = 1 << 20
MAX_SWEEP_RUNS = 1_000_000


@dataclass
class ValidationMemo:
    """What validating many configs in one command (a sweep's grid) may share instead of redoing:
    the hardware registry of each `hardware.files` list (built-ins, entry points, files read once)
    and the weighting checks that passed. One memo lives as long as one command; nothing global."""

    registries: dict[tuple[str, ...], HardwareRegistry] = field(default_factory=dict)
    weightings: set[tuple[str, int, float]] = field(default_factory=set)

    def registry(self, files: list[str]) -> HardwareRegistry:
        from simsat.hardware.registry import default_registry

        key = tuple(files)
        if key not in self.registries:
            self.registries[key] = default_registry(files)
        return self.registries[key]


def _check_constellation(config: SimsatConfig) -> int:
    """The Walker shell's and TLE file's keys; returns the Walker shell's satellite count."""
    k = config.constellation
    c.positive("constellation.altitude_km", k.altitude_km, high=100_000.0)
    c.number("constellation.inclination_deg", k.inclination_deg, low=0.0, high=180.0)
    c.number("constellation.raan0_deg", k.raan0_deg)
    if k.ltan_hours is not None:
        c.number("constellation.ltan_hours", k.ltan_hours, low=0.0, high=24.0, high_open=True)
    c.text("constellation.name", k.name, "a non-empty name")
    c.require(isinstance(k.tle, str), "constellation.tle", "must be a TLE file path or empty", k.tle)
    planes = c.integer("constellation.planes", k.planes, 0)
    if planes == 0:
        c.require(bool(k.tle), "constellation.planes", "is 0 and constellation.tle is empty: no satellites", planes)
        return 0
    per_plane = c.integer("constellation.sats_per_plane", k.sats_per_plane, 1)
    c.require(
        0 <= k.phasing < planes, "constellation.phasing", f"must be in [0, planes-1] = [0, {planes - 1}]", k.phasing
    )
    return planes * per_plane


def satellite_count(config: SimsatConfig) -> int:
    """Satellites of the Walker shell plus those of the TLE file (read here); config values valid."""
    from simsat.config.compile import build_epoch, build_satellites

    return len(build_satellites(config, build_epoch(config)))


def _check_stations(config: SimsatConfig) -> None:
    stations = config.ground_stations
    c.require(len(stations) >= 1, "ground_stations", "needs at least one station", [])
    names = [g.name for g in stations]
    for i, g in enumerate(stations):
        k = f"ground_stations.{i}."
        c.text(f"{k}name", g.name, "a non-empty name")
        c.number(f"{k}latitude_deg", g.latitude_deg, low=-90.0, high=90.0)
        c.number(f"{k}longitude_deg", g.longitude_deg, low=-180.0, high=360.0)
        c.number(f"{k}altitude_km", g.altitude_km, low=-0.5, high=10.0)
        c.number(f"{k}min_elevation_deg", g.min_elevation_deg, low=0.0, high=90.0, high_open=True)
        c.integer(f"{k}antennas", g.antennas, 1, 1000)
    c.require(len(set(names)) == len(names), "ground_stations", "must have distinct names", names)


INITIAL_MODELS = ("random", "reference")
ISL_AGGREGATIONS = ("none", "plane", "gossip")
ISL_STRATEGIES = ("fedkd", "fedavg_labels")  # the strategies whose satellites send updates to aggregate


def _check_federation_values(config: SimsatConfig) -> None:
    f = config.federation
    c.text("federation.strategy", f.strategy, "a strategy name")
    c.text("federation.aggregation", f.aggregation, "an aggregation rule name")
    c.integer("federation.round_size", f.round_size, 1)
    c.positive("federation.deadline_hours", f.deadline_hours, high=1e5)
    c.number("federation.mixing", f.mixing, low=0.0, low_open=True, high=1.0)
    c.non_negative("federation.staleness_exponent", f.staleness_exponent, high=100.0)
    c.integer("federation.buffer_size", f.buffer_size, 1)
    c.positive("federation.server_lr", f.server_lr, high=100.0)
    c.integer("federation.max_labels_per_contact", f.max_labels_per_contact, 0)
    c.positive("federation.ground_interval_hours", f.ground_interval_hours, high=1e4)
    c.integer("federation.ground_refine_epochs", f.ground_refine_epochs, 0, 1000)
    c.integer("federation.ground_refine_images", f.ground_refine_images, 0, 10_000_000)
    c.non_negative("federation.ground_refine_interval_hours", f.ground_refine_interval_hours, high=1e4)
    c.non_negative("federation.eval_interval_hours", f.eval_interval_hours, high=1e4)
    c.choice("federation.initial_model", f.initial_model, INITIAL_MODELS)
    c.choice("federation.isl_aggregation", f.isl_aggregation, ISL_AGGREGATIONS)
    c.require(
        f.isl_aggregation == "none" or config.isl.enabled,
        "federation.isl_aggregation",
        "needs isl.enabled=true (e.g. isl=rf_crosslink)",
        f.isl_aggregation,
    )
    c.require(
        f.isl_aggregation == "none" or f.strategy in ISL_STRATEGIES,
        "federation.isl_aggregation",
        f"works with federation.strategy {' or '.join(ISL_STRATEGIES)}, not {f.strategy}",
        f.isl_aggregation,
    )
    c.require(
        f.initial_model != "reference" or config.reference.epochs > 0,
        "federation.initial_model",
        "needs reference.epochs > 0 to start from the ground-only reference",
        f.initial_model,
    )


def _check_refresh(config: SimsatConfig) -> None:
    r = config.distill.refresh
    duration = float(config.mission.duration_hours)  # already checked
    previous = 0.0
    for i, hour in enumerate(r.hours):
        key = f"distill.refresh.hours[{i}]"
        c.number(key, hour, low=0.0, low_open=True, high=duration)
        c.require(float(hour) > previous, key, "must be later than the refresh before it", hour)
        previous = float(hour)
    c.integer("distill.refresh.epochs", r.epochs, 1, 1000)
    c.positive("distill.refresh.lr", r.lr, high=10.0)
    c.non_negative("distill.refresh.weight", r.weight, high=100.0)
    c.number("distill.refresh.threshold", r.threshold, low=0.0, low_open=True, high=1.0)
    c.integer("distill.refresh.ratio", r.ratio, 1, 1000)
    c.require(
        not r.hours or len(config.distill.teachers) > 0,
        "distill.refresh.hours",
        "needs distill.teachers (the reference teacher is not refreshed)",
        r.hours,
    )


def _check_federation_names(config: SimsatConfig) -> None:
    from simsat.config.compile import aggregator_settings, federation_strategy
    from simsat.mission.aggregation import AGGREGATORS

    f = config.federation
    strategy = federation_strategy(config)
    hours = config.distill.refresh.hours
    c.require(
        not hours or strategy.knowledge or strategy.ground_trains,
        "distill.refresh.hours",
        f"needs a strategy whose ground labels its imagery (fedkd, ground), not {f.strategy}",
        hours,
    )
    c.choice("federation.aggregation", f.aggregation, sorted(AGGREGATORS))
    aggregator_settings(config)  # the rules' own checks of their values


def _check_fleet(config: SimsatConfig, n_sats: int, memo: ValidationMemo) -> None:
    """Profile files load, every satellite gets a known board, and each board holds the student's
    training footprint (weights, gradients, AdamW state, activations) at the batch size."""
    from simsat.data import CLASS_NAMES
    from simsat.hardware.fleet import assign_fleet, memory_shortfall
    from simsat.hardware.profiles import BYTES_PER_MB
    from simsat.models.memory import training_memory

    files = config.hardware.files
    c.require(isinstance(files, list), "hardware.files", "must be a list of profile files or folders", files)
    for i, path in enumerate(files):
        c.text(f"hardware.files.{i}", path, "a profile file or folder")
    fleet = assign_fleet(config.satellite.hardware, n_sats, memo.registry(files))
    ground = config.ground.hardware
    c.require(isinstance(ground, str), "ground.hardware", "must be a hardware profile name, or empty", ground)
    if ground:
        try:
            memo.registry(files).get(ground)
        except ConfigError as exc:
            raise s.prefixed("ground.hardware", exc) from None
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


def _check_faults(config: SimsatConfig, n_sats: int) -> None:
    f = config.faults
    for key in ("train_failure_rate", "contact_loss_rate", "client_timeout_rate", "isl_loss_rate"):
        c.number(f"faults.{key}", getattr(f, key), low=0.0, high=1.0)
    c.integer("faults.max_divergences", f.max_divergences, 0, 1_000_000)
    c.integer("faults.max_client_errors", f.max_client_errors, 1, 1_000_000)
    dead = f.dead_satellites
    c.require(isinstance(dead, list), "faults.dead_satellites", "must be a list of {satellite, at_hours}", dead)
    hours = config.mission.duration_hours
    for i, d in enumerate(dead):
        key = f"faults.dead_satellites.{i}.satellite"
        c.integer(key, d.satellite, 0)
        c.require(d.satellite < n_sats, key, f"must be a satellite index below {n_sats} (the satellites)", d.satellite)
        c.number(f"faults.dead_satellites.{i}.at_hours", d.at_hours, low=0.0, high=hours)
    indices = [d.satellite for d in dead]
    c.require(len(set(indices)) == len(indices), "faults.dead_satellites", "names a satellite twice", indices)


def _check_contributions(config: SimsatConfig, n_sats: int) -> None:
    """Faults under which no satellite could ever contribute make a run that means nothing."""
    from simsat.config.compile import federation_strategy

    f = config.faults
    c.require(
        f.contact_loss_rate < 1.0, "faults.contact_loss_rate", "is 1: every contact is lost, nothing is ever sent",
        f.contact_loss_rate,
    )  # fmt: skip
    dead_at_start = {d.satellite for d in f.dead_satellites if d.at_hours == 0}
    c.require(
        len(dead_at_start) < n_sats,
        "faults.dead_satellites",
        f"has all {n_sats} satellites dead at hour 0: none can ever contribute",
        sorted(dead_at_start),
    )
    strategy = federation_strategy(config)
    if strategy.downlinks_updates:
        for key in ("train_failure_rate", "client_timeout_rate"):
            rate = getattr(f, key)
            what = "raises" if key == "train_failure_rate" else "comes back too late"
            c.require(
                rate < 1.0,
                f"faults.{key}",
                f"is 1: every training {what}, so no satellite can ever contribute (federation.strategy="
                f"{strategy.name} trains on the satellites)",
                rate,
            )


def _fault_warnings(config: SimsatConfig, n_sats: int) -> list[str]:
    from simsat.config.compile import federation_strategy

    f = config.faults
    warnings = []
    strategy = federation_strategy(config)
    counts = (1.0 - f.train_failure_rate) * (1.0 - f.client_timeout_rate)
    if strategy.downlinks_updates and counts < 0.1:
        warnings.append(
            f"faults.train_failure_rate={f.train_failure_rate:g} and faults.client_timeout_rate="
            f"{f.client_timeout_rate:g}: only {counts:.1%} of trainings come back, and a satellite is dropped after"
            f" faults.max_client_errors={f.max_client_errors} failures in a row"
        )
    if not strategy.downlinks_updates:
        idle = [k for k in ("train_failure_rate", "client_timeout_rate") if getattr(f, k) > 0]
        warnings += [
            f"faults.{k}={getattr(f, k):g} has no effect: federation.strategy={strategy.name} trains no satellite"
            for k in idle
        ]
    if f.contact_loss_rate >= 0.9:
        warnings.append(f"faults.contact_loss_rate={f.contact_loss_rate:g}: most contacts are lost")
    if f.isl_loss_rate > 0 and config.federation.isl_aggregation == "none":
        warnings.append(
            f"faults.isl_loss_rate={f.isl_loss_rate:g} has no effect: federation.isl_aggregation=none sends nothing"
            " over crosslinks"
        )
    dead = {d.satellite: float(d.at_hours) for d in f.dead_satellites}
    if len(dead) == n_sats and n_sats > 0:
        warnings.append(
            f"faults.dead_satellites: every satellite is dead by hour {max(dead.values()):g} of"
            f" mission.duration_hours={config.mission.duration_hours:g}; the mission stops then"
        )
    return warnings


def config_warnings(config: SimsatConfig) -> list[str]:
    """One line for each thing in a valid config that is allowed but likely not meant, each naming
    the keys that cause it (dates outside the years the models are checked for, faults that leave
    little of the run). The command line logs them once, before the work starts."""
    years = _mission_years(config)
    return ([] if years is None else [years]) + _fault_warnings(config, satellite_count(config))


def _mission_years(config: SimsatConfig) -> str | None:
    """ConfigError where the mission's dates leave the years the Sun's position formula holds
    for; a warning naming mission.start_utc where they leave the years it is checked for."""
    from simsat.world.timebase import check_mission_years, mission_span, parse_utc

    m = config.mission
    start, duration_s = parse_utc(m.start_utc, "mission.start_utc"), m.duration_hours * 3600.0
    try:
        mission_span(start, duration_s)
    except ConfigError:  # both keys are to blame
        raise ConfigError(
            f"mission.start_utc={start.isoformat()} plus mission.duration_hours={m.duration_hours:g}"
            " ends after the year 9999"
        ) from None
    with config_keys("mission", rename={"start": "start_utc"}):
        warning = check_mission_years(start, duration_s)
    return None if warning is None else f"mission.start_utc: {warning}"


def _check_power(config: SimsatConfig) -> None:
    p = config.satellite.power
    k = "satellite.power."
    c.positive(f"{k}capacity_wh", p.capacity_wh, high=1e6)
    c.number(f"{k}initial_soc", p.initial_soc, low=0.0, high=1.0)
    c.number(f"{k}floor_soc", p.floor_soc, low=0.0, high=1.0, high_open=True)
    c.number(f"{k}resume_soc", p.resume_soc, low=p.floor_soc, high=1.0)
    c.non_negative(f"{k}solar_w", p.solar_w, high=1e6)
    c.non_negative(f"{k}baseline_w", p.baseline_w, high=1e6)
    c.positive(f"{k}step_s", p.step_s, high=86_400.0)
    c.non_negative(f"{k}panel_area_m2", p.panel_area_m2, high=1e4)
    c.number(f"{k}panel_efficiency", p.panel_efficiency, low=0.0, low_open=True, high=1.0)
    c.text(f"{k}attitude", p.attitude, "an attitude name")
    c.number(f"{k}safe_soc", p.safe_soc, low=0.0, high=1.0, high_open=True)
    c.number(f"{k}safe_exit_soc", p.safe_exit_soc, low=p.safe_soc, low_open=True, high=1.0)


def _check_isl(config: SimsatConfig) -> None:
    from simsat.world.isl import PAIR_MODES

    i = config.isl
    c.require(isinstance(i.enabled, bool), "isl.enabled", "must be true or false", i.enabled)
    c.choice("isl.pairs", i.pairs, PAIR_MODES)
    c.positive("isl.max_range_km", i.max_range_km, high=500_000.0)
    c.non_negative("isl.grazing_altitude_km", i.grazing_altitude_km, high=10_000.0)
    c.positive("isl.rate_bps", i.rate_bps, high=1e12)
    c.non_negative("isl.setup_s", i.setup_s, high=3600.0)
    c.non_negative("isl.power_w", i.power_w, high=1e4)
    c.integer("isl.terminals", i.terminals, 1, 64)


def _scenario_demands(config: SimsatConfig, n_sats: int) -> list[Demand]:
    m, p = config.mission, config.satellite.power
    duration_s = m.duration_hours * 3600.0
    samples = duration_s / m.contact_step_s + 1
    steps = duration_s / p.step_s + 1
    k = config.constellation
    walker = f"constellation.planes={k.planes} x constellation.sats_per_plane={k.sats_per_plane}"
    sats = f"{n_sats} satellite(s) ({walker}{' and constellation.tle' if k.tle else ''})"
    demands = [
        Demand(
            f"mission.duration_hours={m.duration_hours:g} at mission.contact_step_s={m.contact_step_s:g} "
            f"({samples:.3g} time samples) for {sats}",
            samples * n_sats * CONTACT_BYTES_PER_SAMPLE,
        ),
        Demand(
            f"mission.duration_hours={m.duration_hours:g} at satellite.power.step_s={p.step_s:g} "
            f"({steps:.3g} battery steps) for {sats}",
            steps * n_sats * BATTERY_BYTES_PER_STEP,
        ),
        Demand(f"ray.object_store_mb={config.ray.object_store_mb}", float(config.ray.object_store_mb) * MB),
    ]
    if config.data.source == "synthetic":
        demands.append(
            Demand(
                f"data.n_images={config.data.n_images}",
                image_bytes(config.data.n_images, config.data.image_size),
            )
        )
    return demands


def check_satellite_images(config: SimsatConfig, n_sats: int, n_images: int, source: str) -> None:
    """Each satellite gets at least one image of what the ground, validation and test shares leave."""
    d = config.data
    left = int(n_images * (1.0 - d.ground_fraction - d.validation_fraction - d.test_fraction))
    if n_sats > left:
        raise ConfigError(
            f"the constellation has {n_sats} satellites (constellation.planes x constellation.sats_per_plane"
            f"{' + constellation.tle' if config.constellation.tle else ''}), but {source} leaves about {left} "
            "image(s) for the satellites after the data.*_fraction shares (at least one each)"
        )


def validate_config(config: SimsatConfig, memo: ValidationMemo | None = None) -> None:
    """Raise ConfigError naming the first invalid key of a scenario; None when it is valid.

    `memo` shares registries and passed checks between the configs of one command (a sweep).

    Plain values and the sizes they imply come first (no heavy imports: a typo is answered at
    once), then names looked up in registries (hardware, students, timm teachers, rules,
    strategies), then the world model's own checks.
    """
    from simsat.config.compile import (
        LINK_MODELS,
        build_epoch,
        build_link_budgets,
        build_satellites,
        build_stations,
        link_rates,
        solar_peak_w,
    )
    from simsat.world.antennas import check_policy

    memo = ValidationMemo() if memo is None else memo
    s.check_name("name", config.name)
    s.check_seed("seed", config.seed)
    m = config.mission
    c.positive("mission.duration_hours", m.duration_hours)
    c.positive("mission.contact_step_s", m.contact_step_s, high=3600.0)
    c.non_negative("mission.command_s", m.command_s, high=3600.0)
    c.text("mission.start_utc", m.start_utc, "an ISO 8601 UTC time like 2025-03-20T00:00:00Z")
    _mission_years(config)  # the warning: config_warnings
    c.text("mission.antenna_policy", m.antenna_policy, "an antenna policy name")
    n_walker = _check_constellation(config)
    _check_stations(config)
    link = config.link
    c.choice("link.model", link.model, LINK_MODELS)
    c.positive("link.uplink_bps", link.uplink_bps, high=1e12)
    c.positive("link.downlink_bps", link.downlink_bps, high=1e12)
    c.positive("link.profile_step_s", link.profile_step_s, high=3600.0)
    _check_power(config)
    _check_isl(config)

    d = config.data
    s.check_data_source("data.", d.source, d.path, d.cache_dir)
    if d.source == "synthetic":
        c.integer("data.n_images", d.n_images, MIN_SCENARIO_IMAGES)
        c.integer("data.image_size", d.image_size, 16, 256)
    s.check_fractions(
        "data.",
        {
            "ground_fraction": d.ground_fraction,
            "validation_fraction": d.validation_fraction,
            "test_fraction": d.test_fraction,
        },
    )
    c.choice("data.partition", d.partition, PARTITIONS)
    c.positive("data.alpha", d.alpha, high=1e6)

    k = config.distill
    s.check_temperature("distill.temperature", k.temperature)
    tr = config.training
    s.check_recipe("training.", tr)
    s.check_threads("training.threads", tr.threads, 1)
    c.non_negative("training.semi_weight", tr.semi_weight, high=100.0)
    c.number("training.semi_threshold", tr.semi_threshold, low=0.0, low_open=True, high=1.0)
    c.integer("training.semi_ratio", tr.semi_ratio, 1, 1000)
    _check_refresh(config)
    _check_federation_values(config)
    im = config.imagery
    c.number("imagery.share", im.share, low=0.0, high=1.0)
    c.non_negative("imagery.capture_per_hour", im.capture_per_hour, high=1e7)
    c.integer("imagery.size", im.size, 0, 4096)
    c.require(im.size == 0 or im.size >= 8, "imagery.size", "must be 0 (native) or in [8, 4096]", im.size)
    c.integer("imagery.quality", im.quality, 1, 95)
    c.number("imagery.fraction", im.fraction, low=0.0, high=1.0)
    c.integer("imagery.bytes_per_image", im.bytes_per_image, 0, 2**31 - 1)
    c.non_negative("imagery.capture_hours", im.capture_hours, high=1e6)
    # two ways to say one thing: imagery.fraction derives the share, capture_hours the capture rate
    default_share = ImageryConfig().share
    c.require(
        im.fraction == 0 or im.share == default_share,
        "imagery.share",
        f"cannot be set with imagery.fraction={im.fraction:g} (the fraction sets the share): set one",
        im.share,
    )
    c.require(
        im.capture_hours == 0 or im.capture_per_hour == 0,
        "imagery.capture_per_hour",
        f"cannot be set with imagery.capture_hours={im.capture_hours:g} (which sets the rate): set one",
        im.capture_per_hour,
    )
    c.require(isinstance(d.split_dir, str), "data.split_dir", "must be a folder or empty", d.split_dir)
    c.require(not d.split_dir or d.source == "eurosat", "data.split_dir", "needs data.source=eurosat", d.split_dir)
    c.integer("reference.epochs", config.reference.epochs, 0, 1000)
    c.non_negative("reference.lr", config.reference.lr, high=10.0)

    r = config.ray
    c.require(isinstance(r.address, str), "ray.address", "must be a Ray address or empty", r.address)
    c.integer("ray.num_cpus", r.num_cpus, 1, 4096)
    c.number("ray.client_cpus", r.client_cpus, low=0.0, low_open=True, high=float(r.num_cpus))
    c.integer("ray.object_store_mb", r.object_store_mb, 78)  # Ray's minimum
    s.check_output_key("run.output_dir", config.run.output_dir)
    s.check_threads("run.threads", config.run.threads, 1)
    c.choice("run.engine", config.run.engine, ("flower", "in_process"))
    c.require(isinstance(config.run.device, str), "run.device", f"must be one of {DEVICE_CHOICES}", config.run.device)
    resolve_device(config.run.device)  # `cuda` where torch sees none: refused here, before anything starts
    c.non_negative("ray.client_gpus", r.client_gpus, high=4096.0)
    s.check_output_key("sweep.output_dir", config.sweep.output_dir)
    c.non_negative("sweep.run_cpus", config.sweep.run_cpus, high=4096.0)
    c.non_negative("sweep.run_gpus", config.sweep.run_gpus, high=4096.0)
    if config.results.tensorboard:
        c.installed("tensorboard", "results.tensorboard=true", "tracking")
    c.integer("sweep.max_runs", config.sweep.max_runs, 1, MAX_SWEEP_RUNS)

    check_demands(_scenario_demands(config, n_walker))  # before the shell is built
    epoch = build_epoch(config)
    n_sats = len(build_satellites(config, epoch))  # reads constellation.tle
    if n_sats != n_walker:
        check_demands(_scenario_demands(config, n_sats))
    if d.source == "synthetic":
        check_satellite_images(config, n_sats, d.n_images, "data.n_images")
    _check_faults(config, n_sats)

    # names that must exist in their registries
    s.check_student("satellite.model", config.satellite.model)
    _check_fleet(config, n_sats, memo)
    _check_federation_names(config)
    _check_contributions(config, n_sats)
    s.check_teachers("distill.teachers", k.teachers, required=not k.reference_teacher)
    members = len(k.teachers) + int(k.reference_teacher)
    weighting = (k.weighting, members, float(k.temperature))
    if weighting not in memo.weightings:
        s.check_weighting("distill.weighting", k.weighting, members, k.temperature)
        memo.weightings.add(weighting)
    c.require(
        not k.reference_teacher or config.reference.epochs > 0,
        "distill.reference_teacher",
        "needs reference.epochs > 0 (the reference is the extra teacher)",
        k.reference_teacher,
    )

    check_policy(m.antenna_policy, "mission.antenna_policy")
    build_link_budgets(config)
    solar_peak_w(config)  # names the attitude

    # the world model's own checks, now that the sizes are known to fit
    build_stations(config)
    link_rates(config)


def validate_experiment(cfg: ExperimentConfig) -> None:
    """Raise ConfigError naming the first invalid key of an experiment; None when it is valid."""
    s.check_name("name", cfg.name)
    s.check_output_key("output_dir", cfg.output_dir)
    s.check_threads("threads", cfg.threads, 0)
    c.require(isinstance(cfg.device, str), "device", f"must be one of {DEVICE_CHOICES}", cfg.device)
    resolve_device(cfg.device, "device")
    s.check_seed("seed", cfg.seed)
    c.non_empty_unique("seeds", list(cfg.seeds))
    for seed in cfg.seeds:
        s.check_seed("seeds", seed)
    c.non_empty_unique("students", list(cfg.students))
    for name in cfg.students:
        s.check_student("students", name)
    c.non_empty_unique("rules", list(cfg.rules))
    s.check_temperature("temperature", cfg.temperature)
    c.choice("teacher_targets", cfg.teacher_targets, TEACHER_TARGETS)

    s.check_recipe("train.", cfg.train, min_batch=2)

    e = cfg.efficiency
    if e.enabled:
        s.check_hardware("efficiency.hardware", e.hardware)
        c.require(len(e.batch_sizes) >= 1, "efficiency.batch_sizes", "must not be empty", list(e.batch_sizes))
        for size in e.batch_sizes:
            c.integer("efficiency.batch_sizes", size, 1, 4096)
        c.integer("efficiency.repeats", e.repeats, 1, 100_000)
        c.integer("efficiency.warmup", e.warmup, 0, 100_000)

    d = cfg.data
    s.check_data_source("data.", d.source, d.path, d.cache_dir)
    c.integer("data.max_per_split", d.max_per_split, 0)
    s.check_fractions("data.", {"validation_fraction": d.validation_fraction, "test_fraction": d.test_fraction})
    c.require(isinstance(d.split_dir, str), "data.split_dir", "must be a folder or empty", d.split_dir)
    c.require(not d.split_dir or d.source == "eurosat", "data.split_dir", "needs data.source=eurosat", d.split_dir)
    if d.source == "synthetic":
        c.integer("data.n_images", d.n_images, MIN_EXPERIMENT_IMAGES)
        check_demands([Demand(f"data.n_images={d.n_images}", image_bytes(d.n_images))])

    distils = [rule for rule in cfg.rules if rule != "none"]
    s.check_teachers("teachers", cfg.teachers, required=bool(distils))
    for rule in cfg.rules:
        s.check_weighting("rules", rule, len(cfg.teachers), cfg.temperature)


__all__ = [
    "ValidationMemo",
    "check_satellite_images",
    "config_warnings",
    "satellite_count",
    "validate_config",
    "validate_experiment",
]

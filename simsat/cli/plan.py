"""`simsat run ... --dry-run`: the config validated and the mission's plan printed, nothing trained.

The plan: satellites and ground stations, the contact windows (how many, their total and mean
duration, per satellite), and the bytes the links can carry each way over all windows (the link's
rate, or its budget along each pass, over each whole window; antennas shared by overlapping passes
and command time take some of it). Then what the batteries allow: a few satellites spread over
the constellation are played through the mission with the mission's own battery and compute
processes, training back to back (`simsat.mission.outlook`), which gives the trainings on all of a
satellite's images the energy allows next to the trainings its contacts ask for (one per uplink).
Last, the time split it expects: each satellite's simulated hours in contact, training and eclipse,
and the wall time of the onboard trainings at this machine's measured speed. Only geometry,
sunlight and one short timing of the student are computed: no data, no teacher, no Ray.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from simsat.config.schema import SimsatConfig
from simsat.errors import SimsatError
from simsat.results.facts import duration, human_bytes

if TYPE_CHECKING:
    from simsat.world.satellites import Satellites
    from simsat.world.timebase import Epoch

SAMPLED_SATELLITES = 8
"""Satellites whose batteries are played through the mission (evenly spread over the fleet)."""


@dataclass(frozen=True)
class MissionPlan:
    satellites: int
    stations: int
    antennas: int
    hours: float
    windows: int
    window_seconds: float
    satellites_without_contact: int
    bytes_up: int
    bytes_down: int
    outlook: EnergyOutlook
    seconds: float  # what computing the plan took


@dataclass(frozen=True)
class EnergyOutlook:
    """Trainings and time per satellite, averaged over the sampled satellites."""

    sampled: int
    images: float  # images a satellite holds (what one training passes over, `epochs` times)
    training_s: float  # simulated seconds of one training on all of them
    trainings_energy: float  # trainings the battery keeps up, back to back
    trainings_energy_min: float  # the sampled satellite with the fewest
    trainings_contacts: float  # one per contact window (a training follows each uplink)
    busy_s: float  # seconds of training the battery keeps up, back to back
    eclipse_s: float
    wall_per_training_s: float  # CPU seconds on this machine, one core
    cores: int

    @property
    def trainings(self) -> float:
        """What the mission can expect: the fewer of the two limits."""
        return min(self.trainings_energy, self.trainings_contacts)


def mission_plan(config: SimsatConfig) -> MissionPlan:
    """The geometry of a validated scenario: satellites, stations, contact windows and link capacity
    (what the mission's world is built from, without its sunlight)."""
    from simsat.config.compile import build_epoch, build_link_budgets, build_satellites, build_stations
    from simsat.world.contacts import compute_contacts
    from simsat.world.links import bytes_in
    from simsat.world.passrates import pass_rate_profile

    start = time.perf_counter()
    epoch = build_epoch(config)
    satellites = build_satellites(config, epoch)
    stations = build_stations(config)
    duration_s = config.mission.duration_hours * 3600.0
    windows = compute_contacts(satellites, stations, epoch, duration_s, step_s=config.mission.contact_step_s)
    budgets = build_link_budgets(config)
    up = down = 0
    for w in windows:
        if budgets is None:
            up += bytes_in(w.duration_s, config.link.uplink_bps)
            down += bytes_in(w.duration_s, config.link.downlink_bps)
        else:
            uplink, downlink = (
                pass_rate_profile(b, satellites, w, stations, epoch, config.link.profile_step_s) for b in budgets
            )
            up += uplink.bytes_between(w.start_s, w.end_s)
            down += downlink.bytes_between(w.start_s, w.end_s)
    outlook = energy_outlook(config, satellites, epoch, duration_s, len(windows))
    return MissionPlan(
        satellites=len(satellites),
        stations=len(stations),
        antennas=sum(g.antennas for g in config.ground_stations),
        hours=duration_s / 3600.0,
        windows=len(windows),
        window_seconds=sum(w.duration_s for w in windows),
        satellites_without_contact=len(satellites) - len({w.satellite for w in windows}),
        bytes_up=up,
        bytes_down=down,
        outlook=outlook,
        seconds=time.perf_counter() - start,
    )


def satellite_images(config: SimsatConfig, num_satellites: int) -> float:
    """Images a satellite holds on average, from the data section (a folder's files counted)."""
    d = config.data
    onboard = 1.0 - d.ground_fraction
    if d.source == "synthetic":
        total = float(d.n_images)
        onboard -= d.validation_fraction + d.test_fraction
    elif d.split_dir:
        from pathlib import Path

        lines = (Path(d.split_dir).expanduser() / "train.csv").read_text(encoding="utf-8").splitlines()
        total = float(max(0, len(lines) - 1))
    else:
        from pathlib import Path

        from simsat.data.eurosat import relative_paths

        total = float(len(relative_paths(Path(d.path).expanduser())))
        onboard -= d.validation_fraction + d.test_fraction
    return total * max(0.0, onboard) / max(1, num_satellites)


def energy_outlook(
    config: SimsatConfig, satellites: Satellites, epoch: Epoch, duration_s: float, windows: int
) -> EnergyOutlook:
    """Trainings the batteries allow and the time split, from a few satellites' missions."""
    import os

    import numpy as np

    from simsat.config.compile import SUN_STEP_S, satellite_hardware, solar_peak_w
    from simsat.distill.train import torch_threads
    from simsat.mission.outlook import BatterySettings, battery_outlook
    from simsat.models.cost import count_flops, measure_latency, training_flops_per_image
    from simsat.models.registry import create_student
    from simsat.world.solar import SolarInput
    from simsat.world.sun import sunlight_all

    n = len(satellites)
    hardware = satellite_hardware(config, n)
    edge = 64 if config.data.source != "synthetic" else int(config.data.image_size)
    student = create_student(config.satellite.model, 10)
    train_flops = training_flops_per_image(student, edge)
    batch = 16
    with torch_threads(1):  # CPU seconds of one core, which other work on the machine does not inflate
        forward_s = measure_latency(student, edge, batch, 3, 2, channels_last=True, clock=time.thread_time)
    host_flops_per_s = count_flops(student, edge, batch=batch) / max(forward_s, 1e-9)
    try:
        images = satellite_images(config, n)
    except (OSError, SimsatError):
        images = 0.0
    epochs = config.training.epochs
    p = config.satellite.power
    settings = BatterySettings(
        p.capacity_wh,
        p.initial_soc,
        p.floor_soc,
        p.resume_soc,
        solar_peak_w(config),
        p.baseline_w,
        p.step_s,
        p.safe_soc,
        p.safe_exit_soc,
    )
    sample = sorted({int(i) for i in np.linspace(0, n - 1, min(n, SAMPLED_SATELLITES)).round()})
    sunlight = sunlight_all(satellites, epoch, duration_s, SUN_STEP_S, only=sample)
    energy: list[float] = []
    training_s: list[float] = []
    eclipse = 0.0
    busy = 0.0
    for i, light in zip(sample, sunlight, strict=True):
        board = hardware[i]
        seconds = board.compute_seconds(train_flops * images * epochs)
        seen = battery_outlook(settings, SolarInput(light, p.attitude), board.busy_w - board.idle_w, duration_s)
        energy.append(seen.busy_s / seconds if seconds > 0 else float("inf"))
        training_s.append(seconds)
        busy += seen.busy_s
        eclipse += duration_s - seen.sunlit_s
    return EnergyOutlook(
        sampled=len(sample),
        images=images,
        training_s=sum(training_s) / len(sample),
        trainings_energy=sum(energy) / len(sample),
        trainings_energy_min=min(energy),
        trainings_contacts=windows / n if n else 0.0,
        busy_s=busy / len(sample),
        eclipse_s=eclipse / len(sample),
        wall_per_training_s=train_flops * images * epochs / host_flops_per_s,
        cores=os.cpu_count() or 1,
    )


def plan_rows(config: SimsatConfig, plan: MissionPlan) -> list[list[str]]:
    per_sat = plan.windows / plan.satellites if plan.satellites else 0.0
    mean = plan.window_seconds / plan.windows if plan.windows else 0.0
    never = (
        f", {plan.satellites_without_contact} satellites never in contact" if plan.satellites_without_contact else ""
    )
    return [
        ["scenario", f"{config.name} (seed {config.seed})"],
        ["mission", f"{plan.hours:g} simulated hours from {config.mission.start_utc}"],
        ["satellites", f"{plan.satellites}"],
        ["ground stations", f"{plan.stations} ({plan.antennas} antennas)"],
        ["contact windows", f"{plan.windows} ({per_sat:.1f} per satellite{never})"],
        ["contact time", f"{duration(plan.window_seconds)} in all, {duration(mean)} per window on average"],
        ["bytes up can carry", f"{human_bytes(plan.bytes_up)} (ground to satellites, all windows)"],
        ["bytes down can carry", f"{human_bytes(plan.bytes_down)} (satellites to ground, all windows)"],
        *outlook_rows(config, plan),
        ["federation", f"{config.federation.strategy}, {config.federation.aggregation}"],
        ["planned in", f"{plan.seconds:.1f} s (nothing trained; run without --dry-run to play it)"],
    ]


def _count(x: float) -> str:
    return "unlimited" if x == float("inf") else f"{x:,.1f}"


def outlook_rows(config: SimsatConfig, plan: MissionPlan) -> list[list[str]]:
    o = plan.outlook
    mission_s = plan.hours * 3600.0
    contact_s = plan.window_seconds / plan.satellites if plan.satellites else 0.0
    training = o.trainings * o.training_s
    wall = o.trainings * plan.satellites * o.wall_per_training_s

    def share(s: float) -> str:
        return f"{duration(s)} ({100.0 * s / mission_s:.0f} %)" if mission_s else duration(s)

    each = f"a training: {config.training.epochs} epoch(s) on ~{o.images:.0f} images, {duration(o.training_s)} onboard"
    if o.busy_s >= 0.99 * mission_s:
        energy = f"no energy limit: training back to back all mission ({each})"
    else:
        energy = (
            f"{_count(o.trainings_energy)} per satellite (fewest {_count(o.trainings_energy_min)}):"
            f" {share(o.busy_s)} of training back to back ({each})"
        )
    limit = "its energy" if o.trainings_energy < o.trainings_contacts else "its contacts (one per uplink)"
    return [
        ["trainings the batteries allow", f"{energy}; {o.sampled} satellites played"],
        ["trainings expected", f"{o.trainings:.1f} per satellite, limited by {limit}"],
        [
            "time split expected",
            f"per satellite: contact {share(contact_s)}, training {share(training)}, eclipse {share(o.eclipse_s)}",
        ],
        [
            "onboard learning wall",
            f"~{duration(wall)} of CPU for {o.trainings * plan.satellites:.0f} trainings at this machine's"
            f" speed (~{duration(wall / o.cores)} on {o.cores} cores), plus teachers and ground work",
        ],
    ]


def print_plan(config: SimsatConfig, stream: TextIO) -> MissionPlan:
    from simsat.cli.tables import print_table

    plan = mission_plan(config)
    print_table(["plan", "value"], plan_rows(config, plan), stream)
    return plan

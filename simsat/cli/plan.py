"""`simsat run ... --dry-run`: the config validated and the mission's plan printed, nothing trained.

The plan: satellites and ground stations, the contact windows (how many, their total and mean
duration, per satellite), and the bytes the links can carry each way over all windows (the link's
rate, or its budget along each pass, over each whole window; antennas shared by overlapping passes
and command time take some of it). Only geometry is computed: no data, no model, no Ray.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TextIO

from simsat.config.schema import SimsatConfig
from simsat.results.facts import duration, human_bytes


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
    seconds: float  # what computing the plan took


def mission_plan(config: SimsatConfig) -> MissionPlan:
    """The geometry of a validated scenario: satellites, stations, contact windows and link capacity
    (what the mission's world is built from, without its sunlight)."""
    from simsat.mission.plan import build_epoch, build_link_budgets, build_satellites, build_stations
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
        seconds=time.perf_counter() - start,
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
        ["federation", f"{config.federation.strategy}, {config.federation.aggregation}"],
        ["planned in", f"{plan.seconds:.1f} s (nothing trained; run without --dry-run to play it)"],
    ]


def print_plan(config: SimsatConfig, stream: TextIO) -> MissionPlan:
    from simsat.cli.tables import print_table

    plan = mission_plan(config)
    print_table(["plan", "value"], plan_rows(config, plan), stream)
    return plan

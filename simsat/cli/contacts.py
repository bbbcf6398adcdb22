"""`simsat contacts`: a scenario's contact plan as CSV, a timeline PNG and a ground-track PNG.

Writes into ``<run.output_dir>/<scenario name>-contacts/``:

- ``contacts.csv``: satellite, station, start_utc, end_utc, duration_s, max_elevation_deg,
  mean_uplink_bps, mean_downlink_bps (the link budget's mean over the pass, or the constant rate);
- ``timeline.png``: passes (coloured by station) and eclipses (grey: umbra, light: penumbra)
  per satellite over the mission;
- ``ground_tracks.png``: ground tracks, stations and their visibility circles (matplotlib only);
- ``isl_contacts.csv`` when ``isl.enabled``: a, b, start_utc, end_utc, duration_s, min_range_km,
  max_range_km, one row per inter-satellite link window (``simsat.world.isl``).

Returns the CSV path, which the command prints last.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from simsat.config.compile import build_world, isl_spans
from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError
from simsat.interrupt import StopRequest, stop_on_signals
from simsat.mission.plan import WorldPlan
from simsat.results.atomic import staged_folder
from simsat.world.constants import DEG, EARTH_RADIUS_KM
from simsat.world.isl import IslSpan
from simsat.world.stations import Station

log = logging.getLogger("simsat.config")
CONTACTS_FILES = ("contacts.csv", "isl_contacts.csv", "timeline.png", "ground_tracks.png")
"""What `simsat contacts` writes into its folder."""
TIMELINE_MAX_SATELLITES = 40
TRACK_MAX_SATELLITES = 12
UMBRA, PENUMBRA = "#3a3a3a", "#b0b0b0"


def contacts_folder(config: SimsatConfig) -> Path:
    """Where `simsat contacts` writes: <run.output_dir>/<name>-contacts."""
    return Path(config.run.output_dir).expanduser() / f"{config.name}-contacts"


def write_contacts(config: SimsatConfig, out_dir: Path | None = None, stop: StopRequest | None = None) -> Path:
    """Compute the plan of ``config`` and write the CSV and both plots; returns the CSV path.

    The three files appear together or not at all (written into a temporary folder first); with
    `stop` given, a signal cannot break their publication off half-way."""
    world = build_world(config)
    spans = isl_spans(config, world) if config.isl.enabled else None
    folder = out_dir if out_dir is not None else contacts_folder(config)
    with staged_folder(folder, stop.deferred if stop is not None else None) as tmp:
        if spans is not None:
            write_isl_csv(world, spans, tmp / "isl_contacts.csv")
        write_csv(world, tmp / "contacts.csv")
        plot_timeline(world, tmp / "timeline.png")
        plot_ground_tracks(world, tmp / "ground_tracks.png")
    return folder / "contacts.csv"


def _mean_rates(world: WorldPlan, k: int) -> tuple[float, float]:
    if world.profiles:
        return world.profiles[k]["uplink"].mean_rate_bps(), world.profiles[k]["downlink"].mean_rate_bps()
    return world.rates.uplink_bps, world.rates.downlink_bps


def write_csv(world: WorldPlan, path: Path) -> None:
    names = world.satellites.names
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "satellite",
                "station",
                "start_utc",
                "end_utc",
                "duration_s",
                "max_elevation_deg",
                "mean_uplink_bps",
                "mean_downlink_bps",
            ]
        )
        for k, w in enumerate(world.contacts):
            up, down = _mean_rates(world, k)
            out.writerow(
                [
                    names[w.satellite],
                    world.stations[w.station].name,
                    world.epoch.at(w.start_s).isoformat(timespec="milliseconds"),
                    world.epoch.at(w.end_s).isoformat(timespec="milliseconds"),
                    f"{w.duration_s:.3f}",
                    f"{w.max_elevation_deg:.2f}",
                    f"{up:.0f}",
                    f"{down:.0f}",
                ]
            )


def write_isl_csv(world: WorldPlan, spans: Sequence[IslSpan], path: Path) -> None:
    names = world.satellites.names
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["a", "b", "start_utc", "end_utc", "duration_s", "min_range_km", "max_range_km"])
        for s in spans:
            out.writerow(
                [
                    names[s.a],
                    names[s.b],
                    world.epoch.at(s.start_s).isoformat(timespec="milliseconds"),
                    world.epoch.at(s.end_s).isoformat(timespec="milliseconds"),
                    f"{s.duration_s:.3f}",
                    f"{s.min_range_km:.3f}",
                    f"{s.max_range_km:.3f}",
                ]
            )


def _hours(world: WorldPlan, seconds: float) -> float:
    return seconds / 3600.0


def plot_timeline(world: WorldPlan, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    n = min(len(world.satellites), TIMELINE_MAX_SATELLITES)
    names = world.satellites.names[:n]
    tab20 = plt.get_cmap("tab20")
    palette = [tab20(k)[:3] for k in range(tab20.N) if k not in (14, 15)]  # no greys

    def colours(k: int) -> tuple[float, float, float]:
        return palette[(2 * k) % len(palette)] if k < len(palette) // 2 else palette[(2 * k + 1) % len(palette)]

    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.32 * n))
    for i in range(n):  # eclipses in the lower half of each row, contacts in the upper half
        light = world.sunlit[i].sunlight
        for a, b in light.shadows:
            ax.broken_barh([(_hours(world, a), _hours(world, b - a))], (i + 0.02, 0.33), color=PENUMBRA, lw=0)
        for a, b in light.umbras:
            ax.broken_barh([(_hours(world, a), _hours(world, b - a))], (i + 0.02, 0.33), color=UMBRA, lw=0)
    for w in world.contacts:
        if w.satellite < n:
            ax.broken_barh(
                [(_hours(world, w.start_s), _hours(world, w.duration_s))],
                (w.satellite - 0.4, 0.4),
                color=colours(w.station),
                lw=0,
            )
    ax.set_yticks(range(n), names, fontsize=7)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0.0, _hours(world, world.duration_s))
    ax.set_xlabel(f"hours after {world.epoch.utc:%Y-%m-%d %H:%M} UTC")
    shown = "" if n == len(world.satellites) else f" (first {n} of {len(world.satellites)} satellites)"
    ax.set_title(f"Contacts and eclipses{shown}")
    handles = [Patch(color=colours(j), label=s.name) for j, s in enumerate(world.stations[:18])]
    handles += [Patch(color=UMBRA, label="umbra"), Patch(color=PENUMBRA, label="penumbra")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def visibility_circle(station: Station, altitude_km: float, points: int = 181) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of the sub-satellite points where a satellite at ``altitude_km`` sits
    exactly on the station's mask (spherical Earth)."""
    mask = station.min_elevation_deg * DEG
    r = EARTH_RADIUS_KM + altitude_km
    psi = math.acos(EARTH_RADIUS_KM * math.cos(mask) / r) - mask
    lat0, lon0 = station.latitude_deg * DEG, station.longitude_deg * DEG
    bearing = np.linspace(0.0, 2.0 * math.pi, points)
    lat = np.arcsin(np.sin(lat0) * math.cos(psi) + np.cos(lat0) * math.sin(psi) * np.cos(bearing))
    lon = lon0 + np.arctan2(np.sin(bearing) * math.sin(psi) * np.cos(lat0), math.cos(psi) - np.sin(lat0) * np.sin(lat))
    return (np.degrees(lon) + 180.0) % 360.0 - 180.0, np.degrees(lat)


def _split_at_dateline(lon: np.ndarray, lat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return list(zip(np.split(lon, jumps), np.split(lat, jumps), strict=True))


def _median_altitude(world: WorldPlan) -> float:
    radius = world.satellites.ecef_grid(world.epoch, np.array([0.0]), np.arange(len(world.satellites)))[:, 0]
    return float(np.nanmedian(np.linalg.norm(radius, axis=-1))) - EARTH_RADIUS_KM


def plot_ground_tracks(world: WorldPlan, path: Path, track_hours: float = 3.0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(len(world.satellites), TRACK_MAX_SATELLITES)
    span = min(world.duration_s, track_hours * 3600.0)
    t = np.linspace(0.0, span, int(span / 20.0) + 1)
    p = world.satellites.ecef_grid(world.epoch, t, np.arange(n))
    lon = np.degrees(np.arctan2(p[..., 1], p[..., 0]))
    lat = np.degrees(np.arcsin(p[..., 2] / np.linalg.norm(p, axis=-1)))
    fig, ax = plt.subplots(figsize=(11, 5.8))
    colours = plt.get_cmap("tab20")
    for i in range(n):
        for x, y in _split_at_dateline(lon[i], lat[i]):
            ax.plot(x, y, color=colours(i % 20), lw=0.9, alpha=0.85)
        ax.plot(lon[i, 0], lat[i, 0], "o", color=colours(i % 20), ms=3)
    altitude = _median_altitude(world)
    for station in world.stations:
        cx, cy = visibility_circle(station, altitude)
        for x, y in _split_at_dateline(cx, cy):
            ax.plot(x, y, color="black", lw=1.0, ls="--")
        east = station.longitude_deg if station.longitude_deg <= 180 else station.longitude_deg - 360
        ax.plot(east, station.latitude_deg, "k^", ms=7)
        ax.annotate(
            station.name,
            (east, station.latitude_deg),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xticks(range(-180, 181, 30))
    ax.set_yticks(range(-90, 91, 30))
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("geocentric latitude (deg)")
    shown = "" if n == len(world.satellites) else f", first {n} of {len(world.satellites)} satellites"
    ax.set_title(
        f"Ground tracks for {span / 3600.0:.1f} h from {world.epoch.utc:%Y-%m-%d %H:%M} UTC{shown}; "
        f"dashed: where a satellite at {altitude:.0f} km clears each station's mask",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def check_contacts_output(config: SimsatConfig) -> None:
    """run.output_dir and the contacts folder in it can be written (checked before the plan)."""
    from simsat.config.inputs import check_output_dir

    check_output_dir("run.output_dir", config.run.output_dir)
    folder = contacts_folder(config)
    check_output_dir("run.output_dir", str(folder))
    for name in CONTACTS_FILES:
        target = folder / name
        if target.exists() and not target.is_file():
            raise ConfigError(f"run.output_dir: {target} is in the way (not a file simsat contacts can replace)")


def contacts_command(scenario: str, overrides: Sequence[str]) -> Path:
    """Load and validate the scenario and check where it goes (nothing is written on bad input),
    then write the plan; SIGINT/SIGTERM stop it (Interrupted) with nothing written."""
    from simsat.config.load import load_config
    from simsat.config.validate import config_warnings

    config = load_config(scenario, overrides)
    check_contacts_output(config)
    for line in config_warnings(config):
        log.warning("%s", line)
    with stop_on_signals(StopRequest()) as stop:
        return write_contacts(config, stop=stop)

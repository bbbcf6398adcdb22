"""How fast is a contact plan? 1,000 satellites x 10 stations x 1 day, against skyfield.

Times, on one thread, the plan for a 1,000-satellite Walker shell (J2, closed form) and for the
same shell written out as 1,000 TLEs (SGP4), both over 10 stations for one day; measures the
peak memory of the plan; then runs skyfield's ``find_events`` (the reference) on a subset of
satellite-station pairs of the TLE set in the same run, checks that our rise/set times agree
with it, and extrapolates its time to the whole plan. Writes bench/results/contact_plan.json.

    python bench/contact_plan.py             # about a minute on 2 cores
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, as the goal states

# numpy (also under simsat.world) reads the thread counts above when it loads, so these follow them
import numpy as np  # noqa: E402

from simsat.world import Station, compute_contacts, walker_satellites  # noqa: E402
from simsat.world.timebase import Epoch  # noqa: E402
from simsat.world.tle import TleSatellites, format_tle  # noqa: E402
from simsat.world.walker import WalkerSatellites  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "contact_plan.json"
START = datetime(2025, 3, 20, tzinfo=timezone.utc)
DAY = 86400.0
STATIONS = [
    Station("svalbard", 78.23, 15.39, 0.5, 5.0),
    Station("troll", -72.01, 2.53, 1.3, 5.0),
    Station("kiruna", 67.86, 20.96, 0.4, 5.0),
    Station("fairbanks", 64.86, -147.85, 0.2, 5.0),
    Station("redu", 50.00, 5.15, 0.38, 10.0),
    Station("matera", 40.65, 16.70, 0.54, 10.0),
    Station("hartebeesthoek", -25.89, 27.69, 1.54, 10.0),
    Station("santiago", -33.15, -70.67, 0.73, 10.0),
    Station("singapore", 1.35, 103.82, 0.02, 10.0),
    Station("hawaii", 19.01, -155.66, 0.37, 10.0),
]


def walker_shell() -> WalkerSatellites:
    return walker_satellites(550.0, 53.0, 40, 25, 1, epoch=START, name="shell")


def as_tles(shell: WalkerSatellites) -> tuple[TleSatellites, list[tuple[str, str]]]:
    """The shell's mean elements as TLEs at the start epoch (circular: perigee 0, anomaly = u)."""
    lines = []
    for k in range(len(shell)):
        period = 2.0 * math.pi / float(shell.u_rate[k])
        lines.append(
            format_tle(
                10000 + k,
                START,
                math.degrees(float(shell.inc[k])),
                math.degrees(float(shell.raan0[k])),
                0.0001,
                0.0,
                math.degrees(float(shell.u0[k])),
                DAY / period,
            )
        )
    names = shell.names
    return TleSatellites([(names[k], l1, l2) for k, (l1, l2) in enumerate(lines)], "bench"), lines


def timed(fn, repeats: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return {
        "wall_s_best": round(min(walls), 3),
        "wall_s_median": round(statistics.median(walls), 3),
        "cpu_s_best": round(min(cpus), 3),
        "repeats": repeats,
        "result": result,
    }


def peak_memory(fn) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "traced_peak_mb": round(peak / 2**20, 1),
        "rss_high_water_mb": round(rss_after, 1),
        "rss_high_water_before_mb": round(rss_before, 1),
    }


def skyfield_subset(lines: list[tuple[str, str]], names: list[str], picks: list[int]) -> dict[str, object]:
    """find_events for every (picked satellite, station) pair; returns timing and the events."""
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    t0, t1 = ts.from_datetime(START), ts.from_datetime(START + timedelta(seconds=DAY))
    sats = [EarthSatellite(*lines[k], names[k], ts) for k in picks]
    tops = [wgs84.latlon(s.latitude_deg, s.longitude_deg, s.altitude_km * 1000.0) for s in STATIONS]
    events: dict[tuple[int, int], tuple[list[datetime], list[datetime]]] = {}
    w0, c0 = time.perf_counter(), time.process_time()
    for k, sat in zip(picks, sats, strict=True):
        for j, (station, topo) in enumerate(zip(STATIONS, tops, strict=True)):
            t, ev = sat.find_events(topo, t0, t1, altitude_degrees=station.min_elevation_deg)
            events[(k, j)] = (
                [x.utc_datetime() for x, e in zip(t, ev, strict=True) if e == 0],
                [x.utc_datetime() for x, e in zip(t, ev, strict=True) if e == 2],
            )
    pairs = len(picks) * len(STATIONS)
    return {"pairs": pairs, "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0, "events": events}


def agreement(windows, events, picks: list[int]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    epoch = Epoch(START)
    worst, matched, count_mismatch = 0.0, 0, 0
    for (k, j), (rises, sets) in events.items():
        ours = [w for w in windows if w.satellite == k and w.station == j]
        our_rises = [epoch.at(w.start_s) for w in ours if w.start_s > 0.0]
        our_sets = [epoch.at(w.end_s) for w in ours if w.end_s < DAY]
        if len(our_rises) != len(rises) or len(our_sets) != len(sets):
            count_mismatch += 1
            continue
        for a, b in zip(our_rises + our_sets, rises + sets, strict=True):
            worst = max(worst, abs((a - b).total_seconds()))
            matched += 1
    return {
        "edges_compared": matched,
        "pairs_with_different_counts": count_mismatch,
        "max_edge_difference_s": round(worst, 4),
    }


def versions() -> dict[str, str]:
    import sgp4
    import skyfield
    from sgp4.api import accelerated

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sgp4": sgp4.__version__,
        "sgp4_accelerated": str(bool(accelerated)),
        "skyfield": skyfield.__version__,
        "simsat_commit": commit,
    }


def machine() -> dict[str, object]:
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {"platform": platform.platform(), "cpu": model, "cores": os.cpu_count(), "threads_used": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=int, default=10, help="satellites given to skyfield (x 10 stations)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    load_before = os.getloadavg()

    shell = walker_shell()
    tles, lines = as_tles(shell)
    epoch = Epoch(START)
    walker = timed(lambda: compute_contacts(shell, STATIONS, epoch, DAY), args.repeats)
    sgp4_plan = timed(lambda: compute_contacts(tles, STATIONS, epoch, DAY), args.repeats)
    memory = {
        "walker": peak_memory(lambda: compute_contacts(shell, STATIONS, epoch, DAY)),
        "sgp4": peak_memory(lambda: compute_contacts(tles, STATIONS, epoch, DAY)),
    }

    picks = [int(k) for k in np.linspace(0, len(tles) - 1, args.subset).round()]
    sky = skyfield_subset(lines, tles.names, picks)
    subset_sats = TleSatellites([(tles.names[k], *lines[k]) for k in picks], "bench-subset")
    ours_subset = timed(lambda: compute_contacts(subset_sats, STATIONS, epoch, DAY), args.repeats)
    windows = sgp4_plan["result"]
    per_pair_ms = 1000.0 * float(sky["cpu_s"]) / int(sky["pairs"])
    whole_pairs = len(tles) * len(STATIONS)
    sky_whole_cpu = per_pair_ms / 1000.0 * whole_pairs
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "versions": versions(),
        "plan": {
            "satellites": len(tles),
            "stations": len(STATIONS),
            "duration_s": DAY,
            "start_utc": START.isoformat(),
            "grid_step_s": 120.0,
        },
        "ours_walker_j2": {**{k: v for k, v in walker.items() if k != "result"}, "windows": len(walker["result"])},
        "ours_sgp4": {**{k: v for k, v in sgp4_plan.items() if k != "result"}, "windows": len(windows)},
        "ours_sgp4_subset": {**{k: v for k, v in ours_subset.items() if k != "result"}, "pairs": sky["pairs"]},
        "peak_memory": memory,
        "skyfield_find_events_subset": {
            "pairs": sky["pairs"],
            "wall_s": round(float(sky["wall_s"]), 3),
            "cpu_s": round(float(sky["cpu_s"]), 3),
            "cpu_ms_per_pair": round(per_pair_ms, 3),
            "extrapolated_cpu_s_whole_plan": round(sky_whole_cpu, 1),
        },
        "accuracy_vs_skyfield": agreement(windows, sky["events"], picks),
        "speedup_cpu_vs_skyfield_whole_plan": {
            "sgp4": round(sky_whole_cpu / float(sgp4_plan["cpu_s_best"]), 1),
            "walker_j2": round(sky_whole_cpu / float(walker["cpu_s_best"]), 1),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: results[k]
                for k in (
                    "ours_walker_j2",
                    "ours_sgp4",
                    "peak_memory",
                    "skyfield_find_events_subset",
                    "accuracy_vs_skyfield",
                    "speedup_cpu_vs_skyfield_whole_plan",
                )
            },
            indent=2,
        )
    )
    print(args.out)


if __name__ == "__main__":
    main()

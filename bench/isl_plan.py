"""How fast is an inter-satellite link plan? The 1,000-satellite Walker shell, a grid of links, one day.

Times ``isl_plan`` (pairs="grid", the optical preset's 8,000 km range) on the shell of
simsat/configs/constellation/walker_1000.yaml (53:1000/40/1 at 550 km) for one day, on one thread, and
the same shell written out as 1,000 TLEs (SGP4); measures the peak traced memory of each plan and
of shells of 250 and 4,000 satellites (memory is held per chunk of pairs, so it should not grow
with the satellites beyond the plan itself). Writes bench/results/isl_plan.json.

    nice -n 15 python bench/isl_plan.py      # about half a minute on 2 cores
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from contact_plan import timed  # noqa: E402  # the same best-of-N timer as the contact-plan bench
from simsat.world import isl_plan, walker_satellites  # noqa: E402
from simsat.world.isl import DEFAULT_STEP_S, EDGE_TOLERANCE_S  # noqa: E402
from simsat.world.tle import TleSatellites, format_tle  # noqa: E402
from simsat.world.walker import WalkerSatellites  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "isl_plan.json"
START = datetime(2025, 3, 20, tzinfo=timezone.utc)
DAY = 86400.0


def shell(planes: int | None = None) -> WalkerSatellites:
    """The walker_1000 config's shell (or the same shell with another number of planes)."""
    k = yaml.safe_load((ROOT / "simsat" / "configs" / "constellation" / "walker_1000.yaml").read_text())
    return walker_satellites(
        k["altitude_km"],
        k["inclination_deg"],
        planes or k["planes"],
        k["sats_per_plane"],
        k["phasing"],
        epoch=START,
        name="shell",
    )


def as_tles(walker: WalkerSatellites) -> TleSatellites:
    """The shell's mean elements as TLEs at the start (circular: perigee 0, anomaly = u)."""
    sets = []
    for k, name in enumerate(walker.names):
        l1, l2 = format_tle(
            10000 + k,
            START,
            math.degrees(float(walker.inc[k])),
            math.degrees(float(walker.raan0[k])),
            0.0001,
            0.0,
            math.degrees(float(walker.u0[k])),
            DAY * float(walker.u_rate[k]) / (2.0 * math.pi),
        )
        sets.append((name, l1, l2))
    return TleSatellites(sets, "bench")


def traced_peak_mb(fn: Any) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return round(peak / 2**20, 1)


def summary(windows: list[Any]) -> dict[str, Any]:
    durations = np.array([w.duration_s for w in windows])
    return {
        "windows": len(windows),
        "pairs_with_windows": len({(w.a, w.b) for w in windows}),
        "windows_lasting_the_whole_day": int(np.sum(durations >= DAY)),
        "shortest_window_s": round(float(durations.min()), 3) if durations.size else None,
        "smallest_range_km": round(min(w.min_range_km for w in windows), 1) if windows else None,
        "largest_range_km": round(max(w.max_range_km for w in windows), 1) if windows else None,
    }


def versions() -> dict[str, str]:
    import sgp4
    from sgp4.api import accelerated

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sgp4": sgp4.__version__,
        "sgp4_accelerated": str(bool(accelerated)),
        "simsat_commit": commit.stdout.strip(),
    }


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {"platform": platform.platform(), "cpu": model, "cores": os.cpu_count(), "threads_used": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--note", default="", help="recorded in the JSON (e.g. what else shared the CPU)")
    args = parser.parse_args()
    optical = yaml.safe_load((ROOT / "simsat" / "configs" / "isl" / "optical.yaml").read_text())
    max_range, grazing = float(optical["max_range_km"]), float(optical["grazing_altitude_km"])
    load_before = os.getloadavg()
    walker = shell()
    tles = as_tles(walker)

    def plan(sats: Any, pairs: str = "grid") -> list[Any]:
        return isl_plan(sats, START, DAY, max_range, grazing, pairs)

    rows: dict[str, Any] = {}
    for label, sats, pairs in (
        ("walker_j2_grid", walker, "grid"),
        ("sgp4_grid", tles, "grid"),
        ("walker_j2_neighbours", walker, "neighbours"),
    ):
        run = timed(lambda s=sats, p=pairs: plan(s, p), args.repeats)
        rows[label] = {
            **{k: v for k, v in run.items() if k != "result"},
            **summary(run["result"]),
            "traced_peak_mb": traced_peak_mb(lambda s=sats, p=pairs: plan(s, p)),
        }
    scaling = []
    for planes in (10, 40, 160):
        sats = shell(planes)
        run = timed(lambda s=sats: plan(s), 1)
        scaling.append(
            {
                "satellites": len(sats),
                "wall_s": run["wall_s_best"],
                "windows": len(run["result"]),
                "traced_peak_mb": traced_peak_mb(lambda s=sats: plan(s)),
            }
        )
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "note": args.note,
        "machine": machine(),
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "rss_high_water_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "versions": versions(),
        "plan": {
            "constellation": "simsat/configs/constellation/walker_1000.yaml (Walker 53:1000/40/1, 550 km)",
            "satellites": len(walker),
            "duration_s": DAY,
            "start_utc": START.isoformat(),
            "pairs": "grid",
            "max_range_km": max_range,
            "grazing_altitude_km": grazing,
            "grid_step_s": DEFAULT_STEP_S,
            "edge_tolerance_s": EDGE_TOLERANCE_S,
        },
        "plans": rows,
        "memory_by_shell_size_grid": scaling,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({"plans": rows, "memory_by_shell_size_grid": scaling}, indent=2))


if __name__ == "__main__":
    main()

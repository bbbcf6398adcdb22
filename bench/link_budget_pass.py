"""The S-band link budget along the best pass over one station in 6 hours: the docs' rate plot.

Writes docs/images/link_budget_sband.png and, beside it, link_budget_sband.json with every
input (orbit, station, start, budget preset) and the pass it plotted.

    python bench/link_budget_pass.py
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from simsat.world import Station, compute_contacts, walker_satellites
from simsat.world.linkbudget import link_preset
from simsat.world.passrates import pass_geometry, pass_rate_profile
from simsat.world.timebase import Epoch

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "link_budget_sband.png"
START = datetime(2025, 3, 20, 6, tzinfo=timezone.utc)
STATION = Station("luxembourg", 49.61, 6.13, 300.0, 5.0)
ORBIT = {"altitude_km": 550.0, "inclination_deg": 97.6, "ltan_hours": 10.5}


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epoch = Epoch(START)
    sats = walker_satellites(
        ORBIT["altitude_km"], ORBIT["inclination_deg"], 1, 1, 0, epoch=START, ltan_hours=ORBIT["ltan_hours"], name="sso"
    )
    windows = compute_contacts(sats, [STATION], epoch, 6 * 3600.0)
    best = max(windows, key=lambda w: w.max_elevation_deg)
    down, up = link_preset("sband_downlink"), link_preset("sband_uplink")
    profile = pass_rate_profile(down, sats, best, [STATION], epoch, step_s=5.0)
    t = np.linspace(best.start_s, best.end_s, 400)
    rng, elev = pass_geometry(sats, 0, STATION, epoch, t)
    minutes = (t - best.start_s) / 60.0

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    ax1.plot(minutes, elev, color="tab:blue", label="elevation")
    ax1.set_ylabel("elevation (deg)", color="tab:blue")
    ax1b = ax1.twinx()
    ax1b.plot(minutes, rng, color="tab:gray", ls="--", label="slant range")
    ax1b.set_ylabel("slant range (km)", color="tab:gray")
    ax1.set_title(
        f"{best.duration_s / 60:.1f} min pass over {STATION.name} (5 deg mask), "
        f"peak {best.max_elevation_deg:.0f} deg, {epoch.at(best.start_s):%Y-%m-%d %H:%M} UTC",
        fontsize=10,
    )
    ax1.grid(alpha=0.3)
    edges = (profile.times_s - best.start_s) / 60.0
    ax2.step(
        edges,
        np.r_[profile.rates_bps, profile.rates_bps[-1]] / 1e6,
        where="post",
        color="tab:red",
        label="downlink rate (modem step)",
    )
    ax2.plot(
        minutes,
        np.minimum(down.supported_bps(rng, elev), 1.1 * max(down.rate_steps_bps)) / 1e6,
        color="tab:red",
        alpha=0.35,
        label="rate the budget supports",
    )
    up_rates = up.rate_bps(rng, elev)
    ax2.plot(
        minutes,
        up_rates / 1e6,
        color="tab:green",
        ls=":",
        label=f"uplink rate ({up_rates.max() / 1e3:.0f} kbit/s step, top of its table)",
    )
    ax2.set_ylabel("rate (Mbit/s)")
    ax2.set_xlabel("minutes after rise")
    ax2.set_ylim(0, 1.1 * max(down.rate_steps_bps) / 1e6)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8, loc="lower center")
    fig.text(
        0.01,
        0.005,
        f"S-band downlink preset: EIRP {down.eirp_dbw} dBW, G/T {down.gt_dbk} dB/K, {down.frequency_hz / 1e9} GHz, "
        f"Eb/N0 {down.required_ebn0_db} dB + {down.margin_db} dB margin; "
        f"mean {profile.mean_rate_bps() / 1e6:.2f} Mbit/s, "
        f"{profile.bytes_between(best.start_s, best.end_s) / 1e6:.0f} MB per pass",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    plt.close(fig)
    inputs = {
        "command": "python bench/link_budget_pass.py",
        "start_utc": START.isoformat(),
        "orbit": ORBIT,
        "station": dataclasses.asdict(STATION),
        "downlink_budget": dataclasses.asdict(down),
        "uplink_budget": dataclasses.asdict(up),
        "pass": {
            "start_utc": epoch.at(best.start_s).isoformat(),
            "end_utc": epoch.at(best.end_s).isoformat(),
            "duration_s": round(best.duration_s, 1),
            "max_elevation_deg": round(best.max_elevation_deg, 2),
            "mean_downlink_bps": round(profile.mean_rate_bps()),
            "downlink_bytes": profile.bytes_between(best.start_s, best.end_s),
        },
        "windows_in_6_hours": len(windows),
    }
    OUT.with_suffix(".json").write_text(json.dumps(inputs, indent=2, default=str) + "\n")
    print(OUT)


if __name__ == "__main__":
    main()

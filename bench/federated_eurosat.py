"""The federated EuroSAT benchmark: every strategy and baseline on `simsat/scenarios/federated_eurosat.yaml`.

A thin command line over the package's sweep (simsat.sweep): one piece is one run of the scenario
with a few overrides, identified by `simsat.sweep.hashing.scenario_hash` of its composed config.
The pieces without a record are validated together (`build_plan`) and run by `run_sweep`, one
Ray task each reserving `sweep.run_cpus` CPUs (1 here, with `training.threads=1` and
`run.threads=1`), so a local Ray of `ray.num_cpus` CPUs (2 by default) plays two pieces at once;
their run folders, logs and the sweep's own records go to --work. As each piece finishes, its
record (the run's summary, curve, command, versions and input normalization) is written to
bench/results/federated_eurosat_pieces/<name>-<config hash>.json (`PieceStore`, atomic); a piece
whose record exists is skipped, so the grid resumes where it stopped. The records of the current
configs are then gathered into bench/results/federated_eurosat.json with the overlay plot
federated_eurosat.png, and the final global student of the best `fedkd` piece is kept as
bench/results/federated_eurosat_global.pt.

    python bench/federated_eurosat.py --list
    python bench/federated_eurosat.py --plan
    python bench/federated_eurosat.py [--only NAME[,NAME...]] [--data DIR] [--splits DIR] [key=value ...]

Trailing key=value overrides apply to every piece (e.g. mission.duration_hours=24 or
ray.num_cpus=4) and, except the keys that only say where and how a run executes (run.output_dir,
run.progress, run.engine, ray.*, sweep.*, data.cache_dir), are part of each piece's config hash.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import re
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.config.load import load_config
from simsat.config.schema import SimsatConfig
from simsat.errors import SimsatError
from simsat.results.atomic import write_json
from simsat.sweep.driver import SweepState, check_resources, run_sweep
from simsat.sweep.hashing import scenario_hash
from simsat.sweep.pieces import PieceStore
from simsat.sweep.plan import SweepPlan, SweepRun, build_plan
from simsat.sweep.records import DONE, RecordStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCENARIO = "federated_eurosat"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "eurosat_rgb"
DEFAULT_SPLITS = ROOT.parent / "shared" / "data" / "eurosat_splits"
# every piece plays on one core, so a local Ray of ray.num_cpus CPUs runs that many pieces at once
PIECE_DEFAULTS = ("training.threads=1", "run.threads=1", "sweep.run_cpus=1")
log = logging.getLogger("federated_eurosat")


@dataclass(frozen=True)
class Piece:
    """One run of the grid: a name and the overrides that make it."""

    name: str
    overrides: tuple[str, ...]
    group: str  # which question of the benchmark it answers

    @property
    def keys(self) -> list[str]:
        return [item.split("=", 1)[0] for item in self.overrides]

    def override(self, key: str, default: str) -> str:
        for item in self.overrides:
            name, value = item.split("=", 1)
            if name == key:
                return value
        return default


def _piece(
    strategy: str,
    aggregation: str,
    group: str,
    seed: int = 0,
    alpha: str = "",
    fraction: str = "",
    semi_ratio: int = 0,
    refresh: tuple[str, ...] = (),
) -> Piece:
    name = strategy if strategy != "fedkd" else f"fedkd-{aggregation}"
    overrides = [f"federation.strategy={strategy}", f"federation.aggregation={aggregation}", f"seed={seed}"]
    if alpha:
        name += f"-alpha{alpha}"
        overrides.append(f"data.alpha={alpha}")
    if fraction:
        name += f"-imagery{fraction}"
        overrides.append(f"imagery.fraction={fraction}")
    if semi_ratio:  # the onboard FixMatch-style term on the images the ground never received
        name += f"-semi{semi_ratio}"
        overrides += ["training.semi_weight=1", f"training.semi_ratio={semi_ratio}"]
    if refresh:  # the ground's teachers learn from the imagery received by then (distill.refresh)
        name += "-refresh" + "+".join(refresh)
        overrides.append(f"distill.refresh.hours=[{','.join(refresh)}]")
    return Piece(f"{name}-s{seed}", tuple(overrides), group)


def grid() -> list[Piece]:
    """The runs of issue 'Federated EuroSAT', the scenario's default setting first."""
    pieces = [
        _piece("fedkd", "fedasync", "strategies"),
        _piece("ground", "fedasync", "strategies"),
        _piece("fedkd", "sync", "strategies"),
        _piece("fedkd", "fedbuff", "strategies"),
        _piece("fedavg_labels", "fedasync", "strategies"),
        _piece("local", "fedasync", "strategies"),
        _piece("fedkd", "fedasync", "seeds", seed=1),
        _piece("fedkd", "sync", "seeds", seed=1),
        _piece("ground", "fedasync", "seeds", seed=1),
        _piece("fedkd", "fedasync", "alpha", alpha="0.1"),
        _piece("fedkd", "fedasync", "alpha", alpha="100"),
        _piece("fedkd", "fedasync", "imagery", fraction="0.05"),
        _piece("ground", "fedasync", "imagery", fraction="0.05"),
        _piece("fedkd", "fedasync", "imagery", fraction="1.0"),
        _piece("ground", "fedasync", "imagery", fraction="1.0"),
        # what would make onboard training pay: the satellites learn from the images the ground
        # never received (97 % of them at 5 % imagery), 8 unlabelled images per soft-labelled one
        _piece("fedkd", "fedasync", "semi", fraction="0.05", semi_ratio=8),
        # the lever the central probe (bench/central_semi.py) points to: the teacher learns from
        # the received imagery with the consistency term, once a third into the mission, and again
        # at two thirds on twice the imagery
        _piece("fedkd", "sync", "refresh", refresh=("24",)),
        _piece("ground", "fedasync", "refresh", refresh=("24",)),
        _piece("fedkd", "sync", "refresh", refresh=("24", "48")),
        _piece("ground", "fedasync", "refresh", refresh=("24", "48")),
    ]
    names = [p.name for p in pieces]
    assert len(set(names)) == len(names), names
    return pieces


def piece_items(piece: Piece, base: Sequence[str], extra: Sequence[str]) -> list[str]:
    """The key=value items of one piece: where the data lies, one core each, its own, the command line's."""
    return [*base, *PIECE_DEFAULTS, *piece.overrides, *extra]


def load_piece(items: Sequence[str]) -> SimsatConfig:
    return load_config(SCENARIO, items)


def grid_plan(pieces: Sequence[Piece], base: Sequence[str], extra: Sequence[str]) -> SweepPlan:
    """Every piece validated as one run of a sweep, with its scenario hash (ConfigError names the run and key)."""
    swept = [key for key in pieces[0].keys if all(key in p.keys for p in pieces)]
    combinations = [piece_items(p, base, extra) for p in pieces]
    return build_plan(list(extra), combinations, swept, load_piece, scenario_hash)


def _versions() -> dict[str, str]:
    import flwr
    import numpy
    import ray
    import timm
    import torch

    import simsat

    return {
        "simsat": simsat.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "flwr": flwr.__version__,
        "ray": ray.__version__,
        "numpy": numpy.__version__,
    }


def _normalize(config: Any) -> dict[str, list[float]]:
    """The mission's input normalization (from the ground's labelled images, 0..1 scale)."""
    from simsat.assembly import load_mission_data
    from simsat.config.validate import satellite_count
    from simsat.models.inputs import Normalization

    data = load_mission_data(config, satellite_count(config))
    norm = Normalization.from_images(data.ground.images)
    return {"mean": [round(float(v), 6) for v in norm.mean], "std": [round(float(v), 6) for v in norm.std]}


def _curve(folder: Path) -> list[list[float]]:
    """(simulated hours, test accuracy) of every evaluation in the run's metrics.csv."""
    import csv

    points = []
    with (folder / "metrics.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("accuracy") not in (None, ""):
                points.append([round(float(row["sim_hours"]), 4), round(float(row["accuracy"]), 4)])
    return points


def _efficiency(wall: dict[str, Any]) -> float | None:
    if wall.get("parallel_efficiency") is not None:
        return wall["parallel_efficiency"]
    speedup, workers = wall.get("parallel_speedup"), wall.get("workers") or 1
    return None if speedup is None else round(float(speedup) / workers, 3)


def piece_record(piece: Piece, config: Any, folder: Path, command: str, wall_s: float) -> dict[str, Any]:
    """Everything the benchmark reports about one finished run."""
    summary = json.loads((folder / "summary.json").read_text())
    per_sat = summary["energy_wh"]["training_per_satellite"]
    held = summary["images_held"]
    return {
        "name": piece.name,
        "group": piece.group,
        "config_hash": scenario_hash(config),
        "strategy": config.federation.strategy,
        "aggregator": config.federation.aggregation,
        "alpha": config.data.alpha,
        "seed": config.seed,
        "imagery_fraction": config.imagery.fraction,
        "imagery_received_fraction": round(summary["images_downlinked"] / held, 4) if held else None,
        "images_downlinked": summary["images_downlinked"],
        "images_held": held,
        "bytes_per_image_on_link": config.imagery.bytes_per_image or "jpeg",
        "satellites": summary["satellites"],
        "simulated_hours": summary["simulated_hours"],
        "model": config.satellite.model,
        "final_accuracy": summary["accuracy"]["final"],
        "best_accuracy": summary["accuracy"]["best"],
        "macro_precision": summary["accuracy"]["final_precision"],
        "macro_recall": summary["accuracy"]["final_recall"],
        "macro_f1": summary["accuracy"]["final_f1"],
        "time_to_accuracy_hours": summary["time_to_accuracy_hours"],
        "ground_only_accuracy": summary["reference"]["ground_only_accuracy"],
        "teachers": summary["reference"]["teachers"],
        "teacher_refreshes": summary.get("teacher_refreshes", []),
        "bytes": summary["bytes"],
        "energy_wh_per_satellite": {
            "mean": round(sum(per_sat) / len(per_sat), 4) if per_sat else 0.0,
            "max": max(per_sat) if per_sat else 0.0,
            "each": per_sat,
        },
        "contacts": summary["contacts"],
        "aggregations": summary["aggregations"],
        "trainings": summary["trainings"],
        "wall_seconds": round(wall_s, 1),
        "wall": summary["wall"],
        "parallel_efficiency": _efficiency(summary["wall"]),
        "curve": _curve(folder),
        "command": command,
        "versions": _versions(),
        "machine": summary.get("machine"),
        "run_folder": str(folder),
    }


@dataclass(frozen=True)
class Outputs:
    """Where the benchmark writes (bench/results unless --results says otherwise)."""

    folder: Path

    @property
    def pieces(self) -> Path:
        return self.folder / "federated_eurosat_pieces"

    @property
    def summary(self) -> Path:
        return self.folder / "federated_eurosat.json"

    @property
    def plot(self) -> Path:
        return self.folder / "federated_eurosat.png"

    @property
    def global_model(self) -> Path:
        return self.folder / "federated_eurosat_global.pt"

    @property
    def store(self) -> PieceStore:
        """One record per finished piece, named <piece>-<config hash>."""
        return PieceStore(self.pieces)

    @staticmethod
    def key(piece: Piece, digest: str) -> str:
        return f"{piece.name}-{digest}"


def _keep_global(record: dict[str, Any], folder: Path, out: Outputs) -> None:
    """Keep the run's final global student when it is the best fedkd run so far."""
    if record["strategy"] != "fedkd":
        return
    target = out.global_model
    marker = target.with_suffix(".json")
    best = json.loads(marker.read_text()) if marker.is_file() else None
    if best is not None and best["final_accuracy"] >= record["final_accuracy"]:
        return
    shutil.copyfile(folder / "checkpoints" / "global_final.pt", target)
    write_json(
        marker,
        {
            "piece": record["name"],
            "config_hash": record["config_hash"],
            "model": record["model"],
            "num_classes": 10,
            "final_accuracy": record["final_accuracy"],
            "load": "import simsat, timm, torch; m = timm.create_model(model, num_classes=10); "
            "m.load_state_dict(torch.load(path))",
        },
    )


def plan_facts(config: Any) -> dict[str, Any]:
    """The contact plan's downlink capacity and the imagery share each fraction of the grid gets."""
    from simsat.config.compile import build_world
    from simsat.mission.imagery import imagery_share

    world = build_world(config)
    capacity = sum(world.bytes_available(w, "downlink", w.start_s, w.end_s) for w in world.contacts)
    seconds = sum(w.end_s - w.start_s for w in world.contacts)
    train = len((Path(config.data.split_dir) / "train.csv").read_text().splitlines()) - 1
    images = train - round(config.data.ground_fraction * train)
    per_image = config.imagery.bytes_per_image
    return {
        "simulated_hours": config.mission.duration_hours,
        "windows": len(world.contacts),
        "window_hours_total": round(seconds / 3600.0, 2),
        "downlink_capacity_bytes": capacity,
        "satellite_images": images,
        "bytes_per_image": per_image,
        "imagery_share_by_fraction": {
            f: round(imagery_share(f, images, per_image, capacity), 5) for f in (0.05, 0.2, 1.0)
        },
    }


@dataclass
class Grid:
    """The pieces of one invocation: their validated configs (a sweep plan) and where records go."""

    pieces: list[Piece]
    plan: SweepPlan
    out: Outputs
    work: Path  # the sweep folder: run folders, logs and the sweep's own records
    command: str
    only: bool  # --only was given: each record keeps the command as typed

    def run_of(self, piece: Piece) -> SweepRun:
        return self.plan.runs[self.pieces.index(piece)]

    def key(self, piece: Piece) -> str:
        return self.out.key(piece, self.run_of(piece).hash)

    def recorded(self, piece: Piece) -> bool:
        return self.out.store.finished(self.key(piece))

    def piece_command(self, piece: Piece) -> str:
        return self.command if self.only else f"{self.command} --only {piece.name}"

    def record_finished(self, piece: Piece, sweep_record: dict[str, Any]) -> dict[str, Any]:
        """The benchmark's record of a piece the sweep finished, from its run folder; kept at once."""
        run = self.run_of(piece)
        folder = self.work / sweep_record["run_folder"]  # relative to the sweep folder, or absolute
        record = piece_record(piece, run.config, folder, self.piece_command(piece), float(sweep_record["wall_s"]))
        record["normalize"] = _normalize(run.config)
        if sweep_record.get("resumed"):  # killed and resumed from its journal: wall time of the last part only
            record["resumed"] = True
        self.out.store.write(self.key(piece), record)
        _keep_global(record, folder, self.out)
        log.info(
            "%s: final %.4f best %.4f in %.0f s",
            piece.name,
            record["final_accuracy"],
            record["best_accuracy"],
            record["wall_seconds"],
        )
        return record


def run_missing(grid: Grid, chosen: Sequence[Piece]) -> None:
    """Run the chosen pieces without a record through the package's sweep driver (one Ray task each).

    Each piece's record is written as soon as its run finishes, and the summary gathered again; a
    run the sweep finished before (its run folder still in the sweep folder) is not run again.
    """
    todo = [p for p in chosen if not grid.recorded(p)]
    for p in chosen:
        if p not in todo:
            log.info("%s: done before (%s), skipped", p.name, grid.key(p))
    if not todo:
        return
    plan = SweepPlan(runs=[grid.run_of(p) for p in todo], swept=grid.plan.swept, items=grid.plan.items)
    check_resources(plan)
    by_hash = {grid.run_of(p).hash: p for p in todo}

    def report(state: SweepState) -> None:
        last = state.last
        if last is None:
            return
        piece = by_hash[last["config_hash"]]
        if last["status"] != DONE:
            log.warning("%s failed: %s (log: %s)", piece.name, last["error"], grid.work / "logs")
            return
        try:
            grid.record_finished(piece, last)
            gather(grid)
        except Exception:  # the run folder stays: the record is made after the sweep or by a rerun
            log.exception("%s: its record could not be made now", piece.name)

    log.info("%d pieces to run: %s", len(todo), ", ".join(p.name for p in todo))
    run_sweep(plan, grid.work, report)
    sweep_records = RecordStore(grid.work)
    for p in todo:
        done = sweep_records.read(grid.run_of(p).hash)
        if not grid.recorded(p) and done is not None and done["status"] == DONE:
            grid.record_finished(p, done)


def recorded_runs(grid: Grid) -> list[dict[str, Any]]:
    """The records of the pieces of the current configs that finished, in grid order."""
    return [r for p in grid.pieces if (r := grid.out.store.read(grid.key(p))) is not None]


def gather(grid: Grid) -> dict[str, Any]:
    """The JSON of every finished piece of the current configs, and the overlay plot."""
    runs = recorded_runs(grid)
    missing = [p.name for p in grid.pieces if not grid.recorded(p)]
    marker = grid.out.global_model.with_suffix(".json")
    result = {
        "scenario": SCENARIO,
        "runs": runs,
        "not_run_yet": missing,
        "global_model": json.loads(marker.read_text()) if marker.is_file() else None,
        "command": grid.command,
    }
    write_json(grid.out.summary, result)
    if runs:
        plot(runs, grid.out.plot)
    return result


def held_curve(curve: Sequence[Sequence[float]], end_hours: float) -> list[list[float]]:
    """The accuracy curve with its last score held to the mission's end (a run's student keeps
    the accuracy of its last evaluation until something changes it)."""
    points = [list(point) for point in curve]
    if points and end_hours > points[-1][0]:
        points.append([end_hours, points[-1][1]])
    return points


# the overlay's panels: one per question, each with the default runs it is read against
PANELS = (
    ("strategies (alpha 0.5, 20 % imagery, seed 0)", ("strategies",), ()),
    ("seeds", ("seeds",), ("fedkd-fedasync-s0", "fedkd-sync-s0", "ground-s0")),
    ("label skew: Dirichlet alpha (fedkd / fedasync)", ("alpha",), ("fedkd-fedasync-s0",)),
    ("imagery fraction, onboard semi-supervised term", ("imagery", "semi"), ("fedkd-fedasync-s0", "ground-s0")),
    ("the ground's teachers refreshed at 24 h (and 48 h)", ("refresh",), ("fedkd-sync-s0", "ground-s0")),
)


def panel_runs(runs: Sequence[dict[str, Any]], groups: Sequence[str], defaults: Sequence[str]) -> list[dict[str, Any]]:
    """The runs of one panel: those of its groups and the default runs it is read against."""
    return [r for r in runs if r.get("group") in groups or r["name"] in defaults]


def plot(runs: Sequence[dict[str, Any]], path: Path) -> None:
    """Test accuracy against simulated hours, one line per run, one panel per question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(19, 9), sharex=True, sharey=True)
    for ax in axes.flat[len(PANELS) :]:
        ax.set_visible(False)
    lowest = 100.0
    for ax, (title, groups, defaults) in zip(axes.flat, PANELS, strict=False):
        shown = panel_runs(runs, groups, defaults)
        for run in shown:
            curve = held_curve(run["curve"], float(run.get("simulated_hours") or 0.0))
            if curve:
                hours, acc = zip(*curve, strict=True)
                ax.step(hours, [100 * a for a in acc], where="post", label=run["name"], linewidth=1.2)
                lowest = min(lowest, 100 * min(acc))
        for level in (80, 90, 95):
            ax.axhline(level, color="grey", linewidth=0.6, linestyle=":")
        for hour in sorted({r["hour"] for run in shown for r in run.get("teacher_refreshes") or []}):
            ax.axvline(hour, color="black", linewidth=0.8, linestyle="--")
            ax.text(
                hour + 0.5,
                0.02,
                "teacher refresh",
                fontsize=7,
                rotation=90,
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if shown:
            ax.legend(fontsize=7, loc="lower right")
        else:
            ax.text(0.5, 0.5, "not run yet", transform=ax.transAxes, ha="center", color="grey")
    columns = axes.shape[1]
    for i, ax in enumerate(axes.flat[: len(PANELS)]):
        if i + columns >= len(PANELS):  # no panel below it: it carries the hours
            ax.set_xlabel("simulated hours")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy of the global student (%)")
    axes[0, 0].set_ylim(max(0.0, 10 * ((lowest - 5) // 10)), 100)
    fig.suptitle("Federated EuroSAT: test accuracy over simulated time (each line holds its last score)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


def _hours(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f}"


def _mb(value: float) -> str:
    return f"{value / 1e6:,.0f} MB"


def _wall(run: dict[str, Any]) -> str:
    text = f"{run['wall_seconds']:,.0f} s"
    if run.get("resumed"):
        text += " (resumed)"
    efficiency = run.get("parallel_efficiency")
    if efficiency and run["strategy"] != "ground":
        text += f", efficiency {efficiency:.2f}"
    return text


def _work(run: dict[str, Any]) -> str:
    if run["strategy"] == "ground":
        return f"{run['aggregations']} ground trainings"
    return f"{run['trainings']} / {run['aggregations']}"


def tables(runs: Sequence[dict[str, Any]]) -> str:
    """The results as markdown tables (one per question), from the gathered records."""
    by_name = {r["name"]: r for r in runs}
    head = (
        "| run | final | best | time to 90 % (h) | macro F1 | bytes up / down | energy per satellite "
        "| trainings / aggregations | wall |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = ["Strategies and seeds (alpha 0.5, 20 % imagery):", "", head]
    for run in runs:
        if run["group"] in ("strategies", "seeds"):
            lines.append(
                f"| {run['name']} | {_pct(run['final_accuracy'])} | {_pct(run['best_accuracy'])} "
                f"| {_hours(run['time_to_accuracy_hours'].get('0.90'))} | {run['macro_f1']:.3f} "
                f"| {_mb(run['bytes']['up_total'])} / {_mb(run['bytes']['down_total'])} "
                f"| {run['energy_wh_per_satellite']['mean']:.2f} Wh | {_work(run)} | {_wall(run)} |"
            )
    lines += [
        "",
        "Label skew (`fedkd` / `fedasync`):",
        "",
        "| alpha | final | best | time to 90 % (h) |",
        "|---|---|---|---|",
    ]
    for name, alpha in (
        ("fedkd-fedasync-alpha0.1-s0", "0.1"),
        ("fedkd-fedasync-s0", "0.5"),
        ("fedkd-fedasync-alpha100-s0", "100"),
    ):
        skewed = by_name.get(name)
        if skewed is None:
            lines.append(f"| {alpha} | not run yet | | |")
        else:
            lines.append(
                f"| {alpha} | {_pct(skewed['final_accuracy'])} | {_pct(skewed['best_accuracy'])} "
                f"| {_hours(skewed['time_to_accuracy_hours'].get('0.90'))} |"
            )
    lines += [
        "",
        "Imagery fraction (`fedasync`), final accuracy (time to 90 %, h):",
        "",
        "| imagery asked (received) | `fedkd` | `ground` | `fedkd` - `ground` | `fedkd` + onboard semi term |",
        "|---|---|---|---|---|",
    ]
    for fraction, suffix in (("0.05", "-imagery0.05"), ("0.2", ""), ("1.0", "-imagery1.0")):
        fedkd, ground = by_name.get(f"fedkd-fedasync{suffix}-s0"), by_name.get(f"ground{suffix}-s0")
        semi = next((r for r in runs if r["group"] == "semi" and str(r["imagery_fraction"]) == fraction), None)
        received = next((r["imagery_received_fraction"] for r in (fedkd, ground, semi) if r), None)

        def cell(run: dict[str, Any] | None) -> str:
            if run is None:
                return "not run yet"
            return f"{_pct(run['final_accuracy'])} ({_hours(run['time_to_accuracy_hours'].get('0.90'))})"

        gap = f"{100 * (fedkd['final_accuracy'] - ground['final_accuracy']):+.1f} points" if fedkd and ground else ""
        asked = f"{100 * float(fraction):g} %" + (f" ({_pct(received)})" if received is not None else "")
        lines.append(f"| {asked} | {cell(fedkd)} | {cell(ground)} | {gap} | {cell(semi) if semi else ''} |")
    refreshed = [r for r in runs if r["group"] == "refresh"]
    if refreshed:
        lines += [
            "",
            "Teacher refresh (the ground's teachers continued on its labels plus the consistency term on the "
            "imagery received by then), against the same run without it:",
            "",
            "| run | refresh at (h) / images | teacher test accuracy | final | best | time to 90 % (h) "
            "| without refresh: final | gain | wall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
    for run in refreshed:
        done = run.get("teacher_refreshes") or []
        at = ", ".join(f"{r['hour']:g} / {r['images']:,}" for r in done) or "none made"
        before = ", ".join(_pct(t["accuracy"]) for t in run["teachers"])
        after = ", ".join(_pct(t["accuracy"]) for r in done for t in r["teachers"])
        plain = by_name.get(re.sub(r"-refresh[^-]+", "", run["name"]))  # the same piece without the refresh
        gain = f"{100 * (run['final_accuracy'] - plain['final_accuracy']):+.1f} points" if plain else ""
        lines.append(
            f"| {run['name']} | {at} | {before} -> {after} | {_pct(run['final_accuracy'])} "
            f"| {_pct(run['best_accuracy'])} | {_hours(run['time_to_accuracy_hours'].get('0.90'))} "
            f"| {_pct(plain['final_accuracy']) if plain else 'not run yet'} | {gain} | {_wall(run)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the pieces, their hashes and whether they ran")
    parser.add_argument("--plan", action="store_true", help="print the contact plan's capacity and imagery shares")
    parser.add_argument("--tables", action="store_true", help="print the recorded results as markdown tables")
    parser.add_argument("--only", default="", help="piece names, comma-separated, run in that order (default: all)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="EuroSAT RGB folder")
    parser.add_argument("--splits", default=str(DEFAULT_SPLITS), help="split folder (train/validation/test.csv)")
    parser.add_argument("--work", default=str(ROOT / "runs" / "federated_eurosat"), help="the sweep's folder")
    parser.add_argument("--results", default=str(RESULTS), help="where records, JSON, plot and model go")
    parser.add_argument("overrides", nargs="*", help="key=value for every piece")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    command = shlex.join(["python", "bench/federated_eurosat.py", *(argv if argv is not None else sys.argv[1:])])
    base = [
        f"data.path={Path(args.data).resolve()}",
        f"data.split_dir={Path(args.splits).resolve()}",
        "run.progress=false",
    ]
    pieces = grid()
    by_name = {p.name: p for p in pieces}
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        parser.error(f"unknown piece(s) {unknown}; --list shows them")
    chosen = [by_name[n] for n in dict.fromkeys(names)] if names else pieces  # run in the order given
    try:
        grid_ = Grid(
            pieces=pieces,
            plan=grid_plan(pieces, base, args.overrides),
            out=Outputs(Path(args.results)),
            work=Path(args.work).expanduser().absolute(),
            command=command,
            only=bool(names),
        )
        if args.plan:
            print(json.dumps(plan_facts(grid_.run_of(pieces[0]).config), indent=2))
            return
        if args.tables:
            print(tables(recorded_runs(grid_)), end="")
            return
        if args.list:
            for p in pieces:
                done = "done" if grid_.recorded(p) else "not run"
                print(f"{p.name:40s} {p.group:10s} {grid_.run_of(p).hash}  {done}  {' '.join(p.overrides)}")
            return
        run_missing(grid_, chosen)
        gather(grid_)
    except SimsatError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")


if __name__ == "__main__":
    main()

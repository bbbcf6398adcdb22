"""The federated EuroSAT benchmark: every strategy and baseline on `scenarios/federated_eurosat.yaml`.

One piece is one run of the scenario (`simsat.runner.run_scenario`) with a few overrides. A piece's
record is kept in bench/results/federated_eurosat_pieces/<name>-<config hash>.json as soon as it
finishes, so the grid resumes where it stopped: a piece whose record exists for the same
composed config is skipped. After every piece the pieces of the current configs are gathered into
bench/results/federated_eurosat.json and the overlay plot federated_eurosat.png; the final global
student of the best `fedkd` piece is kept as bench/results/federated_eurosat_global.pt.

    python bench/federated_eurosat.py --list
    python bench/federated_eurosat.py [--only NAME[,NAME...]] [--data DIR] [--splits DIR] [key=value ...]

Trailing key=value overrides apply to every piece (e.g. mission.duration_hours=24) and are part
of each piece's config hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SCENARIO = "federated_eurosat"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "eurosat_rgb"
DEFAULT_SPLITS = ROOT.parent / "shared" / "data" / "eurosat_splits"
# keys that change where and how a run is written, not what it computes
NOT_HASHED = ("run", "ray", "data.path", "data.split_dir", "data.cache_dir")


@dataclass(frozen=True)
class Piece:
    """One run of the grid: a name and the overrides that make it."""

    name: str
    overrides: tuple[str, ...]
    group: str  # which question of the benchmark it answers

    def override(self, key: str, default: str) -> str:
        for item in self.overrides:
            name, value = item.split("=", 1)
            if name == key:
                return value
        return default


def _piece(strategy: str, aggregation: str, group: str, seed: int = 0, alpha: str = "", fraction: str = "") -> Piece:
    name = strategy if strategy != "fedkd" else f"fedkd-{aggregation}"
    overrides = [f"federation.strategy={strategy}", f"federation.aggregation={aggregation}", f"seed={seed}"]
    if alpha:
        name += f"-alpha{alpha}"
        overrides.append(f"data.alpha={alpha}")
    if fraction:
        name += f"-imagery{fraction}"
        overrides.append(f"imagery.fraction={fraction}")
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
    ]
    names = [p.name for p in pieces]
    assert len(set(names)) == len(names), names
    return pieces


def config_hash(config: Any) -> str:
    """12 hex digits of sha256 over the composed config, less the keys in NOT_HASHED."""
    import dataclasses

    data = dataclasses.asdict(config)
    for key in NOT_HASHED:
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node.pop(last, None)
    text = yaml.safe_dump(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_piece_config(piece: Piece, base: Sequence[str], extra: Sequence[str]) -> Any:
    from simsat.config.load import load_config

    return load_config(SCENARIO, [*base, *piece.overrides, *extra])


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
        "config_hash": config_hash(config),
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

    def record(self, piece: Piece, digest: str) -> Path:
        return self.pieces / f"{piece.name}-{digest}.json"


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
    marker.write_text(
        json.dumps(
            {
                "piece": record["name"],
                "config_hash": record["config_hash"],
                "model": record["model"],
                "num_classes": 10,
                "final_accuracy": record["final_accuracy"],
                "load": "import simsat, timm, torch; m = timm.create_model(model, num_classes=10); "
                "m.load_state_dict(torch.load(path))",
            },
            indent=2,
        )
        + "\n"
    )


def plan_facts(config: Any) -> dict[str, Any]:
    """The contact plan's downlink capacity and the imagery share each fraction of the grid gets."""
    from simsat.mission.imagery import imagery_share
    from simsat.mission.plan import build_world

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


def run_piece(piece: Piece, config: Any, command: str, out: Outputs) -> dict[str, Any]:
    from simsat.runner import run_scenario

    start = time.perf_counter()
    folder = run_scenario(config, progress=_progress(piece.name))
    record = piece_record(piece, config, folder, command, time.perf_counter() - start)
    record["normalize"] = _normalize(config)
    _keep_global(record, folder, out)
    return record


def _progress(name: str):  # noqa: ANN202 - a simsat.assembly.Progress
    last = {"t": 0.0}

    def report(stage: str, done: float, total: float) -> None:
        now = time.monotonic()
        if now - last["t"] >= 60 or done >= total:
            last["t"] = now
            logging.info("%s: %s %.1f / %.1f", name, stage, done, total)

    return report


def gather(pieces: Sequence[Piece], digests: dict[str, str], command: str, out: Outputs) -> dict[str, Any]:
    """The JSON of every finished piece of the current configs, and the overlay plot."""
    runs = []
    for piece in pieces:
        path = out.record(piece, digests[piece.name])
        if path.is_file():
            runs.append(json.loads(path.read_text()))
    missing = [p.name for p in pieces if not out.record(p, digests[p.name]).is_file()]
    marker = out.global_model.with_suffix(".json")
    result = {
        "scenario": SCENARIO,
        "runs": runs,
        "not_run_yet": missing,
        "global_model": json.loads(marker.read_text()) if marker.is_file() else None,
        "command": command,
    }
    out.summary.write_text(json.dumps(result, indent=2) + "\n")
    if runs:
        plot(runs, out.plot)
    return result


def plot(runs: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for run in runs:
        curve = run["curve"]
        if curve:
            hours, acc = zip(*curve, strict=True)
            ax.step(hours, [100 * a for a in acc], where="post", label=run["name"], linewidth=1.3)
    for level in (80, 90, 95):
        ax.axhline(level, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("simulated hours")
    ax.set_ylabel("test accuracy of the global student (%)")
    ax.set_title("Federated EuroSAT: test accuracy over simulated time")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the pieces, their hashes and whether they ran")
    parser.add_argument("--plan", action="store_true", help="print the contact plan's capacity and imagery shares")
    parser.add_argument("--only", default="", help="comma-separated piece names (default: every piece)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="EuroSAT RGB folder")
    parser.add_argument("--splits", default=str(DEFAULT_SPLITS), help="split folder (train/validation/test.csv)")
    parser.add_argument("--work", default=str(ROOT / "runs" / "federated_eurosat"), help="run folders")
    parser.add_argument("--results", default=str(RESULTS), help="where records, JSON, plot and model go")
    parser.add_argument("overrides", nargs="*", help="key=value for every piece")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    command = " ".join(["python", "bench/federated_eurosat.py", *(argv if argv is not None else sys.argv[1:])])
    base = [
        f"data.path={args.data}",
        f"data.split_dir={args.splits}",
        f"run.output_dir={args.work}",
        "run.progress=false",
    ]
    out = Outputs(Path(args.results))
    pieces = grid()
    known = {p.name for p in pieces}
    chosen = [n for n in args.only.split(",") if n] or [p.name for p in pieces]
    unknown = sorted(set(chosen) - known)
    if unknown:
        parser.error(f"unknown piece(s) {unknown}; --list shows them")
    configs = {p.name: load_piece_config(p, base, args.overrides) for p in pieces}
    digests = {name: config_hash(config) for name, config in configs.items()}
    if args.plan:
        print(json.dumps(plan_facts(configs[pieces[0].name]), indent=2))
        return
    if args.list:
        for p in pieces:
            done = "done" if out.record(p, digests[p.name]).is_file() else "not run"
            print(f"{p.name:40s} {p.group:10s} {digests[p.name]}  {done}  {' '.join(p.overrides)}")
        return
    out.pieces.mkdir(parents=True, exist_ok=True)
    for p in pieces:
        if p.name not in chosen:
            continue
        path = out.record(p, digests[p.name])
        if path.is_file():
            logging.info("%s: done before (%s), skipped", p.name, path.name)
            continue
        logging.info("%s: running (%s)", p.name, " ".join(p.overrides))
        piece_command = f"{command} --only {p.name}" if not args.only else command
        record = run_piece(p, configs[p.name], piece_command, out)
        path.write_text(json.dumps(record, indent=2) + "\n")
        logging.info(
            "%s: final %.4f best %.4f in %.0f s",
            p.name,
            record["final_accuracy"],
            record["best_accuracy"],
            record["wall_seconds"],
        )
        gather(pieces, digests, command, out)
    gather(pieces, digests, command, out)


if __name__ == "__main__":
    main()

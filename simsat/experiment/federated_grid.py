"""The federated EuroSAT grid: every strategy and baseline on `simsat/scenarios/federated_eurosat.yaml`.

One piece is one run of the scenario with a few overrides (`Piece`), named for what it changes
and answering one question of the benchmark (its group). `grid()` lists them, the scenario's
default setting first; `grid_plan` validates every piece as one run of a sweep
(simsat.sweep.plan), with the piece's `simsat.sweep.hashing.scenario_hash`, which names its
record. `plan_facts` says what the default setting's contact plan can carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.config.load import load_config
from simsat.config.schema import SimsatConfig
from simsat.sweep.hashing import scenario_hash
from simsat.sweep.plan import SweepPlan, build_plan

SCENARIO = "federated_eurosat"
# every piece plays on one core, so a local Ray of ray.num_cpus CPUs runs that many pieces at once
PIECE_DEFAULTS = ("training.threads=1", "run.threads=1", "sweep.run_cpus=1")


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


def make_piece(
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
    """The runs of the benchmark, the scenario's default setting first."""
    pieces = [
        make_piece("fedkd", "fedasync", "strategies"),
        make_piece("ground", "fedasync", "strategies"),
        make_piece("fedkd", "sync", "strategies"),
        make_piece("fedkd", "fedbuff", "strategies"),
        make_piece("fedavg_labels", "fedasync", "strategies"),
        make_piece("local", "fedasync", "strategies"),
        make_piece("fedkd", "fedasync", "seeds", seed=1),
        make_piece("fedkd", "sync", "seeds", seed=1),
        make_piece("ground", "fedasync", "seeds", seed=1),
        make_piece("fedkd", "fedasync", "alpha", alpha="0.1"),
        make_piece("fedkd", "fedasync", "alpha", alpha="100"),
        make_piece("fedkd", "fedasync", "imagery", fraction="0.05"),
        make_piece("ground", "fedasync", "imagery", fraction="0.05"),
        make_piece("fedkd", "fedasync", "imagery", fraction="1.0"),
        make_piece("ground", "fedasync", "imagery", fraction="1.0"),
        # what would make onboard training pay: the satellites learn from the images the ground
        # never received (97 % of them at 5 % imagery), 8 unlabelled images per soft-labelled one
        make_piece("fedkd", "fedasync", "semi", fraction="0.05", semi_ratio=8),
        # the lever the central probe (bench/central_semi.py) points to: the teacher learns from
        # the received imagery with the consistency term, once a third into the mission, and again
        # at two thirds on twice the imagery
        make_piece("fedkd", "sync", "refresh", refresh=("24",)),
        make_piece("ground", "fedasync", "refresh", refresh=("24",)),
        make_piece("fedkd", "sync", "refresh", refresh=("24", "48")),
        make_piece("ground", "fedasync", "refresh", refresh=("24", "48")),
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


def base_items(data: Path | str, splits: Path | str) -> list[str]:
    """The key=value items every piece starts from: where the images and split files lie, no progress bars."""
    return [f"data.path={Path(data).resolve()}", f"data.split_dir={Path(splits).resolve()}", "run.progress=false"]


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

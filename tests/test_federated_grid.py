"""The federated EuroSAT grid (simsat.experiment.federated_*): its pieces, their scenarios on a fake
EuroSAT folder with split files, the mission split from split files, and imagery sized as a real
product on the link."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from eurosat_fake import write_fake_eurosat_with_splits
from simsat.config.load import load_config
from simsat.config.validate import satellite_count
from simsat.data import ImageSet, split_mission_from_splits
from simsat.errors import ConfigError
from simsat.experiment import federated_run
from simsat.experiment.federated_grid import base_items, grid, piece_items
from simsat.experiment.federated_report import PANELS, held_curve, panel_runs, tables
from simsat.experiment.federated_run import Grid, gather, listing, open_grid, run_missing
from simsat.mission.imagery import (
    SENTINEL2_13BAND_64PX_BYTES,
    ImageCodec,
    ProductSizedImagery,
    encode_within,
    imagery_share,
)
from simsat.mission.packets import ImageryPacket
from simsat.mission.transport import Reply
from simsat.sweep.hashing import scenario_hash
from simsat.sweep.pieces import PieceStore

CLASSES = ("Forest", "River", "SeaLake")


def _fake_data(tmp_path: Path, per_class: int = 40) -> tuple[Path, Path]:
    return write_fake_eurosat_with_splits(tmp_path, CLASSES, per_class)


def _settings() -> set[tuple[str, str, int, str, str]]:
    out = set()
    for p in grid():
        if p.group in ("semi", "refresh"):  # beyond the issue's grid (checked on their own)
            continue
        out.add(
            (
                p.override("federation.strategy", "fedkd"),
                p.override("federation.aggregation", "fedasync"),
                int(p.override("seed", "0")),
                p.override("data.alpha", "0.5"),
                p.override("imagery.fraction", "0.2"),
            )
        )
    return out


def test_grid_has_every_run_of_the_issue() -> None:
    runs = _settings()
    assert len(runs) == 15 and len(grid()) == 20
    for aggregation in ("fedasync", "sync", "fedbuff"):
        assert ("fedkd", aggregation, 0, "0.5", "0.2") in runs
    for strategy in ("ground", "fedavg_labels", "local"):
        assert (strategy, "fedasync", 0, "0.5", "0.2") in runs
    for strategy, aggregation in (("fedkd", "fedasync"), ("fedkd", "sync"), ("ground", "fedasync")):
        assert {(strategy, aggregation, s, "0.5", "0.2") for s in (0, 1)} <= runs
    assert {("fedkd", "fedasync", 0, a, "0.2") for a in ("0.1", "0.5", "100")} <= runs
    for strategy in ("fedkd", "ground"):
        assert {(strategy, "fedasync", 0, "0.5", f) for f in ("0.05", "0.2", "1.0")} <= runs
    (semi,) = [p for p in grid() if p.group == "semi"]  # the onboard term where the ground sees least
    assert semi.override("training.semi_weight", "0") == "1" and semi.override("imagery.fraction", "") == "0.05"
    refreshed = {(p.override("federation.strategy", ""), p.override("distill.refresh.hours", "")) for p in grid()}
    for hours in ("[24]", "[24,48]"):  # the ground's teacher refresh, once and twice, against both
        assert {("fedkd", hours), ("ground", hours)} <= refreshed


def test_scenarios_validate_and_hashes_follow_what_is_computed(tmp_path: Path) -> None:
    root, splits = _fake_data(tmp_path)
    where = [f"data.path={root}", f"data.split_dir={splits}"]
    config = load_config("federated_eurosat", where)
    assert satellite_count(config) == 24 and config.mission.duration_hours == 72.0
    assert config.constellation.inclination_deg == 53.0 and len(config.ground_stations) == 2
    assert (config.link.uplink_bps, config.link.downlink_bps) == (256_000.0, 2_000_000.0)
    assert config.satellite.hardware == "jetson_nano_10w" and config.data.ground_fraction == 0.1
    assert config.imagery.bytes_per_image == SENTINEL2_13BAND_64PX_BYTES
    anchor = load_config("ostman_anchor", where)
    assert satellite_count(anchor) == 8 and anchor.constellation.altitude_km == 786.0
    assert [s.min_elevation_deg for s in anchor.ground_stations] == [5.0, 5.0, 5.0]
    assert anchor.data.alpha == 100.0 and anchor.link.downlink_bps == 1_000_000.0
    assert round(anchor.data.ground_fraction * 18_900) == 400  # 8 satellites x 50 labels

    moved = replace(config, data=replace(config.data, cache_dir=str(tmp_path / "elsewhere")))
    assert scenario_hash(moved) == scenario_hash(config)  # where the cache lies is not hashed
    other = replace(config, data=replace(config.data, alpha=0.1))
    assert scenario_hash(other) != scenario_hash(config)
    # a key added to the schema later is hashed only away from its default, so the records made
    # before it existed keep their hash: `tiny` hashed so before distill.refresh was added
    assert scenario_hash(load_config("tiny")) == "0429cd176485"
    refreshed = replace(config, distill=replace(config.distill, refresh=replace(config.distill.refresh, hours=[24.0])))
    assert scenario_hash(refreshed) != scenario_hash(config)
    timed = replace(config, ground=replace(config.ground, hardware="jetson_orin_nano"))
    assert scenario_hash(timed) != scenario_hash(config)  # the ground's computer changes the results


def _open(tmp_path: Path, root: Path, splits: Path, *overrides: str, command: str = "", only: bool = False) -> Grid:
    """The grid as `bench/federated_eurosat.py --data root --splits splits --results res --work work` opens it."""
    return open_grid(root, splits, tmp_path / "res", tmp_path / "work", overrides, command, only)


def test_list_names_every_piece_by_the_scenario_hash_of_its_config(tmp_path: Path) -> None:
    root, splits = _fake_data(tmp_path)
    lines = listing(_open(tmp_path, root, splits, "mission.duration_hours=50"))
    pieces = grid()
    assert [line.split()[0] for line in lines] == [p.name for p in pieces]
    base = base_items(root, splits)
    assert base == [f"data.path={root}", f"data.split_dir={splits}", "run.progress=false"]
    for piece in (pieces[0], pieces[-1]):  # the default piece and one with a teacher refresh
        config = load_config("federated_eurosat", piece_items(piece, base, ["mission.duration_hours=50"]))
        assert config.mission.duration_hours == 50.0 and config.training.threads == 1 and config.sweep.run_cpus == 1
        line = next(line for line in lines if line.split()[0] == piece.name)
        assert line.split()[2] == scenario_hash(config) and line.split()[3] == "not"
    assert len({line.split()[2] for line in lines}) == len(pieces)
    with pytest.raises(ConfigError, match="imagery.fraction"):  # the command line's exit 2
        _open(tmp_path, root, splits, "imagery.fraction=2")


def test_a_recorded_piece_is_skipped_and_gathered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, splits = _fake_data(tmp_path)
    first = listing(_open(tmp_path, root, splits))[0].split()
    name, digest = first[0], first[2]
    record = {"name": name, "config_hash": digest, "strategy": "fedkd", "curve": [[0.0, 0.1], [1.0, 0.5]]}
    PieceStore(tmp_path / "res" / "federated_eurosat_pieces").write(f"{name}-{digest}", record)

    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a recorded piece went to the sweep driver")

    monkeypatch.setattr(federated_run, "run_sweep", no_run)
    chosen = _open(tmp_path, root, splits, only=True)
    run_missing(chosen, [p for p in chosen.pieces if p.name == name])
    gather(chosen)
    summary = json.loads((tmp_path / "res" / "federated_eurosat.json").read_text())
    assert summary["runs"] == [record] and name not in summary["not_run_yet"]
    assert len(summary["not_run_yet"]) == len(grid()) - 1
    assert (tmp_path / "res" / "federated_eurosat.png").is_file()
    assert listing(_open(tmp_path, root, splits))[0].split()[3] == "done"


def test_split_dir_needs_eurosat_and_fractions_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.split_dir"):
        load_config("tiny", [f"data.split_dir={tmp_path}"])
    root, splits = _fake_data(tmp_path)
    with pytest.raises(ConfigError, match="imagery.fraction"):
        load_config("federated_eurosat", [f"data.path={root}", f"data.split_dir={splits}", "imagery.fraction=1.5"])


def _imageset(labels: list[int], start: int = 0) -> ImageSet:
    n = len(labels)
    images = np.random.default_rng(start).integers(0, 255, (n, 8, 8, 3), dtype=np.uint8)
    return ImageSet(images, np.array(labels), np.arange(start, start + n), CLASSES)


def test_mission_from_split_files_keeps_validation_and_test() -> None:
    train = _imageset([0] * 100 + [1] * 60 + [2] * 40)
    validation, test = _imageset([0, 1, 2], 1000), _imageset([2, 1, 0, 0], 2000)
    data = split_mission_from_splits(train, validation, test, 4, 0.1, "dirichlet", 0.5, seed=3)
    assert np.bincount(data.ground.labels).tolist() == [10, 6, 4]  # stratified 10 % of the train split
    sat_ids = np.concatenate([s.ids for s in data.satellites])
    assert len(data.satellites) == 4 and all(len(s) > 0 for s in data.satellites)
    assert sorted(np.concatenate([sat_ids, data.ground.ids]).tolist()) == list(range(200))
    assert data.validation is validation and data.test is test
    again = split_mission_from_splits(train, validation, test, 4, 0.1, "dirichlet", 0.5, seed=3)
    assert [s.ids.tolist() for s in again.satellites] == [s.ids.tolist() for s in data.satellites]
    with pytest.raises(ConfigError, match="ground_fraction"):
        split_mission_from_splits(train, validation, test, 4, 1.0, "iid", 0.5, seed=3)


class _Node:
    """The satellite side of the imagery exchange: JPEGs within the budget, plus framing bytes."""

    def __init__(self, images: np.ndarray) -> None:
        self.images = images
        self.codec = ImageCodec()

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]:
        ids = np.arange(len(self.images))
        packet = encode_within(self.codec, self.images, ids, start, stop, budget_bytes)
        return Reply.ready((packet, packet.encoded_bytes + 100))


def test_product_sized_imagery_counts_the_product_bytes() -> None:
    images = np.random.default_rng(0).integers(0, 255, (20, 64, 64, 3), dtype=np.uint8)
    link = ProductSizedImagery(_Node(images), SENTINEL2_13BAND_64PX_BYTES)  # type: ignore[arg-type]
    packet, nbytes = link.imagery(0, 2, 20, budget_bytes=5 * SENTINEL2_13BAND_64PX_BYTES + 10).result()
    assert packet.ids.tolist() == [2, 3, 4, 5, 6]  # five products fit, although 18 JPEGs would
    assert nbytes == 5 * SENTINEL2_13BAND_64PX_BYTES + 100
    empty, none = link.imagery(0, 2, 20, budget_bytes=SENTINEL2_13BAND_64PX_BYTES - 1).result()
    assert len(empty) == 0 and none == 0
    assert imagery_share(0.2, 1000, 100_000, 1e9) == pytest.approx(0.02)
    assert imagery_share(1.0, 1000, 100_000, 1e6) == 1.0


@pytest.mark.slow
def test_two_tiny_pieces_run_side_by_side_through_the_sweep_driver(tmp_path: Path) -> None:
    """A local Ray, two day-long pieces of two satellites on tiny data, one CPU each."""
    root, splits = _fake_data(tmp_path)
    tiny = [
        "mission.duration_hours=48",  # the grid's refresh pieces refresh at 24 and 48 h: the whole grid validates
        "constellation.planes=1",
        "constellation.phasing=0",
        "constellation.sats_per_plane=2",
        "training.epochs=1",
        "reference.epochs=1",
        "distill.teachers=[{name:resnet8,input_size:16,epochs:1,lr:0.01,batch_size:64}]",
        f"data.cache_dir={tmp_path / 'cache'}",
    ]
    names = ["fedkd-fedasync-s0", "ground-s0"]
    command = shlex.join(["python", "bench/federated_eurosat.py", "--only", ",".join(names), *tiny])
    chosen = _open(tmp_path, root, splits, *tiny, command=command, only=True)
    run_missing(chosen, [p for name in names for p in chosen.pieces if p.name == name])
    gather(chosen)
    summary = json.loads((tmp_path / "res" / "federated_eurosat.json").read_text())
    assert [r["name"] for r in summary["runs"]] == names
    sweep = json.loads((tmp_path / "work" / "sweep.json").read_text())
    assert sweep["run_cpus"] == [1.0, 1.0] and sweep["engine"] == "in_process"
    for run in summary["runs"]:
        folder = Path(run["run_folder"])
        assert folder.parent == tmp_path / "work" / "runs" / run["config_hash"]
        assert (folder / "summary.json").is_file() and run["curve"] and run["wall_seconds"] > 0
        assert run["normalize"]["mean"] and run["command"].endswith(tiny[-1])
    assert summary["global_model"]["piece"] == "fedkd-fedasync-s0"
    assert (tmp_path / "res" / "federated_eurosat_global.pt").is_file()


def test_overlay_curves_hold_the_last_score_to_the_missions_end() -> None:
    assert held_curve([[0.0, 0.5], [22.0, 0.9]], 24.0) == [[0.0, 0.5], [22.0, 0.9], [24.0, 0.9]]
    assert held_curve([[0.0, 0.5], [24.0, 0.9]], 24.0) == [[0.0, 0.5], [24.0, 0.9]]
    assert held_curve([], 24.0) == []


def test_every_piece_has_a_panel_of_the_overlay() -> None:
    runs = [{"name": p.name, "group": p.group} for p in grid()]
    shown = {r["name"] for _, groups, defaults in PANELS for r in panel_runs(runs, groups, defaults)}
    assert shown == {p.name for p in grid()}
    alpha = next(panel for panel in PANELS if "alpha" in panel[1])
    assert {r["name"] for r in panel_runs(runs, alpha[1], alpha[2])} == {
        "fedkd-fedasync-s0",
        "fedkd-fedasync-alpha0.1-s0",
        "fedkd-fedasync-alpha100-s0",
    }


def _record(name: str, group: str, strategy: str, fraction: float, final: float) -> dict:
    return {
        "name": name,
        "group": group,
        "strategy": strategy,
        "imagery_fraction": fraction,
        "imagery_received_fraction": fraction * 0.9,
        "final_accuracy": final,
        "best_accuracy": final + 0.01,
        "time_to_accuracy_hours": {"0.80": 0.0, "0.90": 30.0 if final >= 0.9 else None, "0.95": None},
        "macro_f1": final - 0.01,
        "bytes": {"up_total": 2e8, "down_total": 3e8},
        "energy_wh_per_satellite": {"mean": 0.17},
        "trainings": 10,
        "aggregations": 5,
        "wall_seconds": 1234.0,
        "parallel_efficiency": 0.2,
        "resumed": name.startswith("ground"),
    }


def test_tables_put_each_question_in_one_table_from_the_records() -> None:
    runs = [
        _record("fedkd-fedasync-s0", "strategies", "fedkd", 0.2, 0.91),
        _record("ground-s0", "strategies", "ground", 0.2, 0.924),
        _record("fedkd-fedasync-imagery0.05-semi8-s0", "semi", "fedkd", 0.05, 0.88),
    ]
    text = tables(runs)
    assert "| fedkd-fedasync-s0 | 91.0 % | 92.0 % | 30.0 | 0.900 | 200 MB / 300 MB | 0.17 Wh | 10 / 5 |" in text
    assert "| ground-s0 | 92.4 % |" in text and "5 ground trainings | 1,234 s (resumed) |" in text
    assert "| 0.1 | not run yet | | |" in text and "| 0.5 | 91.0 % | 92.0 % | 30.0 |" in text
    assert "| 20 % (18.0 %) | 91.0 % (30.0) | 92.4 % (30.0) | -1.4 points |  |" in text
    assert "| 5 % (4.5 %) | not run yet | not run yet |  | 88.0 % (not reached) |" in text
    assert "Teacher refresh" not in text  # no refresh piece recorded: no table

    refreshed = _record("ground-refresh24-s0", "refresh", "ground", 0.2, 0.94)
    refreshed["teachers"] = [{"name": "resnet8", "accuracy": 0.9289}]
    refreshed["teacher_refreshes"] = [
        {"hour": 24.0, "images": 1130, "labels": 1130, "teachers": [{"name": "resnet8", "accuracy": 0.9441}]}
    ]
    twice = _record("ground-refresh24+48-s0", "refresh", "ground", 0.2, 0.945)
    twice["teachers"] = refreshed["teachers"]
    twice["teacher_refreshes"] = [
        *refreshed["teacher_refreshes"],
        {"hour": 48.0, "images": 2260, "labels": 2260, "teachers": [{"name": "resnet8", "accuracy": 0.9467}]},
    ]
    text = tables([*runs, refreshed, twice])
    assert (
        "| ground-refresh24-s0 | 24 / 1,130 | 92.9 % -> 94.4 % | 94.0 % | 95.0 % | 30.0 | 92.4 % | +1.6 points |"
        in text
    )
    # each refresh in order, and the same run without any refresh found for the two-refresh piece too
    assert "| ground-refresh24+48-s0 | 24 / 1,130, 48 / 2,260 | 92.9 % -> 94.4 %, 94.7 % | 94.5 % |" in text
    assert "| 92.4 % | +2.1 points |" in text

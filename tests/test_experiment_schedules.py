"""The centralized experiment in pieces (simsat.experiment.schedules, .pieces, .best_views, .kd_table)
on a tiny fake EuroSAT folder: pieces, resumption, kept teachers, best student, its views, the tables."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import timm
import torch

import simsat  # noqa: F401  (registers resnet8 / resnet16 in timm)
from eurosat_fake import write_fake_eurosat
from simsat.cli.distill import load_experiment
from simsat.cli.progress import LogProgress
from simsat.errors import ConfigError
from simsat.experiment.best_views import best_students_views
from simsat.experiment.kd_table import rows
from simsat.experiment.pieces import pick_best
from simsat.experiment.schedules import ScheduleInputs, run_schedules

CLASSES = ("Forest", "River", "SeaLake")
OTHERS = ("eurosat_long", "eurosat_tuned", "eurosat_patient")  # bench/eurosat_kd.py's --with


def _run(
    inputs: ScheduleInputs,
    pieces: Path,
    out: Path,
    only: str = "",
    experiment: str = "eurosat",
    summary_only: bool = False,
    bare_steps: int = 2,
) -> Path:
    """What `bench/eurosat_kd.py` does with these arguments: the main schedule's pieces, then the summary."""
    torch.set_num_threads(inputs.threads)
    cfg = inputs.config(experiment, load_experiment)
    others = [(name, inputs.config(name, load_experiment)) for name in OTHERS if name != experiment]
    command = "python bench/eurosat_kd.py"
    return run_schedules(
        cfg,
        others,
        pieces,
        out,
        command,
        only,
        summary_only=summary_only,
        bare_steps=bare_steps,
        progress=LogProgress(),
    )


def test_bench_runs_pieces_resumes_and_keeps_teachers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_fake_eurosat(tmp_path / "eurosat", CLASSES, per_class=10, size=16, colour_cue=True)
    pieces, out, cache = tmp_path / "pieces", tmp_path / "out", tmp_path / "cache"
    inputs = ScheduleInputs(
        data=str(tmp_path / "eurosat"),
        splits="",
        cache=str(cache),
        threads=1,
        epochs=1,
        overrides=(
            "students=[resnet8]",
            "teacher_targets=mean",
            "efficiency.batch_sizes=[1]",
            "efficiency.repeats=1",
            "efficiency.warmup=0",
            "teachers=[{name: resnet8, input_size: 16, epochs: 1}, {name: resnet8, input_size: 24, epochs: 1}]",
        ),
    )
    assert _run(inputs, pieces, out, "resnet8:entropy:0,resnet8:none:0") == out / "eurosat_kd.json"
    summary = json.loads((out / "eurosat_kd.json").read_text())
    assert summary["pieces_done"] == 2 and summary["pieces_expected"] == 8
    assert set(summary["results"]["resnet8"]) == {"entropy", "none"}
    assert summary["teacher_targets"] == "mean"
    assert summary["teacher_ensemble"]["test_views_accuracy"] is not None
    assert len(summary["teachers"]) == 2 and summary["normalize"]["mean"]
    best = summary["best_students"]["resnet8"]
    assert best["rule"] == "entropy" and best["piece"] == "resnet8_entropy_s0"  # 'none' is not distilled
    model = timm.create_model("resnet8", num_classes=3)
    model.load_state_dict(torch.load(out / "resnet8_kd.pt", weights_only=True))

    # test-time augmentation of the best student, from the summary alone
    views = best_students_views(
        out / "eurosat_kd.json",
        str(tmp_path / "eurosat"),
        "",
        str(cache),
        "python bench/eurosat_views.py",
        load_experiment,
    )
    tta = views["students"]["resnet8"]
    assert tta["test"]["accuracy"] == best["test_accuracy"] and tta["views"] == 8
    assert 0 <= tta["test_views"]["accuracy"] <= 1 and tta["piece"] == "resnet8_entropy_s0"
    flops = next(m["flops"] for m in summary["efficiency"]["models"] if m["role"] == "student")
    assert tta["cost_per_image_views"]["flops"] == 8 * flops

    folder = next(p for p in pieces.iterdir() if p.is_dir())
    kept = sorted(p.name for p in (folder / "teachers").glob("*.pt"))
    assert len(kept) == 2
    assert len(list((folder / "teachers").glob("*.versions.json"))) == 2
    assert len(list((folder / "teachers").glob("*.training.json"))) == 2
    record = (folder / "pieces" / "resnet8_entropy_s0.json").read_text()

    # a fresh clone: no teacher cache and no piece weights, only the committed records and teachers
    shutil.rmtree(cache / "teachers")
    for weights in (folder / "pieces").glob("*.pt"):
        weights.unlink()
    assert _run(inputs, pieces, out, "resnet8:entropy:0").is_file()  # finished: nothing reruns
    assert (folder / "pieces" / "resnet8_entropy_s0.json").read_text() == record
    stale = json.loads((folder / "teachers.json").read_text())  # written under an older cache-key recipe
    for t in stale["teachers"]:
        t.update(key="old", cache_file="/elsewhere/old.pt")
    (folder / "teachers.json").write_text(json.dumps(stale))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert _run(inputs, pieces, out, "resnet8:static:0").is_file()
    assert sum("loaded from cache" in r.getMessage() for r in caplog.records) == 2  # not retrained
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith("resnet8 static s0 (images)")]
    assert ": 100 % after" in progress[-1] and len(progress) <= 10  # one line a tenth
    assert all("left" in line for line in progress[:-1])
    for name in kept:  # restored from the pieces folder, not retrained
        assert (cache / "teachers" / name).read_bytes() == (folder / "teachers" / name).read_bytes()
        for suffix in (".versions.json", ".training.json"):
            kept_file = Path(name).with_suffix(suffix).name
            assert (cache / "teachers" / kept_file).read_bytes() == (folder / "teachers" / kept_file).read_bytes()
    teachers = json.loads((folder / "teachers.json").read_text())["teachers"]
    assert all("test_views_accuracy" in t for t in teachers)
    assert sorted(t["cache_file"] for t in teachers) == kept  # the files in use, named without the cache folder
    assert all(t["cache_file"].split("-")[1].removesuffix(".pt") == t["key"][:20] for t in teachers)
    assert [t["test"] for t in teachers] == [t["test"] for t in stale["teachers"]]  # scores kept
    assert all(t["training"]["seconds"] > 0 and t["training"]["epochs"] == 1 for t in teachers)  # from the kept records

    # another schedule of the same teachers (eurosat_long) joins the summary of the main one
    assert _run(inputs, pieces, tmp_path / "o2", "resnet8:none:1", experiment="eurosat_long").is_file()
    assert len([p for p in pieces.iterdir() if p.is_dir()]) == 2
    assert _run(inputs, pieces, out, summary_only=True).is_file()
    summary = json.loads((out / "eurosat_kd.json").read_text())
    (long,) = summary["other_schedules"]
    assert long["experiment"] == "eurosat_long" and long["pieces_done"] == 1 and long["config_hash"] != folder.name
    assert set(long["results"]["resnet8"]) == {"none"} and long["results"]["resnet8"]["none"]["seeds"] == [1]
    assert len(long["teachers"]) == 2 and [t["name"] for t in long["teachers"]] == [
        t["name"] for t in summary["teachers"]
    ]
    assert set(summary["results"]["resnet8"]) == {"entropy", "none", "static"}  # the main schedule's own
    assert (out / summary["validation_curves_png"]).read_bytes()[:4] == b"\x89PNG"


def test_bench_rejects_a_malformed_piece(tmp_path: Path) -> None:
    write_fake_eurosat(tmp_path / "eurosat", CLASSES, per_class=4, size=16, colour_cue=True)
    inputs = ScheduleInputs(data=str(tmp_path / "eurosat"), splits="", cache=str(tmp_path / "c"))
    with pytest.raises(ConfigError, match="model:rule:seed"):  # bench/eurosat_kd.py exits with it
        _run(inputs, tmp_path / "p", tmp_path / "o", "resnet8:entropy", bare_steps=30)


def _entry(seeds: list[int], acc: list[float]) -> dict[str, Any]:
    stat = {"mean": float(np.mean(acc)), "std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0, "per_seed": acc}
    return {
        "seeds": seeds,
        "test_accuracy": stat,
        "test_precision": stat,
        "test_recall": stat,
        "test_f1": stat,
        "validation_accuracy": stat,
        "images_per_s": {"mean": 380.0},
        "throughput_ratio": {"mean": 0.97},
    }


def test_table_compares_each_rule_with_its_twin_on_common_seeds() -> None:
    summary = {
        "results": {
            "resnet8": {
                "none": _entry([0, 1], [0.96, 0.97]),
                "entropy": _entry([0, 1], [0.965, 0.976]),
                "paper": _entry([1], [0.98]),
            }
        }
    }
    lines = rows(summary["results"])
    assert len(lines) == 2 + 3 and lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    none, entropy, paper = (line.split(" | ") for line in lines[2:])
    assert none[3] == "96.50 ± 0.71 (96.00, 97.00)" and none[4] == ""
    assert entropy[4] == "+0.55"  # (0.5 + 0.6) / 2 points
    assert paper[3] == "98.00" and paper[4] == "+1.00 (seed 1)"  # against the twin's seed 1 only


def test_best_student_is_chosen_on_validation_over_every_schedule(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()

    def run(folder: str, rule: str, seed: int, val: float, test: float) -> tuple[str, Path, dict[str, Any]]:
        path = tmp_path / folder
        (path / "pieces").mkdir(parents=True, exist_ok=True)
        stem = f"resnet8_{rule}_s{seed}"
        torch.save({"marker": torch.tensor([float(len(folder) + seed)])}, path / "pieces" / f"{stem}.pt")
        record = {
            "model": "resnet8",
            "rule": rule,
            "seed": seed,
            "epochs": 15 if folder == "short" else 40,
            "validation": {"accuracy": val},
            "test": {"accuracy": test},
        }
        return (folder, path, record)

    runs = [
        run("short", "entropy", 0, 0.96, 0.97),
        run("short", "none", 0, 0.99, 0.99),
        run("long", "paper", 1, 0.98, 0.975),
        run("long", "entropy", 0, 0.98, 0.98),
    ]
    best = pick_best(["resnet8", "resnet16"], runs, out)
    assert set(best) == {"resnet8"}  # no resnet16 piece; 'none' is never chosen
    chosen = best["resnet8"]
    assert (chosen["experiment"], chosen["rule"], chosen["seed"], chosen["epochs"]) == ("long", "entropy", 0, 40)
    assert chosen["config_hash"] == "long" and chosen["test_accuracy"] == 0.98  # tie on validation: lower seed
    copied = torch.load(out / "resnet8_kd.pt", weights_only=True)
    assert copied["marker"].item() == len("long") + 0

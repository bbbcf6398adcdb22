"""`simsat distill`: the centralized experiment end to end on a tiny synthetic setting, and its parts."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import timm
import torch
from torch import nn

import simsat  # noqa: F401  (registers resnet8 / resnet16 in timm)
from simsat.cli.distill import load_experiment, run_distill
from simsat.cli.main import main
from simsat.data import synthetic_imageset
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import evaluate
from simsat.errors import ConfigError
from simsat.experiment.central import (
    prepare,
    teacher_cache_dir,
    teacher_ensemble_scores,
    teacher_probabilities,
    teacher_scores,
)
from simsat.experiment.data import load_experiment_data
from simsat.experiment.student import train_student
from simsat.experiment.views import apply_views, compute_view_logits, ensemble_scores, teacher_targets, view_logits_path
from simsat.models.cost import count_flops
from simsat.models.inputs import Normalization, to_input
from simsat.models.teachers import create_teacher

RULES = ("paper", "entropy", "none")
SEEDS = (0, 1)


def tiny_overrides(tmp: Path) -> list[str]:
    return [
        "data.n_images=300",
        "train.epochs=3",
        "teachers=[{name: efficientvit_b0, input_size: 32, epochs: 1},"
        " {name: mobilevit_xxs, input_size: 32, epochs: 1}]",
        f"rules=[{','.join(RULES)}]",
        f"seeds=[{','.join(map(str, SEEDS))}]",
        "students=[resnet8]",
        f"output_dir={tmp / 'runs'}",
        f"data.cache_dir={tmp / 'cache'}",
        "progress=false",
        "threads=1",
        "efficiency.batch_sizes=[1,8]",
        "efficiency.repeats=2",
        "efficiency.warmup=1",
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("distill")
    overrides = tiny_overrides(tmp)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["distill", "experiment=synthetic", *overrides])
    capture = buffer.getvalue().splitlines()
    folder = Path(capture[-1])
    return {
        "code": code,
        "folder": folder,
        "tmp": tmp,
        "overrides": overrides,
        "results": json.loads((folder / "results.json").read_text()),
        "efficiency": json.loads((folder / "efficiency.json").read_text()),
    }


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_cli_prints_the_finished_folder_last(run: dict[str, Any]) -> None:
    folder: Path = run["folder"]
    assert run["code"] == 0
    assert folder.is_dir() and folder.parent == run["tmp"] / "runs"
    assert folder.name.startswith("synthetic-")
    assert not list(folder.parent.glob("*.partial"))


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_every_file_is_written(run: dict[str, Any]) -> None:
    folder: Path = run["folder"]
    expected = [
        "config.yaml",
        "results.json",
        "results.csv",
        "efficiency.json",
        "efficiency.csv",
        "efficiency_comparison.csv",
        "confusion_teacher_efficientvit_b0.png",
        "confusion_teacher_mobilevit_xxs.png",
        "validation_curves.png",
    ]
    for rule in RULES:
        for seed in SEEDS:
            expected += [f"confusion_resnet8_{rule}_s{seed}.png", f"students/resnet8_{rule}_s{seed}.pt"]
    for name in expected:
        path = folder / name
        assert path.is_file() and path.stat().st_size > 0, name
    assert (folder / "confusion_resnet8_none_s0.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "validation_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (folder / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["role"] for r in rows].count("teacher") == 2
    assert [r["role"] for r in rows].count("student") == len(RULES) * len(SEEDS)
    assert "efficientvit_b0" in (folder / "config.yaml").read_text()


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_results_hold_metrics_for_students_and_teachers(run: dict[str, Any]) -> None:
    r = run["results"]
    assert r["data"]["sizes"] == {"train": 210, "validation": 50, "test": 40}
    assert len(r["teachers"]) == 2
    for record in [*r["runs"], *r["teachers"]]:
        for split in ("validation", "test"):
            scores = record[split]
            conf = np.array(scores["confusion"])
            assert conf.shape == (10, 10)
            assert conf.sum() == r["data"]["sizes"][split]
            assert scores["accuracy"] == pytest.approx(np.trace(conf) / conf.sum())
            recalls = [pc["recall"] for pc in scores["per_class"].values()]
            assert len(recalls) == 10 and 0 <= scores["f1"] <= 1
    for run_record in r["runs"]:
        assert run_record["images_per_s"] > 0 and run_record["wall_seconds"] >= run_record["train_seconds"] > 0
        assert run_record["images_seen"] == 3 * 210


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_summary_is_mean_and_std_over_seeds(run: dict[str, Any]) -> None:
    r = run["results"]
    for entry in r["summary"]:
        accs = [x["test"]["accuracy"] for x in r["runs"] if (x["model"], x["rule"]) == (entry["model"], entry["rule"])]
        assert entry["test_accuracy"]["per_seed"] == accs
        assert entry["test_accuracy"]["mean"] == pytest.approx(np.mean(accs))
        assert entry["test_accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    assert {(e["model"], e["rule"]) for e in r["summary"]} == {("resnet8", rule) for rule in RULES}


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_best_epoch_is_chosen_on_validation(run: dict[str, Any]) -> None:
    for record in run["results"]["runs"]:
        curve = record["validation_curve"]
        accs = [point["accuracy"] for point in curve]
        assert [point["epoch"] for point in curve] == [1, 2, 3]
        assert record["best_epoch"] == int(np.argmax(accs)) + 1
        # the kept checkpoint is that epoch's: re-scoring it on validation gives the curve's figures
        best = curve[record["best_epoch"] - 1]
        assert record["validation"]["accuracy"] == pytest.approx(best["accuracy"])
        assert record["validation"]["loss"] == pytest.approx(best["loss"], rel=1e-5)


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_saved_student_loads_into_timm_and_reproduces_test_metrics(run: dict[str, Any]) -> None:
    record = next(x for x in run["results"]["runs"] if x["rule"] == "entropy" and x["seed"] == 1)
    model = timm.create_model("resnet8", num_classes=10)
    state = torch.load(run["folder"] / record["state_dict"], weights_only=True)
    model.load_state_dict(state)
    cfg = load_experiment(run["overrides"])
    data = load_experiment_data(cfg.data, cfg.seed)
    norm = Normalization(**{k: tuple(v) for k, v in run["results"]["data"]["normalize"].items()})
    score = evaluate(model, data.test.images, data.test.labels, norm, 10)
    assert score.accuracy == pytest.approx(record["test"]["accuracy"])
    assert score.f1 == pytest.approx(record["test"]["f1"])


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_teacher_figures_come_from_one_pass_per_view_and_match_direct_evaluation(run: dict[str, Any]) -> None:
    prep = prepare(load_experiment(run["overrides"]))  # the fixture's cache: teachers are loaded, not trained
    images = {"validation": prep.data.validation, "test": prep.data.test}

    def counted_probabilities() -> tuple[dict[str, torch.Tensor], list[tuple[str, int]]]:
        calls: list[tuple[str, int]] = []
        hooks = [
            t.module.register_forward_hook(lambda m, i, o, n=t.label: calls.append((n, int(o.shape[0]))))
            for t in prep.teachers
        ]
        try:
            return teacher_probabilities(prep), calls
        finally:
            for h in hooks:
                h.remove()

    cached, calls = counted_probabilities()  # the fixture's run cached them: read back, no forward pass
    assert calls == []
    cache = teacher_cache_dir(prep.config)
    for t in prep.teachers:
        for s in images.values():
            view_logits_path(cache, t.spec.name, t.meta["key"], s.fingerprint(), prep.n_views).unlink()
    probs, calls = counted_probabilities()
    for t in prep.teachers:  # every teacher sees every view of every validation and test image once
        assert sum(n for name, n in calls if name == t.label) == prep.n_views * (50 + 40)
    for split in images:
        assert torch.allclose(cached[split], probs[split])
    records = teacher_scores(prep, probs)
    modules = [t.module for t in prep.teachers]
    for t, record in zip(prep.teachers, records, strict=True):
        for split, s in images.items():
            direct = evaluate(t.module, s.images, s.labels, prep.norm, 10)
            assert record[split]["accuracy"] == pytest.approx(direct.accuracy)
            assert record[split]["confusion"] == np.asarray(direct.confusion).tolist()
            assert record[split]["loss"] == pytest.approx(direct.loss, rel=1e-4)
            tta = ensemble_scores([t.module], s.images, s.labels, prep.norm, 10, prep.n_views)
            assert record[f"{split}_views_accuracy"] == pytest.approx(tta.accuracy)
    ensemble = teacher_ensemble_scores(prep, probs)
    assert ensemble is not None
    for split, s in images.items():
        for n_views, suffix in ((1, ""), (prep.n_views, "_views")):
            direct = ensemble_scores(modules, s.images, s.labels, prep.norm, 10, n_views)
            assert ensemble[f"{split}{suffix}"]["confusion"] == np.asarray(direct.confusion).tolist()


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_paper_rule_with_unsure_teachers_is_plain_cross_entropy(run: dict[str, Any]) -> None:
    # teachers trained one epoch on 210 images are near chance: at T=5 both confidences are < 0.4,
    # so the paper rule gives (a, b) = (0, 0) and the loss is CE alone, like rule 'none'
    teachers = run["results"]["teachers"]
    assert all(t["test"]["accuracy"] < 0.4 for t in teachers)
    by_key = {(x["rule"], x["seed"]): x for x in run["results"]["runs"]}
    for seed in SEEDS:
        paper, none = by_key[("paper", seed)], by_key[("none", seed)]
        assert paper["validation_curve"] == none["validation_curve"]
        assert paper["test"]["confusion"] == none["test"]["confusion"]


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_efficiency_table_matches_hand_computation(run: dict[str, Any]) -> None:
    eff = run["efficiency"]
    models = {m["name"]: m for m in eff["models"]}
    assert models["resnet8"]["parameters"] == 103_642
    assert models["efficientvit_b0"]["input_size"] == 32
    # FLOPs are counted at the size the teacher runs at (its internal resize to 32 px)
    inner = create_teacher("efficientvit_b0", 10, 32).model
    assert models["efficientvit_b0"]["flops"] == count_flops(inner, 32)
    busy_w, rate = eff["hardware"]["busy_w"], eff["hardware"]["flops_per_s"]
    assert models["resnet8"]["energy_j"] == pytest.approx(models["resnet8"]["flops"] / rate * busy_w)
    assert len(eff["comparison"]) == 2
    for row in eff["comparison"]:
        s, t = models[row["student"]], models[row["teacher"]]
        assert row["fewer_parameters_pct"] == pytest.approx(100 * (1 - s["parameters"] / t["parameters"]))
        assert row["fewer_flops_pct"] == pytest.approx(100 * (1 - s["flops"] / t["flops"]))
        assert row["less_energy_pct"] == pytest.approx(100 * (1 - s["energy_j"] / t["energy_j"]))
        for batch in (1, 8):
            expected = 100 * (1 - s[f"latency_ms_b{batch}"] / t[f"latency_ms_b{batch}"])
            assert row[f"faster_pct_b{batch}"] == pytest.approx(expected)
    with (run["folder"] / "efficiency_comparison.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[0]["fewer_parameters_pct"]) == pytest.approx(eff["comparison"][0]["fewer_parameters_pct"])


@pytest.mark.parametrize(
    ("override", "culprit"),
    [
        ("rules=[entropy,telepathy]", "telepathy"),
        ("teachers=[{name: no_such_net}]", "no_such_net"),
        ("data.source=eurosat", "data.path"),
        ("students=[resnet99]", "resnet99"),
        ("train.epochs=0", "train.epochs"),
    ],
)
def test_bad_input_raises_config_error_naming_it(override: str, culprit: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=culprit):
        run_distill([f"output_dir={tmp_path / 'runs'}", override])
    assert not (tmp_path / "runs").exists()


def test_missing_eurosat_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no_eurosat_here"
    with pytest.raises(ConfigError, match="no_eurosat_here"):
        run_distill(["experiment=eurosat", f"data.path={missing}", f"output_dir={tmp_path / 'runs'}"])


def test_paper_rule_needs_two_teachers() -> None:
    with pytest.raises(ConfigError, match="paper"):
        load_experiment(["rules=[paper]", "teachers=[{name: efficientvit_b0}]"])


def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["distill", "rules=[telepathy]", f"output_dir={tmp_path / 'runs'}"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and "telepathy" in err[0]


def test_the_recipe_keys_an_experiment_hashes_are_unchanged(tmp_path: Path) -> None:
    """bench/eurosat_kd.py names its piece folders by a hash of the config, the `train` keys included."""
    train = dataclasses.asdict(load_experiment(["experiment=eurosat", f"data.path={tmp_path}"]).train)
    assert train == {
        "epochs": 15,
        "batch_size": 64,
        "lr": 0.002,
        "weight_decay": 0.0005,
        "schedule": "onecycle",
        "augment": True,
        "channels_last": True,
    }
    assert type(load_experiment([]).train) is TrainRecipe


def test_recipe_group_switches_to_the_paper_recipe() -> None:
    cfg = load_experiment(["recipe=paper"])
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.batch_size, cfg.train.schedule) == (
        2.5e-4,
        5e-4,
        64,
        "step",
    )
    assert cfg.temperature == 5.0
    assert load_experiment([]).train.schedule == "onecycle"


class _TinyTeacher(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).flatten(1))


def test_view_logits_equal_a_teacher_pass_on_the_augmented_batch() -> None:
    x = torch.randn(12, 3, 8, 8)
    teacher = _TinyTeacher()
    logits = compute_view_logits(teacher, x, n_views=8, batch_size=5)
    codes = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 7, 3, 0, 5])
    idx = torch.arange(12)
    with torch.no_grad():
        direct = teacher(apply_views(x, codes, 8))
    assert torch.allclose(logits[codes, idx], direct, atol=1e-5)
    # views are distinct transforms: a quarter turn is not the identity
    assert not torch.allclose(apply_views(x, torch.ones(12, dtype=torch.long), 8), x)


def test_teacher_targets_view_keeps_and_mean_averages_over_views() -> None:
    logits = torch.randn(2, 8, 5, 10)
    assert teacher_targets(logits, "view") is logits
    mean = teacher_targets(logits, "mean")
    assert mean.shape == logits.shape
    for code in range(8):  # every view of an image gets the same target: the average over views
        assert torch.allclose(mean[:, code], logits.mean(dim=1), atol=1e-6)
    with pytest.raises(ConfigError, match="teacher_targets"):
        teacher_targets(logits, "median")


def _pooled_linear(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(48, 10))


def test_ensemble_scores_match_a_hand_computed_vote() -> None:
    data = synthetic_imageset(24, seed=2)
    norm = Normalization.from_images(data.images)
    a, b = (_pooled_linear(seed) for seed in (0, 1))
    x = to_input(data.images, norm, channels_last=False)
    with torch.no_grad():  # one view: the mean softmax of the two models decides
        probs = (a(x).softmax(-1) + b(x).softmax(-1)) / 2
        views = torch.stack([compute_view_logits(m, x, 8).softmax(-1) for m in (a, b)]).mean(dim=(0, 1))
    for n_views, expected in ((1, probs), (8, views)):
        result = ensemble_scores([a, b], data.images, data.labels, norm, 10, n_views)
        want = float((expected.argmax(1).numpy() == data.labels).mean())
        assert result.accuracy == pytest.approx(want)
        assert int(np.asarray(result.confusion).sum()) == 24
    single = ensemble_scores([a], data.images, data.labels, norm, 10, 1)
    assert single.accuracy == pytest.approx(evaluate(a, data.images, data.labels, norm, 10).accuracy)
    with pytest.raises(ConfigError):
        ensemble_scores([], data.images, data.labels, norm, 10, 1)


def test_train_student_is_deterministic_and_keeps_the_best_epoch() -> None:
    data = synthetic_imageset(80, seed=5)
    train, val = data.subset(np.arange(60)), data.subset(np.arange(60, 80))
    norm = Normalization.from_images(train.images)
    x = to_input(train.images, norm)
    cfg = TrainRecipe(epochs=3, batch_size=16, lr=5e-3)
    outcomes = []
    for _ in range(2):
        torch.manual_seed(4)
        model = timm.create_model("resnet8", num_classes=10)
        outcomes.append(train_student(model, x, train.labels, None, 8, "none", 5.0, cfg, val, norm, seed=4))
    first, second = outcomes
    assert first.curve == second.curve
    assert all(torch.equal(first.state[k], second.state[k]) for k in first.state)
    assert first.best_epoch == int(np.argmax([p["accuracy"] for p in first.curve])) + 1


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "simsat/configs/experiment").glob("*.yaml"))
)
def test_every_shipped_experiment_loads_and_validates(name: str, tmp_path: Path) -> None:
    config = load_experiment([f"experiment={name}", f"data.path={tmp_path}"])
    assert config.name == name and config.train.epochs >= 1 and config.students and config.rules


@pytest.mark.parametrize(
    "base, variant, epochs",
    [
        ("eurosat", "eurosat_long", (15, 40)),  # same teachers, data, recipe and grid: the teacher cache is shared
        ("eurosat_tuned", "eurosat_patient", (40, 60)),  # same teachers (from the cache), recipe, lr, T and grid
    ],
)
def test_schedule_differs_from_its_base_only_in_student_epochs(
    base: str, variant: str, epochs: tuple[int, int], tmp_path: Path
) -> None:
    import dataclasses

    short, long = (
        dataclasses.asdict(load_experiment([f"experiment={n}", f"data.path={tmp_path}"])) for n in (base, variant)
    )
    assert (short["train"].pop("epochs"), long["train"].pop("epochs")) == epochs
    for key in ("name", "description"):
        short.pop(key), long.pop(key)
    assert short == long


def test_tuned_schedule_changes_only_lr_epochs_and_the_first_teacher(tmp_path: Path) -> None:
    import dataclasses

    base, tuned = (
        dataclasses.asdict(load_experiment([f"experiment={n}", f"data.path={tmp_path}"]))
        for n in ("eurosat", "eurosat_tuned")
    )
    assert (tuned["train"].pop("lr"), tuned["train"].pop("epochs")) == (0.01, 40)
    base["train"].pop("lr"), base["train"].pop("epochs")
    new, *kept = tuned.pop("teachers")
    assert (new["name"], new["epochs"], new["lr"]) == ("resnet16", 40, 0.01)
    assert kept == [t for t in base.pop("teachers") if t["name"] == "resnet8"]  # reused from the cache
    for key in ("name", "description"):
        base.pop(key), tuned.pop(key)
    assert base == tuned  # same data, split, recipe otherwise, T, teacher targets and grid


def test_validation_curves_average_seeds_per_rule_and_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simsat.experiment import report

    def run_record(rule: str, seed: int, epochs: int, accs: list[float]) -> dict[str, Any]:
        curve = [{"epoch": i + 1, "accuracy": a} for i, a in enumerate(accs)]
        return {
            "model": "resnet8",
            "rule": rule,
            "seed": seed,
            "epochs": epochs,
            "best_epoch": int(np.argmax(accs)) + 1,
            "validation_curve": curve,
        }

    runs = [
        run_record("none", 0, 2, [0.5, 0.7]),
        run_record("none", 1, 2, [0.6, 0.9]),
        run_record("entropy", 0, 3, [0.4, 0.8, 0.95]),
    ]
    drawn: list[tuple[list[float], list[float]]] = []
    original = report.plt.Axes.plot

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) >= 2 and np.ndim(args[0]) == 1 and len(args[0]) > 1:
            drawn.append((list(args[0]), list(args[1])))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(report.plt.Axes, "plot", spy)
    path = report.plot_validation_curves(runs, tmp_path / "curves.png", "title")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn[0][0] == [1, 2] and np.allclose(drawn[0][1], [55.0, 80.0])  # mean of the two seeds
    assert drawn[1][0] == [1, 2, 3] and np.allclose(drawn[1][1], [40.0, 80.0, 95.0])
    # two schedules of the same length and rule are two lines, not two seeds of one
    drawn.clear()
    named = [run | {"schedule": "long"} for run in runs[2:]] + [
        run_record("entropy", 0, 3, [0.6, 0.7, 0.9]) | {"schedule": "tuned"}
    ]
    report.plot_validation_curves(named, tmp_path / "schedules.png", "title")
    curves = [y for x, y in drawn if len(x) == 3]
    assert (
        len(curves) == 2 and np.allclose(curves[0], [40.0, 80.0, 95.0]) and np.allclose(curves[1], [60.0, 70.0, 90.0])
    )
    with pytest.raises(ValueError, match="no runs"):
        report.plot_validation_curves([], tmp_path / "empty.png", "title")


@pytest.mark.slow  # the distillation experiment end to end (one run for the module)
def test_end_of_run_table_lists_every_model_with_its_test_accuracy(run: dict[str, Any]) -> None:
    from simsat.results.experiment_table import print_experiment_table

    buffer = io.StringIO()
    print_experiment_table(run["folder"], buffer, width=160)
    text = buffer.getvalue()
    with (run["folder"] / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert text.count("│ student") == len(rows) - 2 and text.count("│ teacher") == 2
    assert text.count("student *") == 1
    for row in rows:
        assert f"{100 * float(row['test_accuracy']):.2f} %" in text
    assert "chosen on validation" in text

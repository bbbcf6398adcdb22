"""results.tensorboard: a run's scalars and a sweep's hyperparameters, read back with TensorBoard's own
reader; off by default and out of config hashes; refused in one line naming the extra without it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fake_run import FakeRun, write_fake_run
from simsat.cli.main import main
from simsat.config.load import load_config
from simsat.results.report import render_run
from simsat.results.runfolder import read_metrics, read_run
from simsat.results.tensorboard import write_hparams, write_run_scalars
from simsat.sweep.hashing import scenario_hash

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_tensorboard(folder: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, object]]:
    """(tag -> [(step, value)], hyperparameters) of one run's tensorboard/ folder, by TensorBoard's reader."""
    from tensorboard.plugins.hparams import metadata

    reader = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0})
    reader.Reload()
    scalars = {tag: [(e.step, e.value) for e in reader.Scalars(tag)] for tag in reader.Tags()["scalars"]}
    hparams: dict[str, object] = {}
    try:
        found = reader.PluginTagToContent(metadata.PLUGIN_NAME)
    except KeyError:  # no hyperparameters written
        found = {}
    for tag, content in found.items():
        if tag == metadata.SESSION_START_INFO_TAG:
            for key, value in metadata.parse_session_start_info_plugin_data(content).hparams.items():
                hparams[key] = value.string_value if value.HasField("string_value") else value.number_value
    return scalars, hparams


def test_a_runs_scalars_and_hyperparameters_read_back(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", FakeRun(hours=6.0, seed=1))
    write_run_scalars(read_run(folder))
    write_hparams(folder, {"seed": "1", "federation.aggregation": "sync", "imagery.share": "0.3"}, "run 1")
    scalars, hparams = read_tensorboard(folder / "tensorboard")
    metrics = read_metrics(folder / "metrics.csv")
    assert scalars["eval/accuracy"] == [(round(r.time_s), pytest.approx(r.accuracy)) for r in metrics]
    assert {"eval/precision", "eval/recall", "eval/f1", "eval/loss", "bytes/up", "bytes/down"} <= set(scalars)
    energy = [value for _, value in scalars["energy/onboard_wh"]]
    assert energy == sorted(energy) and energy[-1] > 0
    assert hparams == {"seed": 1.0, "federation.aggregation": "sync", "imagery.share": 0.3}
    assert not (folder / "tensorboard.partial").exists()


def test_the_run_page_writes_tensorboard_files_only_when_asked(tmp_path: Path) -> None:
    plain = write_fake_run(tmp_path / "plain", FakeRun(hours=4.0))
    render_run(plain)
    assert not (plain / "tensorboard").exists()
    asked = write_fake_run(tmp_path / "asked", FakeRun(hours=4.0))
    with (asked / "config.yaml").open("a") as handle:
        handle.write("results:\n  tensorboard: true\n")
    render_run(asked)
    assert "eval/accuracy" in read_tensorboard(asked / "tensorboard")[0]


def test_tensorboard_is_off_by_default_and_leaves_config_hashes_alone() -> None:
    config = load_config("tiny")
    assert config.results.tensorboard is False
    on = replace(config, results=replace(config.results, tensorboard=True))
    assert scenario_hash(on) == scenario_hash(config) == "0429cd176485"  # tiny's hash before the key existed


def test_asked_for_without_tensorboard_it_is_refused_naming_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "tensorboard", None)  # as if not installed
    code = main(["run", "scenario=tiny", "results.tensorboard=true", f"run.output_dir={tmp_path / 'runs'}"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "results.tensorboard=true" in line and 'pip install -e ".[tracking]"' in line
    assert not (tmp_path / "runs").exists()

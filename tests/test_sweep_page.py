"""The comparison page of a sweep: configs.csv against a hand computation, report.html (configurations,
confidence intervals, links to the runs' pages, failed runs, plots), the plots at 50 configurations,
and `simsat compare` on run and sweep folders."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fake_run import FakeRun, write_fake_run
from fake_sweep import FakeSweepRun, write_fake_sweep
from simsat.cli.main import main
from simsat.sweep.fold import t975
from simsat.sweep.gather import canonical, flatten
from simsat.sweep.page import write_sweep_page
from simsat.sweep.plots import pareto_front
from test_tensorboard import read_tensorboard

SWEPT = ["seed", "federation.aggregation"]


def _small_sweep(folder: Path) -> Path:
    return write_fake_sweep(
        folder,
        SWEPT,
        [
            FakeSweepRun({"seed": "1", "federation.aggregation": "sync"}, 0.80, 1.0, 2_000_000, 1.0, 10.0),
            FakeSweepRun({"seed": "1", "federation.aggregation": "fedbuff"}, 0.70, None, 1_000_000, 2.0, 20.0),
            FakeSweepRun({"seed": "2", "federation.aggregation": "sync"}, 0.84, 2.0, 2_000_000, 1.0, 12.0),
            FakeSweepRun({"seed": "2", "federation.aggregation": "fedbuff"}, 0.74, None, 3_000_000, 4.0, 24.0),
            FakeSweepRun({"seed": "3", "federation.aggregation": "sync"}, 0.86, None, 2_000_000, 1.0, 14.0),
            FakeSweepRun({"seed": "3", "federation.aggregation": "fedbuff"}, None, error="RuntimeError: boom"),
        ],
    )


def _configs(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "configs.csv").open(newline="") as handle:
        return {row["federation.aggregation"]: row for row in csv.DictReader(handle)}


def test_configs_csv_folds_seeds_as_computed_by_hand(tmp_path: Path) -> None:
    folder = _small_sweep(tmp_path / "sweep")
    write_sweep_page(folder)
    rows = _configs(folder)
    sync, fedbuff = rows["sync"], rows["fedbuff"]
    assert (sync["config"], sync["runs"], sync["done"], sync["failed"], sync["seeds"]) == ("c1", "3", "3", "0", "1;2;3")
    assert (fedbuff["config"], fedbuff["runs"], fedbuff["done"], fedbuff["failed"]) == ("c2", "3", "2", "1")
    # sync, final accuracy 0.80 0.84 0.86: mean 0.83333, sd sqrt((0.0333² + 0.00667² + 0.02667²) / 2) = 0.030551,
    # 95 % CI half-width t(0.975, 2) * sd / sqrt(3) = 4.303 * 0.030551 / 1.73205 = 0.075899
    assert float(sync["final_accuracy_mean"]) == pytest.approx(0.833333, abs=1e-5)
    assert float(sync["final_accuracy_std"]) == pytest.approx(0.030551, abs=1e-5)
    assert float(sync["final_accuracy_ci95"]) == pytest.approx(0.075899, abs=1e-5)
    # fedbuff, 0.70 and 0.74 (the third seed failed): mean 0.72, sd 0.028284, CI 12.706 * 0.028284 / sqrt(2) = 0.25412
    assert float(fedbuff["final_accuracy_mean"]) == pytest.approx(0.72, abs=1e-6)
    assert float(fedbuff["final_accuracy_std"]) == pytest.approx(0.028284, abs=1e-5)
    assert float(fedbuff["final_accuracy_ci95"]) == pytest.approx(0.25412, abs=1e-4)
    # hours to 0.80: two of sync's seeds reached it (1 h, 2 h); none of fedbuff's
    assert (sync["time_to_0.80_h_n"], float(sync["time_to_0.80_h_mean"])) == ("2", 1.5)
    assert float(sync["time_to_0.80_h_ci95"]) == pytest.approx(12.706 * math.sqrt(0.5) / math.sqrt(2), abs=1e-3)
    assert (fedbuff["time_to_0.80_h_n"], fedbuff["time_to_0.80_h_mean"], fedbuff["time_to_0.80_h_std"]) == ("0", "", "")
    # bytes down 1 MB and 3 MB, energy 2 and 4 Wh, wall time from runs.csv (20 s and 24 s)
    assert float(fedbuff["bytes_down_mean"]) == 2_000_000 and float(fedbuff["bytes_down_std"]) == pytest.approx(
        math.sqrt(2) * 1_000_000
    )
    assert float(fedbuff["energy_wh_mean"]) == 3.0 and float(fedbuff["wall_s_mean"]) == 22.0
    assert sync["bytes_down_std"] == "0"


def test_t_quantiles() -> None:
    assert t975(1) == 12.706 and t975(30) == 2.042
    assert t975(40) == pytest.approx(2.021, abs=1e-3) and t975(120) == pytest.approx(1.980, abs=1e-3)


def test_the_pareto_front_keeps_what_nothing_beats() -> None:
    points = [(1.0, 0.5, "a"), (2.0, 0.7, "b"), (2.5, 0.6, "c"), (3.0, 0.9, "d"), (1.0, 0.4, "e")]
    assert [p[2] for p in pareto_front(points)] == ["a", "b", "d"]


def test_the_page_shows_every_configuration_its_runs_failures_and_plots(tmp_path: Path) -> None:
    folder = _small_sweep(tmp_path / "sweep")
    page = write_sweep_page(folder).read_text()
    assert {p.name for p in folder.glob("*.png")} == {"accuracy.png", "final_accuracy.png", "tradeoffs.png"}
    for plot in ("accuracy", "final_accuracy", "tradeoffs"):
        assert f'id="plot-{plot}" ' in page
    assert "<tr id='c1'>" in page and "<tr id='c2'>" in page
    assert "83.33 % ± 3.06" in page and "95 % CI 75.74 % – 90.92 %" in page
    assert "reached by 2 of 3" in page
    links = re.findall(r"<a href='([^']+)'", page)
    assert len(links) == 5 and all((folder / link).resolve().is_file() for link in links)
    assert "RuntimeError: boom" in page.split("<h2>Failed runs</h2>")[1].split("<h2>")[0]
    assert "http-equiv=refresh" not in page  # nothing pending: no reload
    assert 'src="http' not in page and "<script src" not in page  # offline


def test_a_page_made_while_runs_are_pending_says_so_and_reloads(tmp_path: Path) -> None:
    folder = _small_sweep(tmp_path / "sweep")
    text = (folder / "runs.csv").read_text().replace(",failed,", ",pending,")
    (folder / "runs.csv").write_text(text)
    page = write_sweep_page(folder).read_text()
    assert "5 done, 0 failed, 1 pending" in page and "http-equiv=refresh" in page


def test_plots_stay_readable_at_50_configurations(tmp_path: Path) -> None:
    runs = [
        FakeSweepRun(
            {"seed": str(seed), "imagery.share": f"{share:.1f}", "federation.buffer_size": str(buffer)},
            0.6 + 0.03 * share * 10 - 0.01 * buffer + 0.01 * seed,
            5.0 + buffer if share > 0.5 else None,
            int(1e6 * (1 + share * 10)),
            1.0 + buffer / 10,
        )
        for share in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
        for buffer in (1, 2, 3, 4, 5)
        for seed in (1, 2)
    ]
    folder = write_fake_sweep(tmp_path / "big", ["seed", "imagery.share", "federation.buffer_size"], runs)
    page = write_sweep_page(folder).read_text()
    assert "<tr id='c50'>" in page
    assert all((folder / name).stat().st_size > 10_000 for name in ("accuracy.png", "tradeoffs.png"))


def _fake_runs(tmp_path: Path) -> list[Path]:
    runs = []
    for i, capacity in enumerate((30.0, 30.0, 60.0)):
        runs.append(write_fake_run(tmp_path / f"run{i}", FakeRun(hours=4.0, seed=i, capacity_wh=capacity)))
    return runs


def test_compare_builds_the_page_from_run_and_sweep_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = _small_sweep(tmp_path / "sweep")
    runs = _fake_runs(tmp_path)
    out = tmp_path / "cmp"
    assert main(["compare", str(sweep), *map(str, runs), "--out", str(out)]) == 0
    assert Path(capsys.readouterr().out.strip().splitlines()[-1]) == out / "report.html"
    page = (out / "report.html").read_text()
    rows = list(csv.DictReader((out / "configs.csv").open()))
    # the runs by hand differ from each other in satellite.power.capacity_wh (and from the sweep's in more)
    assert "satellite.power.capacity_wh" in rows[0] and "federation.aggregation" in rows[0]
    by_capacity = {r["satellite.power.capacity_wh"]: r for r in rows if r["satellite.power.capacity_wh"]}
    assert by_capacity["30"]["done"] == "2" and by_capacity["60"]["done"] == "1"
    assert "RuntimeError: boom" in page and page.count("<tr id='c") == len(rows)


def test_compare_refuses_a_folder_that_is_neither_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _fake_runs(tmp_path)[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "cmp"
    for bad in (empty, tmp_path / "missing"):
        assert main(["compare", str(run), str(bad), "--out", str(out)]) == 2
        captured = capsys.readouterr()
        (line,) = captured.err.strip().splitlines()
        assert line.startswith("simsat: error: compare: ") and str(bad) in line and captured.out == ""
        assert not out.exists()


def _chromium() -> str | None:
    return next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)


def _dom(browser: str, page: Path) -> str:
    """The page's DOM after its scripts ran, as headless Chromium renders it offline."""
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


def _browser() -> str:
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on this machine")
    return browser


def _sorted_rows(browser: str, folder: Path, clicks: int) -> list[str]:
    """The configuration rows' order after `clicks` clicks on the configuration header."""
    sorted_page = folder / "sorted.html"
    clicking = "h.click();" * clicks
    script = f"<script>var h = document.querySelector('#configs-table th'); {clicking}</script></body>"
    sorted_page.write_text((folder / "report.html").read_text().replace("</body>", script))
    return re.findall(r'<tr id="(c\d+)">', _dom(browser, sorted_page))


def test_the_page_sorts_by_a_click_in_headless_chromium(tmp_path: Path) -> None:
    browser = _browser()
    folder = _small_sweep(tmp_path / "sweep")
    write_sweep_page(folder)
    assert _sorted_rows(browser, folder, 1) == ["c1", "c2"]
    assert _sorted_rows(browser, folder, 2) == ["c2", "c1"]


@pytest.mark.slow
def test_a_real_sweeps_page_renders_in_headless_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2 configurations x 2 seeds of `tiny`, one simulated hour: the page as a browser shows it (~1 min),
    and every run's accuracy in TensorBoard's files with the swept keys as hyperparameters."""
    browser = _browser()
    items = ["scenario=tiny", "mission.duration_hours=1", "results.tensorboard=true", "data.n_images=200"]
    items += ["reference.epochs=0", "run.threads=1"]
    items += ["distill.teachers=[{name: resnet8, input_size: 32, epochs: 1}]", "seed=1,2"]
    items += ["federation.aggregation=sync,fedbuff", f"sweep.output_dir={tmp_path}", f"data.cache_dir={tmp_path}/c"]
    assert main(["sweep", *items]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1])
    dom = _dom(browser, folder / "report.html")
    assert "2 configurations, 4 runs: 4 done, 0 failed, 0 pending" in dom
    for config, aggregation in (("c1", "sync"), ("c2", "fedbuff")):
        row = dom.split(f'<tr id="{config}">')[1].split("</tr>")[0]
        assert aggregation in row and "2 of 2" in row and "95 % CI" in row
        assert row.count("report.html") == 2
    for plot in ("accuracy", "final_accuracy", "tradeoffs"):
        assert f'id="plot-{plot}"' in dom and (folder / f"{plot}.png").is_file()
    assert _sorted_rows(browser, folder, 2) == ["c2", "c1"]
    runs = list(csv.DictReader((folder / "runs.csv").open()))
    for row in runs:
        scalars, hparams = read_tensorboard(folder / row["run_folder"] / "tensorboard")
        assert [v for _, v in scalars["eval/accuracy"]][-1] == pytest.approx(float(row["final_accuracy"]), abs=1e-4)
        assert hparams == {"seed": float(row["seed"]), "federation.aggregation": row["federation.aggregation"]}


def test_configs_are_told_apart_by_leaf_keys_and_numbers_in_one_form() -> None:
    config = {"mission": {"duration_hours": 6.0}, "distill": {"teachers": [{"name": "a", "epochs": 2}]}, "x": [1, 2]}
    assert flatten(config) == {
        "mission.duration_hours": "6",
        "distill.teachers.count": "1",
        "distill.teachers.0.name": "a",
        "distill.teachers.0.epochs": "2",
        "x": "[1, 2]",
    }
    assert [canonical(v) for v in ("0.30", "6.0", "1e-3", "sync", "nan")] == ["0.3", "6", "0.001", "sync", "nan"]

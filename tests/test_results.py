"""Run-folder rendering from files: plots, README, report page, end-of-run table and its warnings."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fake_run import FakeRun, write_fake_run
from simsat.results.facts import run_warnings
from simsat.results.recorder import Recorder
from simsat.results.report import contact_rows, render_run
from simsat.results.runfolder import BATTERY_COLUMNS, battery_facts, read_battery, read_run, write_battery_csv
from simsat.results.style import MARKER_CONTRIBUTORS_CAP, contributors_marker_size, sample_satellites
from simsat.results.table import print_summary, summary_table

OUTPUTS = ("accuracy.png", "timeline.png", "battery.png", "report.html", "README.md")


@pytest.fixture(scope="module")
def run4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_fake_run(tmp_path_factory.mktemp("run") / "run4", FakeRun(satellites=4, hours=12.0))
    render_run(folder)
    return folder


def test_render_run_writes_every_output(run4: Path) -> None:
    for name in OUTPUTS:
        assert (run4 / name).stat().st_size > 0, name
    for name in ("accuracy.png", "timeline.png", "battery.png"):
        with Image.open(run4 / name) as image:
            assert image.width >= 800 and image.height >= 300, name
    readme = (run4 / "README.md").read_text()
    for word in ("metrics.csv", "staleness", "battery.csv", "events.jsonl", "report.html", "transfer"):
        assert word in readme


def test_metrics_keep_every_contributor_and_its_staleness(run4: Path) -> None:
    run = read_run(run4)
    with (run4 / "metrics.csv").open() as f:
        raw = [r for r in csv.DictReader(f) if r["event"] == "aggregation"]
    parsed = [r for r in run.metrics if r.event == "aggregation"]
    assert len(parsed) == len(raw) > 0
    for row, text in zip(parsed, raw, strict=True):
        assert row.satellites == [int(s) for s in text["satellite"].split(";")]
        assert len(row.staleness) == len(row.satellites)
    assert [r.event for r in run.metrics][0] == "initial" and run.metrics[-1].event == "final"


def test_contact_table_counts_bytes_and_cut_transfers(run4: Path) -> None:
    run = read_run(run4)
    rows = contact_rows(run)
    assert len(rows) == len(run.of_kind("contact_start"))
    moved = sum(int(e["bytes"]) for e in run.of_kind("transfer"))
    assert sum(r.bytes_up + r.bytes_down for r in rows) == moved
    cut = sum(1 for e in run.of_kind("transfer") if not e["complete"])
    assert sum(r.cut for r in rows) == cut > 0


def test_empty_folder_renders_without_error(tmp_path: Path) -> None:
    render_run(tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert "No contacts" in page and "summary.json holds no facts" in page
    assert "holds none of the facts" in summary_table({})


def test_twenty_four_satellites_are_sampled_and_say_so(tmp_path: Path) -> None:
    shown, note = sample_satellites(list(range(24)), 12)
    assert shown == list(range(0, 24, 2)) and note == "12 of 24 satellites shown (every 2nd)"
    assert sample_satellites(list(range(4)), 12) == ([0, 1, 2, 3], "")
    assert sample_satellites(list(range(1000)), 12)[1] == "12 of 1000 satellites shown (about every 83rd)"
    assert sample_satellites(list(range(36)), 12)[1] == "12 of 36 satellites shown (every 3rd)"
    assert sample_satellites(list(range(132)), 12)[1] == "12 of 132 satellites shown (every 11th)"
    folder = write_fake_run(tmp_path / "run24", FakeRun(satellites=24, hours=6.0, buffer=4))
    render_run(folder)
    with Image.open(folder / "timeline.png") as image:
        assert image.height < 1.2 * image.width  # 12 rows, not 24


def test_aggregation_markers_grow_with_contributors_up_to_a_cap() -> None:
    """A 1,000-satellite run aggregates 200 updates at once: its markers must not cover the plot."""
    sizes = [contributors_marker_size(n, 25, 25) for n in (0, 1, 2, MARKER_CONTRIBUTORS_CAP, 200)]
    assert sizes[0] == sizes[1] == 50 < sizes[2] < sizes[3] == sizes[4] == 25 + 25 * MARKER_CONTRIBUTORS_CAP


def test_battery_csv_round_trip_and_facts(tmp_path: Path) -> None:
    path = tmp_path / "battery.csv"
    written = write_battery_csv(
        path, {1: [(0, 0.5), (60, 0.0), (120, 0.0), (180, 0.2)], 0: [(0, 0.9), (60.04, 0.81234)]}
    )
    histories = read_battery(path)
    assert list(histories) == [0, 1] and histories[1] == ([0.0, 60.0, 120.0, 180.0], [0.5, 0.0, 0.0, 0.2])
    assert histories[0] == ([0.0, 60.0], [0.9, 0.8123])  # rounded as written
    assert written == histories  # what the writer hands back is what a reader of the file gets
    assert path.read_bytes().startswith(b"time_s,satellite,soc\r\n0.0,0,0.9000\r\n")
    facts = battery_facts(histories)
    assert facts == {"min_soc": 0.0, "satellites_empty": [1], "seconds_empty": 120.0}


def test_a_run_rendered_with_the_histories_it_wrote_is_the_run_rendered_from_its_files(
    run4: Path, tmp_path: Path
) -> None:
    """The runner hands `render_run` the battery histories `write_battery_csv` returned, instead
    of reading battery.csv back: the pages and plots are the same, and the file is not read (here
    it is emptied after its histories were taken, so a page drawn from it would differ)."""
    folder = tmp_path / "run4"
    shutil.copytree(run4, folder)
    for name in OUTPUTS:
        (folder / name).unlink()
    histories = read_battery(folder / "battery.csv")
    assert histories
    (folder / "battery.csv").write_text(",".join(BATTERY_COLUMNS) + "\n")
    render_run(folder, histories)
    for name in OUTPUTS:
        ours, theirs = ((f / name).read_bytes().replace(bytes(f.resolve()), b"RUN") for f in (folder, run4))
        assert ours == theirs, name  # the same but for the folder the page names


def test_battery_csv_reader_skips_rows_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "battery.csv"
    path.write_text(
        "satellite,time_s,soc,note\n"  # columns found by name, in any order, extra ones ignored
        "2,0.0,0.5,x\n"
        "2,60.0,nan,x\n"  # not a number a plot can use
        "2,bad,0.4,x\n"
        "2,90.0\n"  # short row
        "2, 120.0 ,0.3,x\n"
        "3,,0.2,x\n"
        "3,10.0,inf,x\n"
    )
    assert read_battery(path) == {2: ([0.0, 120.0], [0.5, 0.3])}
    (tmp_path / "other.csv").write_text("t,sat,charge\n0,1,0.5\n")
    assert read_battery(tmp_path / "other.csv") == {}  # not a battery file: nothing, not an error


def test_summary_table_shows_numbers_and_no_warning_for_a_good_run(run4: Path) -> None:
    summary = json.loads((run4 / "summary.json").read_text())
    text = summary_table(summary)
    assert f"{100 * summary['accuracy']['final']:.2f} %" in text
    assert "bytes up" in text and "aggregations" in text and "contacts" in text
    assert "warning" not in text
    assert all(len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"aggregations": 0}, "no aggregation"),
        ({"battery": {"min_soc": 0.0, "satellites_empty": [2], "seconds_empty": 900.0}}, "battery hit empty"),
        ({"accuracy": {"initial": 0.1, "final": 0.6, "best": 0.7}}, "accuracy fell at the end"),
        ({"contacts": 0}, "no contact"),
    ],
)
def test_warnings_for_runs_that_say_little(run4: Path, change: dict, expected: str) -> None:
    summary = {**json.loads((run4 / "summary.json").read_text()), **change}
    assert any(expected in w for w in run_warnings(summary))
    assert expected in summary_table(summary)


def test_fake_runs_that_say_little_warn_from_their_files(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "empty", FakeRun(satellites=2, hours=3.0, aggregate=False))
    render_run(folder)
    assert "no aggregation" in (folder / "report.html").read_text()
    folder = write_fake_run(tmp_path / "flat", FakeRun(satellites=2, hours=12.0, capacity_wh=1.0))
    assert battery_facts(read_run(folder).battery)["satellites_empty"]
    out = tmp_path / "stderr.txt"
    with out.open("w") as stream:  # summary.json has no battery section: battery.csv tells
        print_summary(folder, stream)
    assert "battery hit empty" in out.read_text()


def test_print_summary_writes_plain_text_to_a_file(run4: Path, tmp_path: Path) -> None:
    out = tmp_path / "stderr.txt"
    with out.open("w") as stream:
        print_summary(run4, stream)
        print_summary(tmp_path / "missing", stream)  # no summary.json: prints nothing
    text = out.read_text()
    assert text.startswith("simsat run: fake") and "\x1b[" not in text


def test_satellites_go_by_their_constellation_names(tmp_path: Path) -> None:
    """A run's summary names its satellites as `simsat contacts` does (index order, as events.jsonl
    numbers them); its plots and pages label them so; older folders fall back to `sat N`."""
    folder = write_fake_run(tmp_path / "run")
    summary = json.loads((folder / "summary.json").read_text())
    summary["satellite_names"] = [f"walker-p0s{i}" for i in range(summary["satellites"])]
    (folder / "summary.json").write_text(json.dumps(summary))
    run = read_run(folder)
    assert run.satellite_name(1) == "walker-p0s1" and run.satellite_name(99) == "sat 99"
    del summary["satellite_names"]
    (folder / "summary.json").write_text(json.dumps(summary))
    assert read_run(folder).satellite_name(1) == "sat 1"


def test_event_times_keep_the_millisecond_late_in_a_mission(tmp_path: Path) -> None:
    """Times in events (`time_s` and fields ending in `_s`) keep six significant digits and at least
    the millisecond, even after a simulated day; other floats keep six significant digits."""
    recorder = Recorder(tmp_path)
    recorder.event(
        "isl_transfer", 86401.2341, start_s=np.float64(86401.0012), busy_s=3.241107, bytes=5, energy_wh=1.23456789
    )
    recorder.close()
    (event,) = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert event["time_s"] == 86401.234 and event["start_s"] == 86401.001 and event["busy_s"] == 3.24111
    assert event["bytes"] == 5 and event["energy_wh"] == 1.23457

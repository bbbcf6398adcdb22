"""Eclipses: recorded per satellite in events.jsonl (in time order with the mission's events) and
drawn on the timeline and battery plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from fake_run import write_fake_run
from simsat.results import battery_plot, timeline_plot
from simsat.results.eclipses import record_eclipses
from simsat.results.recorder import Recorder
from simsat.results.runfolder import intervals, read_run
from simsat.results.style import ECLIPSE

SHADOWS = [[(0.0, 1200.0), (5000.0, 7100.0)], [(3000.0, 5100.0), (40_000.0, 43_200.0)]]
DURATION_S = 43_200.0


def _record(folder: Path) -> list[dict[str, Any]]:
    recorder = Recorder(folder)
    recorder.event("contact_start", 2000.0, satellite=0, station="svalbard")
    recorder.event("contact_end", 2500.0, satellite=0, station="svalbard")
    assert record_eclipses(recorder, SHADOWS, DURATION_S) == 4
    recorder.close()
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def test_eclipses_are_recorded_per_satellite_in_time_order(tmp_path: Path) -> None:
    events = _record(tmp_path)
    times = [e["time_s"] for e in events]
    assert times == sorted(times)
    eclipses = [(e["kind"], e["satellite"], e["time_s"]) for e in events if e["kind"].startswith("eclipse")]
    assert eclipses == [
        ("eclipse_start", 0, 0.0),
        ("eclipse_end", 0, 1200.0),
        ("eclipse_start", 1, 3000.0),
        ("eclipse_start", 0, 5000.0),
        ("eclipse_end", 1, 5100.0),
        ("eclipse_end", 0, 7100.0),
        ("eclipse_start", 1, 40_000.0),  # still in shadow at the end: no eclipse_end
    ]
    assert not list(tmp_path.glob("*.partial"))


def _figure(module: Any, monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    drawn: list[Figure] = []

    def keep(fig: Figure, path: Path) -> Path:
        drawn.append(fig)
        return path

    monkeypatch.setattr(module, "save", keep)
    return drawn


def test_plots_shade_the_recorded_eclipses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_fake_run(tmp_path / "run")
    scratch = tmp_path / "events"
    scratch.mkdir()
    _record(scratch)
    (folder / "events.jsonl").write_text((scratch / "events.jsonl").read_text())
    run = read_run(folder)
    assert len(intervals(run, "eclipse_start", "eclipse_end")) == 4

    timelines = _figure(timeline_plot, monkeypatch)
    timeline_plot.plot_timeline(run, tmp_path / "timeline.png")
    shaded = [
        c
        for ax in timelines[0].axes
        for c in ax.collections
        if len(c.get_facecolor()) and tuple(c.get_facecolor()[0]) == pytest.approx(to_rgba(ECLIPSE, 0.35))
    ]
    assert sum(len(c.get_paths()) for c in shaded) == 4  # one bar per eclipse, both satellites

    batteries = _figure(battery_plot, monkeypatch)
    battery_plot.plot_battery(run, tmp_path / "battery.png")
    spans = [
        p
        for ax in batteries[0].axes
        for p in ax.patches
        if tuple(p.get_facecolor()) == pytest.approx(to_rgba(ECLIPSE, 0.3))
    ]
    assert len(spans) == 4

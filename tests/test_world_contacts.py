"""Contact plans: against skyfield's find_events (SGP4) and against dense sampling (Walker)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world import Station, contact_plan, tle_satellites, walker_satellites
from simsat.world.contacts import compute_contacts
from simsat.world.timebase import Epoch
from simsat.world.tle import tle_satellites_from_text
from world_skyfield import ISS_TLE, make_tle, skyfield_timescale

STATIONS = [
    Station("luxembourg", 49.61, 6.13, 0.3, 10.0),
    Station("svalbard", 78.23, 15.39, 0.5, 5.0),
    Station("equator", 0.5, -30.0, 0, 0.0),
    Station("south", -45.0, 170.0, 0.05, 15.0),
    Station("troll", -72.01, 2.53, 1.3, 10.0),
]


def _skyfield_events(
    l1: str, l2: str, station: Station, start: datetime, hours: float
) -> tuple[list[datetime], list[datetime]]:
    from skyfield.api import EarthSatellite, wgs84

    ts = skyfield_timescale()
    sat = EarthSatellite(l1, l2, "x", ts)
    topo = wgs84.latlon(station.latitude_deg, station.longitude_deg, station.altitude_km * 1000.0)
    t, ev = sat.find_events(
        topo,
        ts.from_datetime(start),
        ts.from_datetime(start + timedelta(hours=hours)),
        altitude_degrees=station.min_elevation_deg,
    )
    rises = [x.utc_datetime() for x, e in zip(t, ev, strict=True) if e == 0]
    sets = [x.utc_datetime() for x, e in zip(t, ev, strict=True) if e == 2]
    return rises, sets


def _compare(text: str, lines: list[tuple[str, str]], start: datetime, hours: float) -> int:
    """Every rise and set skyfield finds is one of ours within 2 s, and no more; returns the count."""
    sats = tle_satellites_from_text(text)
    plan = contact_plan(sats, STATIONS, start, hours * 3600.0)
    checked = 0
    for name, (l1, l2) in zip(sats.names, lines, strict=True):
        for station in STATIONS:
            rises, sets = _skyfield_events(l1, l2, station, start, hours)
            ours = [c for c in plan if c.satellite == name and c.station == station.name]
            our_rises = [c.start for c in ours if c.start > start]
            our_sets = [c.end for c in ours if c.end < start + timedelta(hours=hours)]
            assert len(our_rises) == len(rises) and len(our_sets) == len(sets), (name, station.name)
            for ours_t, theirs in zip(our_rises + our_sets, rises + sets, strict=True):
                assert abs((ours_t - theirs).total_seconds()) < 2.0, (name, station.name, ours_t, theirs)
                checked += 1
    return checked


def test_real_tle_passes_match_skyfield_within_two_seconds() -> None:
    name, l1, l2 = ISS_TLE
    checked = _compare(f"{name}\n{l1}\n{l2}\n", [(l1, l2)], datetime(2019, 12, 9, 12, tzinfo=timezone.utc), 24.0)
    assert checked >= 12


def test_synthetic_tles_match_skyfield_within_two_seconds() -> None:
    epoch = datetime(2025, 3, 20, tzinfo=timezone.utc)
    lines = [
        make_tle(90001, epoch, 97.6, 10.0, 0.001, 90.0, 0.0, 15.06),  # 550 km sun-synchronous
        make_tle(90002, epoch, 53.0, 200.0, 0.0002, 0.0, 120.0, 15.4),  # 500 km, 53 degrees
        make_tle(90003, epoch, 87.9, 300.0, 0.02, 45.0, 200.0, 13.2),  # eccentric, 1,100 km mean
    ]
    text = "".join(f"SAT{k}\n{l1}\n{l2}\n" for k, (l1, l2) in enumerate(lines))
    checked = _compare(text, lines, epoch + timedelta(hours=6), 24.0)
    assert checked >= 40


def _dense_windows(
    sats, station: Station, epoch: Epoch, duration: float, step: float = 1.0
) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    t = np.arange(0.0, duration + step / 2, step)
    p = sats.ecef_grid(epoch, t, np.array([0]))[0]
    up = station.elevation_deg(p) >= station.min_elevation_deg
    edges = np.flatnonzero(np.diff(up.astype(int)))
    out, begin = [], 0.0 if up[0] else None
    for k in edges:
        if up[k + 1]:
            begin = t[k + 1]
        elif begin is not None:
            out.append((begin, t[k]))
            begin = None
    return out


def test_walker_plan_matches_dense_sampling_of_its_own_propagator() -> None:
    start = datetime(2025, 3, 20, tzinfo=timezone.utc)
    epoch = Epoch(start)
    sats = walker_satellites(550.0, 53.0, 1, 1, 0, epoch=start, raan0_deg=33.0)
    for idx, station in enumerate(STATIONS):
        ours = [w for w in compute_contacts(sats, STATIONS, epoch, 86400.0) if w.station == idx]
        dense = _dense_windows(sats, station, epoch, 86400.0)
        assert len(ours) == len(dense), station.name
        for w, (a, b) in zip(ours, dense, strict=True):
            assert a - 1.0 <= w.start_s <= a + 1e-6 or w.start_s == 0.0
            assert b - 1e-6 <= w.end_s <= b + 1.0 or w.end_s == 86400.0


def test_a_short_grazing_pass_between_coarse_samples_is_found() -> None:
    start = datetime(2025, 3, 20, tzinfo=timezone.utc)
    epoch = Epoch(start)
    sats = walker_satellites(550.0, 53.0, 1, 1, 0, epoch=start, raan0_deg=33.0)
    first = compute_contacts(sats, STATIONS[:1], epoch, 86400.0)[0]
    s0 = STATIONS[0]
    grazing = Station("grazing", s0.latitude_deg, s0.longitude_deg, s0.altitude_km, first.max_elevation_deg - 0.05)
    # the screening step is 5 minutes; the pass above the raised mask lasts well under a minute
    windows = compute_contacts(sats, [grazing], epoch, 86400.0, step_s=300.0)
    short = [w for w in windows if abs(w.start_s - first.start_s) < 600.0]
    assert len(short) == 1 and short[0].duration_s < 60.0
    w = short[0]
    p = sats.ecef_at(epoch, np.zeros(3, dtype=int), np.array([w.start_s, 0.5 * (w.start_s + w.end_s), w.end_s]))
    el = grazing.elevation_deg(p)
    assert el[0] == pytest.approx(grazing.min_elevation_deg, abs=1e-3)
    assert el[2] == pytest.approx(grazing.min_elevation_deg, abs=1e-3)
    assert el[1] > grazing.min_elevation_deg
    assert len(windows) == len(_dense_windows(sats, grazing, epoch, 86400.0, step=0.5))


def test_plan_is_independent_of_chunking_and_sorted() -> None:
    start = datetime(2025, 3, 20, tzinfo=timezone.utc)
    sats = walker_satellites(500.0, 97.4, 6, 4, 1, epoch=start)
    epoch = Epoch(start)
    whole = compute_contacts(sats, STATIONS, epoch, 43200.0)
    pieces = compute_contacts(sats, STATIONS, epoch, 43200.0, chunk_cells=1)
    assert whole == pieces
    assert [w.start_s for w in whole] == sorted(w.start_s for w in whole)
    assert {w.satellite for w in whole} == set(range(24))


def test_contact_plan_api_names_and_utc() -> None:
    start = datetime(2025, 3, 20, 1, tzinfo=timezone(timedelta(hours=1)))  # 00:00 UTC
    sats = walker_satellites(550.0, 97.6, 2, 2, 1, epoch=start, name="demo")
    plan = contact_plan(sats, [Station("svalbard", 78.23, 15.39, 0.5, 5.0)], start=start, duration_s=6 * 3600.0)
    assert plan and all(c.satellite.startswith("demo-p") and c.station == "svalbard" for c in plan)
    assert all(c.start.tzinfo is timezone.utc and c.start < c.end for c in plan)
    assert plan[0].start >= datetime(2025, 3, 20, tzinfo=timezone.utc)
    assert all(0 < c.max_elevation_deg <= 90 for c in plan)
    with pytest.raises(ConfigError, match="aware"):
        contact_plan(sats, [], start=datetime(2025, 3, 20), duration_s=60.0)


def test_window_open_at_start_begins_at_zero() -> None:
    start = datetime(2025, 3, 20, tzinfo=timezone.utc)
    sats = walker_satellites(500.0, 90.0, 1, 1, 0, epoch=start, raan0_deg=0.0, j2=False)
    epoch = Epoch(start)
    p = sats.ecef_at(epoch, np.array([0]), np.array([0.0]))[0]
    lat = math.degrees(math.asin(p[2] / np.linalg.norm(p)))
    lon = math.degrees(math.atan2(p[1], p[0]))
    below = Station("below", lat, lon, 0.0, 10.0)
    windows = compute_contacts(sats, [below], epoch, 3600.0)
    assert windows[0].start_s == 0.0 and windows[0].max_elevation_deg > 85.0


def test_tle_file_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    name, l1, l2 = ISS_TLE
    path = tmp_path / "iss.tle"
    path.write_text(f"{name}\n{l1}\n{l2}\n")
    sats = tle_satellites(path)
    assert sats.names == ["ISS (ZARYA)"]
    plan = contact_plan(sats, STATIONS[:1], datetime(2019, 12, 9, 12, tzinfo=timezone.utc), 86400.0)
    assert len(plan) == 5 and plan[0].satellite == "ISS (ZARYA)"

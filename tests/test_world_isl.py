"""Inter-satellite link windows: against closed forms and against a brute-force 1 s scan."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world import IslWindow, isl_plan, walker_satellites
from simsat.world.constants import EARTH_RADIUS_KM
from simsat.world.isl import compute_isl, isl_pairs, orbit_planes
from simsat.world.satellites import Satellites
from simsat.world.timebase import Epoch
from simsat.world.tle import TleSatellites, format_tle
from simsat.world.walker import WalkerSatellites

START = datetime(2025, 3, 20, 6, 0, tzinfo=timezone.utc)
EPOCH = Epoch(START)
R = EARTH_RADIUS_KM + 550.0


def _ring(n: int) -> WalkerSatellites:
    return walker_satellites(550.0, 53.0, 1, n, 0, epoch=START, name="ring")


def _shell() -> WalkerSatellites:
    return walker_satellites(550.0, 53.0, 4, 10, 1, epoch=START)


def _as_tles(shell: WalkerSatellites) -> TleSatellites:
    sets = []
    for k, name in enumerate(shell.names):
        l1, l2 = format_tle(
            20000 + k,
            START,
            math.degrees(float(shell.inc[k])),
            math.degrees(float(shell.raan0[k])),
            0.0001,
            0.0,
            math.degrees(float(shell.u0[k])),
            86400.0 * float(shell.u_rate[k]) / (2.0 * math.pi),
        )
        sets.append((name, l1, l2))
    return TleSatellites(sets, "test")


def _links(ra: np.ndarray, rb: np.ndarray, max_range: float, grazing: float) -> np.ndarray:
    """Written independently of the module: the line's distance from the centre, and whether its
    closest point lies between the two satellites."""
    d = rb - ra
    length = np.linalg.norm(d, axis=-1)
    line = np.linalg.norm(np.cross(ra, rb), axis=-1) / length
    between = (np.sum(ra * d, axis=-1) < 0.0) & (np.sum(rb * d, axis=-1) > 0.0)
    clear = ~between | (line >= EARTH_RADIUS_KM + grazing)
    return clear & (length <= max_range)


def _scan(sats: Satellites, a: int, b: int, hours: float, max_range: float, grazing: float = 80.0) -> list[float]:
    """Times (s) where the link state flips on a 1 s scan."""
    t = np.arange(0.0, hours * 3600.0 + 0.5, 1.0)
    pos = sats.eci_grid(EPOCH, t, np.array([a, b]))
    ok = _links(pos[0], pos[1], max_range, grazing)
    return (t[1:][ok[1:] != ok[:-1]] - 0.5).tolist()


def _our_edges(spans: list, a: int, b: int, horizon: float) -> list[float]:
    edges = []
    for s in spans:
        if (s.a, s.b) == (a, b):
            edges += [x for x in (s.start_s, s.end_s) if 0.0 < x < horizon]
    return sorted(edges)


def test_ten_in_a_plane_see_their_neighbours_all_the_time() -> None:
    chord = 2.0 * R * math.sin(math.radians(18.0))
    assert chord == pytest.approx(4282.0, abs=1.0)
    plan = isl_plan(_ring(10), start=START, duration_s=6 * 3600.0, max_range_km=5000.0)
    assert len(plan) == 10
    names = _ring(10).names
    expected = {tuple(sorted((names[k], names[(k + 1) % 10]))) for k in range(10)}
    assert {(w.a, w.b) for w in plan} == expected
    for w in plan:
        assert isinstance(w, IslWindow)
        assert w.start == START and w.end == START + timedelta(hours=6)
        assert w.min_range_km == pytest.approx(chord, rel=1e-9)
        assert w.max_range_km == pytest.approx(chord, rel=1e-9)


def test_eight_in_a_plane_are_hidden_by_the_earth() -> None:
    lowest = R * math.cos(math.radians(22.5)) - EARTH_RADIUS_KM  # the chord's closest approach
    assert 0.0 < lowest < 80.0
    assert isl_plan(_ring(8), start=START, duration_s=6 * 3600.0, max_range_km=10_000.0) == []
    # with a grazing altitude below the chord's lowest point they link the whole time
    plan = isl_plan(_ring(8), START, 3600.0, 10_000.0, grazing_altitude_km=lowest - 1.0)
    assert len(plan) == 8 and all(w.duration_s == 3600.0 for w in plan)


@pytest.mark.parametrize(("max_range", "grazing"), [(3000.0, 80.0), (20_000.0, 80.0), (6000.0, 300.0)])
def test_cross_plane_edges_match_a_one_second_scan(max_range: float, grazing: float) -> None:
    shell, hours = _shell(), 6.0
    spans = compute_isl(shell, EPOCH, hours * 3600.0, max_range, grazing, pairs="all")
    planes = orbit_planes(shell, EPOCH)
    plane_of = {i: k for k, members in enumerate(planes) for i in members}
    checked = 0
    for a, b in [(0, 11), (0, 25), (3, 14), (7, 38), (2, 30), (5, 16)]:
        assert plane_of[a] != plane_of[b]
        theirs = _scan(shell, a, b, hours, max_range, grazing)
        ours = _our_edges(spans, a, b, hours * 3600.0)
        assert len(ours) == len(theirs), (a, b, ours, theirs)
        assert np.all(np.abs(np.array(ours) - np.array(theirs)) <= 1.0), (a, b)
        checked += len(ours)
    assert checked > 20


def test_tle_satellites_give_the_walker_shells_windows() -> None:
    shell = _shell()
    tles = _as_tles(shell)
    hours = 3.0
    ours = compute_isl(tles, EPOCH, hours * 3600.0, 3000.0, pairs="grid")
    walker = compute_isl(shell, EPOCH, hours * 3600.0, 3000.0, pairs="grid")
    assert {(s.a, s.b) for s in ours} == {(s.a, s.b) for s in walker}
    checked = 0
    for a, b in sorted({(s.a, s.b) for s in ours})[:12]:
        theirs = _scan(tles, a, b, hours, 3000.0)
        edges = _our_edges(ours, a, b, hours * 3600.0)
        assert len(edges) == len(theirs), (a, b)
        assert np.all(np.abs(np.array(edges) - np.array(theirs)) <= 1.0), (a, b)
        checked += len(edges)
    assert checked > 5


def test_max_range_cuts_windows() -> None:
    assert isl_plan(_ring(10), START, 3600.0, 4000.0) == []
    shell = _shell()
    wide = compute_isl(shell, EPOCH, 6 * 3600.0, 3000.0, pairs="grid")
    narrow = compute_isl(shell, EPOCH, 6 * 3600.0, 1500.0, pairs="grid")
    assert len(narrow) > 0 and sum(s.duration_s for s in narrow) < sum(s.duration_s for s in wide)
    for s in narrow:
        assert s.max_range_km <= 1500.0 and s.min_range_km <= s.max_range_km
        assert any(w.a == s.a and w.b == s.b and w.start_s <= s.start_s and s.end_s <= w.end_s for w in wide)
    for s in wide:  # the range extremes bracket the range all through the window
        t = np.linspace(s.start_s, s.end_s, 200)
        pos = shell.eci_grid(EPOCH, t, np.array([s.a, s.b]))
        rng = np.linalg.norm(pos[0] - pos[1], axis=-1)
        assert s.min_range_km <= rng.min() + 1e-3 and rng.max() - 1e-3 <= s.max_range_km <= 3000.0


def test_pair_modes() -> None:
    shell = _shell()
    planes = orbit_planes(shell, EPOCH)
    assert planes == [list(range(k * 10, k * 10 + 10)) for k in range(4)]  # p0..p3, slots in order
    neighbours = {tuple(p) for p in isl_pairs(shell, EPOCH, "neighbours").tolist()}
    rings = {tuple(sorted((k * 10 + s, k * 10 + (s + 1) % 10))) for k in range(4) for s in range(10)}
    assert neighbours == rings
    grid = {tuple(p) for p in isl_pairs(shell, EPOCH, "grid").tolist()}
    pos = shell.eci_grid(EPOCH, np.zeros(1), np.arange(40))[:, 0]
    nearest = set()
    for i in range(40):
        for plane in ((i // 10 + 1) % 4, (i // 10 - 1) % 4):
            members = np.array(planes[plane])
            j = int(members[np.argmin(np.linalg.norm(pos[members] - pos[i], axis=1))])
            nearest.add((min(i, j), max(i, j)))
    assert grid == rings | nearest
    assert len(isl_pairs(shell, EPOCH, "all")) == 40 * 39 // 2
    two = walker_satellites(550.0, 53.0, 1, 2, 0, epoch=START, name="pair")
    assert isl_pairs(two, EPOCH, "neighbours").tolist() == [[0, 1]]
    assert isl_pairs(walker_satellites(550.0, 53.0, 1, 1, 0, epoch=START), EPOCH, "grid").shape == (0, 2)


def test_tle_planes_are_found_from_the_orbit_normals() -> None:
    def cycles(planes: list[list[int]]) -> list[list[int]]:  # where a cycle starts is a matter of rounding
        return sorted(p[p.index(min(p)) :] + p[: p.index(min(p))] for p in planes)

    assert cycles(orbit_planes(_as_tles(_shell()), EPOCH)) == cycles(orbit_planes(_shell(), EPOCH))


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"max_range_km": 0.0}, "max_range_km"),
        ({"duration_s": -1.0}, "duration_s"),
        ({"pairs": "ring"}, "pairs"),
        ({"grazing_altitude_km": -5.0}, "grazing_altitude_km"),
        ({"start": datetime(2025, 3, 20)}, "start"),
        ({"satellites": ["a", "b"]}, "satellites"),
        ({"step_s": 0.0}, "step_s"),
    ],
)
def test_bad_arguments_name_the_culprit(kwargs: dict, culprit: str) -> None:
    args: dict = {"satellites": _ring(10), "start": START, "duration_s": 3600.0, "max_range_km": 5000.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=culprit) as info:
        isl_plan(**args)
    assert isinstance(info.value, ConfigError)

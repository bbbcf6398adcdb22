"""Orbits, Walker constellations and ground-station geometry."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from simsat.errors import ConfigError
from simsat.world.constants import EARTH_RADIUS_KM
from simsat.world.ground import GroundStation
from simsat.world.orbits import CircularOrbit, sun_synchronous_inclination_deg, walker_delta


def test_periods_match_textbook_values() -> None:
    assert CircularOrbit(500.0, 97.4).period_s / 60.0 == pytest.approx(94.62, abs=0.02)
    assert CircularOrbit(600.0, 97.4).period_s / 60.0 == pytest.approx(96.69, abs=0.02)


def test_position_is_on_the_circle_and_periodic() -> None:
    orbit = CircularOrbit(500.0, 53.0, 40.0, 10.0)
    t = np.linspace(0.0, orbit.period_s, 7)
    pos = orbit.position_eci(t)
    assert pos.shape == (7, 3)
    np.testing.assert_allclose(np.linalg.norm(pos, axis=1), EARTH_RADIUS_KM + 500.0)
    np.testing.assert_allclose(pos[0], pos[-1], atol=1e-6)
    # the highest latitude reached equals the inclination
    dense = orbit.position_eci(np.linspace(0.0, orbit.period_s, 20001))
    max_lat = np.degrees(np.arcsin(dense[:, 2] / (EARTH_RADIUS_KM + 500.0))).max()
    assert max_lat == pytest.approx(53.0, abs=0.01)
    # at u = 0 the satellite sits on the ascending node: RAAN direction, z = 0
    node = CircularOrbit(500.0, 53.0, 40.0, 0.0).position_eci(0.0)[0]
    assert node[2] == pytest.approx(0.0, abs=1e-9)
    assert math.degrees(math.atan2(node[1], node[0])) == pytest.approx(40.0)


def test_walker_delta_geometry() -> None:
    orbits = walker_delta(550.0, 53.0, planes=6, sats_per_plane=4, phasing=1)
    assert len(orbits) == 24
    assert sorted({o.raan_deg for o in orbits}) == pytest.approx([0, 60, 120, 180, 240, 300])
    plane0 = [o.arg_latitude_deg for o in orbits[:4]]
    assert plane0 == pytest.approx([0, 90, 180, 270])
    # inter-plane phase offset F*360/T = 15 degrees
    assert orbits[4].arg_latitude_deg == pytest.approx(15.0)
    assert orbits[20].arg_latitude_deg == pytest.approx(75.0)
    # neighbours in a plane are 90 degrees apart in space
    pos = np.array([o.position_eci(123.0)[0] for o in orbits[:2]])
    cos_angle = pos[0] @ pos[1] / np.linalg.norm(pos[0]) / np.linalg.norm(pos[1])
    assert math.degrees(math.acos(cos_angle)) == pytest.approx(90.0, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"altitude_km": -500.0}, "constellation.altitude_km must be > 0, got -500.0"),
        ({"inclination_deg": 181.0}, "constellation.inclination_deg"),
        ({"planes": 0}, "constellation.planes must be >= 1"),
        ({"sats_per_plane": 0}, "constellation.sats_per_plane"),
        ({"phasing": 3}, "constellation.phasing"),
        ({"phasing": -1}, "constellation.phasing"),
        ({"planes": 2.5}, "constellation.planes must be an integer"),
    ],
)
def test_walker_validation_names_the_field(kwargs: dict[str, float], culprit: str) -> None:
    args = {"altitude_km": 500.0, "inclination_deg": 97.0, "planes": 3, "sats_per_plane": 2, "phasing": 1}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=culprit.replace(".", r"\.")):
        walker_delta(**args)  # type: ignore[arg-type]


def test_walker_prefix_is_used() -> None:
    with pytest.raises(ConfigError, match=r"^scenario\.fleet\.altitude_km"):
        walker_delta(0.0, 97.0, 1, 1, 0, prefix="scenario.fleet")


def test_sun_synchronous_inclination() -> None:
    assert sun_synchronous_inclination_deg(500.0) == pytest.approx(97.40, abs=0.05)
    assert sun_synchronous_inclination_deg(800.0) == pytest.approx(98.60, abs=0.05)


def test_ground_station_rotates_with_earth() -> None:
    gs = GroundStation("lux", 49.6, 6.1)
    sidereal_day = 2 * math.pi / 7.2921159e-5
    pos = gs.position_eci(np.array([0.0, sidereal_day / 4, sidereal_day]))
    np.testing.assert_allclose(pos[0], pos[2], atol=1e-6)
    lon0 = math.degrees(math.atan2(pos[0, 1], pos[0, 0]))
    lon1 = math.degrees(math.atan2(pos[1, 1], pos[1, 0]))
    assert lon0 == pytest.approx(6.1)
    assert lon1 == pytest.approx(96.1)
    # a satellite straight overhead is at 90 degrees, one on the far side far below
    overhead = pos[:1] * 1.1
    assert gs.elevation_deg(overhead, 0.0)[0] == pytest.approx(90.0)
    assert gs.elevation_deg(-overhead, 0.0)[0] == pytest.approx(-90.0)
    assert gs.slant_range_km(overhead, 0.0)[0] == pytest.approx(0.1 * EARTH_RADIUS_KM)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"latitude_deg": 91.0}, "latitude_deg"),
        ({"longitude_deg": 400.0}, "longitude_deg"),
        ({"min_elevation_deg": -1.0}, "min_elevation_deg"),
        ({"antennas": 0}, "antennas"),
        ({"name": ""}, "name"),
    ],
)
def test_ground_station_validation(kwargs: dict[str, object], culprit: str) -> None:
    args: dict[str, object] = {"name": "gs", "latitude_deg": 10.0, "longitude_deg": 20.0}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=culprit):
        GroundStation(**args)  # type: ignore[arg-type]


def test_world_imports_no_torch_or_flwr() -> None:
    root = Path(__file__).resolve().parents[1] / "simsat" / "world"
    for file in root.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"torch", "flwr", "timm", "torchvision"}, f"{file.name} imports {name}"
                assert not name.startswith(("simsat.models", "simsat.federation", "simsat.distill")), name

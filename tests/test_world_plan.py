"""The mission's world from config: start time, TLE and Walker fleets, link model, antenna policy,
and one-line errors (exit 2, nothing written) for bad input through `simsat contacts`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.config.compile import build_world
from simsat.config.load import load_config
from simsat.errors import ConfigError
from simsat.world.antennas import antenna_priority, forecast_grants, order_requests
from simsat.world.contacts import ContactWindow
from simsat.world.rates import RateProfile
from world_skyfield import ISS_TLE, make_tle

NAME, L1, L2 = ISS_TLE


def _tle_file(tmp_path: Path, epoch: datetime) -> Path:
    lines = [make_tle(90001 + k, epoch, 97.6, 40.0 * k, 0.001, 0.0, 0.0, 15.06) for k in range(2)]
    path = tmp_path / "fleet.tle"
    path.write_text("".join(f"FLEET-{k}\n{a}\n{b}\n" for k, (a, b) in enumerate(lines)))
    return path


def test_world_from_a_mixed_fleet_with_budget_links(tmp_path: Path) -> None:
    path = _tle_file(tmp_path, datetime(2025, 3, 19, tzinfo=timezone.utc))
    config = load_config("tiny", [f"constellation.tle={path}", "link.model=budget", "mission.duration_hours=6"])
    world = build_world(config)
    assert world.satellites.names == ["walker-p0s0", "walker-p0s1", "FLEET-0", "FLEET-1"]
    assert world.epoch.utc == datetime(2025, 3, 20, tzinfo=timezone.utc)
    assert {w.satellite for w in world.contacts} >= {2, 3}
    assert len(world.profiles) == len(world.contacts) and len(world.sunlit) == 4
    k = 0
    rate = world.rate(k, "downlink")
    assert isinstance(rate, RateProfile) and rate.start_s == pytest.approx(world.contacts[k].start_s)
    assert 0.0 <= world.sunlit[2](3000.0) <= 1.0
    w = world.contacts[k]
    assert world.link_rate(w, "downlink") is rate
    assert world.bytes_available(w, "downlink", w.start_s, w.end_s) == rate.bytes_between(w.start_s, w.end_s) > 0


def test_constant_links_and_panel_power() -> None:
    config = load_config("tiny", ["satellite.power.panel_area_m2=0.1", "satellite.power.panel_efficiency=0.3"])
    world = build_world(config)
    assert world.rate(0, "uplink") == config.link.uplink_bps and not world.profiles
    w = world.contacts[0]
    assert world.link_rate(w, "downlink") == config.link.downlink_bps
    assert world.antenna_priority(w) == (w.start_s, w.start_s, w.satellite)  # first_come by default
    assert world.bytes_available(w, "downlink", w.start_s, w.start_s + 10.0) == int(config.link.downlink_bps * 10 / 8)
    assert world.solar_peak_w == pytest.approx(0.1 * 0.3 * 1361.0)


def test_ltan_placement_from_config() -> None:
    dawn = build_world(load_config("tiny", ["constellation.ltan_hours=6.0", "constellation.inclination_deg=98.2"]))
    noon = build_world(load_config("tiny", ["constellation.ltan_hours=12.0", "constellation.inclination_deg=98.2"]))
    assert dawn.sunlit[0].sunlight.dark_fraction() < 0.01 < 0.3 < noon.sunlit[0].sunlight.dark_fraction()


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("mission.start_utc=2025-03-20T00:00:00", r"mission\.start_utc needs a time zone"),
        ("mission.antenna_policy=random", r"mission\.antenna_policy must be one of"),
        ("link.model=laser", r"link\.model must be one of"),
        ("link.downlink_budget=ka", r"link\.downlink_budget must be one of"),
        ("satellite.power.attitude=tumbling", r"satellite\.power\.attitude must be one of"),
        ("constellation.planes=0", r"no satellites"),
        ("constellation.ltan_hours=24.5", r"constellation\.ltan_hours"),
    ],
)
def test_bad_world_config(override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config("tiny", [override])


def test_bad_station_through_the_command_line_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["contacts", "scenario=tiny", f"run.output_dir={out}", "ground_stations.0.latitude_deg=95"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ground_stations.0.latitude_deg must be <= 90, got 95" in err[0]  # the key a user writes
    assert main(["contacts", "scenario=tiny", f"run.output_dir={out}", "ground_stations.0.min_elevation_deg=90"]) == 2
    assert "ground_stations.0.min_elevation_deg must be < 90" in capsys.readouterr().err
    assert not out.exists()


def test_bad_tle_through_the_command_line_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.tle"
    bad.write_text(f"{NAME}\n{L1[:-1]}0\n{L2}\n")
    out = tmp_path / "out"
    assert main(["contacts", "scenario=tiny", f"run.output_dir={out}", f"constellation.tle={bad}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.tle:2: TLE checksum" in err and len(err.splitlines()) == 1
    old = _tle_file(tmp_path, datetime(2023, 1, 1, tzinfo=timezone.utc))
    assert main(["contacts", "scenario=tiny", f"run.output_dir={out}", f"constellation.tle={old}"]) == 2
    assert "days from mission.start_utc" in capsys.readouterr().err
    assert not out.exists()


def test_tle_only_contacts_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _tle_file(tmp_path, datetime(2025, 3, 20, tzinfo=timezone.utc))
    out = tmp_path / "out"
    assert (
        main(
            [
                "contacts",
                "scenario=tiny",
                f"run.output_dir={out}",
                f"constellation.tle={path}",
                "constellation.planes=0",
            ]
        )
        == 0
    )
    csv_path = Path(capsys.readouterr().out.strip().splitlines()[-1])
    rows = csv_path.read_text().splitlines()[1:]
    assert rows and all(r.split(",")[0] in ("FLEET-0", "FLEET-1") for r in rows)
    assert all(r.split(",")[2].endswith("+00:00") for r in rows)


def test_antenna_policies_order_waiting_windows() -> None:
    a = ContactWindow(0, 0, 100.0, 400.0, 20.0)
    b = ContactWindow(1, 0, 150.0, 900.0, 70.0)
    c = ContactWindow(2, 0, 120.0, 500.0, 85.0)
    assert order_requests([b, c, a], "first_come") == [a, c, b]
    assert order_requests([a, b, c], "highest_elevation") == [c, b, a]
    assert order_requests([a, c, b], "longest_remaining") == [b, c, a]
    assert antenna_priority(a, "first_come") < antenna_priority(b, "first_come")
    with pytest.raises(ConfigError, match="^policy must be one of"):
        antenna_priority(a, "random")


def test_the_antenna_forecast_holds_each_antenna_to_the_window_end() -> None:
    a = ContactWindow(0, 0, 0.0, 100.0, 20.0)
    b = ContactWindow(1, 0, 50.0, 150.0, 10.0)  # waits for a, then holds the antenna to 150
    c = ContactWindow(2, 0, 60.0, 90.0, 60.0)  # closes while a holds it
    d = ContactWindow(3, 0, 120.0, 200.0, 30.0)  # waits for b
    assert forecast_grants([a, b, c, d], [1], "first_come") == {a, b, d}
    # served by elevation: when a sets, e (80 deg) goes before b, which then closes
    e = ContactWindow(4, 0, 70.0, 160.0, 80.0)
    assert forecast_grants([a, b, e], [1], "highest_elevation") == {a, e}
    assert forecast_grants([a, b, c, d], [2], "first_come") == {a, b, d}  # c finds both taken
    assert forecast_grants([a, b, c, d], [3], "first_come") == {a, b, c, d}
    # a satellite walks its windows in order: the second station is asked only after the first pass
    first, overlapping = ContactWindow(5, 0, 0.0, 100.0, 40.0), ContactWindow(5, 1, 50.0, 120.0, 40.0)
    inside = ContactWindow(5, 1, 60.0, 90.0, 40.0)
    assert forecast_grants([first, overlapping], [1, 1], "first_come") == {first, overlapping}
    assert forecast_grants([first, inside], [1, 1], "first_come") == {first}

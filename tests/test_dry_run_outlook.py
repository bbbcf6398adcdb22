"""What the dry run says the batteries allow (`simsat.mission.outlook`), against closed forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.mission.outlook import BatterySettings, battery_outlook


def _battery(solar_w: float, baseline_w: float = 0.0) -> BatterySettings:
    return BatterySettings(
        capacity_wh=10.0,
        initial_soc=0.8,
        floor_soc=0.3,
        resume_soc=0.4,
        solar_w=solar_w,
        baseline_w=baseline_w,
        step_s=30.0,
        safe_soc=0.0,
        safe_exit_soc=0.3,
    )


def test_in_the_dark_a_battery_trains_until_its_floor() -> None:
    """No sunlight: (0.8 - 0.3) x 10 Wh at 5 W is one hour of training, then it waits for ever."""
    seen = battery_outlook(_battery(solar_w=20.0), lambda t: 0.0, training_extra_w=5.0, duration_s=6 * 3600.0)
    assert seen.busy_s == pytest.approx(3600.0, abs=1.0)
    assert seen.sunlit_s == 0.0 and seen.solar_in_wh == 0.0


def test_in_full_sun_with_spare_power_it_trains_all_mission() -> None:
    seen = battery_outlook(_battery(solar_w=20.0, baseline_w=4.0), lambda t: 1.0, 5.0, duration_s=3 * 3600.0)
    assert seen.busy_s == pytest.approx(3 * 3600.0)
    assert seen.sunlit_s == pytest.approx(3 * 3600.0)


def test_half_lit_the_energy_balance_sets_the_training_time() -> None:
    """Sun for the first 3 h of 6 (20 W in, 10 W drawn by training): the battery fills and then
    feeds the dark half down to its floor: 3 h + (1.0 - 0.3) x 10 Wh / 10 W = 3.7 h of training."""
    seen = battery_outlook(_battery(solar_w=20.0), lambda t: 1.0 if t < 3 * 3600.0 else 0.0, 10.0, 6 * 3600.0)
    assert seen.busy_s == pytest.approx(3.7 * 3600.0, abs=60.0)
    assert seen.sunlit_s == pytest.approx(3 * 3600.0)


def test_dry_run_shows_what_the_batteries_allow_and_the_time_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs"
    args = ["run", "scenario=tiny", "mission.duration_hours=12", f"run.output_dir={out}", "--dry-run"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "no energy limit" in text and "trainings expected" in text and "time split expected" in text
    assert "onboard learning wall" in text and "eclipse" in text
    # starved satellites: below the charge training needs to start, and the sun only feeds the bus
    power = ["satellite.power.initial_soc=0.35", "satellite.power.solar_w=4.0", "satellite.power.baseline_w=4.0"]
    starved = [*args[:-1], *power, "--dry-run"]
    assert main(starved) == 0
    text = capsys.readouterr().out
    assert "no energy limit" not in text and "limited by its energy" in text
    assert "0.0 per satellite" in text and "2 satellites played" in text
    assert not out.exists()

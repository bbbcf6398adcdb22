"""TLE files: names, two- and three-line sets, and one-line errors for bad input."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import Satrec

from simsat.errors import ConfigError
from simsat.world.timebase import Epoch
from simsat.world.tle import parse_tle_text, tle_satellites
from world_skyfield import ISS_TLE, make_tle

NAME, L1, L2 = ISS_TLE


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.tle"
    path.write_text(text)
    return path


def test_three_line_and_two_line_sets(tmp_path: Path) -> None:
    epoch = datetime(2025, 3, 20, tzinfo=timezone.utc)
    a1, a2 = make_tle(90001, epoch, 97.6, 10.0, 0.001, 90.0, 0.0, 15.06)
    sats = tle_satellites(_write(tmp_path, f"0 {NAME}\n{L1}\n{L2}\n\n{a1}\n{a2}\n"))
    assert sats.names == ["ISS (ZARYA)", "NORAD 90001"]
    assert sats.epochs()[1] == epoch


def test_positions_are_sgp4_teme(tmp_path: Path) -> None:
    sats = tle_satellites(_write(tmp_path, f"{NAME}\n{L1}\n{L2}\n"))
    epoch = Epoch(datetime(2019, 12, 9, 16, tzinfo=timezone.utc))
    ref = Satrec.twoline2rv(L1, L2)
    jd, fr = epoch.jd_split(np.array([0.0, 600.0]))
    _, r, _ = ref.sgp4_array(jd, fr)
    ours = sats.eci_grid(epoch, np.array([0.0, 600.0]), np.array([0]))[0]
    assert np.allclose(ours, r, atol=1e-9)
    assert np.allclose(sats.eci_at(epoch, np.array([0, 0]), np.array([600.0, 0.0])), r[::-1], atol=1e-9)


def _corrupt(line: str, col: int, char: str) -> str:
    return line[:col] + char + line[col + 1 :]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (f"{NAME}\n{_corrupt(L1, 20, '7')}\n{L2}\n", r"fleet\.tle:2: TLE checksum"),
        (f"{NAME}\n{L1}\nthis is not a TLE line\n", r"fleet\.tle:3: expected TLE line 2"),
        (f"{NAME}\n{L2}\n{L1}\n", r"fleet\.tle:2: expected TLE line 1"),
        (f"{NAME}\n{L1}\n", r"fleet\.tle:2: TLE line 1 is not followed"),
        ("\n\n", r"fleet\.tle: holds no TLE"),
        (f"{NAME}\n{L1}\n{L2}\n{NAME}\n{L1}\n{L2}\n", r"fleet\.tle: satellite name 'ISS \(ZARYA\)' appears twice"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        tle_satellites(_write(tmp_path, text))


def test_catalog_numbers_must_match() -> None:
    other = make_tle(90001, datetime(2025, 1, 1, tzinfo=timezone.utc), 50.0, 0.0, 0.0, 0.0, 0.0, 15.0)[1]
    with pytest.raises(ConfigError, match="catalog number"):
        parse_tle_text(f"{L1}\n{other}\n", "x.tle")


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"^path: no such file") as caught:
        tle_satellites("/nonexistent/fleet.tle")
    assert caught.value.key == "path"


def test_epoch_age_warns_then_refuses(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sats = tle_satellites(_write(tmp_path, f"{NAME}\n{L1}\n{L2}\n"))
    sats.check_epochs(Epoch(datetime(2019, 12, 12, tzinfo=timezone.utc)))  # 2 days: fine
    with caplog.at_level(logging.WARNING):
        sats.check_epochs(Epoch(datetime(2020, 2, 1, tzinfo=timezone.utc)))
    assert "days from the mission start" in caplog.text
    with pytest.raises(ConfigError, match=r"fleet\.tle: TLE 'ISS \(ZARYA\)' epoch is \d+ days from the mission start"):
        sats.check_epochs(Epoch(datetime(2025, 3, 20, tzinfo=timezone.utc)))


def test_sgp4_fast_path_is_present() -> None:
    from sgp4.api import accelerated

    assert accelerated, "sgp4's compiled extension is missing: contact plans from TLEs will be slow"

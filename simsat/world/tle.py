"""Satellites from two-line element sets, propagated with SGP4 (the ``sgp4`` package).

Files hold two-line sets (named ``NORAD <catalog number>``) or three-line sets whose first
line is the name (an optional leading ``0 `` is dropped). Each line is checked (line number,
length, checksum, matching catalog numbers) before SGP4 sees it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec, SatrecArray, accelerated

from simsat.errors import ConfigError
from simsat.world.satellites import Satellites, kepler_rate_bounds
from simsat.world.timebase import Epoch

log = logging.getLogger(__name__)

TLE_WARN_AGE_DAYS = 14.0
"""A TLE epoch further than this from the mission start logs a warning."""
TLE_MAX_AGE_DAYS = 365.0
"""A TLE epoch further than this from the mission start is refused."""


def tle_checksum(line: str) -> int:
    """The modulo-10 checksum of a TLE line's first 68 characters (digits count, '-' counts 1)."""
    return sum(int(c) if c.isdigit() else 1 if c == "-" else 0 for c in line[:68]) % 10


def _check_line(path: str, number: int, line: str, expected: str) -> None:
    where = f"{path}:{number}"
    if not line.startswith(f"{expected} ") or len(line) < 69:
        raise ConfigError(
            f"{where}: expected TLE line {expected} (69 characters starting '{expected} '), got {line[:40]!r}"
        )
    if not line[68].isdigit() or int(line[68]) != tle_checksum(line):
        raise ConfigError(f"{where}: TLE checksum is {line[68]!r}, the line sums to {tle_checksum(line)}")


def format_tle(
    satnum: int,
    epoch: datetime,
    inclination_deg: float,
    raan_deg: float,
    eccentricity: float,
    arg_perigee_deg: float,
    mean_anomaly_deg: float,
    revs_per_day: float,
) -> tuple[str, str]:
    """A two-line element set (no drag terms) with valid checksums, e.g. to export a Walker shell."""
    if not 0 < satnum < 100000:
        raise ConfigError(f"tle.satnum must be in [1, 99999], got {satnum}")
    utc = epoch.astimezone(timezone.utc)
    start = datetime(utc.year, 1, 1, tzinfo=timezone.utc)
    doy = 1.0 + (utc - start).total_seconds() / 86400.0
    l1 = f"1 {satnum:05d}U 00000A   {utc.year % 100:02d}{doy:012.8f}  .00000000  00000-0  00000-0 0  999"
    l2 = (
        f"2 {satnum:05d} {inclination_deg % 180.0:8.4f} {raan_deg % 360.0:8.4f} {round(eccentricity * 1e7):07d} "
        f"{arg_perigee_deg % 360.0:8.4f} {mean_anomaly_deg % 360.0:8.4f} {revs_per_day:11.8f}    1"
    )
    return l1 + str(tle_checksum(l1)), l2 + str(tle_checksum(l2))


def parse_tle_text(text: str, path: str = "<text>") -> list[tuple[str, str, str]]:
    """(name, line 1, line 2) for every element set in ``text``; ConfigError naming the line."""
    lines = [(i + 1, raw.rstrip()) for i, raw in enumerate(text.splitlines()) if raw.strip()]
    sets: list[tuple[str, str, str]] = []
    k = 0
    while k < len(lines):
        number, line = lines[k]
        name = ""
        if not line.startswith("1 "):
            if line.startswith("2 "):
                raise ConfigError(f"{path}:{number}: TLE line 2 without a line 1")
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            k += 1
            if k >= len(lines):
                raise ConfigError(f"{path}:{number}: name line {name!r} is not followed by a TLE")
            number, line = lines[k]
        if k + 1 >= len(lines):
            raise ConfigError(f"{path}:{number}: TLE line 1 is not followed by a line 2")
        number2, line2 = lines[k + 1]
        _check_line(path, number, line, "1")
        _check_line(path, number2, line2, "2")
        if line[2:7] != line2[2:7]:
            raise ConfigError(f"{path}:{number2}: catalog number {line2[2:7]!r} differs from line 1's {line[2:7]!r}")
        sets.append((name or f"NORAD {line[2:7].strip()}", line, line2))
        k += 2
    if not sets:
        raise ConfigError(f"{path}: holds no TLE")
    return sets


class TleSatellites(Satellites):
    """Satellites propagated by SGP4 (positions in TEME, km)."""

    def __init__(self, sets: list[tuple[str, str, str]], source: str = "<text>") -> None:
        self.source = source
        self._names = [name for name, _, _ in sets]
        self.satrecs: list[Satrec] = []
        for name, l1, l2 in sets:
            sat = Satrec.twoline2rv(l1, l2)
            if sat.error != 0:
                raise ConfigError(
                    f"{source}: TLE {name!r} is rejected by SGP4: {SGP4_ERRORS.get(sat.error, sat.error)}"
                )
            self.satrecs.append(sat)
        seen: set[str] = set()
        for name in self._names:
            if name in seen:
                raise ConfigError(f"{source}: satellite name {name!r} appears twice")
            seen.add(name)
        if not accelerated:
            log.warning("sgp4's compiled extension is missing: propagation falls back to pure Python (much slower)")
        n = np.array([s.no_kozai for s in self.satrecs]) / 60.0  # rad/min -> rad/s
        ecc = np.array([s.ecco for s in self.satrecs])
        a = (398600.4418 / n**2) ** (1.0 / 3.0)
        apogee, rate = kepler_rate_bounds(a, np.minimum(ecc, 0.99))
        # SGP4's mean elements are not osculating: leave room for drag and short-period terms.
        self._max_radius = apogee * 1.01 + 30.0
        self._max_rate = rate * 1.05

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def epochs(self) -> list[datetime]:
        """Each element set's epoch as an aware UTC datetime."""
        base = Epoch(datetime(2000, 1, 1, 12, 0, tzinfo=timezone.utc))
        return [base.at((s.jdsatepoch - 2451545.0 + s.jdsatepochF) * 86400.0) for s in self.satrecs]

    def check_epochs(
        self,
        start: Epoch,
        warn_days: float = TLE_WARN_AGE_DAYS,
        max_days: float = TLE_MAX_AGE_DAYS,
        start_name: str = "the mission start",
    ) -> None:
        """Warn past ``warn_days`` between a TLE epoch and the mission start; refuse past ``max_days``
        (ConfigError; ``start_name`` is how its message names the start)."""
        worst = 0.0
        worst_name = ""
        for name, when in zip(self._names, self.epochs(), strict=True):
            age = abs(start.seconds_to(when)) / 86400.0
            if age > worst:
                worst, worst_name = age, name
        if worst > max_days:
            raise ConfigError(
                f"{self.source}: TLE {worst_name!r} epoch is {worst:.0f} days from {start_name} (limit {max_days:g})"
            )
        if worst > warn_days:
            log.warning(
                "%s: TLE %r epoch is %.1f days from the mission start; SGP4 degrades with age",
                self.source,
                worst_name,
                worst,
            )

    def _propagate(self, sats: Satrec | SatrecArray, epoch: Epoch, t: np.ndarray) -> np.ndarray:
        jd, fr = epoch.jd_split(t)
        err, r, _ = sats.sgp4_array(jd, fr) if isinstance(sats, Satrec) else sats.sgp4(jd, fr)
        r = np.asarray(r, dtype=float)
        r[np.asarray(err) != 0] = np.nan  # decayed or failed: no position, never visible
        return r

    def eci_grid(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.eci_grid_pv(epoch, t, rows)[0]

    def eci_grid_pv(self, epoch: Epoch, t: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sats = SatrecArray([self.satrecs[int(i)] for i in rows])
        jd, fr = epoch.jd_split(np.asarray(t, dtype=float))
        err, r, v = sats.sgp4(jd, fr)
        bad = np.asarray(err) != 0
        r, v = np.asarray(r, dtype=float), np.asarray(v, dtype=float)
        r[bad] = np.nan
        v[bad] = np.nan
        return r, v

    def eci_at(self, epoch: Epoch, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        idx = np.asarray(rows, dtype=int)
        times = np.asarray(t, dtype=float)
        out = np.empty((idx.size, 3))
        order = np.argsort(idx, kind="stable")
        bounds = np.flatnonzero(np.diff(idx[order])) + 1
        for group in np.split(order, bounds):
            if group.size:
                out[group] = self._propagate(self.satrecs[int(idx[group[0]])], epoch, times[group])
        return out

    def max_radius_km(self) -> np.ndarray:
        return self._max_radius.copy()

    def max_angular_rate_rad_s(self) -> np.ndarray:
        return self._max_rate.copy()


def tle_satellites(path: str | Path) -> TleSatellites:
    """Satellites from a TLE file, named by the name lines (or ``NORAD <number>``); ConfigError
    naming ``path`` where the file is missing or unreadable."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"path: no such file {str(file)!r}", "path")
    try:
        text = file.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: a TLE file must be plain ASCII text") from None
    except OSError as exc:  # unreadable (permissions, an I/O error)
        raise ConfigError(f"path: {file} cannot be read: {exc.strerror or exc}", "path") from None
    return TleSatellites(parse_tle_text(text, str(file)), str(file))


def tle_satellites_from_text(text: str, source: str = "<text>") -> TleSatellites:
    """Satellites from TLE text already in memory."""
    return TleSatellites(parse_tle_text(text, source), source)

"""Data rates that change over a contact window: a piecewise-constant rate profile."""

from __future__ import annotations

import math

import numpy as np

from simsat.errors import ConfigError


class RateProfile:
    """Rate ``rates_bps[i]`` holds on [times_s[i], times_s[i+1]); the rate is 0 outside.

    Answers how many bytes fit between two instants and when a number of bytes is done.
    """

    def __init__(self, times_s: np.ndarray, rates_bps: np.ndarray) -> None:
        times = np.asarray(times_s, dtype=float)
        rates = np.asarray(rates_bps, dtype=float)
        if times.ndim != 1 or rates.ndim != 1 or times.size != rates.size + 1 or rates.size == 0:
            raise ConfigError(f"rate profile needs n+1 times for n rates, got {times.size} and {rates.size}")
        if np.any(np.diff(times) <= 0.0) or not np.all(np.isfinite(times)):
            raise ConfigError("rate profile times must increase strictly")
        if np.any(rates < 0.0) or not np.all(np.isfinite(rates)):
            raise ConfigError("rate profile rates must be finite and >= 0")
        self.times_s = times
        self.rates_bps = rates
        self._bits = np.concatenate([[0.0], np.cumsum(rates * np.diff(times))])

    @classmethod
    def constant(cls, rate_bps: float, start_s: float, end_s: float) -> RateProfile:
        """One rate over one interval."""
        return cls(np.array([start_s, end_s]), np.array([rate_bps]))

    @property
    def start_s(self) -> float:
        return float(self.times_s[0])

    @property
    def end_s(self) -> float:
        return float(self.times_s[-1])

    def bits_until(self, t: float) -> float:
        """Bits that the profile carries from its start to ``t``."""
        x = min(max(float(t), self.start_s), self.end_s)
        i = min(int(np.searchsorted(self.times_s, x, side="right")) - 1, self.rates_bps.size - 1)
        return float(self._bits[i] + self.rates_bps[i] * (x - self.times_s[i]))

    def rate_at(self, t: float) -> float:
        """Rate in force at ``t`` (0 outside the profile)."""
        if not self.start_s <= t < self.end_s:
            return 0.0
        return float(self.rates_bps[int(np.searchsorted(self.times_s, t, side="right")) - 1])

    def bytes_between(self, t0: float, t1: float) -> int:
        """Whole bytes that fit between ``t0`` and ``t1`` (0 if t1 <= t0)."""
        if t1 <= t0:
            return 0
        return int(math.floor((self.bits_until(t1) - self.bits_until(t0)) / 8.0 + 1e-9))

    def time_to_send(self, t0: float, nbytes: int) -> float:
        """The instant at which ``nbytes`` started at ``t0`` are through (``inf`` if never)."""
        if nbytes <= 0:
            return float(t0)
        target = self.bits_until(t0) + 8.0 * nbytes
        if target > self._bits[-1] + 1e-9:
            return math.inf
        i = int(np.searchsorted(self._bits, target, side="left"))
        i = min(max(i, 1), self.rates_bps.size)
        k = i - 1  # target lies in piece k: bits[k] < target <= bits[k+1], so rates[k] > 0
        return max(float(t0), float(self.times_s[k] + (target - self._bits[k]) / self.rates_bps[k]))

    def mean_rate_bps(self) -> float:
        """Average rate over the whole profile."""
        return float(self._bits[-1] / (self.end_s - self.start_s))

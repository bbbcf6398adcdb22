"""Positions of satellites between grid samples, and a vectorised golden-section search.

Shared by the contact plan and the inter-satellite link plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simsat.world.satellites import Satellites
from simsat.world.timebase import Epoch


class Track:
    """Earth-fixed positions (3, R) of chunk rows at any times inside the grid.

    Satellites whose positions are cheap to evaluate (Walker shells) are evaluated directly;
    the others (SGP4) by cubic Hermite interpolation of the grid's positions and velocities in
    the inertial frame, then rotated. At a 60-120 s grid that reproduces a LEO orbit to metres
    (the error grows as step^4), so refining edges costs no further propagation.
    """

    def __init__(
        self, satellites: Satellites, rows: np.ndarray, epoch: Epoch, t: np.ndarray, pos: np.ndarray, vel: np.ndarray
    ) -> None:
        self.satellites, self.rows, self.epoch, self.t = satellites, rows, epoch, t
        self.direct = satellites.cheap_to_evaluate
        n, count = pos.shape[0], t.size
        self.count = count
        if not self.direct:
            self.pos = np.ascontiguousarray(pos.transpose(2, 0, 1).reshape(3, n * count))
            self.vel = np.ascontiguousarray(vel.transpose(2, 0, 1).reshape(3, n * count))

    def ecef(self, row: np.ndarray, times: np.ndarray) -> np.ndarray:
        if self.direct:
            return self.satellites.ecef_at(self.epoch, self.rows[row], times).T
        t = self.t
        k = np.clip(np.searchsorted(t, times, side="right") - 1, 0, t.size - 2)
        h = t[k + 1] - t[k]
        s = (times - t[k]) / h
        s2 = s * s
        s3 = s2 * s
        flat = row * self.count + k
        p = (
            (2 * s3 - 3 * s2 + 1) * self.pos[:, flat]
            + ((s3 - 2 * s2 + s) * h) * self.vel[:, flat]
            + (3 * s2 - 2 * s3) * self.pos[:, flat + 1]
            + ((s3 - s2) * h) * self.vel[:, flat + 1]
        )
        g = self.epoch.gmst_rad(times)
        c, sn = np.cos(g), np.sin(g)
        return np.stack([c * p[0] + sn * p[1], -sn * p[0] + c * p[1], p[2]])


def golden_max(
    f: Callable[[np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """(argmax, max) of unimodal ``f`` on each bracket [a, b], vectorised, one evaluation per step."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = a.copy(), b.copy()
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    width = float(np.max(b - a)) if a.size else 0.0
    steps = max(0, math.ceil(math.log(max(width, tol) / tol) / math.log(1.0 / g)))
    for _ in range(steps):
        left = fc >= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - g * (b - a), a + g * (b - a))
        fnew = f(new)
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, fnew, fd),
            np.where(left, fc, fnew),
        )
    best = fc >= fd
    return np.where(best, c, d), np.where(best, fc, fd)

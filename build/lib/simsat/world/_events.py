"""Finding intervals where a sampled condition holds and refining their edges by bisection."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Predicate = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""pred(rows, t) -> bool array: whether the condition holds for row ``rows[m]`` at ``t[m]``."""


def time_grid(duration_s: float, step_s: float) -> np.ndarray:
    """Sample times 0, step, 2*step, ... always ending exactly at ``duration_s``."""
    count = int(math.floor(duration_s / step_s))
    grid = np.arange(count + 1, dtype=float) * step_s
    if grid[-1] < duration_s:
        grid = np.append(grid, duration_s)
    return grid


def runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True in each row of a (K, N) bool array: (row, first index, end index exclusive)."""
    flags2d = np.atleast_2d(np.asarray(flags, dtype=bool))
    padded = np.zeros((flags2d.shape[0], flags2d.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags2d
    change = np.diff(padded, axis=1)
    rows, starts = np.nonzero(change == 1)
    _, ends = np.nonzero(change == -1)
    return rows, starts, ends


def bisect(
    pred: Predicate,
    rows: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    state_a: bool,
    tol_s: float,
) -> np.ndarray:
    """Times where ``pred`` flips between ``a`` (where it equals ``state_a``) and ``b``.

    Vectorised over all brackets; the answer is within ``tol_s / 2`` of the true flip
    (the bracket midpoint once the bracket is no wider than ``tol_s``).
    """
    lo = np.asarray(a, dtype=float).copy()
    hi = np.asarray(b, dtype=float).copy()
    if lo.size == 0:
        return lo
    width = float(np.max(np.abs(hi - lo)))
    steps = max(0, math.ceil(math.log2(width / tol_s))) if width > tol_s else 0
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        same = pred(rows, mid) == state_a
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def refined_intervals(
    pred: Predicate,
    t: np.ndarray,
    flags: np.ndarray,
    tol_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intervals where the sampled ``flags`` (K, N) hold, edges refined with ``pred``.

    Returns (row, start_s, end_s, first_index, end_index). Intervals already true at the
    first sample start at t[0]; those still true at the last sample end at t[-1].
    """
    rows, first, end = runs(flags)
    last = t.size - 1
    start_s = t[first].astype(float)
    end_s = t[np.minimum(end, last)].astype(float)
    inner = first > 0
    if np.any(inner):
        start_s[inner] = bisect(pred, rows[inner], t[first[inner] - 1], t[first[inner]], False, tol_s)
    open_end = end <= last
    if np.any(open_end):
        end_s[open_end] = bisect(pred, rows[open_end], t[end[open_end] - 1], t[end[open_end]], True, tol_s)
    return rows, start_s, end_s, first, end

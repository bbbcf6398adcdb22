"""Federated averaging of satellites' students."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simsat.mission.packets import ModelArrays, UpdatePacket


def fedavg(updates: Sequence[UpdatePacket]) -> ModelArrays:
    """Average the updates' arrays weighted by the number of examples each trained on.

    Integer buffers (BatchNorm's batch counters) are averaged and rounded back to their dtype.
    """
    if not updates:
        raise ValueError("fedavg needs at least one update")
    weights = np.array([max(u.num_examples, 0) for u in updates], dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones(len(updates))
    weights = weights / weights.sum()
    result: ModelArrays = {}
    for name, first in updates[0].model.items():
        stacked = np.stack([u.model[name].astype(np.float64) for u in updates])
        mean = np.tensordot(weights, stacked, axes=1)
        if np.issubdtype(first.dtype, np.integer):
            result[name] = np.rint(mean).astype(first.dtype)
        else:
            result[name] = mean.astype(first.dtype)
    return result

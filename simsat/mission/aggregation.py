"""Aggregation rules chosen by name (`make_aggregator`): sync, fedasync, fedbuff.

Each rule is a small class that sees the satellites' updates in simulated order and decides when
the ground's global student changes. They work on plain numpy arrays and hold no Flower or SimPy
state, so each can be checked on hand-computed cases.

- ``sync``: rounds. Round r distributes global version r; an update trained from version r joins
  the round; updates from older versions are discarded (recorded). The round closes with FedAvg
  (weighted by examples) when `round_size` distinct satellites have reported, or at the
  round's deadline (simulated hours after it opened) if at least one has; a deadline that finds
  the round empty closes it at its first arrival.
- ``fedasync`` (Xie et al., 2019): every update is mixed in on arrival,
  w <- (1 - a_t) w + a_t w_k with a_t = mixing * (1 + staleness) ** -staleness_exponent.
- ``fedbuff`` (Nguyen et al., 2022): updates are kept as deltas from the version each was trained
  from, weighted by 1 / sqrt(1 + staleness); every `buffer_size` updates the ground applies
  w <- w + server_lr * mean_i(s_i * delta_i).

Staleness of an update = global version when it is used - version it was trained from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from simsat.errors import ConfigError
from simsat.mission.packets import ModelArrays, UpdatePacket

# The global model at a version (the ground keeps the versions still referenced).
History = Callable[[int], ModelArrays]


@dataclass(frozen=True)
class AggregatorSettings:
    """Parameters of every rule (each rule reads its own); ConfigError naming the parameter for a
    bad value."""

    round_size: int = 4  # sync: satellites per round (clipped to the constellation size)
    deadline_hours: float = 2.0  # sync: a round closes this long after it opened
    mixing: float = 0.6  # fedasync: base mixing weight
    staleness_exponent: float = 0.5  # fedasync: polynomial staleness discount
    buffer_size: int = 2  # fedbuff: updates per aggregation
    server_lr: float = 1.0  # fedbuff: server step on the mean weighted delta

    def __post_init__(self) -> None:
        if self.round_size < 1:
            raise ConfigError(f"round_size must be >= 1, got {self.round_size}", "round_size")
        if not (self.deadline_hours > 0 and np.isfinite(self.deadline_hours)):
            raise ConfigError(f"deadline_hours must be > 0, got {self.deadline_hours}", "deadline_hours")
        if not 0 < self.mixing <= 1:
            raise ConfigError(f"mixing must be in (0, 1], got {self.mixing}", "mixing")
        if not (self.staleness_exponent >= 0 and np.isfinite(self.staleness_exponent)):
            raise ConfigError(f"staleness_exponent must be >= 0, got {self.staleness_exponent}", "staleness_exponent")
        if self.buffer_size < 1:
            raise ConfigError(f"buffer_size must be >= 1, got {self.buffer_size}", "buffer_size")
        if not (self.server_lr > 0 and np.isfinite(self.server_lr)):
            raise ConfigError(f"server_lr must be > 0, got {self.server_lr}", "server_lr")


@dataclass(frozen=True)
class Aggregation:
    """One change of the global student: who contributed, how stale, with which weight."""

    version: int  # the new global version
    satellites: list[int]
    staleness: list[int]
    weights: list[float]
    num_examples: int
    model: ModelArrays = field(repr=False)


@dataclass(frozen=True)
class Discarded:
    """An update the rule refused (sync: trained from an older round)."""

    satellite: int
    staleness: int


Outcome = Aggregation | Discarded | None


def _cast_like(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    if np.issubdtype(like.dtype, np.integer):
        return np.rint(values).astype(like.dtype)
    return values.astype(like.dtype)


def weighted_mean(models: Sequence[ModelArrays], weights: Sequence[float]) -> ModelArrays:
    """sum_i w_i m_i / sum_i w_i per array (integer buffers rounded back to their dtype)."""
    if not models:
        raise ValueError("weighted_mean needs at least one model")
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones(len(models))
    w = w / w.sum()
    out: ModelArrays = {}
    for name, first in models[0].items():
        stacked = np.stack([m[name].astype(np.float64) for m in models])
        out[name] = _cast_like(np.tensordot(w, stacked, axes=1), first)
    return out


def fedavg(updates: Sequence[UpdatePacket]) -> ModelArrays:
    """The updates' models averaged by the number of examples each trained on."""
    if not updates:
        raise ValueError("fedavg needs at least one update")
    return weighted_mean([u.model for u in updates], [max(u.num_examples, 0) for u in updates])


class Aggregator(ABC):
    """Decides when and how updates change the global student."""

    name: str = ""

    def __init__(self, settings: AggregatorSettings, num_satellites: int) -> None:
        self.settings = settings
        self.num_satellites = num_satellites

    @abstractmethod
    def receive(
        self, model: ModelArrays, version: int, satellite: int, update: UpdatePacket, now_s: float, history: History
    ) -> Outcome:
        """An update has reached the ground at `now_s`; the global student is (`model`, `version`)."""

    def deadline_s(self) -> float | None:
        """Simulated time at which `expire` should be called (None: no deadline pending)."""
        return None

    def staleness_weight(self, staleness: int) -> float:
        """The rule's own weight of an update `staleness` versions old, relative to a fresh one's
        (updates combined before they reach the ground, e.g. a plane's over its crosslinks, are
        weighted by examples times this)."""
        return 1.0

    def expire(self, model: ModelArrays, version: int, now_s: float) -> Aggregation | None:
        """The deadline passed: aggregate what is waiting, if the rule does so."""
        return None

    def opened(self, version: int, now_s: float) -> None:  # noqa: B027 (optional hook: most rules need no notice)
        """A new global version exists from `now_s` on."""

    def waiting(self) -> int:
        """Updates held and not yet aggregated."""
        return 0


class SyncAggregator(Aggregator):
    name = "sync"

    def __init__(self, settings: AggregatorSettings, num_satellites: int) -> None:
        super().__init__(settings, num_satellites)
        self.round_size = min(settings.round_size, num_satellites)
        self.buffer: dict[int, UpdatePacket] = {}
        self.round_opened_s = 0.0
        self.close_on_arrival = False

    def opened(self, version: int, now_s: float) -> None:
        self.round_opened_s = now_s
        self.close_on_arrival = False

    def deadline_s(self) -> float | None:
        if self.close_on_arrival:
            return None
        return self.round_opened_s + self.settings.deadline_hours * 3600.0

    def waiting(self) -> int:
        return len(self.buffer)

    def _close(self, version: int) -> Aggregation:
        satellites = sorted(self.buffer)
        updates = [self.buffer[s] for s in satellites]
        self.buffer = {}
        return Aggregation(
            version=version + 1,
            satellites=satellites,
            staleness=[0] * len(satellites),
            weights=[float(max(u.num_examples, 0)) for u in updates],
            num_examples=int(sum(u.num_examples for u in updates)),
            model=fedavg(updates),
        )

    def receive(
        self, model: ModelArrays, version: int, satellite: int, update: UpdatePacket, now_s: float, history: History
    ) -> Outcome:
        if update.base_version != version:
            return Discarded(satellite, version - update.base_version)
        self.buffer[satellite] = update
        if len(self.buffer) >= self.round_size or self.close_on_arrival:
            return self._close(version)
        return None

    def expire(self, model: ModelArrays, version: int, now_s: float) -> Aggregation | None:
        deadline = self.deadline_s()
        if deadline is None or now_s < deadline:
            return None
        if not self.buffer:
            self.close_on_arrival = True
            return None
        return self._close(version)


class FedAsyncAggregator(Aggregator):
    name = "fedasync"

    def weight(self, staleness: int) -> float:
        s = self.settings
        return s.mixing * (1.0 + staleness) ** (-s.staleness_exponent)

    def staleness_weight(self, staleness: int) -> float:
        return float((1.0 + staleness) ** (-self.settings.staleness_exponent))

    def receive(
        self, model: ModelArrays, version: int, satellite: int, update: UpdatePacket, now_s: float, history: History
    ) -> Outcome:
        staleness = version - update.base_version
        a = self.weight(staleness)
        mixed = {
            name: _cast_like((1.0 - a) * value.astype(np.float64) + a * update.model[name].astype(np.float64), value)
            for name, value in model.items()
        }
        return Aggregation(version + 1, [satellite], [staleness], [a], int(update.num_examples), mixed)


class FedBuffAggregator(Aggregator):
    name = "fedbuff"

    def __init__(self, settings: AggregatorSettings, num_satellites: int) -> None:
        super().__init__(settings, num_satellites)
        # satellite, base version, delta from that version's global student, examples
        self.buffer: list[tuple[int, int, ModelArrays, int]] = []

    @staticmethod
    def weight(staleness: int) -> float:
        return float(1.0 / np.sqrt(1.0 + staleness))

    def staleness_weight(self, staleness: int) -> float:
        return self.weight(staleness)

    def waiting(self) -> int:
        return len(self.buffer)

    def receive(
        self, model: ModelArrays, version: int, satellite: int, update: UpdatePacket, now_s: float, history: History
    ) -> Outcome:
        base = history(update.base_version)
        delta = {name: update.model[name].astype(np.float64) - base[name].astype(np.float64) for name in base}
        self.buffer.append((satellite, update.base_version, delta, int(update.num_examples)))
        if len(self.buffer) < self.settings.buffer_size:
            return None
        staleness = [version - b for _, b, _, _ in self.buffer]
        weights = [self.weight(s) for s in staleness]
        k = len(self.buffer)
        step = self.settings.server_lr / k
        new: ModelArrays = {}
        for name, value in model.items():
            total = sum(w * d[name] for w, (_, _, d, _) in zip(weights, self.buffer, strict=True))
            new[name] = _cast_like(value.astype(np.float64) + step * total, value)
        result = Aggregation(
            version=version + 1,
            satellites=[s for s, _, _, _ in self.buffer],
            staleness=staleness,
            weights=weights,
            num_examples=sum(n for _, _, _, n in self.buffer),
            model=new,
        )
        self.buffer = []
        return result


AGGREGATORS: dict[str, type[Aggregator]] = {
    cls.name: cls for cls in (SyncAggregator, FedAsyncAggregator, FedBuffAggregator)
}


def make_aggregator(name: str, settings: AggregatorSettings, num_satellites: int) -> Aggregator:
    try:
        cls = AGGREGATORS[name]
    except KeyError:
        known = ", ".join(sorted(AGGREGATORS))
        raise ConfigError(f"aggregation must be one of {known}, got {name!r}", "aggregation") from None
    return cls(settings, num_satellites)

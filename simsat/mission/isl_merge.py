"""What satellites combine over inter-satellite links, as plain numpy (no SimPy, no Flower).

- A plane's aggregate (`IslPlan.mode` plane): the updates of the satellites of one
  plane that have not reached the ground yet, each once (its newest). It crosses a crosslink and
  the ground link as one update: the weighted mean of its updates, weighted by examples times the
  ground's aggregation rule's own staleness weight (`Aggregator.staleness_weight`), relative to the
  newest global version any of them was trained from (which the combined update carries).
- Gossip (`gossip`): a satellite averages a neighbour's model into its own, weighted by the
  examples each was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from simsat.mission.aggregation import weighted_mean
from simsat.mission.packets import ModelArrays, UpdatePacket

StalenessWeight = Callable[[int], float]


@dataclass(frozen=True)
class Contribution:
    """One satellite's update, the `seq`-th it made (a newer one replaces it)."""

    satellite: int
    seq: int
    update: UpdatePacket


Bundle = dict[int, Contribution]  # satellite -> its newest contribution held


def newer(held: Mapping[int, Contribution], offered: Mapping[int, Contribution]) -> list[int]:
    """Satellites whose contribution in `offered` is newer than the one `held` has (or it has none)."""
    return sorted(s for s, c in offered.items() if s not in held or held[s].seq < c.seq)


def merge(held: Bundle, offered: Mapping[int, Contribution]) -> Bundle:
    """`held` with the newer contributions of `offered`."""
    out = dict(held)
    for s in newer(held, offered):
        out[s] = offered[s]
    return out


def combination_weights(bundle: Mapping[int, Contribution], staleness_weight: StalenessWeight) -> dict[int, float]:
    """Each contribution's weight: its examples times the rule's weight of its staleness against
    the newest base version in the bundle."""
    newest = max(c.update.base_version for c in bundle.values())
    return {
        s: max(c.update.num_examples, 0) * staleness_weight(newest - c.update.base_version)
        for s, c in sorted(bundle.items())
    }


def combine(bundle: Mapping[int, Contribution], staleness_weight: StalenessWeight) -> UpdatePacket:
    """The bundle as one update (see the module's docstring); a single contribution is itself."""
    if not bundle:
        raise ValueError("combine needs at least one contribution")
    if len(bundle) == 1:
        return next(iter(bundle.values())).update
    weights = combination_weights(bundle, staleness_weight)
    contributions = [bundle[s] for s in weights]
    total = sum(weights.values())
    loss = sum(w * c.update.loss for w, c in zip(weights.values(), contributions, strict=True))
    return UpdatePacket(
        base_version=max(c.update.base_version for c in contributions),
        model=weighted_mean([c.update.model for c in contributions], list(weights.values())),
        num_examples=sum(c.update.num_examples for c in contributions),
        loss=float(loss / total) if total > 0 else float(contributions[0].update.loss),
    )


def gossip_average(own: ModelArrays, own_examples: int, other: ModelArrays, other_examples: int) -> ModelArrays:
    """A neighbour's model averaged into one's own, by examples (equal weights when both are 0)."""
    return weighted_mean([own, other], [max(own_examples, 0), max(other_examples, 0)])

"""Federation strategies chosen by name (`get_strategy`).

A strategy says what crosses the links and who learns:

=============  ========  =========  ==================  =============================
name           imagery   soft labels  satellites train on  global student
=============  ========  =========  ==================  =============================
fedkd          down      up         soft labels (+ SSL)  aggregated from their updates
ground         down      -          nothing              distilled at the ground, uplinked
fedavg_labels  -         -          their own labels     aggregated from their updates
local          down      up         soft labels (+ SSL)  none: each keeps its own model
=============  ========  =========  ==================  =============================

`local` starts every satellite from the same initial student and never aggregates; its
accuracy is the mean over satellites of their latest downlinked models.
"""

from __future__ import annotations

from dataclasses import dataclass

from simsat.errors import ConfigError


@dataclass(frozen=True)
class Strategy:
    name: str
    imagery: bool  # satellites downlink imagery for the ground's teachers
    knowledge: bool  # the ground uplinks its teachers' soft labels
    onboard: str  # what satellites train on: "distill" | "labels" | "none"
    aggregates: bool  # satellites' updates change the global student
    ground_trains: bool  # the ground trains the student on the imagery it received
    description: str = ""

    def sends_model(self, satellite_version: int, global_version: int) -> bool:
        """Whether a satellite holding `satellite_version` gets the global student."""
        if not self.aggregates and not self.ground_trains:
            return satellite_version < 0  # local: the initial student once
        return satellite_version < global_version

    @property
    def downlinks_updates(self) -> bool:
        return self.onboard != "none"


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "fedkd", True, True, "distill", True, False, "teachers' soft labels up, onboard training, aggregation"
        ),
        Strategy(
            "ground", True, False, "none", False, True, "the ground distils on received imagery, uplinks the model"
        ),
        Strategy("fedavg_labels", False, False, "labels", True, False, "satellites hold labels, no teachers"),
        Strategy("local", True, True, "distill", False, False, "one initial model, each satellite trains alone"),
    )
}


def get_strategy(name: str) -> Strategy:
    """The strategy called `name`; ConfigError (naming ``strategy``) for an unknown one."""
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise ConfigError(f"strategy must be one of {known}, got {name!r}", "strategy") from None

"""The students' optimisation recipe: one type for the training loop, scenarios and experiments.

A plain dataclass (no torch), so Hydra's structured configs can use it as a section schema:
a scenario's ``training`` section extends it (:class:`simsat.config.schema.TrainingConfig`), an
experiment's ``train`` section is one. Its values are checked by the config validator
(``simsat.config.sections.check_recipe``), the one place that names the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

SCHEDULES = ("onecycle", "step", "constant")


@dataclass
class TrainRecipe:
    """AdamW settings shared by supervised and distillation training.

    ``schedule``: "onecycle" (one cycle over all epochs, stepped per batch), "step" (StepLR(7, 0.1)
    per epoch, as in Le et al.) or "constant". ``augment``: random flips and quarter turns.
    The random seed is not part of the recipe: each training call takes its own.
    """

    epochs: int = 1  # passes over the training images
    batch_size: int = 64  # images per batch
    lr: float = 2e-3  # peak learning rate (AdamW)
    weight_decay: float = 5e-4  # AdamW weight decay
    schedule: str = "onecycle"  # onecycle | step | constant
    augment: bool = True  # random flips and quarter turns
    channels_last: bool = True  # channels-last memory format (faster on CPU)

    def recipe(self) -> TrainRecipe:
        """The recipe alone, from a config section that extends it with keys of its own."""
        return TrainRecipe(**{f.name: getattr(self, f.name) for f in fields(TrainRecipe)})


__all__ = ["SCHEDULES", "TrainRecipe"]

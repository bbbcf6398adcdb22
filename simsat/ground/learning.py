"""The ground station's learning: its teachers' soft labels, the ground-only reference student,
the refinement of an aggregated student, the `ground` strategy's training, teacher refresh and
the scores of a student on the test images.

Torch work only, no SimPy: the mission (`simsat.mission.operations`) calls these functions at
the simulated moments that need them, through the run's journal, on the ground worker where
they can run beside the mission. Everything runs on `device`.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from simsat.config.compile import LearningSettings
from simsat.data import MissionData
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import train_semi_supervised
from simsat.distill.train import TrainHooks, evaluate, train_distill, train_supervised
from simsat.distill.weights_cache import cached_weights
from simsat.mission.journal import Journal
from simsat.mission.knowledge import knowledge_packet, labelled_plus_soft, teacher_logits, training_knowledge
from simsat.mission.onboard import build_student, model_arrays
from simsat.mission.packets import KnowledgePacket, ModelArrays
from simsat.mission.replay import journaled_reference
from simsat.models.inputs import Normalization

log = logging.getLogger(__name__)

# stage name, amount done, total (e.g. "mission", simulated hours, mission hours)
Progress = Callable[[str, float, float], None]


def no_progress(stage: str, done: float, total: float) -> None:
    return None


def _epochs_to(progress: Progress, stage: str, epochs: int) -> Callable[[int], None]:
    """A training's end-of-epoch hook that reports `stage` (done epochs of `epochs`)."""
    return lambda epoch: progress(stage, float(epoch), float(epochs))


@dataclass
class GroundLearning:
    """The ground's torch work for one mission (see the module's docstring)."""

    settings: LearningSettings
    data: MissionData
    norm: Normalization
    num_classes: int
    teachers: list[torch.nn.Module]
    initial_model: ModelArrays
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    progress: Progress = field(default=no_progress, repr=False)  # long ground work reports here
    _reference: tuple[dict[str, float], ModelArrays] | None = field(default=None, repr=False)
    _refreshed: list[torch.nn.Module] | None = field(default=None, repr=False)  # this run's refreshed teachers

    def start(self) -> None:
        """A run starts from the launch teachers (a refresh of an earlier play is forgotten)."""
        self._refreshed = None

    def score(self, arrays: ModelArrays) -> dict[str, float]:
        model = build_student(self.settings.model, self.num_classes, arrays)
        test = self.data.test
        return evaluate(model, test.images, test.labels, self.norm, self.num_classes, device=self.device).as_dict()

    def label(self, images: np.ndarray, ids: np.ndarray) -> KnowledgePacket:
        s = self.settings
        teachers = list(self._teachers_in_use())
        if s.reference_teacher:
            teachers.append(build_student(s.model, self.num_classes, self._trained_reference()[1]))
        logits = teacher_logits(teachers, images, self.norm, self.device)
        return knowledge_packet(logits, ids, s.weighting, s.temperature)

    def refresh_teachers(
        self, images: np.ndarray, progress: Progress = no_progress
    ) -> tuple[list[ModelArrays], dict[str, Any]]:
        """The teachers in use, continued on the ground's labels plus the consistency term on
        the received `images` (`settings.refresh`); their new weights and test scores."""
        r = self.settings.refresh
        g, test = self.data.ground, self.data.test
        start = time.perf_counter()
        weights, report = [], []
        for spec, teacher in zip(self.settings.teachers, self._teachers_in_use(), strict=True):
            model = copy.deepcopy(teacher)
            recipe = TrainRecipe(epochs=r.epochs, batch_size=spec.batch_size, lr=r.lr, schedule="onecycle")
            hooks = TrainHooks(on_epoch_end=_epochs_to(progress, f"teacher {spec.name} refresh (epochs)", r.epochs))
            train_semi_supervised(
                model,
                g.images,
                g.labels,
                images,
                recipe,
                self.norm,
                r.semi,
                hooks,
                seed=self.settings.seed,
                device=self.device,
            )
            model = model.to(memory_format=torch.contiguous_format)
            accuracy = evaluate(
                model, test.images, test.labels, self.norm, self.num_classes, device=self.device
            ).accuracy
            log.info("teacher %s refreshed on %d received images: test accuracy %.4f", spec.name, len(images), accuracy)
            weights.append(model_arrays(model))
            report.append({"name": spec.name, "accuracy": round(float(accuracy), 4)})
        return weights, {"teachers": report, "seconds": round(time.perf_counter() - start, 2)}

    def adopt_teachers(self, weights: list[ModelArrays]) -> None:
        """Label with teachers of these weights from now on (this run only)."""
        adopted = []
        for teacher, arrays in zip(self._teachers_in_use(), weights, strict=True):
            model = copy.deepcopy(teacher)
            model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
            adopted.append(model.eval())
        self._refreshed = adopted

    def _teachers_in_use(self) -> list[torch.nn.Module]:
        return self.teachers if self._refreshed is None else self._refreshed

    def train_at_ground(self, arrays: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        """`ground`: the student trained on everything the ground holds (the recipe's epochs)."""
        return self.train_with_labels(arrays, images, knowledge, self.settings.recipe.epochs)

    def refine_at_ground(self, arrays: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket) -> ModelArrays:
        """An aggregated student refined at the ground (`settings.refine_epochs`)."""
        return self.train_with_labels(arrays, images, knowledge, self.settings.refine_epochs)

    def train_with_labels(
        self, arrays: ModelArrays, images: np.ndarray, knowledge: KnowledgePacket, epochs: int
    ) -> ModelArrays:
        """The ground's own labelled images (cross-entropy) together with the received `images`
        (their teachers' soft labels), `epochs` passes from `arrays`."""
        g = self.data.ground
        model = build_student(self.settings.model, self.num_classes, arrays)
        train_distill(
            model,
            np.concatenate([g.images, images]) if len(images) else g.images,
            labelled_plus_soft(len(g), training_knowledge(knowledge), self.num_classes),
            np.concatenate([g.labels, np.full(len(images), -1, dtype=np.int64)]),
            self.settings.temperature,
            replace(self.settings.recipe, epochs=epochs),
            self.norm,
            seed=self.settings.seed,
            device=self.device,
        )
        return model_arrays(model.to(memory_format=torch.contiguous_format))

    def ground_only_reference(self) -> dict[str, float] | None:
        """The student trained at the ground on the ground's labelled images (no satellites);
        trained once, on first use."""
        if self.settings.reference.epochs == 0:
            return None
        return self._trained_reference()[0]

    def _trained_reference(self) -> tuple[dict[str, float], ModelArrays]:
        if self._reference is None:
            self._reference = self._cached_reference()
        return self._reference

    def _cached_reference(self) -> tuple[dict[str, float], ModelArrays]:
        """The reference from the cache (`settings.cache_dir`/reference, keyed by everything that
        shapes it), else trained (with progress) and kept there."""
        s, g, test = self.settings, self.data.ground, self.data.test
        recipe = s.reference
        payload = {
            "model": s.model,
            "num_classes": self.num_classes,
            "recipe": dataclasses.asdict(recipe),
            "seed": s.seed,
            "ground": g.fingerprint(),
            "test": test.fingerprint(),
            "norm": self.norm.as_dict(),
        }

        def train() -> tuple[dict[str, Any], ModelArrays]:
            start = time.perf_counter()
            torch.manual_seed(s.seed)
            model = build_student(s.model, self.num_classes)
            hooks = TrainHooks(on_epoch_end=_epochs_to(self.progress, "reference student (epochs)", recipe.epochs))
            train_supervised(model, g.images, g.labels, recipe, self.norm, seed=s.seed, hooks=hooks, device=self.device)
            scores = evaluate(
                model, test.images, test.labels, self.norm, self.num_classes, device=self.device
            ).as_dict()
            report = {**scores, "epochs": recipe.epochs, "seconds": round(time.perf_counter() - start, 2)}
            return report, model_arrays(model.to(memory_format=torch.contiguous_format))

        report, arrays, cached = cached_weights(s.cache_dir / "reference", "reference", payload, train)
        if cached:
            log.info("ground-only reference from the cache: test accuracy %.4f", report["accuracy"])
        return {k: v for k, v in report.items()}, arrays

    def take_reference_from(self, journal: Journal) -> None:
        """Take the ground-only reference from the run's `journal` (trained and added the first time)."""
        if self.settings.reference.epochs > 0:
            self._reference = journaled_reference(self._trained_reference, journal, self.settings.reference.epochs)

    def launch_model(self) -> ModelArrays:
        """The global student the mission starts from (the reference where `settings.launch_from_reference`)."""
        if self.settings.launch_from_reference:
            return self._trained_reference()[1]
        return self.initial_model

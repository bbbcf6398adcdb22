"""Can distillation on the satellites' images lift the quickstart's student above its ground-only reference?

Centrally, on the quickstart's own data (no orbits, no links): the ground-only reference (ResNet8 on the
ground's labels, `reference.epochs`), the teachers as the scenario trains them, and the reference's weights
distilled for two epochs on all the satellites' images from (a) the teachers, (b) teachers plus the reference,
(c) the reference alone. One torch thread. Writes bench/results/quickstart_central.json.

    python bench/quickstart_central.py [override ...]
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from simsat.assembly import load_mission_data
from simsat.config.compile import data_settings, student_recipe
from simsat.config.load import load_config
from simsat.distill.teacher_cache import TeacherSpec, train_or_load_teachers
from simsat.distill.train import evaluate, predict_logits, train_distill, train_supervised
from simsat.machine import machine
from simsat.mission.knowledge import knowledge_packet, training_knowledge
from simsat.mission.onboard import build_student
from simsat.models.inputs import Normalization

RESULTS = Path(__file__).resolve().parent / "results" / "quickstart_central.json"


def main() -> None:
    torch.set_num_threads(1)
    overrides = sys.argv[1:]
    config = load_config("quickstart", overrides)
    data = load_mission_data(data_settings(config), 4)
    norm = Normalization.from_images(data.ground.images)
    ground, test = data.ground, data.test
    sat_images = np.concatenate([s.images for s in data.satellites])
    classes = len(test.class_names)

    def score(model: torch.nn.Module) -> float:
        return round(evaluate(model, test.images, test.labels, norm, classes).as_dict()["accuracy"], 4)

    start = time.perf_counter()
    specs = [TeacherSpec(t.name, t.input_size, t.epochs, t.lr, t.batch_size, None) for t in config.distill.teachers]
    with tempfile.TemporaryDirectory() as cache:
        loaded = train_or_load_teachers(
            specs, ground.images, ground.labels, norm, classes, ground.fingerprint(), Path(cache), config.seed
        )
    teachers = [model for model, _ in loaded]
    torch.manual_seed(config.seed)
    reference = build_student(config.satellite.model, classes)
    recipe = student_recipe(config, config.reference.epochs)
    train_supervised(reference, ground.images, ground.labels, recipe, norm, seed=config.seed)
    ids = np.arange(len(sat_images))
    temperature = config.distill.temperature

    def distilled(members: list[torch.nn.Module]) -> float:
        logits = [predict_logits(m, sat_images, norm) for m in members]
        packet = knowledge_packet(logits, ids, config.distill.weighting, temperature)
        student = copy.deepcopy(reference)
        train_distill(
            student,
            sat_images[packet.ids],
            training_knowledge(packet),
            None,
            temperature,
            student_recipe(config, 2),
            norm,
            seed=config.seed,
        )
        return score(student)

    result = {
        "command": " ".join(["python bench/quickstart_central.py", *overrides]).strip(),
        "ground_labels": len(ground),
        "satellite_images": len(sat_images),
        "reference_accuracy": score(reference),
        "reference_epochs": config.reference.epochs,
        "teachers": {spec.name: score(model) for spec, model in zip(specs, teachers, strict=True)},
        "distilled_from_reference_weights_2_epochs": {
            "teachers": distilled(teachers),
            "teachers_and_reference": distilled([*teachers, reference]),
            "reference_alone": distilled([reference]),
        },
        "wall_seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Schema of the centralised distillation experiment (`simsat distill`).

Plain dataclasses: Hydra validates keys and types against them; `validate_experiment`
(`simsat.config.validate`, the validator every simsat config goes through) checks values and
names before anything expensive starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simsat.config.schema import TeacherConfig
from simsat.distill.recipe import TrainRecipe

TEACHER_TARGETS = ("view", "mean")  # see simsat.experiment.views.teacher_targets


@dataclass
class ExperimentDataConfig:
    """Where the train / validation / test images come from."""

    source: str = "synthetic"  # "synthetic" | "eurosat"
    path: str = ""  # EuroSAT folder (<Class>/<Class>_<n>.jpg)
    split_dir: str = ""  # optional folder with train/validation/test.csv and label_map.json
    n_images: int = 3000  # synthetic dataset size
    validation_fraction: float = 0.15  # seeded stratified split (synthetic, or eurosat without split_dir)
    test_fraction: float = 0.15
    max_per_split: int = 0  # > 0: keep a seeded random subset of at most this many images per split
    cache_dir: str = ".simsat_cache"  # decoded EuroSAT, trained teachers, teacher logits


@dataclass
class EfficiencyConfig:
    """Cost report: hardware profile for energy, batch sizes and repeats for CPU latency."""

    enabled: bool = True
    hardware: str = "jetson_nano_5w"
    batch_sizes: list[int] = field(default_factory=lambda: [1, 64])
    repeats: int = 20
    warmup: int = 5


@dataclass
class ExperimentConfig:
    """Teachers trained once, then every student x rule x seed distilled from them."""

    name: str = "synthetic"
    description: str = ""
    seed: int = 0  # data split and teacher training
    seeds: list[int] = field(default_factory=lambda: [0])  # one student per seed
    students: list[str] = field(default_factory=lambda: ["resnet8"])
    rules: list[str] = field(default_factory=lambda: ["entropy", "none"])
    temperature: float = 5.0
    teacher_targets: str = "view"  # "view": teacher logits on the student's view; "mean": over all views
    teachers: list[TeacherConfig] = field(
        default_factory=lambda: [TeacherConfig(name="efficientvit_b0"), TeacherConfig(name="mobilevit_xxs")]
    )
    data: ExperimentDataConfig = field(default_factory=ExperimentDataConfig)
    # the students' recipe (see simsat/configs/experiment/recipe/); augment: random flips and quarter turns,
    # the same view for student and teachers
    train: TrainRecipe = field(default_factory=lambda: TrainRecipe(epochs=10))
    efficiency: EfficiencyConfig = field(default_factory=EfficiencyConfig)
    output_dir: str = "runs"
    threads: int = 2  # torch threads (0: leave torch's default)
    progress: bool = True
    device: str = "auto"  # where teachers and students train: auto (CUDA when torch sees one), cpu, cuda, cuda:N


def needs_teachers(rules: list[str]) -> bool:
    """True when any rule distils (every rule but 'none')."""
    return any(rule != "none" for rule in rules)

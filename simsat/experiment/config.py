"""Schema of the centralized distillation experiment (`simsat distill`) and its value checks.

Plain dataclasses: Hydra validates keys and types against them; `validate_experiment` checks
values and names (models, rules, hardware, files) before anything expensive starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simsat.config.schema import TeacherConfig
from simsat.errors import ConfigError

DATA_SOURCES = ("synthetic", "eurosat")
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
class StudentTrainConfig:
    """The students' optimisation recipe (AdamW); see configs/experiment/recipe/."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 5e-4
    schedule: str = "onecycle"  # "onecycle" | "step" (StepLR(7, 0.1)) | "constant"
    augment: bool = True  # random flips and quarter turns, the same view for student and teachers
    channels_last: bool = True


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
    train: StudentTrainConfig = field(default_factory=StudentTrainConfig)
    efficiency: EfficiencyConfig = field(default_factory=EfficiencyConfig)
    output_dir: str = "runs"
    threads: int = 2  # torch threads (0: leave torch's default)
    progress: bool = True


def _require(ok: bool, key: str, rule: str, value: object) -> None:
    if not ok:
        raise ConfigError(f"{key} {rule}, got {value!r}")


def _check_unique(key: str, values: list[object]) -> None:
    _require(len(values) >= 1, key, "must not be empty", values)
    _require(len(set(values)) == len(values), key, "must not repeat a value", values)


def needs_teachers(rules: list[str]) -> bool:
    """True when any rule distils (every rule but 'none')."""
    return any(rule != "none" for rule in rules)


def _validate_data(d: ExperimentDataConfig) -> None:
    _require(d.source in DATA_SOURCES, "data.source", f"must be one of {', '.join(DATA_SOURCES)}", d.source)
    _require(d.max_per_split >= 0, "data.max_per_split", "must be >= 0", d.max_per_split)
    _require(bool(d.cache_dir), "data.cache_dir", "must name a folder", d.cache_dir)
    for key in ("validation_fraction", "test_fraction"):
        value = getattr(d, key)
        _require(0.0 < value < 1.0, f"data.{key}", "must be between 0 and 1", value)
    total = d.validation_fraction + d.test_fraction
    _require(total < 1.0, "data.validation_fraction + data.test_fraction", "must be < 1", round(total, 4))
    if d.source == "synthetic":
        _require(d.n_images >= 30, "data.n_images", "must be >= 30", d.n_images)
        return
    _require(bool(d.path), "data.path", "must name a EuroSAT folder when data.source=eurosat", d.path)
    _require(Path(d.path).expanduser().is_dir(), "data.path", "EuroSAT folder not found", d.path)
    if d.split_dir:
        _require(Path(d.split_dir).expanduser().is_dir(), "data.split_dir", "split folder not found", d.split_dir)


def _validate_teachers(cfg: ExperimentConfig) -> None:
    import timm
    import torch

    from simsat.distill.weighting import get_weighting
    from simsat.models.registry import register_timm_models

    register_timm_models()
    for i, t in enumerate(cfg.teachers):
        key = f"teachers[{i}]"
        _require(bool(t.name) and timm.is_model(t.name), f"{key}.name", "must be a timm model name", t.name)
        _require(t.input_size >= 16, f"{key}.input_size", "must be >= 16", t.input_size)
        _require(t.epochs >= 0, f"{key}.epochs", "must be >= 0", t.epochs)
        _require(t.lr > 0, f"{key}.lr", "must be > 0", t.lr)
        _require(t.batch_size >= 1, f"{key}.batch_size", "must be >= 1", t.batch_size)
        if t.checkpoint:
            _require(Path(t.checkpoint).expanduser().is_file(), f"{key}.checkpoint", "file not found", t.checkpoint)
    for rule in cfg.rules:
        weigh = get_weighting(rule)  # ConfigError naming an unknown rule
        if rule == "none":
            continue
        _require(len(cfg.teachers) >= 1, "teachers", f"needs at least one teacher for rule {rule!r}", [])
        try:  # a rule that cannot weigh this many teachers (e.g. 'paper' needs 2) says so now
            weigh(torch.full((len(cfg.teachers), 1, 10), 0.1), temperature=cfg.temperature)
        except ConfigError as exc:
            raise ConfigError(f"rules: {exc}") from None


def validate_experiment(cfg: ExperimentConfig) -> None:
    """Raise ConfigError naming the first invalid key or name; None when the config is valid."""
    from simsat.distill.train import SCHEDULES
    from simsat.hardware.registry import default_registry
    from simsat.models.registry import STUDENT_MODELS

    _require(bool(cfg.name) and "/" not in cfg.name, "name", "must be a non-empty name without '/'", cfg.name)
    _require(bool(cfg.output_dir), "output_dir", "must name a folder", cfg.output_dir)
    _require(cfg.threads >= 0, "threads", "must be >= 0", cfg.threads)
    _check_unique("seeds", list(cfg.seeds))
    _check_unique("students", list(cfg.students))
    for name in cfg.students:
        _require(name in STUDENT_MODELS, "students", f"must be among {', '.join(STUDENT_MODELS)}", name)
    _check_unique("rules", list(cfg.rules))
    _require(cfg.temperature > 0, "temperature", "must be > 0", cfg.temperature)
    _require(cfg.teacher_targets in TEACHER_TARGETS, "teacher_targets",
             f"must be one of {', '.join(TEACHER_TARGETS)}", cfg.teacher_targets)
    t = cfg.train
    _require(t.epochs >= 1, "train.epochs", "must be >= 1", t.epochs)
    _require(t.batch_size >= 2, "train.batch_size", "must be >= 2", t.batch_size)
    _require(t.lr > 0, "train.lr", "must be > 0", t.lr)
    _require(t.weight_decay >= 0, "train.weight_decay", "must be >= 0", t.weight_decay)
    _require(t.schedule in SCHEDULES, "train.schedule", f"must be one of {', '.join(SCHEDULES)}", t.schedule)
    e = cfg.efficiency
    if e.enabled:
        default_registry().get(e.hardware)
        _require(len(e.batch_sizes) >= 1 and all(b >= 1 for b in e.batch_sizes), "efficiency.batch_sizes",
                 "must hold sizes >= 1", list(e.batch_sizes))
        _require(e.repeats >= 1, "efficiency.repeats", "must be >= 1", e.repeats)
        _require(e.warmup >= 0, "efficiency.warmup", "must be >= 0", e.warmup)
    _validate_data(cfg.data)
    _validate_teachers(cfg)

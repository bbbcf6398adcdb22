"""Value rules for the parts scenarios and experiments share: names, seeds, teachers, the
optimiser, distillation, data sources and output folders.

`simsat.config.validate` builds both validators from these, so a key that means the same thing
in a scenario and in an experiment is checked by the same rule. Keys are given as a user writes
them on the command line (`distill.teachers.0.lr`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simsat.config import checks as c
from simsat.config.schema import TeacherConfig
from simsat.distill.recipe import SCHEDULES, TrainRecipe
from simsat.errors import ConfigError

MAX_SEED = 2**32 - 1  # numpy's and torch's seeding accept this range on every platform
MAX_TEMPERATURE = 100.0  # beyond this every softened distribution is flat: nothing is distilled
MAX_LR = 10.0
MAX_WEIGHT_DECAY = 1.0
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_INPUT_SIZE = 1024
MIN_INPUT_SIZE = 16
DATA_SOURCES = ("synthetic", "eurosat")


def prefixed(key: str, exc: ConfigError) -> ConfigError:
    """`exc` with `key: ` in front unless its message already names the key."""
    message = str(exc)
    return exc if message.startswith(key) else ConfigError(f"{key}: {message}")


def check_name(key: str, value: object) -> str:
    name = c.text(key, value, "a non-empty name")
    c.require(
        "/" not in name and "\\" not in name and name not in (".", ".."),
        key,
        "must be a name without path separators",
        value,
    )
    return name


def check_seed(key: str, value: object) -> int:
    return c.integer(key, value, 0, MAX_SEED)


def check_threads(key: str, value: object, low: int) -> int:
    return c.integer(key, value, low, 4096)


def check_recipe(prefix: str, recipe: TrainRecipe, min_batch: int = 1) -> None:
    """The students' optimisation recipe under `prefix` (``training.`` in a scenario, ``train.`` in an
    experiment): the one check of a :class:`~simsat.distill.recipe.TrainRecipe`'s values."""
    c.integer(f"{prefix}epochs", recipe.epochs, 1, MAX_EPOCHS)
    c.integer(f"{prefix}batch_size", recipe.batch_size, min_batch, MAX_BATCH)
    c.positive(f"{prefix}lr", recipe.lr, high=MAX_LR)
    c.non_negative(f"{prefix}weight_decay", recipe.weight_decay, high=MAX_WEIGHT_DECAY)
    c.choice(f"{prefix}schedule", recipe.schedule, SCHEDULES)
    for key in ("augment", "channels_last"):
        value = getattr(recipe, key)
        c.require(isinstance(value, bool), f"{prefix}{key}", "must be true or false", value)


def check_teachers(key: str, teachers: Sequence[TeacherConfig], required: bool) -> None:
    """Every teacher: a timm model name, input size, schedule (epochs may be 0) and checkpoint path text."""
    import timm

    from simsat.models.registry import register_timm_models

    if required:
        c.require(len(teachers) >= 1, key, "needs at least one teacher", [])
    register_timm_models()
    for i, t in enumerate(teachers):
        k = f"{key}.{i}."
        name = c.text(f"{k}name", t.name, "a timm model name")
        c.require(timm.is_model(name), f"{k}name", "must be a timm model name", name)
        c.integer(f"{k}input_size", t.input_size, MIN_INPUT_SIZE, MAX_INPUT_SIZE)
        c.integer(f"{k}epochs", t.epochs, 0, MAX_EPOCHS)
        c.positive(f"{k}lr", t.lr, high=MAX_LR)
        c.integer(f"{k}batch_size", t.batch_size, 1, MAX_BATCH)
        c.require(isinstance(t.checkpoint, str), f"{k}checkpoint", "must be a file path or empty", t.checkpoint)


def check_weighting(key: str, rule: object, n_teachers: int, temperature: float) -> None:
    """A registered weighting rule that can weigh `n_teachers` teachers."""
    import torch

    from simsat.distill.weighting import get_weighting

    try:
        weigh = get_weighting(rule)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise prefixed(key, exc) from None
    if rule == "none":
        return
    c.require(n_teachers >= 1, key, "needs at least one teacher", rule)
    try:  # a rule that cannot weigh this many teachers (e.g. 'paper' needs 2) says so now
        weigh(torch.full((n_teachers, 1, 10), 0.1), temperature=temperature)
    except ConfigError as exc:
        raise ConfigError(f"{key}={rule!r} with {n_teachers} teacher(s): {exc}") from None


def check_temperature(key: str, value: object) -> float:
    return c.positive(key, value, high=MAX_TEMPERATURE)


def check_student(key: str, value: object) -> str:
    from simsat.models.registry import STUDENT_MODELS

    return c.choice(key, value, tuple(STUDENT_MODELS))


def check_hardware(key: str, value: object) -> None:
    from simsat.hardware.registry import default_registry

    name = c.text(key, value, "a hardware profile name")
    try:
        default_registry().get(name)
    except ConfigError as exc:
        raise prefixed(key, exc) from None


def check_fractions(prefix: str, fractions: Mapping[str, object]) -> None:
    """Each share strictly in (0, 1) and their sum < 1 (something must be left to train on)."""
    total = 0.0
    for name, value in fractions.items():
        total += c.fraction(f"{prefix}{name}", value)
    names = " + ".join(f"{prefix}{name}" for name in fractions)
    c.require(total < 1.0, names, "must be < 1", round(total, 4))


def check_data_source(prefix: str, source: object, path: object, cache_dir: object) -> None:
    """source is known; eurosat names a folder; the cache folder is named."""
    c.choice(f"{prefix}source", source, DATA_SOURCES)
    if source == "eurosat":
        c.text(f"{prefix}path", path, f"a EuroSAT folder when {prefix}source=eurosat")
    c.text(f"{prefix}cache_dir", cache_dir, "a folder")


def check_output_key(key: str, value: object) -> str:
    return c.text(key, value, "a folder")

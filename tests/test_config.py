"""Every scenario composes and validates; overrides and config groups apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from simsat.config.compile import reference_recipe, student_recipe
from simsat.config.load import list_scenarios, load_config
from simsat.config.sections import check_recipe
from simsat.distill.recipe import TrainRecipe
from simsat.errors import ConfigError


@pytest.mark.parametrize("name", [name for name, _ in list_scenarios()])
def test_every_scenario_is_valid(name: str) -> None:
    extra = ["data.path=/some/eurosat"] if name in ("eurosat", "federated_eurosat", "ostman_anchor") else []
    config = load_config(name, extra)
    assert config.name == name and config.description


def test_quickstart_meets_its_brief() -> None:
    config = load_config("quickstart")
    assert config.constellation.planes * config.constellation.sats_per_plane >= 4
    assert len(config.ground_stations) == 1 and config.mission.duration_hours >= 12
    assert config.data.source == "synthetic"


def test_overrides_and_group_choice() -> None:
    config = load_config("quickstart", ["constellation=walker_24", "link=xband", "seed=7", "distill=paper"])
    assert config.constellation.planes == 4 and config.constellation.sats_per_plane == 6
    assert config.link.downlink_bps == 50e6 and config.seed == 7 and config.distill.weighting == "paper"


def test_training_section_is_the_students_recipe() -> None:
    config = load_config("quickstart", ["training.schedule=step", "training.augment=false", "training.epochs=3"])
    t = config.training
    assert t.recipe() == TrainRecipe(3, t.batch_size, t.lr, t.weight_decay, "step", False, True)
    assert type(t.recipe()) is TrainRecipe  # without the onboard keys (threads, semi_*)
    assert load_config("quickstart").training.schedule == "onecycle"
    with pytest.raises(ConfigError, match="training.schedule"):
        load_config("quickstart", ["training.schedule=cosine"])


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"epochs": 0}, "train.epochs"),
        ({"batch_size": 1}, "train.batch_size"),
        ({"lr": 0.0}, "train.lr"),
        ({"weight_decay": -1.0}, "train.weight_decay"),
        ({"schedule": "cosine"}, "train.schedule"),
        ({"augment": "yes"}, "train.augment"),
        ({"channels_last": 1}, "train.channels_last"),
    ],
)
def test_recipe_check_names_the_key(change: dict[str, object], key: str) -> None:
    check_recipe("train.", TrainRecipe(), min_batch=2)
    with pytest.raises(ConfigError, match=key):
        check_recipe("train.", TrainRecipe(**change), min_batch=2)


def test_eurosat_scenario_requires_a_path() -> None:
    with pytest.raises(ConfigError, match="data.path"):
        load_config("eurosat")


def test_scenario_file_by_path(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "defaults:\n  - simsat_schema\n  - constellation: walker_2\n  - _self_\nname: mine\n"
        "description: my own\nmission: {duration_hours: 2}\n"
    )
    config = load_config(str(path))
    assert config.name == "mine" and config.mission.duration_hours == 2
    assert config.constellation.sats_per_plane == 2


def test_scenario_cannot_name_python_objects(tmp_path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("defaults:\n  - simsat_schema\n  - _self_\nsatellite:\n  _target_: os.system\n")
    with pytest.raises(ConfigError, match="_target_"):
        load_config(str(path))


def test_named_yaml_resolves_names_and_paths_and_names_the_culprit(tmp_path: Path) -> None:
    from simsat.cli.distill import experiment_file
    from simsat.config.paths import named_yaml, scenario_file

    assert experiment_file("eurosat").name == "eurosat.yaml"
    assert scenario_file("quickstart").name == "quickstart.yaml"
    own = tmp_path / "mine.yml"
    own.write_text("name: mine\n")
    assert named_yaml(str(own), tmp_path / "elsewhere", "experiment") == own.resolve()
    with pytest.raises(ConfigError, match=r"unknown experiment 'nope' \(known: .*eurosat.*synthetic"):
        experiment_file("nope")
    with pytest.raises(ConfigError, match="scenario file not found: .*absent.yaml"):
        scenario_file(str(tmp_path / "absent.yaml"))


def test_reference_trains_at_its_own_lr_or_the_students() -> None:
    plain = load_config("quickstart", ["training.lr=0.0005", "reference.epochs=7"])
    assert reference_recipe(plain) == student_recipe(plain, 7)
    own = load_config("quickstart", ["training.lr=0.0005", "reference.epochs=7", "reference.lr=0.01"])
    assert reference_recipe(own).lr == 0.01 and reference_recipe(own).epochs == 7
    assert student_recipe(own).lr == 0.0005


def test_isl_section_keeps_run_hashes_until_it_is_changed() -> None:
    from simsat.sweep.hashing import scenario_hash

    plain = load_config("tiny")
    assert not plain.isl.enabled
    assert scenario_hash(load_config("tiny", ["isl.pairs=neighbours"])) == scenario_hash(plain)
    assert scenario_hash(load_config("tiny", ["isl.enabled=true"])) != scenario_hash(plain)
    optical = load_config("tiny", ["isl=optical"])  # a group the scenario's defaults do not choose
    assert optical.isl.enabled and optical.isl.pairs == "grid" and optical.isl.max_range_km == 8000.0
    assert load_config("isl_constellation").isl.enabled

"""Per-satellite hardware: assignment from a name, a list or shares, and its checks at validation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from simsat.config.load import load_config
from simsat.errors import ConfigError
from simsat.hardware import HardwareProfile, assign_fleet, default_registry, fleet_names, fleet_summary
from simsat.hardware.fleet import share_counts

# quickstart: Walker 4/2/1, four satellites


def test_one_name_for_all_and_a_list_by_satellite() -> None:
    registry = default_registry()
    fleet = assign_fleet("myriad_x", 3, registry)
    assert [p.name for p in fleet] == ["myriad_x"] * 3 and fleet[0] is registry.get("myriad_x")
    names = ["raspberry_pi4", "myriad_x", "raspberry_pi4"]
    assert [p.name for p in assign_fleet(names, 3, registry)] == names


@pytest.mark.parametrize(
    ("shares", "total", "counts"),
    [
        ({"a": 0.5, "b": 0.5}, 5, {"a": 3, "b": 2}),  # tie on the remainder: by name
        ({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 8, {"a": 3, "b": 3, "c": 2}),
        ({"a": 0.7, "b": 0.2, "c": 0.1}, 24, {"a": 17, "b": 5, "c": 2}),
        ({"a": 0.9, "b": 0.1}, 2, {"a": 2, "b": 0}),
    ],
)
def test_share_counts_largest_remainder(shares: dict[str, float], total: int, counts: dict[str, int]) -> None:
    assert share_counts(shares, total) == counts


def test_shares_are_spread_and_deterministic() -> None:
    shares = {"jetson_nano_5w": 0.5, "raspberry_pi4": 0.25, "myriad_x": 0.25}
    names = fleet_names(shares, 8)
    assert Counter(names) == {"jetson_nano_5w": 4, "raspberry_pi4": 2, "myriad_x": 2}
    assert names == fleet_names(dict(reversed(list(shares.items()))), 8)  # order of the mapping is irrelevant
    # not in blocks: each half of the constellation holds half of each board
    assert Counter(names[:4]) == Counter(names[4:]) == {"jetson_nano_5w": 2, "raspberry_pi4": 1, "myriad_x": 1}
    assert names[:4] == ["jetson_nano_5w", "myriad_x", "raspberry_pi4", "jetson_nano_5w"]
    assert fleet_summary(assign_fleet(shares, 8, default_registry())) == {
        "myriad_x": 2,
        "jetson_nano_5w": 4,
        "raspberry_pi4": 2,
    }


@pytest.mark.parametrize(
    ("spec", "culprit"),
    [
        (["myriad_x"], "lists 1 boards but the constellation has 3 satellites"),
        (["myriad_x", 3, "myriad_x"], r"satellite.hardware\[1\] must name a hardware profile, got 3"),
        ({"myriad_x": 0.5, "raspberry_pi4": 0.4}, "shares must sum to 1, got 0.9"),
        ({"myriad_x": 1.5}, r"satellite.hardware.myriad_x must be a share in \(0, 1\], got 1.5"),
        ({"myriad_x": 0.0, "raspberry_pi4": 1.0}, "must be a share"),
        ({}, "at least one board"),
        ("", "must name a hardware profile"),
        (7, "must be a profile name, a list of names"),
        ("cray_1", "satellite.hardware: unknown hardware profile 'cray_1'; known: jetson_nano_10w"),
        ({"cray_1": 1.0}, "unknown hardware profile 'cray_1'"),
    ],
)
def test_bad_specs_name_the_key(spec: object, culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        assign_fleet(spec, 3, default_registry())


def test_scenario_mixed_fleet_list_and_shares() -> None:
    config = load_config("quickstart", ["satellite.hardware=[jetson_nano_5w,raspberry_pi4,myriad_x,jetson_orin_nano]"])
    fleet = assign_fleet(config.satellite.hardware, 4, default_registry(config.hardware.files))
    assert [p.name for p in fleet] == ["jetson_nano_5w", "raspberry_pi4", "myriad_x", "jetson_orin_nano"]
    config = load_config("quickstart", ["satellite.hardware={jetson_nano_5w:0.5,raspberry_pi4:0.5}"])
    assert config.satellite.hardware == {"jetson_nano_5w": 0.5, "raspberry_pi4": 0.5}
    with pytest.raises(ConfigError, match="lists 2 boards but the constellation has 4 satellites"):
        load_config("quickstart", ["satellite.hardware=[myriad_x,myriad_x]"])


def _board(name: str, memory_mb: float) -> dict[str, object]:
    return HardwareProfile(name, "test", 1e10, 1.0, 4.0, memory_mb, 3.0, 0.4).to_dict()


def test_scenario_loads_profile_files_before_validation(tmp_path: Path) -> None:
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "roomy.json").write_text(json.dumps(_board("roomy", 1024.0)))
    config = load_config("quickstart", [f"hardware.files=[{tmp_path / 'boards'}]", "satellite.hardware=roomy"])
    assert config.hardware.files == [str(tmp_path / "boards")]
    with pytest.raises(ConfigError, match="unknown hardware profile 'roomy'"):
        load_config("quickstart", ["satellite.hardware=roomy"])
    (tmp_path / "again.json").write_text(json.dumps(_board("roomy", 2048.0)))
    with pytest.raises(ConfigError, match=f"'roomy' from {tmp_path / 'again.json'} is already registered from"):
        load_config("quickstart", [f"hardware.files=[{tmp_path / 'boards'},{tmp_path / 'again.json'}]"])
    with pytest.raises(ConfigError, match="missing.yaml not found"):
        load_config("quickstart", [f"hardware.files=[{tmp_path / 'missing.yaml'}]"])


def test_student_that_does_not_fit_is_refused_with_the_numbers(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    path.write_text(json.dumps([_board("tiny_64mb", 64.0), _board("big", 4096.0)]))
    files = f"hardware.files=[{path}]"
    with pytest.raises(
        ConfigError,
        match=(
            r"satellite.hardware: satellite 1 carries 'tiny_64mb' with 64 MB of memory, but training resnet8"
            r" at training.batch_size=64 needs 160\.\d MB"
            r" \(weights, gradients and AdamW state 1\.\d, activations 159\.\d\)"
        ),
    ):
        load_config("quickstart", [files, "satellite.hardware=[big,tiny_64mb,big,big]"])
    # a smaller batch needs less: at batch 16 ResNet8 fits in 64 MB
    load_config("quickstart", [files, "satellite.hardware=tiny_64mb", "training.batch_size=16"])
    with pytest.raises(ConfigError, match="training resnet16 at training.batch_size=16 needs"):
        load_config(
            "quickstart", [files, "satellite.hardware=tiny_64mb", "training.batch_size=16", "satellite.model=resnet16"]
        )


def test_scenario_file_with_shares_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "roomy.yaml").write_text(json.dumps(_board("roomy", 1024.0)))
    scenario = tmp_path / "mixed.yaml"
    scenario.write_text(
        "defaults:\n  - simsat_schema\n  - _self_\nname: mixed\n"
        "hardware:\n  files: [boards]\n"
        "satellite:\n  hardware: {roomy: 0.5, myriad_x: 0.25, raspberry_pi4: 0.25}\n"
    )
    monkeypatch.chdir(tmp_path)  # hardware.files are relative to the working directory
    config = load_config(str(scenario))
    fleet = assign_fleet(config.satellite.hardware, 4, default_registry(config.hardware.files))
    assert [p.name for p in fleet] == ["roomy", "myriad_x", "raspberry_pi4", "roomy"]

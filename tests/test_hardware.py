"""Hardware profiles, their validation and the registry."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from simsat.errors import ConfigError
from simsat.hardware import HardwareProfile, HardwareRegistry, builtin_profiles, default_registry

EXPECTED = {"jetson_nano_5w", "jetson_nano_10w", "jetson_orin_nano", "myriad_x", "raspberry_pi4", "zynq7020_obc"}


def profile(**kw: object) -> HardwareProfile:
    args: dict[str, object] = {
        "name": "board",
        "description": "test board",
        "flops_per_s": 2e10,
        "idle_w": 1.0,
        "busy_w": 9.0,
        "memory_mb": 4096.0,
        "radio_tx_w": 4.0,
        "radio_rx_w": 0.5,
    }
    args.update(kw)
    return HardwareProfile(**args)  # type: ignore[arg-type]


def test_builtins_are_valid_and_fresh() -> None:
    first, second = builtin_profiles(), builtin_profiles()
    assert set(first) == EXPECTED
    assert first is not second
    for p in first.values():
        assert p.busy_w >= p.idle_w > 0
        assert "%" in p.description  # states the effective fraction of peak
    assert first["jetson_nano_10w"].busy_w == 10.0 and first["jetson_nano_5w"].busy_w == 5.0
    assert first["jetson_orin_nano"].flops_per_s > first["jetson_nano_10w"].flops_per_s


def test_compute_time_and_energy() -> None:
    board = profile()
    assert board.compute_seconds(1e12) == pytest.approx(50.0)
    assert board.compute_energy_wh(1e12) == pytest.approx(9.0 * 50.0 / 3600.0)
    nano = builtin_profiles()["jetson_nano_10w"]
    # ResNet8 at 64 px: ~0.35 GFLOP per training image, 1000 images
    assert nano.compute_seconds(0.35e9 * 1000) == pytest.approx(0.35e12 / 2.4e10)


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [
        ({"flops_per_s": 0.0}, "flops_per_s must be > 0"),
        ({"idle_w": -1.0}, "idle_w"),
        ({"busy_w": 0.5}, r"busy_w \(0.5\) must be >= idle_w"),
        ({"memory_mb": "lots"}, "memory_mb must be a number"),
        ({"radio_rx_w": float("nan")}, "radio_rx_w"),
        ({"name": ""}, "name"),
    ],
)
def test_profile_validation_names_profile_and_field(kwargs: dict[str, object], culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        profile(**kwargs)
    if "name" not in kwargs:
        with pytest.raises(ConfigError, match="'board'"):
            profile(**kwargs)


def test_registry_get_register_overwrite() -> None:
    registry = HardwareRegistry(builtin_profiles())
    assert registry.names() == sorted(EXPECTED)
    with pytest.raises(ConfigError, match=r"unknown hardware profile 'tpu'; known: jetson_nano_10w, "):
        registry.get("tpu")
    registry.register(profile())
    assert registry.get("board").flops_per_s == 2e10
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(profile(flops_per_s=1e9))
    registry.register(profile(flops_per_s=1e9), overwrite=True)
    assert registry.get("board").flops_per_s == 1e9


def test_load_yaml_single_and_json_list(tmp_path: Path) -> None:
    single = tmp_path / "cubesat.yaml"
    single.write_text(
        textwrap.dedent("""\
        name: cubesat_fpga
        description: hypothetical FPGA board
        flops_per_s: 5.0e+9
        idle_w: 0.8
        busy_w: 3.2
        memory_mb: 1024
        radio_tx_w: 2.0
        radio_rx_w: 0.3
    """)
    )
    many = tmp_path / "boards.json"
    many.write_text(
        json.dumps(
            [
                profile(name="a").to_dict(),
                {**profile(name="b").to_dict(), "flops_per_s": "1.5e10"},
            ]
        )
    )
    wrapped = tmp_path / "wrapped.yml"
    wrapped.write_text("profiles:\n  - " + json.dumps(profile(name="c").to_dict()) + "\n")
    registry = HardwareRegistry()
    loaded = registry.load_file(single)
    assert loaded[0].busy_w == 3.2 and loaded[0].flops_per_s == 5e9
    assert [p.name for p in registry.load_file(many)] == ["a", "b"]
    assert registry.get("b").flops_per_s == 1.5e10
    registry.load_file(wrapped)
    assert registry.names() == ["a", "b", "c", "cubesat_fpga"]


@pytest.mark.parametrize(
    ("name", "content", "culprit"),
    [
        ("p.yaml", "name: x\nflops: 3\n", r"p\.yaml: unknown key 'flops'"),
        ("p.yaml", "name: x\nidle_w: 1\n", r"p\.yaml: missing key 'flops_per_s'"),
        ("p.json", '[{"name": 1', r"p\.json is not valid JSON"),
        ("p.yaml", "name: [unclosed\n", r"p\.yaml is not valid YAML"),
        ("p.yaml", "- 3\n", r"p\.yaml: \[0\]: a hardware profile must be a mapping"),
        ("p.yaml", "[]\n", "non-empty list"),
        ("p.toml", "name = 'x'\n", r"must end in \.yaml, \.yml or \.json"),
    ],
)
def test_load_file_errors_name_file_and_key(tmp_path: Path, name: str, content: str, culprit: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=culprit):
        HardwareRegistry().load_file(path)


def test_load_file_value_error_and_duplicates(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([profile(name="ok").to_dict(), {**profile(name="hot").to_dict(), "busy_w": 0.1}]))
    registry = HardwareRegistry()
    with pytest.raises(ConfigError, match=r"bad\.json: \[1\]: hardware profile 'hot': busy_w"):
        registry.load_file(bad)
    assert registry.names() == []  # nothing registered from a file with an error
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([profile().to_dict(), profile().to_dict()]))
    with pytest.raises(ConfigError, match="'board' appears twice"):
        registry.load_file(dup)
    with pytest.raises(ConfigError, match="not found"):
        registry.load_file(tmp_path / "missing.yaml")
    registry.register(profile())
    good = tmp_path / "good.json"
    good.write_text(json.dumps(profile(idle_w=2.0).to_dict()))
    with pytest.raises(ConfigError, match="already registered"):
        registry.load_file(good)
    registry.load_file(good, overwrite=True)
    assert registry.get("board").idle_w == 2.0


def _install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: str) -> None:
    (tmp_path / "simsat_test_plugin.py").write_text(
        textwrap.dedent("""\
        from simsat.hardware import HardwareProfile

        def _p(name):
            return HardwareProfile(name, "plugin board", 1e10, 1.0, 4.0, 2048.0, 3.0, 0.4)

        ONE = _p("plugin_one")

        def many():
            return [_p("plugin_two"), _p("plugin_three")]

        def broken():
            raise RuntimeError("no driver")

        NOT_A_PROFILE = {"name": "x"}
    """)
    )
    dist = tmp_path / "simsat_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: simsat-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entries)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "simsat_test_plugin", raising=False)


def test_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(
        tmp_path,
        monkeypatch,
        textwrap.dedent("""\
        [simsat.hardware.test_ok]
        one = simsat_test_plugin:ONE
        many = simsat_test_plugin:many

        [simsat.hardware.test_broken]
        broken = simsat_test_plugin:broken

        [simsat.hardware.test_wrong]
        wrong = simsat_test_plugin:NOT_A_PROFILE
    """),
    )
    registry = HardwareRegistry(builtin_profiles())
    names = registry.load_entry_points(group="simsat.hardware.test_ok")
    assert sorted(names) == ["plugin_one", "plugin_three", "plugin_two"]
    assert registry.get("plugin_two").busy_w == 4.0
    assert registry.origin("plugin_one").startswith("hardware entry point 'one' (simsat_test_plugin:ONE) of package")
    with pytest.raises(
        ConfigError,
        match=r"entry point 'broken' \(simsat_test_plugin:broken\) of package 'simsat-test-plugin' "
        r"failed to load: RuntimeError",
    ):
        registry.load_entry_points(group="simsat.hardware.test_broken")
    with pytest.raises(ConfigError, match="'wrong'.*HardwareProfile"):
        registry.load_entry_points(group="simsat.hardware.test_wrong")
    with pytest.raises(
        ConfigError,
        match="'plugin_one' from hardware entry point 'one'.* already registered from hardware entry point 'one'",
    ):
        registry.load_entry_points(group="simsat.hardware.test_ok")


def test_default_registry_has_builtins_and_files(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(json.dumps(profile(name="extra").to_dict()))
    registry = default_registry([extra])
    assert EXPECTED | {"extra"} <= set(registry.names())


def test_builtins_give_a_source_for_every_number() -> None:
    for p in builtin_profiles().values():
        for key in ("flops_per_s", "idle_w", "busy_w", "memory_mb", "radio_tx_w", "radio_rx_w"):
            assert len(p.source(key)) > 10, (p.name, key)
        assert p.inference_flops_per_s is None and p.effective_inference_flops_per_s == p.flops_per_s


def test_optional_fields_round_trip_and_are_checked(tmp_path: Path) -> None:
    board = profile(inference_flops_per_s=8e10, sources={"busy_w": "datasheet"})
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board.to_dict()))
    loaded = HardwareRegistry().load_file(path)[0]
    assert loaded == board and loaded.source("busy_w") == "datasheet" and loaded.source("idle_w") == ""
    assert "inference_flops_per_s" not in profile().to_dict() and "sources" not in profile().to_dict()
    # forward passes run at the inference rate: 1.6e9 FLOP / 8e10 FLOP/s x 9 W = 0.18 J
    assert loaded.inference_seconds(1.6e9) == pytest.approx(0.02)
    assert loaded.inference_energy_j(1.6e9) == pytest.approx(0.18)
    assert profile().inference_energy_j(1.6e9) == pytest.approx(1.6e9 / 2e10 * 9.0)
    with pytest.raises(ConfigError, match="inference_flops_per_s must be > 0"):
        profile(inference_flops_per_s=-1.0)
    with pytest.raises(ConfigError, match="sources names unknown field 'flops'"):
        profile(sources={"flops": "x"})
    assert profile(memory_mb=64.0).memory_bytes == 64 * 2**20


def test_duplicate_names_across_files_name_both_sources(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "one.yaml", tmp_path / "b" / "two.json"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text(json.dumps(profile(name="twin").to_dict()))
    with pytest.raises(ConfigError, match=f"'twin' from {second} is already registered from {first}"):
        default_registry([first, second])
    with pytest.raises(ConfigError, match=f"'jetson_nano_5w' from {first} is already registered from built-in"):
        first.write_text(json.dumps(profile(name="jetson_nano_5w").to_dict()))
        default_registry([first])


def test_folders_load_every_profile_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "x.yaml").write_text(json.dumps(profile(name="x").to_dict()))
    (folder / "y.json").write_text(json.dumps([profile(name="y").to_dict(), profile(name="z").to_dict()]))
    (folder / "notes.txt").write_text("not a profile")
    registry = default_registry([folder / "x.yaml", folder])  # x.yaml named twice: loaded once
    assert {"x", "y", "z"} <= set(registry.names())
    assert registry.origin("y") == str(folder / "y.json") and registry.origin("myriad_x").startswith("built-in")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds no .yaml, .yml or .json file"):
        default_registry([tmp_path / "empty"])


def test_register_factory_decorator() -> None:
    registry = HardwareRegistry(builtin_profiles())

    @registry.register_factory
    def boards() -> list[HardwareProfile]:
        return [profile(name="deco_a"), profile(name="deco_b")]

    assert boards()[0].name == "deco_a"  # the function is returned unchanged
    assert {"deco_a", "deco_b"} <= set(registry.names())
    assert registry.origin("deco_a").endswith("test_register_factory_decorator.<locals>.boards")
    with pytest.raises(ConfigError, match="must give HardwareProfile objects, got dict"):
        registry.register_factory(lambda: {"name": "x"})

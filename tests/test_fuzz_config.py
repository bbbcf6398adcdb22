"""Property: whatever a user writes for any key of the schema, or puts in a file a command reads,
validation either accepts it or refuses it with a SimsatError (exit 2, one line on the command
line), never another exception (a traceback); and what it accepts builds and survives the trip
through the run folder's config.yaml that `simsat resume` reads back.

The keys are found by walking the schema's dataclasses (simsat.config.schema), so a new key is
fuzzed without touching this file. CI runs a bounded number of examples with a fixed seed; a
longer run by hand:

    SIMSAT_FUZZ_EXAMPLES=3000 SIMSAT_FUZZ_REPORT=fuzz.json python -m pytest -q tests/test_fuzz_config.py
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simsat.cli.main import one_line
from simsat.config.batch import ScenarioBatch
from simsat.config.schema import SimsatConfig
from simsat.errors import ConfigError, SimsatError

EXAMPLES = int(os.environ.get("SIMSAT_FUZZ_EXAMPLES", "0"))
LONG = EXAMPLES > 0
SETTINGS = settings(
    max_examples=EXAMPLES or 60,
    derandomize=not LONG,  # CI: the same examples every time
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FILE_SETTINGS = settings(SETTINGS, max_examples=max(EXAMPLES // 10, 25))


def schema_keys(node: object = None, prefix: str = "") -> dict[str, object]:
    """Every key of the schema as a user writes it, with its default: leaves, lists, and the
    first element's keys of a list of sections (ground_stations.0.name)."""
    node = SimsatConfig() if node is None else node
    keys: dict[str, object] = {}
    for f in dataclasses.fields(node):  # type: ignore[arg-type]
        key, value = f"{prefix}{f.name}", getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            keys.update(schema_keys(value, f"{key}."))
            continue
        keys[key] = value
        if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            keys.update(schema_keys(value[0], f"{key}.0."))
    return keys


DEFAULTS = schema_keys()
KEYS = sorted(DEFAULTS)
WORDS = [
    "", " ", "null", "???", "${seed}", "${oops}", "nan", "-inf", "1e400", "-0", "0x10", "1_000", ".", "..", "/",
    "a/b", "~", "/proc/simsat", "/dev/null", "runs", "jetson_nano_5w", "raspberry_pi4", "resnet8", "efficientvit_b0",
    "fedkd", "ground", "local", "sync", "fedbuff", "paper", "entropy", "eurosat", "synthetic", "budget", "flower",
    "in_process", "sun_pointing", "first_come", "iid", "2025-03-20T00:00:00Z", "1800-01-01T00:00:00Z",
    "9999-12-31T23:00:00Z", "2049-12-31T23:00:00+05:00", "2025-03-20", "127.0.0.1:1",
]  # fmt: skip
DICT_KEYS = ["name", "satellite", "at_hours", "epochs", "input_size", "jetson_nano_5w", "raspberry_pi4", "x"]

scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2.0, max_value=2.0),
    st.booleans(),
    st.none(),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(DICT_KEYS), inner, max_size=3),
    max_leaves=6,
)


def render(value: Any) -> str:
    """A value in Hydra's override syntax."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    return "{" + ",".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"


def own_type(default: object) -> st.SearchStrategy[Any]:
    """Values of the key's own type (most of them pass Hydra's type check and reach validation)."""
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return st.one_of(st.integers(-5, 5000), st.integers(-(2**64), 2**64), st.just(default))
    if isinstance(default, float):
        return st.one_of(st.floats(), st.floats(-10.0, 10.0), st.integers(-5, 100), st.just(default))
    if isinstance(default, str):
        return st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.just(default))
    return values


@st.composite
def override(draw: st.DrawFn) -> tuple[str, str]:
    key = draw(st.sampled_from(KEYS))
    kind = draw(st.sampled_from(["own", "own", "any", "raw"]))
    if kind == "raw":  # unquoted text: the override parser
        return key, draw(st.text(max_size=16))
    return key, render(draw(own_type(DEFAULTS[key]) if kind == "own" else values))


overrides = st.lists(override(), min_size=1, max_size=3, unique_by=lambda pair: pair[0])

COUNTS: Counter[str] = Counter()  # what the examples did, for the report of a long run
KEYS_DRAWN: Counter[str] = Counter()


def _report(current: object = None) -> None:
    """The counts so far, into SIMSAT_FUZZ_REPORT (at every example: a stopped run still tells,
    and names the example it was working on)."""
    path = os.environ.get("SIMSAT_FUZZ_REPORT")
    if path:
        report = {
            "current": current,
            "examples": dict(COUNTS),
            "keys": len(KEYS),
            "keys_drawn": len(KEYS_DRAWN),
            "never_drawn": sorted(set(KEYS) - set(KEYS_DRAWN)),
        }
        Path(path).write_text(json.dumps(report, indent=2) + "\n")


@pytest.fixture(scope="module")
def batch() -> ScenarioBatch:
    return ScenarioBatch("tiny")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder for relative paths, and no network: a drawn Ray address is refused at once."""

    def refused(*args: object, **kwargs: object) -> socket.socket:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return tmp_path


def _accepts_or_refuses(batch: ScenarioBatch, items: list[str]) -> SimsatConfig | None:
    """The config when every check passes; None when refused as bad input (one line)."""
    from simsat.config.inputs import check_scenario_inputs
    from simsat.config.validate import config_warnings

    try:
        config = batch.load(items)
        check_scenario_inputs(config)
        config_warnings(config)
    except SimsatError as exc:
        assert isinstance(exc, ConfigError) and exc.exit_code == 2, (items, exc)
        assert "\n" not in one_line(exc) and one_line(exc).strip(), (items, exc)
        return None
    return config


def _builds(config: SimsatConfig, tmp: Path) -> None:
    """What an accepted config must give without an error: the world's parts, the fleet, the
    strategy, and the same config again from the config.yaml a run writes (what resume reads)."""
    from simsat.cli.resume import load_saved_config
    from simsat.config.compile import build_epoch, build_link_budgets, build_satellites, build_stations, solar_peak_w
    from simsat.config.load import to_yaml
    from simsat.hardware.fleet import assign_fleet
    from simsat.hardware.registry import default_registry
    from simsat.mission.strategies import get_strategy

    epoch = build_epoch(config)
    satellites = build_satellites(config, epoch)
    build_stations(config)
    build_link_budgets(config)
    solar_peak_w(config)
    assign_fleet(config.satellite.hardware, len(satellites), default_registry(config.hardware.files))
    get_strategy(config.federation.strategy)
    (tmp / "config.yaml").write_text(to_yaml(config), encoding="utf-8")
    assert load_saved_config(tmp / "config.yaml") == config
    if LONG and config.mission.duration_hours <= 12:  # the contact plan too, by hand only (seconds each)
        from simsat.config.compile import build_world

        build_world(config)


@SETTINGS
@given(pairs=overrides)
def test_every_key_takes_any_value_or_refuses_it_in_one_line(
    pairs: list[tuple[str, str]], batch: ScenarioBatch, sandbox: Path
) -> None:
    KEYS_DRAWN.update(key for key, _ in pairs)
    items = [f"{key}={value}" for key, value in pairs]
    _report(items)
    config = _accepts_or_refuses(batch, items)
    COUNTS["drawn"] += 1
    COUNTS["accepted" if config is not None else "refused"] += 1
    _report()
    if config is not None:
        _report(items)
        _builds(config, sandbox)
        assert list(sandbox.iterdir()) == [sandbox / "config.yaml"], "validation wrote a file"


TLE_LINES = [
    "ISS (ZARYA)",
    "1 25544U 98067A   25078.50000000  .00016717  00000-0  10270-3 0  9005",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50377579 12345",
]
BOARD = (
    "name: {name}\nflops_per_s: {flops}\nidle_w: {idle}\nbusy_w: {busy}\nmemory_mb: {memory}\n"
    "radio_tx_w: 2\nradio_rx_w: 1\n"
)

file_texts = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.lists(st.sampled_from([*TLE_LINES, "", "1 garbage", "2 garbage"]), max_size=6).map("\n".join),
    st.builds(
        BOARD.format,
        name=st.sampled_from(["b", "", "jetson_nano_5w", "'x y'"]),
        flops=values.map(render),
        idle=values.map(render),
        busy=values.map(render),
        memory=values.map(render),
    ),
    st.dictionaries(st.sampled_from(DICT_KEYS + ["items", "profiles"]), values, max_size=4).map(json.dumps),
)


@FILE_SETTINGS
@given(text=file_texts, as_bytes=st.booleans())
def test_files_a_command_reads_are_taken_or_refused_in_one_line(
    text: str, as_bytes: bool, batch: ScenarioBatch, sandbox: Path
) -> None:
    from simsat.cli.sweep import resumed_items
    from simsat.config.validate import ValidationMemo

    batch.memo = ValidationMemo()  # the files change from one example to the next
    data = text.encode("latin-1" if as_bytes else "utf-8", errors="replace")
    tle, board, sweep = sandbox / "fleet.tle", sandbox / "board.yaml", sandbox / "sweep"
    sweep.mkdir(exist_ok=True)
    for path in (tle, board, sweep / "sweep.json"):
        path.write_bytes(data)
    COUNTS["files"] += 1
    _report()
    for items in (
        ["constellation.planes=0", f"constellation.tle={tle}"],
        [f"hardware.files=[{board}]"],
        [f"hardware.files=[{board}]", "satellite.hardware=b"],
    ):
        config = _accepts_or_refuses(batch, items)
        if config is not None:
            _builds(config, sandbox)
    try:
        resumed_items([f"resume={sweep}"])
    except SimsatError as exc:
        assert isinstance(exc, ConfigError) and "sweep.json" in str(exc), exc

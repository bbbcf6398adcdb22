"""Every kind of bad input is refused by the real command line the same way: exit code 2, one
line on stderr naming the culprit (key or file), no traceback, nothing written.

Each case runs `simsat.cli.main.main([...])` in-process (a few run the console entry in a
subprocess). A case the CLI wrongly accepted would start a run: the run entry points are replaced
by a guard that fails the test instead, so an accepted case costs nothing.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from eurosat_fake import write_fake_eurosat
from simsat.cli.main import main

Setup = Callable[[Path], None]


def _scenario(text: str) -> Setup:
    return lambda tmp: (tmp / "mine.yaml").write_text(text)


def _eurosat(tmp: Path) -> None:
    write_fake_eurosat(tmp / "eurosat", classes=("Forest", "River"), per_class=6)


def _eurosat_empty(tmp: Path) -> None:
    (tmp / "eurosat").mkdir()


def _eurosat_stray_folder(tmp: Path) -> None:
    _eurosat(tmp)
    (tmp / "eurosat" / "notes").mkdir()
    (tmp / "eurosat" / "notes" / "readme.txt").write_text("not an image")


def _eurosat_corrupt(tmp: Path) -> None:
    _eurosat(tmp)
    (tmp / "eurosat" / "River" / "River_2.jpg").write_bytes(b"\x00garbage" * 40)


def _eurosat_truncated(tmp: Path) -> None:
    _eurosat(tmp)
    path = tmp / "eurosat" / "Forest" / "Forest_1.jpg"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _eurosat_odd_size(tmp: Path) -> None:
    _eurosat(tmp)
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp / "eurosat" / "River" / "River_3.jpg")


def _ckpt_garbage(tmp: Path) -> None:
    (tmp / "teacher.pt").write_bytes(os.urandom(2048))


def _ckpt_odd_pickle(tmp: Path) -> None:
    (tmp / "teacher.pt").write_bytes(b"\x80\x31" + os.urandom(2046))  # a pickle header torch warns about


def _ckpt_not_state_dict(tmp: Path) -> None:
    torch.save([1, 2, 3], tmp / "teacher.pt")


def _ckpt_other_model(tmp: Path) -> None:
    from simsat.models.teachers import create_teacher

    torch.save(create_teacher("resnet16", 10).model.state_dict(), tmp / "teacher.pt")


def _ckpt_folder(tmp: Path) -> None:
    (tmp / "teacher.pt").mkdir()


def _a_file(tmp: Path) -> None:
    (tmp / "taken").write_text("a file, not a folder")


def _nothing(tmp: Path) -> None:
    return None


BOARD = (
    "name: tiny_board\ndescription: a test board\nflops_per_s: 1.0e9\nidle_w: 1\nbusy_w: 9\n"
    "memory_mb: 4000\nradio_tx_w: 2\nradio_rx_w: 1\n"
)


def _board(old: str, new: str) -> Setup:
    """A hardware profile file with one field changed."""
    return lambda tmp: (tmp / "board.yaml").write_text(BOARD.replace(old, new))


GOOD_HEADER = "defaults:\n  - simsat_schema\n  - _self_\n"
CKPT = ["distill.teachers=[{name: resnet8, epochs: 0, checkpoint: '{tmp}/teacher.pt'}]"]
EUROSAT = ["data.source=eurosat", "data.path={tmp}/eurosat"]

# (id, command, arguments ({tmp}: the test's folder), culprit named on the line, setup)
# fmt: off
CASES: list[tuple[str, str, list[str], str, Setup]] = [
    # malformed command lines
    ("no-equals", "run", ["fast"], "'fast'", _nothing),
    ("keyless-value", "run", ["=5"], "'=5'", _nothing),
    ("bare-equals", "run", ["="], "'='", _nothing),
    ("empty-key-spaces", "run", ["  =3"], "no key", _nothing),
    ("space-in-key", "run", ["mission duration=3"], "mission duration", _nothing),
    ("add-key", "run", ["+colour=red"], "+colour", _nothing),
    ("delete-key", "run", ["~mission"], "~mission", _nothing),
    ("unknown-flag", "run", ["--turbo"], "--turbo", _nothing),
    ("unknown-command", "fly", [], "fly", _nothing),
    ("empty-scenario", "run", ["scenario="], "scenario=", _nothing),
    ("unknown-key", "run", ["mission.colour=red"], "colour", _nothing),
    ("wrong-type", "run", ["training.epochs=many"], "training.epochs", _nothing),
    ("distill-keyless", "distill", ["=5"], "'=5'", _nothing),
    # scenario files
    ("unknown-scenario", "run", ["scenario=no_such_scenario"], "no_such_scenario", _nothing),
    ("missing-file", "run", ["scenario={tmp}/absent.yaml"], "absent.yaml", _nothing),
    ("not-yaml", "run", ["scenario={tmp}/mine.yaml"], "mine.yaml", _scenario("defaults: [simsat_schema\nname: : x\n")),
    ("yaml-list", "run", ["scenario={tmp}/mine.yaml"], "mine.yaml", _scenario("- a\n- b\n")),
    ("yaml-empty", "run", ["scenario={tmp}/mine.yaml"], "mine.yaml", _scenario("")),
    ("no-defaults", "run", ["scenario={tmp}/mine.yaml"], "mine.yaml", _scenario("name: mine\nseed: 1\n")),
    ("defaults-without-schema", "run", ["scenario={tmp}/mine.yaml"], "simsat_schema",
     _scenario("defaults:\n  - _self_\nname: mine\n")),
    ("binary-scenario", "run", ["scenario={tmp}/mine.yaml"], "mine.yaml",
     lambda tmp: (tmp / "mine.yaml").write_bytes(b"\xff\xfe\x00\x81" * 10)),
    ("bad-value-in-file", "run", ["scenario={tmp}/mine.yaml"], "training.lr",
     _scenario(GOOD_HEADER + "training: {lr: .inf}\n")),
    # numbers: NaN, infinity, negative, zero, huge
    ("duration-huge", "run", ["mission.duration_hours=1e9"], "mission.duration_hours", _nothing),
    ("duration-inf", "run", ["mission.duration_hours=inf"], "mission.duration_hours", _nothing),
    ("duration-nan", "run", ["mission.duration_hours=nan"], "mission.duration_hours", _nothing),
    ("duration-negative", "run", ["mission.duration_hours=-3"], "mission.duration_hours", _nothing),
    ("lr-inf", "run", ["training.lr=inf"], "training.lr", _nothing),
    ("lr-nan", "run", ["training.lr=nan"], "training.lr", _nothing),
    ("lr-huge", "run", ["training.lr=1e6"], "training.lr", _nothing),
    ("temperature-inf", "run", ["distill.temperature=inf"], "distill.temperature", _nothing),
    ("temperature-zero", "run", ["distill.temperature=0"], "distill.temperature", _nothing),
    ("temperature-huge", "run", ["distill.temperature=1e9"], "distill.temperature", _nothing),
    ("epochs-zero", "run", ["training.epochs=0"], "training.epochs", _nothing),
    ("batch-negative", "run", ["training.batch_size=-64"], "training.batch_size", _nothing),
    ("weight-decay-nan", "run", ["training.weight_decay=nan"], "training.weight_decay", _nothing),
    ("schedule-unknown", "run", ["training.schedule=cosine"], "training.schedule", _nothing),
    ("seed-negative", "run", ["seed=-1"], "seed", _nothing),
    ("planes-huge", "run", ["constellation.planes=100000000"], "constellation.planes", _nothing),
    ("more-satellites-than-images", "run", ["constellation.planes=60", "constellation.sats_per_plane=60"],
     "constellation.planes", _nothing),
    ("eurosat-too-few-images", "run", [*EUROSAT, "constellation.sats_per_plane=10"], "satellites", _eurosat),
    ("images-huge", "run", ["data.n_images=100000000000"], "data.n_images", _nothing),
    ("image-size-tiny", "run", ["data.image_size=8"], "data.image_size", _nothing),
    ("refine-negative", "run", ["federation.ground_refine_epochs=-1"], "federation.ground_refine_epochs", _nothing),
    ("reference-lr-negative", "run", ["reference.lr=-0.01"], "reference.lr", _nothing),
    (
        "refine-interval-negative",
        "run",
        ["federation.ground_refine_interval_hours=-2"],
        "federation.ground_refine_interval_hours",
        _nothing,
    ),
    ("eval-every-negative", "run", ["federation.eval_interval_hours=-1"], "federation.eval_interval_hours", _nothing),
    ("object-store-huge", "run", ["ray.object_store_mb=100000000"], "ray.object_store_mb", _nothing),
    ("client-cpus-zero", "run", ["ray.client_cpus=0"], "ray.client_cpus", _nothing),
    ("soc-above-one", "run", ["satellite.power.initial_soc=1.5"], "satellite.power.initial_soc", _nothing),
    ("solar-inf", "run", ["satellite.power.solar_w=inf"], "satellite.power.solar_w", _nothing),
    ("uplink-inf", "run", ["link.uplink_bps=inf"], "link.uplink_bps", _nothing),
    ("alpha-inf", "run", ["data.alpha=inf"], "data.alpha", _nothing),
    ("fractions-sum", "run", ["data.ground_fraction=0.5", "data.test_fraction=0.5"], "data.ground_fraction", _nothing),
    ("share-and-fraction", "run", ["imagery.share=0.5", "imagery.fraction=0.2"], "imagery.share", _nothing),
    ("capture-rate-twice", "run", ["imagery.capture_per_hour=10", "imagery.capture_hours=24"],
     "imagery.capture_per_hour", _nothing),
    ("start-not-a-time", "run", ["mission.start_utc=yesterday"], "mission.start_utc", _nothing),
    ("start-without-zone", "run", ["mission.start_utc=2025-03-20T00:00:00"], "mission.start_utc", _nothing),
    ("ltan-25", "run", ["constellation.ltan_hours=25"], "constellation.ltan_hours", _nothing),
    ("no-satellites", "run", ["constellation.planes=0"], "constellation.planes", _nothing),
    ("tle-missing", "run", ["constellation.tle={tmp}/fleet.tle"], "fleet.tle", _nothing),
    ("tle-garbage", "run", ["constellation.tle={tmp}/fleet.tle"], "fleet.tle",
     lambda tmp: (tmp / "fleet.tle").write_text("1 this is\n2 not a tle\n")),
    ("unknown-link-model", "run", ["link.model=laser"], "link.model", _nothing),
    ("unknown-link-preset", "run", ["link.model=budget", "link.uplink_budget=ka"], "link.uplink_budget", _nothing),
    ("unknown-antenna-policy", "run", ["mission.antenna_policy=random"], "mission.antenna_policy", _nothing),
    ("unknown-attitude", "run", ["satellite.power.attitude=tumbling"], "satellite.power.attitude", _nothing),
    ("safe-exit-below-safe", "run", ["satellite.power.safe_soc=0.5", "satellite.power.safe_exit_soc=0.2"],
     "satellite.power.safe_exit_soc", _nothing),
    ("contact-step-zero", "run", ["mission.contact_step_s=0"], "mission.contact_step_s", _nothing),
    ("elevation-90", "run", ["ground_stations.0.min_elevation_deg=95"], "ground_stations.0.min_elevation_deg",
     _nothing),
    ("buffer-zero", "run", ["federation.buffer_size=0"], "federation.buffer_size", _nothing),
    ("teacher-input-huge", "run", ["distill.teachers.0.input_size=100000"], "distill.teachers.0.input_size",
     _nothing),
    # inter-satellite links: the run and `simsat contacts` check them alike
    ("isl-unknown-pairs", "run", ["isl.pairs=ring"], "isl.pairs", _nothing),
    ("isl-range-zero", "contacts", ["isl.enabled=true", "isl.max_range_km=0"], "isl.max_range_km", _nothing),
    ("isl-grazing-negative", "contacts", ["isl.grazing_altitude_km=-10"], "isl.grazing_altitude_km", _nothing),
    ("isl-no-terminals", "run", ["isl.terminals=0"], "isl.terminals", _nothing),
    ("isl-unknown-preset", "contacts", ["isl=laser"], "isl", _nothing),
    # faults: rates are probabilities, dead satellites exist and die within the mission
    ("faults-rate-above-one", "run", ["faults.train_failure_rate=1.5"], "faults.train_failure_rate", _nothing),
    ("faults-rate-nan", "run", ["faults.contact_loss_rate=nan"], "faults.contact_loss_rate", _nothing),
    ("faults-rate-negative", "run", ["faults.client_timeout_rate=-0.1"], "faults.client_timeout_rate", _nothing),
    ("faults-dead-unknown-satellite", "run", ["faults.dead_satellites=[{satellite: 9, at_hours: 1}]"],
     "faults.dead_satellites.0.satellite", _nothing),
    ("faults-dead-after-mission", "run", ["faults.dead_satellites=[{satellite: 1, at_hours: 99}]"],
     "faults.dead_satellites.0.at_hours", _nothing),
    ("faults-dead-at-inf", "run", ["faults.dead_satellites=[{satellite: 1, at_hours: inf}]"],
     "faults.dead_satellites.0.at_hours", _nothing),
    ("faults-dead-twice", "run",
     ["faults.dead_satellites=[{satellite: 1, at_hours: 1}, {satellite: 1, at_hours: 2}]"],
     "faults.dead_satellites", _nothing),
    ("faults-dead-not-a-list", "run", ["faults.dead_satellites=3"], "dead_satellites", _nothing),
    ("faults-dead-bare-index", "run", ["faults.dead_satellites=[1]"], "dead_satellites", _nothing),
    ("faults-max-client-errors-zero", "run", ["faults.max_client_errors=0"], "faults.max_client_errors", _nothing),
    ("faults-max-divergences-negative", "run", ["faults.max_divergences=-1"], "faults.max_divergences", _nothing),
    ("faults-unknown-key", "run", ["faults.meteor_rate=0.1"], "meteor_rate", _nothing),
    # strings, lists, names that must exist
    ("empty-name", "run", ["name="], "name", _nothing),
    ("name-with-slash", "run", ["name=a/b"], "name", _nothing),
    ("empty-cache-dir", "run", ["data.cache_dir="], "data.cache_dir", _nothing),
    ("no-stations", "run", ["ground_stations=[]"], "ground_stations", _nothing),
    ("no-teachers", "run", ["distill.teachers=[]", "distill.reference_teacher=false"], "distill.teachers", _nothing),
    ("hardware-list-unknown", "run", ["satellite.hardware=[jetson_nano_5w,cray_1,myriad_x,myriad_x]"], "cray_1",
     _nothing),
    ("hardware-file-negative", "run", ["hardware.files=[{tmp}/board.yaml]"], "board.yaml",
     _board("busy_w: 9", "busy_w: -9")),
    ("hardware-file-missing-field", "run", ["hardware.files=[{tmp}/board.yaml]"], "board.yaml",
     _board("memory_mb: 4000\n", "")),
    ("hardware-file-absent", "run", ["hardware.files=[{tmp}/board.yaml]"], "board.yaml", _nothing),
    ("board-memory-too-small", "run", ["satellite.hardware=tiny_board", "hardware.files=[{tmp}/board.yaml]"],
     "training.batch_size", _board("memory_mb: 4000", "memory_mb: 1")),
    ("unknown-hardware", "run", ["satellite.hardware=cray_1"], "cray_1", _nothing),
    ("unknown-ground-hardware", "run", ["ground.hardware=cray_1"], "ground.hardware", _nothing),
    ("unknown-student", "run", ["satellite.model=resnet99"], "satellite.model", _nothing),
    ("unknown-rule", "run", ["distill.weighting=telepathy"], "telepathy", _nothing),
    ("unknown-teacher", "run", ["distill.teachers.0.name=no_such_net"], "no_such_net", _nothing),
    ("unknown-strategy", "run", ["federation.strategy=gossip"], "federation.strategy", _nothing),
    ("unknown-aggregation", "run", ["federation.aggregation=fedavg"], "federation.aggregation", _nothing),
    ("mixing-nan", "run", ["federation.mixing=nan"], "federation.mixing", _nothing),
    ("jpeg-quality-zero", "run", ["imagery.quality=0"], "imagery.quality", _nothing),
    ("unknown-source", "run", ["data.source=tape"], "data.source", _nothing),
    ("paper-one-teacher", "run",
     ["distill.weighting=paper", "distill.teachers=[{name: resnet8}]", "distill.reference_teacher=false"],
     "distill.weighting", _nothing),
    # output folders
    ("output-is-file", "run", ["run.output_dir={tmp}/taken"], "run.output_dir", _a_file),
    ("output-under-file", "run", ["run.output_dir={tmp}/taken/runs"], "run.output_dir", _a_file),
    ("output-not-writable", "run", ["run.output_dir=/proc/simsat/runs"], "run.output_dir", _nothing),
    ("output-empty", "run", ["run.output_dir="], "run.output_dir", _nothing),
    ("cache-is-file", "run", ["data.cache_dir={tmp}/taken"], "data.cache_dir", _a_file),
    # EuroSAT folders and images
    ("eurosat-no-path", "run", ["data.source=eurosat"], "data.path", _nothing),
    ("eurosat-missing", "run", EUROSAT, "eurosat", _nothing),
    ("eurosat-is-file", "run", ["data.source=eurosat", "data.path={tmp}/taken"], "taken", _a_file),
    ("eurosat-empty", "run", EUROSAT, "eurosat", _eurosat_empty),
    ("eurosat-unknown-class", "run", EUROSAT, "notes", _eurosat_stray_folder),
    ("eurosat-corrupt", "run", EUROSAT, "River_2.jpg", _eurosat_corrupt),
    ("eurosat-truncated", "run", EUROSAT, "Forest_1.jpg", _eurosat_truncated),
    ("eurosat-odd-size", "run", EUROSAT, "River_3.jpg", _eurosat_odd_size),
    # teacher checkpoints
    ("ckpt-missing", "run", CKPT, "teacher.pt", _nothing),
    ("ckpt-garbage", "run", CKPT, "teacher.pt", _ckpt_garbage),
    ("ckpt-odd-pickle", "run", CKPT, "teacher.pt", _ckpt_odd_pickle),
    ("ckpt-not-state-dict", "run", CKPT, "teacher.pt", _ckpt_not_state_dict),
    ("ckpt-other-model", "run", CKPT, "teacher.pt", _ckpt_other_model),
    ("ckpt-folder", "run", CKPT, "is a folder", _ckpt_folder),
    # the centralized experiment goes through the same validator and file checks
    ("exp-lr-inf", "distill", ["train.lr=inf"], "train.lr", _nothing),
    ("exp-schedule-unknown", "distill", ["train.schedule=cosine"], "train.schedule", _nothing),
    ("exp-temperature-inf", "distill", ["temperature=inf"], "temperature", _nothing),
    ("exp-no-rules", "distill", ["rules=[]"], "rules", _nothing),
    ("exp-repeated-seeds", "distill", ["seeds=[0,0]"], "seeds", _nothing),
    ("exp-images-huge", "distill", ["data.n_images=100000000000"], "data.n_images", _nothing),
    ("exp-output-is-file", "distill", ["output_dir={tmp}/taken"], "output_dir", _a_file),
    ("exp-eurosat-missing", "distill", ["experiment=eurosat", "data.path={tmp}/eurosat"], "eurosat", _nothing),
    ("exp-eurosat-corrupt", "distill", ["experiment=eurosat", "data.path={tmp}/eurosat"], "River_2.jpg",
     _eurosat_corrupt),
    ("exp-ckpt-garbage", "distill", ["teachers=[{name: resnet8, checkpoint: '{tmp}/teacher.pt'}]"], "teacher.pt",
     _ckpt_garbage),
    ("exp-not-yaml", "distill", ["experiment={tmp}/mine.yaml"], "mine.yaml", _scenario("rules: [a\n")),
]


# More cases of kinds the default run already covers; the full table runs with `-m slow`
# (each case composes a scenario with Hydra: about 0.3-0.5 s).
MORE_OF_THE_SAME = {
    "empty-key-spaces", "space-in-key", "delete-key", "distill-keyless", "missing-file", "yaml-empty",
    "binary-scenario", "duration-nan", "duration-negative", "lr-nan", "lr-huge", "temperature-zero",
    "batch-negative", "weight-decay-nan", "seed-negative", "object-store-huge", "client-cpus-zero", "solar-inf",
    "uplink-inf", "alpha-inf", "start-without-zone", "ltan-25", "unknown-link-preset", "unknown-attitude",
    "safe-exit-below-safe", "contact-step-zero", "buffer-zero", "teacher-input-huge", "tle-garbage",
    "name-with-slash", "empty-cache-dir", "unknown-student", "unknown-source", "output-empty", "cache-is-file",
    "eurosat-is-file", "eurosat-odd-size", "more-satellites-than-images", "ckpt-folder", "exp-repeated-seeds",
    "exp-images-huge", "exp-not-yaml", "mixing-nan", "jpeg-quality-zero", "hardware-file-absent",
    "hardware-list-unknown", "faults-rate-negative", "faults-dead-at-inf", "faults-dead-bare-index",
    "faults-max-divergences-negative", "faults-unknown-key",
}
# fmt: on
PARAMS = [
    pytest.param(*case[1:], id=case[0], marks=[pytest.mark.slow] if case[0] in MORE_OF_THE_SAME else [])
    for case in CASES
]


def _guard(*args: object, **kwargs: object) -> None:
    raise AssertionError("the command line accepted bad input and started a run")


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run entry points replaced by the guard; the root logger's handlers (which main() points at
    the captured stderr) restored afterwards, so later tests do not log to a closed stream."""
    import simsat.experiment.central
    import simsat.runner

    monkeypatch.setattr(simsat.runner, "run_scenario", _guard)
    monkeypatch.setattr(simsat.experiment.central, "run_experiment", _guard)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize(("command", "arguments", "culprit", "setup"), PARAMS)
def test_bad_input_is_refused_in_one_line(
    command: str,
    arguments: list[str],
    culprit: str,
    setup: Setup,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_runs: None,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    setup(work)
    monkeypatch.chdir(work)  # anything written to a default relative folder would land here
    before = _files(work)
    args = [a.replace("{tmp}", str(work)) for a in arguments]
    out_key = "output_dir" if command == "distill" else "run.output_dir"
    defaults = [f"{out_key}={work}/out", f"data.cache_dir={work}/cache"]
    given = {a.split("=", 1)[0] for a in args}
    extra = [d for d in defaults if d.split("=", 1)[0] not in given] if command in ("run", "distill") else []
    code = main([command, *extra, *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert culprit in lines[0], lines[0]
    assert "Traceback" not in err
    assert _files(work) == before, "bad input must not write anything"


@pytest.mark.slow  # a fresh interpreter imports torch and timm: 5-15 s per case on a busy 2-core machine
@pytest.mark.parametrize(
    ("arguments", "culprit"),
    [(["run", "=5"], "'=5'"), (["run", "mission.duration_hours=1e9"], "mission.duration_hours")],
)
def test_console_entry_refuses_in_one_line(arguments: list[str], culprit: str, tmp_path: Path) -> None:
    env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-m", "simsat.cli.main", *arguments, f"run.output_dir={tmp_path / 'out'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and culprit in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []

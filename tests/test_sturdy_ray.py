"""A run without a cluster named (ray.address, RAY_ADDRESS) starts its own local Ray whatever a
cluster stopped earlier left in Ray's temp folder; a cluster that is named but down, or a Ray
that cannot start, is one line."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from simsat.cli.main import main
from simsat.errors import MissionError
from simsat.federation.simulation import RaySettings, _start_ray, ray_init_args


@pytest.fixture
def stale_ray_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """RAY_TMPDIR with the `ray_current_cluster` file a stopped `ray start --head` leaves behind,
    naming a port where nothing listens; RAY_ADDRESS unset."""
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
    (temp / "ray").mkdir()
    (temp / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{_free_port()}\n")
    monkeypatch.setenv("RAY_TMPDIR", str(temp))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeRay:
    """Stands for the `ray` module in `_start_ray`: records init's arguments, or fails like Ray."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.args: dict[str, object] = {}

    def init(self, **kwargs: object) -> None:
        self.args = kwargs
        if self.error is not None:
            raise self.error


def test_no_cluster_named_means_a_fresh_local_ray(stale_ray_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray._private.services as services

    # Ray itself: no address means "join the cluster ray_current_cluster names" (that is the stale
    # cluster: the crash the file caused) ...
    assert services.canonicalize_bootstrap_address(None) is not None
    # ... "local" means a new local Ray, whatever the file says
    assert services.canonicalize_bootstrap_address("local") is None
    fake = FakeRay()
    _start_ray(fake, ray_init_args(RaySettings(num_cpus=3, object_store_mb=100)))
    assert fake.args["address"] == "local" and fake.args["num_cpus"] == 3
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.7:6379")  # a cluster named by the environment is joined
    assert ray_init_args(RaySettings())["address"] == "10.0.0.7:6379" and "num_cpus" not in ray_init_args(RaySettings())
    assert ray_init_args(RaySettings(address="10.0.0.8:6379"))["address"] == "10.0.0.8:6379"


@pytest.mark.parametrize(
    "error",
    [
        ValueError("When connecting to an existing cluster, num_cpus and num_gpus must not be provided."),
        ConnectionError("Could not find any running Ray instance.\nPlease specify the one to connect to."),
        RuntimeError("Failed to start the GCS server"),
    ],
)
def test_a_ray_start_failure_is_one_line(error: Exception, stale_ray_tmp: Path) -> None:
    with pytest.raises(MissionError) as caught:
        _start_ray(FakeRay(error), ray_init_args(RaySettings()))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("Ray could not start") and "address / RAY_ADDRESS" in message
    with pytest.raises(MissionError, match="ray.address / RAY_ADDRESS"):  # as a run names it
        _start_ray(FakeRay(error), ray_init_args(RaySettings()), "ray.address")


@pytest.mark.parametrize(("where", "key"), [("setting", "ray.address"), ("environment", "RAY_ADDRESS")])
def test_a_named_cluster_that_is_down_is_refused_before_the_run(
    where: str,
    key: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    _keep_logging: None,
) -> None:
    import simsat.runner

    def guard(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run started before its Ray cluster was checked")

    monkeypatch.setattr(simsat.runner, "run_scenario", guard)
    address = f"127.0.0.1:{_free_port()}"
    args = ["run", "scenario=tiny", f"run.output_dir={tmp_path}/out", "run.engine=flower"]
    if where == "setting":
        args.append(f"ray.address={address}")
    else:
        monkeypatch.setenv("RAY_ADDRESS", address)
    assert main(args) == 2
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert f"{key}={address}" in line and "no Ray cluster answers" in line
    assert not (tmp_path / "out").exists()
    if where == "environment":  # a sweep checks it too, before its folder is made
        assert main(["sweep", "scenario=tiny", "seed=1,2", f"sweep.output_dir={tmp_path}/sweeps"]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "RAY_ADDRESS" in line and not (tmp_path / "sweeps").exists()


@pytest.mark.slow  # a real Ray start: 10-30 s on a busy machine
def test_a_real_local_ray_starts_over_a_stale_cluster_file(stale_ray_tmp: Path) -> None:
    import ray

    with pytest.raises(ValueError, match="existing cluster"):  # what a plain ray.init did here
        ray.init(num_cpus=1, object_store_memory=80 << 20, include_dashboard=False)
    try:
        _start_ray(ray, ray_init_args(RaySettings(num_cpus=1, object_store_mb=80)))
        assert ray.cluster_resources().get("CPU") == 1.0
    finally:
        ray.shutdown()


def test_a_local_ray_that_cannot_start_fails_before_anything_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, _keep_logging: None
) -> None:
    """Ray is started before the teachers and the reference train (`simsat.assembly.federation_session`):
    its failure is one line, and the run's folder goes away (nothing worth resuming was made)."""
    import ray

    import simsat.runner

    def no_start(**kwargs: object) -> None:
        raise RuntimeError("Failed to start the GCS server")

    def guard(*args: object, **kwargs: object) -> None:
        raise AssertionError("the mission was assembled (teachers trained) before Ray started")

    monkeypatch.setattr(ray, "init", no_start)
    monkeypatch.setattr(simsat.runner, "assemble", guard)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    out = tmp_path / "out"
    assert main(["run", "scenario=tiny", f"run.output_dir={out}", "run.engine=flower"]) != 0
    lines = [line for line in capsys.readouterr().err.strip().splitlines() if "Ray could not start" in line]
    assert lines and "a local Ray" in lines[0] and "Failed to start the GCS server" in lines[0]
    assert not out.exists() or not any(out.rglob("config.yaml"))

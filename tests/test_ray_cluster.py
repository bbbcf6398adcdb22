"""A run spreads its satellites over an existing Ray cluster given by address (a local
`ray start --head` on loopback, stopped by its pid: never `ray stop`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simsat.config.load import load_config
from simsat.runner import run_scenario

# each head's temp folder by its address: the session logs there show which processes it ran
TEMP_DIRS: dict[str, Path] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def ray_head() -> Iterator[str]:
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray is None:
        pytest.fail("the ray command is not installed beside this Python")
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=2",
            "--object-store-memory=100000000",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    else:
        os.killpg(head.pid, signal.SIGTERM)
        pytest.fail("ray start --head did not open its port within 120 s")
    TEMP_DIRS[address] = temp
    try:
        yield address
    finally:
        TEMP_DIRS.pop(address, None)
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow  # a Ray head and a run on it: about a minute
def test_run_on_an_existing_cluster(ray_head: str, tmp_path: Path) -> None:
    config = load_config(
        "tiny",
        [
            f"ray.address={ray_head}",
            f"run.output_dir={tmp_path / 'runs'}",
            f"data.cache_dir={tmp_path / 'cache'}",
            "run.progress=false",
            "reference.epochs=0",
            "mission.duration_hours=6",
        ],
    )
    folder = run_scenario(config)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["trainings"] >= 1 and summary["wall"]["train_wall_seconds"] > 0
    # the work ran on that cluster: its session holds this run's driver and the workers it started
    # (a run that ignored ray.address would have started a Ray of its own, logging elsewhere)
    logs = TEMP_DIRS[ray_head] / "session_latest" / "logs"
    drivers = [p for p in logs.glob("python-core-driver-*.log") if p.name.endswith(f"_{os.getpid()}.log")]
    assert drivers, f"no driver log of this process in {logs}"
    assert list(logs.glob("python-core-worker-*.log")), f"the cluster started no worker ({logs})"

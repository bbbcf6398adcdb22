"""The one place that starts Flower's simulation engine (Ray)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
from flwr.clientapp import ClientApp
from flwr.serverapp import ServerApp

from simsat.errors import MissionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RaySettings:
    address: str = ""  # empty: a local Ray started for this run
    num_cpus: int = 2
    client_cpus: float = 1.0
    object_store_mb: int = 256
    client_gpus: float = 0.0  # GPU share of each satellite worker

    @property
    def messages_in_flight(self) -> int:
        """Messages to keep in Flower's hands: four per satellite worker, at least 16 (fewer leave the
        workers idle between the engine's polls, every 0.1 s; more cost its poll a scan of each)."""
        workers = self.num_cpus / self.client_cpus if self.client_cpus > 0 else self.num_cpus
        return max(16, int(4 * workers))


@contextmanager
def federation_engine(ray: RaySettings, address_name: str = "address") -> Iterator[None]:
    """Ray, started for a run's federation and stopped after it. A run enters this before its
    expensive start (teachers, reference), so a Ray that cannot start is one line
    (`MissionError`, naming a cluster's address setting `address_name`) before any training;
    `run_federation` inside it uses this Ray."""
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Ray's C++ handler would take SIGTERM from simsat's own (which stops the run cleanly).
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    import ray as ray_lib

    init_args = ray_init_args(ray)
    joined = init_args["address"] != "local"
    # processes this one had before Ray (e.g. a cluster's head a caller started) are not Ray's to reap
    before = {p.pid for p in _descendants()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _start_ray(ray_lib, init_args, address_name)
        yield
    finally:
        started = [] if joined else [p for p in _descendants() if p.pid not in before]
        if ray_lib.is_initialized():
            ray_lib.shutdown()
        _reap(started)


def run_federation(server_app: ServerApp, client_app: ClientApp, num_satellites: int, ray: RaySettings) -> None:
    """Run the ServerApp and one ClientApp node per satellite on Flower's Ray backend, in the
    Ray of an enclosing `federation_engine` or in one started for this call."""
    import ray as ray_lib

    if not ray_lib.is_initialized():
        with federation_engine(ray):
            run_federation(server_app, client_app, num_satellites, ray)
        return
    from flwr.simulation import run_simulation

    backend_config = {
        "init_args": ray_init_args(ray),
        "client_resources": {"num_cpus": ray.client_cpus, "num_gpus": ray.client_gpus},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_simulation(
            server_app=server_app,
            client_app=client_app,
            num_supernodes=num_satellites,
            backend_config=backend_config,  # type: ignore[arg-type]
        )


def ray_init_args(ray: RaySettings) -> dict[str, object]:
    """The arguments of Ray's `init`. No cluster named (`address`, RAY_ADDRESS): always a fresh local
    Ray (address "local"), never the cluster a previous `ray start` left named in Ray's temp
    folder (its ray_current_cluster file), which Ray would otherwise try to join."""
    init_args: dict[str, object] = {
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "configure_logging": True,
    }
    address = ray.address or os.environ.get("RAY_ADDRESS", "")
    if address:
        init_args["address"] = address
    else:
        init_args["address"] = "local"
        init_args["num_cpus"] = ray.num_cpus
        init_args["object_store_memory"] = ray.object_store_mb * 1024 * 1024
    return init_args


def _start_ray(ray_lib: Any, init_args: dict[str, object], address_name: str = "address") -> None:
    """Start Ray here (Flower's backend starts it only where it is not running yet), so that the
    SIGTERM handler Ray's `init` installs in the main thread (it exits the process there, leaving
    the mission's thread running) can be replaced by the one there before: simsat's, which stops
    the run cleanly. Ray's workers get this process's import path, as Flower's backend gives it.
    A failure is one line naming where a cluster is set: `address_name` and RAY_ADDRESS."""
    handler = signal.getsignal(signal.SIGTERM)
    pythonpath = os.pathsep.join(sys.path)
    if os.environ.get("PYTHONPATH"):
        pythonpath = f"{pythonpath}{os.pathsep}{os.environ['PYTHONPATH']}"
    os.environ["PYTHONPATH"] = pythonpath
    try:
        ray_lib.init(runtime_env={"env_vars": {"PYTHONPATH": pythonpath}}, **init_args)
    except Exception as exc:  # Ray's own errors (ConnectionError, ValueError, RuntimeError, ...): one line
        where = f"the cluster at {init_args['address']}" if init_args.get("address") != "local" else "a local Ray"
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise MissionError(f"Ray could not start ({where}; {address_name} / RAY_ADDRESS): {reason}") from None
    finally:
        if handler is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)


def _descendants() -> list[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def _is_worker(process: psutil.Process) -> bool:
    try:
        title = " ".join(process.cmdline())
    except psutil.Error:
        return False
    return title.startswith("ray::") and not title.startswith(("ray::DashboardAgent", "ray::RuntimeEnvAgent"))


def stop_satellite_workers() -> None:
    """Kill this process's Ray workers (the satellites' ClientApps), so a stopped run does not
    wait for trainings in flight; Ray and Flower then wind down at once."""
    for process in _descendants():
        if _is_worker(process):
            with contextlib.suppress(psutil.Error):
                process.kill()


def _reap(processes: list[psutil.Process], grace_s: float = 5.0) -> None:
    """Wait for the processes Ray started to end after its shutdown; kill any still there."""
    _, alive = psutil.wait_procs(processes, timeout=grace_s)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace_s)

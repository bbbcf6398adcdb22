"""Sweeps: many runs of a scenario over a grid of overrides, as Ray tasks, resumable by config hash.

`simsat sweep scenario=tiny seed=1,2,3 federation.aggregation=sync,fedbuff` validates every
combination (simsat.config), then runs each one as a Ray task on a local Ray or on an existing
cluster (`ray.address=HOST:PORT` or RAY_ADDRESS), writes one normal run folder per combination
inside one sweep folder, a `runs.csv` row per run, and a comparison page (report.html, configs.csv,
plots) rebuilt as runs finish.

How runs share Ray. Each run is one Ray task that reserves `sweep.run_cpus` CPUs (0: the larger
of `run.threads` and `training.threads`, the torch threads the run uses) and plays its mission
with `run.engine=in_process`: the same Flower ClientApp, called in the task's own process
(simsat.federation.transport.InProcessTransport), which gives the same metrics.csv as Flower's
Ray engine (tests/test_sweep.py, bench/sweep.py). Ray's scheduler then starts a run only where
its CPUs are free, so a sweep with more runs than CPUs queues instead of oversubscribing, and no
run waits on resources another run holds, so nothing deadlocks. Flower's own simulation engine
cannot run inside a task of a shared Ray in flwr 1.41/1.42: its RayBackend sizes its actor pool
from the whole cluster's CPUs (`ray.nodes()`), not from what the task or its placement group
holds, so actors of concurrent runs would wait on each other's CPUs; and its `terminate()` calls
`ray.shutdown()`, which inside a Ray worker destroys the worker's core worker (Ray then reports
the worker dead with a system error). Runs therefore never call `ray.init`: the sweep's driver
connects once, and every run lives in that one Ray.

Modules: `hashing` (config hashes), `plan` (the runs of a grid), `records` (each run's record and
runs.csv), `task` (what a Ray task runs), `driver` (Ray, resume, progress), `fold` (seeds folded per
configuration, configs.csv), `gather` (the runs of sweep and run folders), `plots` and `page` (the
comparison plots and report.html, for a sweep and for `simsat compare`), and `pieces` (records of
finished pieces, which simsat.experiment's resumable grids keep).
This package never imports Hydra: the command line (simsat.cli.sweep) expands the grid with
simsat.config.grid and hands over validated configs.
"""

"""The federated EuroSAT benchmark: every strategy and baseline on `simsat/scenarios/federated_eurosat.yaml`.

A thin command line over simsat.experiment's federated grid (`federated_grid`: the pieces;
`federated_run`: running and gathering them; `federated_records`, `federated_report`), on the
package's sweep (simsat.sweep): one piece is one run of the scenario with a few overrides,
identified by `simsat.sweep.hashing.scenario_hash` of its composed config. The pieces without a
record are validated together (`build_plan`) and run by `run_sweep`, one Ray task each reserving
`sweep.run_cpus` CPUs (1 here, with `training.threads=1` and `run.threads=1`), so a local Ray of
`ray.num_cpus` CPUs (2 by default) plays two pieces at once;
their run folders, logs and the sweep's own records go to --work. As each piece finishes, its
record (the run's summary, curve, command, versions and input normalization) is written to
bench/results/federated_eurosat_pieces/<name>-<config hash>.json (`PieceStore`, atomic); a piece
whose record exists is skipped, so the grid resumes where it stopped. The records of the current
configs are then gathered into bench/results/federated_eurosat.json with the overlay plot
federated_eurosat.png, and the final global student of the best `fedkd` piece is kept as
bench/results/federated_eurosat_global.pt.

    python bench/federated_eurosat.py --list
    python bench/federated_eurosat.py --plan
    python bench/federated_eurosat.py [--only NAME[,NAME...]] [--data DIR] [--splits DIR] [key=value ...]

Trailing key=value overrides apply to every piece (e.g. mission.duration_hours=24 or
ray.num_cpus=4) and, except the keys that only say where and how a run executes (run.output_dir,
run.progress, run.engine, ray.*, sweep.*, data.cache_dir), are part of each piece's config hash.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from simsat.errors import SimsatError
from simsat.experiment.federated_grid import grid, plan_facts
from simsat.experiment.federated_report import tables
from simsat.experiment.federated_run import gather, listing, open_grid, recorded_runs, run_missing

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "eurosat_rgb"
DEFAULT_SPLITS = ROOT.parent / "shared" / "data" / "eurosat_splits"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the pieces, their hashes and whether they ran")
    parser.add_argument("--plan", action="store_true", help="print the contact plan's capacity and imagery shares")
    parser.add_argument("--tables", action="store_true", help="print the recorded results as markdown tables")
    parser.add_argument("--only", default="", help="piece names, comma-separated, run in that order (default: all)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="EuroSAT RGB folder")
    parser.add_argument("--splits", default=str(DEFAULT_SPLITS), help="split folder (train/validation/test.csv)")
    parser.add_argument("--work", default=str(ROOT / "runs" / "federated_eurosat"), help="the sweep's folder")
    parser.add_argument("--results", default=str(RESULTS), help="where records, JSON, plot and model go")
    parser.add_argument("overrides", nargs="*", help="key=value for every piece")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    command = shlex.join(["python", "bench/federated_eurosat.py", *(argv if argv is not None else sys.argv[1:])])
    pieces = grid()
    by_name = {p.name: p for p in pieces}
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        parser.error(f"unknown piece(s) {unknown}; --list shows them")
    chosen = [by_name[n] for n in dict.fromkeys(names)] if names else pieces  # run in the order given
    try:
        grid_ = open_grid(args.data, args.splits, args.results, args.work, args.overrides, command, bool(names))
        if args.plan:
            print(json.dumps(plan_facts(grid_.run_of(pieces[0]).config), indent=2))
            return
        if args.tables:
            print(tables(recorded_runs(grid_)), end="")
            return
        if args.list:
            print("\n".join(listing(grid_)))
            return
        run_missing(grid_, chosen)
        gather(grid_)
    except SimsatError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")


if __name__ == "__main__":
    main()

"""Running the federated EuroSAT grid: the pieces without a record go to the sweep driver, the records are gathered.

`open_grid` validates every piece of the grid for one invocation (`Grid`: the sweep plan, where
the records go, the sweep folder, the command). `run_missing` runs the chosen pieces that have no
record through `simsat.sweep.driver.run_sweep`, one Ray task each reserving `sweep.run_cpus` CPUs,
so a local Ray of `ray.num_cpus` CPUs plays that many pieces at once; their run folders, logs and
the sweep's own records go to the sweep folder. As each piece finishes, its record is written
(atomic), so the grid resumes where it stopped. `gather` writes the records of the current
configs into one JSON with the overlay plot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.experiment.federated_grid import SCENARIO, Piece, base_items, grid_plan
from simsat.experiment.federated_grid import grid as grid_pieces
from simsat.experiment.federated_records import Outputs, keep_global, normalization, piece_record
from simsat.experiment.federated_report import plot
from simsat.results.atomic import write_json
from simsat.sweep.driver import SweepState, check_resources, run_sweep
from simsat.sweep.plan import SweepPlan, SweepRun
from simsat.sweep.records import DONE, RecordStore

log = logging.getLogger(__name__)


@dataclass
class Grid:
    """The pieces of one invocation: their validated configs (a sweep plan) and where records go."""

    pieces: list[Piece]
    plan: SweepPlan
    out: Outputs
    work: Path  # the sweep folder: run folders, logs and the sweep's own records
    command: str
    only: bool  # --only was given: each record keeps the command as typed

    def run_of(self, piece: Piece) -> SweepRun:
        return self.plan.runs[self.pieces.index(piece)]

    def key(self, piece: Piece) -> str:
        return self.out.key(piece, self.run_of(piece).hash)

    def recorded(self, piece: Piece) -> bool:
        return self.out.store.finished(self.key(piece))

    def piece_command(self, piece: Piece) -> str:
        return self.command if self.only else f"{self.command} --only {piece.name}"

    def record_finished(self, piece: Piece, sweep_record: dict[str, Any]) -> dict[str, Any]:
        """The benchmark's record of a piece the sweep finished, from its run folder; kept at once."""
        run = self.run_of(piece)
        folder = self.work / sweep_record["run_folder"]  # relative to the sweep folder, or absolute
        record = piece_record(piece, run.config, folder, self.piece_command(piece), float(sweep_record["wall_s"]))
        record["normalize"] = normalization(run.config)
        if sweep_record.get("resumed"):  # killed and resumed from its journal: wall time of the last part only
            record["resumed"] = True
        self.out.store.write(self.key(piece), record)
        keep_global(record, folder, self.out)
        log.info(
            "%s: final %.4f best %.4f in %.0f s",
            piece.name,
            record["final_accuracy"],
            record["best_accuracy"],
            record["wall_seconds"],
        )
        return record


def run_missing(grid: Grid, chosen: Sequence[Piece]) -> None:
    """Run the chosen pieces without a record through the package's sweep driver (one Ray task each).

    Each piece's record is written as soon as its run finishes, and the summary gathered again; a
    run the sweep finished before (its run folder still in the sweep folder) is not run again.
    """
    todo = [p for p in chosen if not grid.recorded(p)]
    for p in chosen:
        if p not in todo:
            log.info("%s: done before (%s), skipped", p.name, grid.key(p))
    if not todo:
        return
    plan = SweepPlan(runs=[grid.run_of(p) for p in todo], swept=grid.plan.swept, items=grid.plan.items)
    check_resources(plan)
    by_hash = {grid.run_of(p).hash: p for p in todo}

    def report(state: SweepState) -> None:
        last = state.last
        if last is None:
            return
        piece = by_hash[last["config_hash"]]
        if last["status"] != DONE:
            log.warning("%s failed: %s (log: %s)", piece.name, last["error"], grid.work / "logs")
            return
        try:
            grid.record_finished(piece, last)
            gather(grid)
        except Exception:  # the run folder stays: the record is made after the sweep or by a rerun
            log.exception("%s: its record could not be made now", piece.name)

    log.info("%d pieces to run: %s", len(todo), ", ".join(p.name for p in todo))
    run_sweep(plan, grid.work, report)
    sweep_records = RecordStore(grid.work)
    for p in todo:
        done = sweep_records.read(grid.run_of(p).hash)
        if not grid.recorded(p) and done is not None and done["status"] == DONE:
            grid.record_finished(p, done)


def recorded_runs(grid: Grid) -> list[dict[str, Any]]:
    """The records of the pieces of the current configs that finished, in grid order."""
    return [r for p in grid.pieces if (r := grid.out.store.read(grid.key(p))) is not None]


def gather(grid: Grid) -> dict[str, Any]:
    """The JSON of every finished piece of the current configs, and the overlay plot."""
    runs = recorded_runs(grid)
    missing = [p.name for p in grid.pieces if not grid.recorded(p)]
    marker = grid.out.global_model.with_suffix(".json")
    result = {
        "scenario": SCENARIO,
        "runs": runs,
        "not_run_yet": missing,
        "global_model": json.loads(marker.read_text()) if marker.is_file() else None,
        "command": grid.command,
    }
    write_json(grid.out.summary, result)
    if runs:
        plot(runs, grid.out.plot)
    return result


def open_grid(
    data: Path | str,
    splits: Path | str,
    results: Path | str,
    work: Path | str,
    overrides: Sequence[str] = (),
    command: str = "",
    only: bool = False,
) -> Grid:
    """Every piece of the grid validated with the overrides (ConfigError names the piece and key)."""
    pieces = grid_pieces()
    return Grid(
        pieces=pieces,
        plan=grid_plan(pieces, base_items(data, splits), overrides),
        out=Outputs(Path(results)),
        work=Path(work).expanduser().absolute(),
        command=command,
        only=only,
    )


def listing(grid: Grid) -> list[str]:
    """One line per piece: name, group, config hash, whether it ran, its overrides."""
    lines = []
    for p in grid.pieces:
        done = "done" if grid.recorded(p) else "not run"
        lines.append(f"{p.name:40s} {p.group:10s} {grid.run_of(p).hash}  {done}  {' '.join(p.overrides)}")
    return lines

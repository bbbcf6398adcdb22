"""Test-time augmentation of the committed best students: one view against the mean of 8.

    python bench/eurosat_views.py            # writes bench/results/eurosat_views.json

Reads bench/results/eurosat_kd.json (its best students, their files and the input normalization)
and evaluates each best student on validation and test, on the image alone and with its softmax
averaged over the 8 flips/rotations of the image (what the teachers' "8 views" figures are). The
8-view figure costs 8 forward passes per image: its FLOPs, latency and energy per image are 8x
those of the efficiency table, so it is reported beside the plain figure, never instead of it.
The evaluation is simsat.experiment.best_views; this script is its command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

import torch

from simsat.cli.distill import load_experiment
from simsat.errors import SimsatError
from simsat.experiment.best_views import best_students_views
from simsat.results.atomic import write_json

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--summary", default=str(HERE / "results" / "eurosat_kd.json"))
    p.add_argument("--data", default=str(HERE.parent / ".." / "shared" / "data" / "eurosat_rgb"))
    p.add_argument("--splits", default=str(HERE.parent / ".." / "shared" / "data" / "eurosat_splits"))
    p.add_argument("--cache", default=str(HERE.parent / ".simsat_cache"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(HERE / "results" / "eurosat_views.json"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    command = shlex.join(["python", "bench/eurosat_views.py", *(sys.argv[1:] if argv is None else argv)])
    try:
        result = best_students_views(Path(args.summary), args.data, args.splits, args.cache, command, load_experiment)
    except SimsatError as exc:
        raise SystemExit(str(exc)) from None
    write_json(Path(args.out), result)
    students = result["students"]
    print(json.dumps({k: {s: round(v[s]["accuracy"], 4) for s in ("test", "test_views")} for k, v in students.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

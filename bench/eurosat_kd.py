"""The paper's experiment on EuroSAT, in resumable pieces: every student x rule x seed, plus throughput.

Composes simsat/configs/experiment/eurosat.yaml (data from ../shared/data by default) with any extra
key=value overrides, trains or loads the cached teachers and their logits, then runs each
missing piece (one student, rule and seed), saving it under <pieces>/<config hash>/pieces/.
The pieces folder is committed (bench/results/eurosat_kd_pieces: records and teacher weights;
the students' weights stay git-ignored), so a later session resumes where an earlier one
stopped, with the very same teachers.
After every piece it times a bare torch loop (same model, batch size, channels_last, AdamW, no
augmentation or progress, random tensors) and records the experiment/bare throughput ratio.
Finally it writes <out>/eurosat_kd.json from all finished pieces of this config, plus those of
the other schedules named by --with (default eurosat_long: the same teachers, students on 40
epochs; eurosat_tuned: students on 40 epochs at peak lr 1e-2, with a ResNet16 teacher; and
eurosat_patient: eurosat_tuned with students on 60 epochs),
plots every student's validation curve (<out>/eurosat_kd_curves.png), and copies the best
distilled student of each model over all those schedules (chosen on validation) to
<out>/<model>_kd.pt.

    python bench/eurosat_kd.py                                   # all missing pieces (hours)
    python bench/eurosat_kd.py --only resnet8:entropy:0,resnet8:none:0
    python bench/eurosat_kd.py --experiment eurosat_long --only resnet8:entropy:0 --out /tmp/long
    python bench/eurosat_kd.py --prepare-only                    # teachers and their logits only
    python bench/eurosat_kd.py --summary-only                    # rewrite the summary
    python bench/eurosat_kd.py --limit 300 --epochs 2 --teacher-epochs 1 --out /tmp/kd-smoke

The schedules, pieces, config hashes and summaries live in simsat.experiment.schedules and
simsat.experiment.pieces; this script is their command line.

On 2 cores, two pieces side by side with --threads 1 each train ~1.3x as many images per second
in all as one piece with 2 threads (bare loops: 115 + 127 vs 189 images/s for ResNet8); give each
its own --out so neither overwrites the other's summary, then run --summary-only.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

import torch

from simsat.cli.distill import load_experiment
from simsat.cli.progress import LogProgress
from simsat.errors import SimsatError
from simsat.experiment.schedules import ScheduleInputs, run_schedules

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT / ".." / "shared" / "data" / "eurosat_rgb"))
    p.add_argument(
        "--splits",
        default=str(ROOT / ".." / "shared" / "data" / "eurosat_splits"),
        help="split folder; '' for a seeded stratified split",
    )
    p.add_argument("--experiment", default="eurosat")
    p.add_argument(
        "--with",
        dest="others",
        default="eurosat_long,eurosat_tuned,eurosat_patient",
        help="comma-separated experiments (other schedules on the same data) whose finished "
        "pieces join the summary and the choice of best students; '' for none",
    )
    p.add_argument("--only", default="", help="comma-separated model:rule:seed pieces")
    p.add_argument("--limit", type=int, default=0, help="at most this many images per split (smoke tests)")
    p.add_argument("--epochs", type=int, default=0, help="student epochs (default: the config's)")
    p.add_argument("--teacher-epochs", type=int, default=-1, help="epochs of every teacher (default: the config's)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bare-steps", type=int, default=30)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where the summary and best students go")
    p.add_argument(
        "--pieces",
        default=str(ROOT / "bench" / "results" / "eurosat_kd_pieces"),
        help="finished pieces and teacher weights, one folder per config hash",
    )
    p.add_argument(
        "--cache",
        default=str(ROOT / ".simsat_cache"),
        help="decoded images, teacher weights and logits (data.cache_dir)",
    )
    p.add_argument("--prepare-only", action="store_true")
    p.add_argument("--summary-only", action="store_true")
    p.add_argument("--remeasure-efficiency", action="store_true")
    p.add_argument("overrides", nargs="*", help="key=value overrides of the experiment config")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    command = shlex.join(["python", "bench/eurosat_kd.py", *(sys.argv[1:] if argv is None else argv)])
    inputs = ScheduleInputs(
        args.data,
        args.splits,
        args.cache,
        args.threads,
        args.limit,
        args.epochs,
        args.teacher_epochs,
        tuple(args.overrides),
    )
    try:
        cfg = inputs.config(args.experiment, load_experiment)
        names = [n for n in args.others.split(",") if n and n != args.experiment]
        others = [(name, inputs.config(name, load_experiment)) for name in names]
        summary = run_schedules(
            cfg,
            others,
            Path(args.pieces),
            Path(args.out),
            command,
            args.only,
            args.prepare_only,
            args.summary_only,
            args.remeasure_efficiency,
            args.bare_steps,
            progress=LogProgress(),
        )
        print(summary)
    except SimsatError as exc:
        raise SystemExit(str(exc)) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())

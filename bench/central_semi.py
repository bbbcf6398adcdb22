"""Can the FixMatch-style term lift a 10 %-label EuroSAT student toward 95 %? A central probe.

No federation and no simulated time: the federated EuroSAT mission's ground set (10 % of the
train split, stratified, seed 0; 1,890 labels) and its satellites' 17,010 unlabelled images, all
in one place. The baseline, in the same run, is the mission's teacher (ResNet8, 60 epochs, peak lr
1e-2 on the labels alone, loaded from or trained into the mission's teacher cache). The probe then
continues training that model with cross-entropy on the labels plus `simsat.distill.semi`'s
consistency term on the unlabelled images (`--ratio` unlabelled per labelled image in each batch,
confidence `--threshold`), and scores validation and test after every `--score-every` epochs.
`--weight 0` is the control: the same continuation on the labels alone, so a gain can be told
apart from the longer schedule. `--unlabelled-fraction` keeps a random share of the unlabelled
images (0.2: about what the ground receives at the mission's default imagery fraction), so the
same probe says what the term is worth at the ground and with every image.

Writes `--out` (default bench/results/central_semi.json) after every score, so a stopped probe
keeps what it measured: the baseline, the curve, the best-on-validation epoch, its test gain in
points over the baseline, machine, versions and the command. The probe is
simsat.experiment.semi_probe; this script is its command line.

    python bench/central_semi.py --data ../shared/data/eurosat_rgb --splits ../shared/data/eurosat_splits
    python bench/central_semi.py --data ... --splits ... --unlabelled-fraction 0.2 --out /tmp/semi20.json
    python bench/central_semi.py --data ... --splits ... --weight 0 --out /tmp/control.json
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from simsat.errors import ConfigError
from simsat.experiment.semi_probe import SemiProbe, check_probe, run_semi_probe

RESULTS = Path(__file__).resolve().parent / "results" / "central_semi.json"


def _probe(args: argparse.Namespace) -> SemiProbe:
    return SemiProbe(
        epochs=args.epochs,
        lr=args.lr,
        ratio=args.ratio,
        threshold=args.threshold,
        weight=args.weight,
        unlabelled_fraction=args.unlabelled_fraction,
        score_every=args.score_every,
        seed=args.seed,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="EuroSAT RGB folder")
    p.add_argument("--splits", required=True, help="split folder (train/validation/test.csv)")
    p.add_argument("--cache", default=".simsat_cache", help="decoded images and the teacher cache")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--epochs", type=int, default=30, help="epochs over the labelled images")
    p.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak lr of the continuation")
    p.add_argument("--ratio", type=int, default=7, help="unlabelled images per labelled image in a batch")
    p.add_argument("--threshold", type=float, default=0.95)
    p.add_argument("--weight", type=float, default=1.0)
    p.add_argument("--unlabelled-fraction", type=float, default=1.0)
    p.add_argument("--score-every", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        check_probe(_probe(args), Path(args.data), Path(args.splits))
    except ConfigError as exc:
        p.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    probe = _probe(args)
    command = " ".join(["python", "bench/central_semi.py", *(argv if argv is not None else sys.argv[1:])])
    run_semi_probe(Path(args.data), Path(args.splits), Path(args.cache), Path(args.out), probe, command)


if __name__ == "__main__":
    main()

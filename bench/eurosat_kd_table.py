"""Print the ablation of bench/results/eurosat_kd.json as Markdown tables (for docs/eurosat_experiment.md).

    python bench/eurosat_kd_table.py [path/to/eurosat_kd.json]

One table for the main schedule, then one per other schedule in the summary (e.g. students on
40 epochs). Mean ± standard deviation over the seeds done (per seed in brackets); one seed prints
one number. Each row also gives its difference to the cross-entropy twin (rule `none`) of the
same student and schedule, on the seeds both have (simsat.experiment.kd_table).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from simsat.experiment.kd_table import summary_tables

DEFAULT = Path(__file__).resolve().parent / "results" / "eurosat_kd.json"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT
    print(summary_tables(json.loads(path.read_text())), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

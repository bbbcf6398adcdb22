"""The ablation of an eurosat_kd.json summary as Markdown tables (for docs/eurosat_experiment.md).

One table for the main schedule, then one per other schedule in the summary (e.g. students on
40 epochs). Mean ± standard deviation over the seeds done (per seed in brackets); one seed prints
one number. Each row also gives its difference to the cross-entropy twin (rule `none`) of the
same student and schedule, on the seeds both have. bench/eurosat_kd_table.py is its command line.
"""

from __future__ import annotations

from typing import Any

HEADER = (
    "| student | rule | seeds | test accuracy % (per seed) | vs none | macro precision | macro recall "
    "| macro F1 | validation % | images/s (ratio to bare loop) |"
)


def _pct(stat: dict[str, Any]) -> str:
    per_seed = stat["per_seed"]
    if len(per_seed) == 1:
        return f"{100 * per_seed[0]:.2f}"
    seeds = ", ".join(f"{100 * v:.2f}" for v in per_seed)
    return f"{100 * stat['mean']:.2f} ± {100 * stat['std']:.2f} ({seeds})"


def _delta(entry: dict[str, Any], twin: dict[str, Any]) -> str:
    """Test-accuracy points above the twin, on the seeds both have (named when not all of them)."""
    mine = dict(zip(entry["seeds"], entry["test_accuracy"]["per_seed"], strict=True))
    theirs = dict(zip(twin["seeds"], twin["test_accuracy"]["per_seed"], strict=True))
    common = [s for s in mine if s in theirs]
    if not common:
        return "n/a"
    diff = 100 * sum(mine[s] - theirs[s] for s in common) / len(common)
    return f"{diff:+.2f}" + ("" if len(common) == len(theirs) == len(mine) else f" (seed {','.join(map(str, common))})")


def rows(results: dict[str, dict[str, Any]]) -> list[str]:
    """Table lines for one schedule's results (model -> rule -> entry)."""
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for model, rules in results.items():
        twin = rules.get("none")
        for rule, entry in rules.items():
            acc = entry["test_accuracy"]
            delta = "" if twin is None or rule == "none" else _delta(entry, twin)
            lines.append(
                f"| {model} | {rule} | {','.join(map(str, entry['seeds']))} | {_pct(acc)} | {delta} "
                f"| {entry['test_precision']['mean']:.4f} | {entry['test_recall']['mean']:.4f} "
                f"| {entry['test_f1']['mean']:.4f} | {_pct(entry['validation_accuracy'])} "
                f"| {entry['images_per_s']['mean']:.0f} ({entry['throughput_ratio']['mean']:.2f}) |"
            )
    return lines


def summary_tables(summary: dict[str, Any]) -> str:
    """Every schedule's table, each under a line naming its epochs, experiment and config hash."""
    text = (
        f"Students on {summary['config']['train']['epochs']} epochs ({summary['experiment']}, "
        f"config {summary['config_hash']}):\n\n"
    )
    text += "\n".join(rows(summary["results"])) + "\n"
    for other in summary.get("other_schedules", []):
        text += (
            f"\nStudents on {other['train_epochs']} epochs ({other['experiment']}, config {other['config_hash']}):\n\n"
        )
        text += "\n".join(rows(other["results"])) + "\n"
    return text

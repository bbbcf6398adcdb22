"""The federated EuroSAT grid's results: the overlay plot (one panel per question) and the markdown tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def held_curve(curve: Sequence[Sequence[float]], end_hours: float) -> list[list[float]]:
    """The accuracy curve with its last score held to the mission's end (a run's student keeps
    the accuracy of its last evaluation until something changes it)."""
    points = [list(point) for point in curve]
    if points and end_hours > points[-1][0]:
        points.append([end_hours, points[-1][1]])
    return points


# the overlay's panels: one per question, each with the default runs it is read against
PANELS = (
    ("strategies (alpha 0.5, 20 % imagery, seed 0)", ("strategies",), ()),
    ("seeds", ("seeds",), ("fedkd-fedasync-s0", "fedkd-sync-s0", "ground-s0")),
    ("label skew: Dirichlet alpha (fedkd / fedasync)", ("alpha",), ("fedkd-fedasync-s0",)),
    ("imagery fraction, onboard semi-supervised term", ("imagery", "semi"), ("fedkd-fedasync-s0", "ground-s0")),
    ("the ground's teachers refreshed at 24 h (and 48 h)", ("refresh",), ("fedkd-sync-s0", "ground-s0")),
)


def panel_runs(runs: Sequence[dict[str, Any]], groups: Sequence[str], defaults: Sequence[str]) -> list[dict[str, Any]]:
    """The runs of one panel: those of its groups and the default runs it is read against."""
    return [r for r in runs if r.get("group") in groups or r["name"] in defaults]


def plot(runs: Sequence[dict[str, Any]], path: Path) -> None:
    """Test accuracy against simulated hours, one line per run, one panel per question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(19, 9), sharex=True, sharey=True)
    for ax in axes.flat[len(PANELS) :]:
        ax.set_visible(False)
    lowest = 100.0
    for ax, (title, groups, defaults) in zip(axes.flat, PANELS, strict=False):
        shown = panel_runs(runs, groups, defaults)
        for run in shown:
            curve = held_curve(run["curve"], float(run.get("simulated_hours") or 0.0))
            if curve:
                hours, acc = zip(*curve, strict=True)
                ax.step(hours, [100 * a for a in acc], where="post", label=run["name"], linewidth=1.2)
                lowest = min(lowest, 100 * min(acc))
        for level in (80, 90, 95):
            ax.axhline(level, color="grey", linewidth=0.6, linestyle=":")
        for hour in sorted({r["hour"] for run in shown for r in run.get("teacher_refreshes") or []}):
            ax.axvline(hour, color="black", linewidth=0.8, linestyle="--")
            ax.text(
                hour + 0.5,
                0.02,
                "teacher refresh",
                fontsize=7,
                rotation=90,
                va="bottom",
                transform=ax.get_xaxis_transform(),
            )
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if shown:
            ax.legend(fontsize=7, loc="lower right")
        else:
            ax.text(0.5, 0.5, "not run yet", transform=ax.transAxes, ha="center", color="grey")
    columns = axes.shape[1]
    for i, ax in enumerate(axes.flat[: len(PANELS)]):
        if i + columns >= len(PANELS):  # no panel below it: it carries the hours
            ax.set_xlabel("simulated hours")
            ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy of the global student (%)")
    axes[0, 0].set_ylim(max(0.0, 10 * ((lowest - 5) // 10)), 100)
    fig.suptitle("Federated EuroSAT: test accuracy over simulated time (each line holds its last score)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f} %"


def _hours(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f}"


def _mb(value: float) -> str:
    return f"{value / 1e6:,.0f} MB"


def _wall(run: dict[str, Any]) -> str:
    text = f"{run['wall_seconds']:,.0f} s"
    if run.get("resumed"):
        text += " (resumed)"
    efficiency = run.get("parallel_efficiency")
    if efficiency and run["strategy"] != "ground":
        text += f", efficiency {efficiency:.2f}"
    return text


def _work(run: dict[str, Any]) -> str:
    if run["strategy"] == "ground":
        return f"{run['aggregations']} ground trainings"
    return f"{run['trainings']} / {run['aggregations']}"


def tables(runs: Sequence[dict[str, Any]]) -> str:
    """The results as markdown tables (one per question), from the gathered records."""
    by_name = {r["name"]: r for r in runs}
    head = (
        "| run | final | best | time to 90 % (h) | macro F1 | bytes up / down | energy per satellite "
        "| trainings / aggregations | wall |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = ["Strategies and seeds (alpha 0.5, 20 % imagery):", "", head]
    for run in runs:
        if run["group"] in ("strategies", "seeds"):
            lines.append(
                f"| {run['name']} | {_pct(run['final_accuracy'])} | {_pct(run['best_accuracy'])} "
                f"| {_hours(run['time_to_accuracy_hours'].get('0.90'))} | {run['macro_f1']:.3f} "
                f"| {_mb(run['bytes']['up_total'])} / {_mb(run['bytes']['down_total'])} "
                f"| {run['energy_wh_per_satellite']['mean']:.2f} Wh | {_work(run)} | {_wall(run)} |"
            )
    lines += [
        "",
        "Label skew (`fedkd` / `fedasync`):",
        "",
        "| alpha | final | best | time to 90 % (h) |",
        "|---|---|---|---|",
    ]
    for name, alpha in (
        ("fedkd-fedasync-alpha0.1-s0", "0.1"),
        ("fedkd-fedasync-s0", "0.5"),
        ("fedkd-fedasync-alpha100-s0", "100"),
    ):
        skewed = by_name.get(name)
        if skewed is None:
            lines.append(f"| {alpha} | not run yet | | |")
        else:
            lines.append(
                f"| {alpha} | {_pct(skewed['final_accuracy'])} | {_pct(skewed['best_accuracy'])} "
                f"| {_hours(skewed['time_to_accuracy_hours'].get('0.90'))} |"
            )
    lines += [
        "",
        "Imagery fraction (`fedasync`), final accuracy (time to 90 %, h):",
        "",
        "| imagery asked (received) | `fedkd` | `ground` | `fedkd` - `ground` | `fedkd` + onboard semi term |",
        "|---|---|---|---|---|",
    ]
    for fraction, suffix in (("0.05", "-imagery0.05"), ("0.2", ""), ("1.0", "-imagery1.0")):
        fedkd, ground = by_name.get(f"fedkd-fedasync{suffix}-s0"), by_name.get(f"ground{suffix}-s0")
        semi = next((r for r in runs if r["group"] == "semi" and str(r["imagery_fraction"]) == fraction), None)
        received = next((r["imagery_received_fraction"] for r in (fedkd, ground, semi) if r), None)

        def cell(run: dict[str, Any] | None) -> str:
            if run is None:
                return "not run yet"
            return f"{_pct(run['final_accuracy'])} ({_hours(run['time_to_accuracy_hours'].get('0.90'))})"

        gap = f"{100 * (fedkd['final_accuracy'] - ground['final_accuracy']):+.1f} points" if fedkd and ground else ""
        asked = f"{100 * float(fraction):g} %" + (f" ({_pct(received)})" if received is not None else "")
        lines.append(f"| {asked} | {cell(fedkd)} | {cell(ground)} | {gap} | {cell(semi) if semi else ''} |")
    refreshed = [r for r in runs if r["group"] == "refresh"]
    if refreshed:
        lines += [
            "",
            "Teacher refresh (the ground's teachers continued on its labels plus the consistency term on the "
            "imagery received by then), against the same run without it:",
            "",
            "| run | refresh at (h) / images | teacher test accuracy | final | best | time to 90 % (h) "
            "| without refresh: final | gain | wall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
    for run in refreshed:
        done = run.get("teacher_refreshes") or []
        at = ", ".join(f"{r['hour']:g} / {r['images']:,}" for r in done) or "none made"
        before = ", ".join(_pct(t["accuracy"]) for t in run["teachers"])
        after = ", ".join(_pct(t["accuracy"]) for r in done for t in r["teachers"])
        plain = by_name.get(re.sub(r"-refresh[^-]+", "", run["name"]))  # the same piece without the refresh
        gain = f"{100 * (run['final_accuracy'] - plain['final_accuracy']):+.1f} points" if plain else ""
        lines.append(
            f"| {run['name']} | {at} | {before} -> {after} | {_pct(run['final_accuracy'])} "
            f"| {_pct(run['best_accuracy'])} | {_hours(run['time_to_accuracy_hours'].get('0.90'))} "
            f"| {_pct(plain['final_accuracy']) if plain else 'not run yet'} | {gain} | {_wall(run)} |"
        )
    return "\n".join(lines) + "\n"

"""PNG plots of a run: accuracy over simulated time, contact timeline, battery state of charge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_accuracy(
    rows: Sequence[dict[str, Any]], path: Path, title: str, references: dict[str, float] | None = None
) -> Path:
    """Accuracy and macro F1 over simulated time; `references` (name -> accuracy) as flat lines."""
    hours = [r["sim_hours"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(hours, [r["accuracy"] for r in rows], where="post", marker="o", ms=3, label="accuracy")
    ax.step(hours, [r["f1"] for r in rows], where="post", ls="--", label="macro F1")
    for i, (name, value) in enumerate((references or {}).items()):
        ax.axhline(value, color=f"C{i + 2}", lw=1, ls=":", label=f"{name} ({value:.2f})")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("global student on test split")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_timeline(events: Sequence[dict[str, Any]], num_satellites: int, path: Path) -> Path:
    """Contacts (blue bars) and training (orange bars) per satellite."""
    fig, ax = plt.subplots(figsize=(9, 0.5 * num_satellites + 1.5))
    open_contact: dict[int, float] = {}
    open_train: dict[int, float] = {}
    for e in events:
        sat = e.get("satellite")
        t = e["time_s"] / 3600.0
        if e["kind"] == "contact_start":
            open_contact[sat] = t
        elif e["kind"] == "contact_end" and sat in open_contact:
            start = open_contact.pop(sat)
            ax.broken_barh([(start, max(t - start, 0.01))], (sat - 0.4, 0.35), color="tab:blue")
        elif e["kind"] == "train_start":
            open_train[sat] = t
        elif e["kind"] == "train_end" and sat in open_train:
            start = open_train.pop(sat)
            ax.broken_barh([(start, max(t - start, 0.01))], (sat + 0.05, 0.35), color="tab:orange")
    ax.set_yticks(range(num_satellites))
    ax.set_yticklabels([f"sat {i}" for i in range(num_satellites)])
    ax.set_xlabel("simulated time (h)")
    ax.set_title("contacts (blue) and onboard training (orange)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_battery(histories: Sequence[Sequence[tuple[float, float]]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, history in enumerate(histories):
        if history:
            ax.plot([t / 3600.0 for t, _ in history], [s for _, s in history], lw=1, label=f"sat {i}")
    ax.set_xlabel("simulated time (h)")
    ax.set_ylabel("battery state of charge")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if len(histories) <= 12:
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

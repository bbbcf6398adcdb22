"""Render a finished run folder: the three plots, report.html and README.md, all from its files.

Call :func:`render_run` after the mission has written summary.json, metrics.csv, events.jsonl,
battery.csv and config.yaml (formats in :mod:`simsat.results.runfolder`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.results.accuracy_plot import plot_accuracy
from simsat.results.atomic import write_text
from simsat.results.battery_plot import plot_battery
from simsat.results.facts import human_bytes, run_title, run_verdict, run_warnings, summary_facts
from simsat.results.readme import EVENT_KINDS, FILES, METRIC_COLUMNS, write_run_readme
from simsat.results.runfolder import BatteryHistories, Interval, RunData, intervals, read_run, transfers
from simsat.results.timeline_plot import plot_timeline

PLOTS: tuple[tuple[str, str], ...] = (
    ("accuracy.png", "Global student accuracy over simulated time"),
    ("timeline.png", "Contacts, transfers, training, eclipse and aggregations per satellite"),
    ("battery.png", "Battery state of charge per satellite"),
)

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1180px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.1em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.folder { color: #666; font-family: monospace; margin-top: 0; }
.warnings li { color: #8a4b00; background: #fff4e0; border-left: 4px solid #f0a030; padding: 0.3em 0.6em;
               margin: 0.3em 0; list-style: none; }
.warnings ul { padding: 0; }
table { border-collapse: collapse; } td, th { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4;
  text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts td:first-child { font-weight: 600; white-space: nowrap; }
.fact { white-space: nowrap; margin-right: 1.2em; } .fact b { font-variant-numeric: tabular-nums; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #e4e4e4; }
figcaption { color: #555; font-size: 0.92em; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
tr.cut td { color: #b2182b; }
"""


@dataclass
class ContactRow:
    satellite: int
    station: str
    start_h: float
    minutes: float
    bytes_up: int
    bytes_down: int
    cut: int


def contact_rows(run: RunData) -> list[ContactRow]:
    """One row per contact, with the bytes moved in it and how many transfers were cut."""
    by_satellite: dict[int, list[Interval]] = {}
    for move in transfers(run):
        by_satellite.setdefault(move.satellite, []).append(move)
    rows = []
    for c in intervals(run, "contact_start", "contact_end"):
        moves = by_satellite.get(c.satellite, [])
        inside = [t for t in moves if c.start_s - 1 <= t.end_s <= c.end_s + 1]
        rows.append(
            ContactRow(
                c.satellite,
                c.label,
                c.start_s / 3600,
                (c.end_s - c.start_s) / 60,
                sum(t.nbytes for t in inside if t.direction == "up"),
                sum(t.nbytes for t in inside if t.direction == "down"),
                sum(1 for t in inside if not t.complete),
            )
        )
    return sorted(rows, key=lambda r: (r.start_h, r.satellite))


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _facts_html(summary: Mapping[str, Any]) -> str:
    rows: dict[str, list[str]] = {}
    for fact in summary_facts(summary):
        name = f"{_esc(fact.short)} " if fact.short else ""
        rows.setdefault(fact.row, []).append(f'<span class="fact">{name}<b>{_esc(fact.value)}</b></span>')
    if not rows:
        return "<p>summary.json holds no facts.</p>"
    body = "".join(f"<tr><td>{_esc(row)}</td><td>{''.join(parts)}</td></tr>" for row, parts in rows.items())
    return f'<table class="facts" id="summary-table">{body}</table>'


def _plots_html(folder: Path) -> str:
    parts = []
    for name, caption in PLOTS:
        path = folder / name
        if not path.is_file():
            continue
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(
            f'<figure><img id="plot-{path.stem}" alt="{_esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(caption)} ({_esc(name)})</figcaption></figure>"
        )
    return "".join(parts)


def _contacts_html(run: RunData) -> str:
    rows = contact_rows(run)
    if not rows:
        return "<p>No contacts.</p>"
    head = (
        "<tr><th>satellite</th><th>station</th><th>start (h)</th><th>duration (min)</th>"
        "<th>bytes up</th><th>bytes down</th><th>transfers cut</th></tr>"
    )
    body = "".join(
        f"<tr{' class=cut' if r.cut else ''}><td class=num>{r.satellite}</td><td>{_esc(r.station)}</td>"
        f"<td class=num>{r.start_h:.2f}</td><td class=num>{r.minutes:.1f}</td>"
        f"<td class=num>{_esc(human_bytes(r.bytes_up))}</td><td class=num>{_esc(human_bytes(r.bytes_down))}</td>"
        f"<td class=num>{r.cut}</td></tr>"
        for r in rows
    )
    cut = sum(1 for r in rows if r.cut)
    return (
        f"<details open><summary>{len(rows)} contacts, {cut} with a transfer cut by the window's end"
        f'</summary><table id="contact-table">{head}{body}</table></details>'
    )


def _files_html() -> str:
    def table(pairs: tuple[tuple[str, str], ...], first: str, second: str) -> str:
        body = "".join(f"<tr><td><code>{_esc(a)}</code></td><td>{_esc(b)}</td></tr>" for a, b in pairs)
        return f"<table><tr><th>{first}</th><th>{second}</th></tr>{body}</table>"

    return (
        table(FILES, "file", "what it holds")
        + "<h3>metrics.csv columns</h3>"
        + table(METRIC_COLUMNS, "column", "meaning")
        + "<h3>events.jsonl kinds</h3>"
        + table(EVENT_KINDS, "kind", "meaning and fields")
    )


def _machine_html(summary: Mapping[str, Any]) -> str:
    machine = summary.get("machine")
    if not isinstance(machine, Mapping) or not machine:
        return ""
    body = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in machine.items())
    return f"<h2>Machine</h2><table>{body}</table>"


def report_html(run: RunData) -> str:
    """The self-contained page (plots embedded) for a run whose PNGs are already in its folder."""
    title = run_title(run.summary) if run.summary else run.folder.name
    warnings = run_warnings(run.summary)
    verdict = run_verdict(run.summary)
    verdict_html = f"<p id=verdict><b>verdict:</b> {_esc(verdict)}</p>" if verdict else ""
    warn = (
        (
            "<section class=warnings id=warnings><ul>"
            + "".join(f"<li>warning: {_esc(w)}</li>" for w in warnings)
            + "</ul></section>"
        )
        if warnings
        else ""
    )
    config = (
        f"<details><summary>config.yaml</summary><pre id=config>{_esc(run.config_text)}</pre></details>"
        if run.config_text
        else "<p>No config.yaml in the folder.</p>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'><title>simsat run: {_esc(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>simsat run: {_esc(title)}</h1><p class=folder>{_esc(run.folder.resolve())}</p>{verdict_html}{warn}"
        f"<h2>Summary</h2>{_facts_html(run.summary)}"
        f"<h2>Plots</h2>{_plots_html(run.folder)}"
        f"<h2>Contacts</h2>{_contacts_html(run)}"
        f"<h2>Resolved config</h2>{config}"
        f"{_machine_html(run.summary)}"
        f"<h2>Files in this folder</h2>{_files_html()}"
        "</body></html>\n"
    )


def render_run(folder: Path, battery: BatteryHistories | None = None) -> None:
    """Write accuracy.png, timeline.png, battery.png, report.html and README.md into `folder`
    from the files the mission wrote there (and tensorboard/ where its config asks for it);
    `battery`: the histories `write_battery_csv` returned for the folder's battery.csv."""
    folder = Path(folder)
    run = read_run(folder, battery)
    plot_accuracy(run, folder / "accuracy.png")
    plot_timeline(run, folder / "timeline.png")
    plot_battery(run, folder / "battery.png")
    write_run_readme(folder, run_title(run.summary) if run.summary else folder.name)
    write_text(folder / "report.html", report_html(run))
    from simsat.results.tensorboard import wanted, write_run_scalars

    if wanted(run):
        write_run_scalars(run)

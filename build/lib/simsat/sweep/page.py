"""The comparison page (report.html), configs.csv and the comparison plots of a sweep folder or of
any run and sweep folders compared (`simsat compare`).

The page is one self-contained file (plots embedded, no network): the keys and their values, one
row per configuration with its seeds folded (mean ± standard deviation and the 95 % confidence
interval), sortable by any column with a click on its header, each configuration linking to its
runs' own report.html, and the failed runs with their one-line errors. A sweep rewrites it as each
run finishes; while runs are still pending it reloads itself every RELOAD_S seconds.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simsat.results.atomic import write_text
from simsat.results.facts import human_bytes
from simsat.results.report import CSS as RUN_CSS
from simsat.sweep.fold import DONE, FAILED, METRICS, ConfigFold, RunEntry, Stat, bounds, fold, write_configs_csv
from simsat.sweep.gather import Comparison, sweep_entries
from simsat.sweep.plots import PLOTS, plot_comparison

REPORT_HTML = "report.html"
CONFIGS_CSV = "configs.csv"
RELOAD_S = 30

CSS = (
    RUN_CSS
    + """
body { max-width: none; margin: 1.2em 1.5em; }
figure img { max-width: min(100%, 1400px); }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th:hover { background: #e8eef7; }
table.sortable th.asc::after { content: " \\25B2"; font-size: 0.75em; }
table.sortable th.desc::after { content: " \\25BC"; font-size: 0.75em; }
td .ci { color: #666; font-size: 0.85em; display: block; white-space: nowrap; }
td.runs a { margin-right: 0.5em; white-space: nowrap; }
.failed td { color: #b2182b; }
.grid td:first-child { font-family: monospace; }
.note { color: #555; }
.wide { overflow-x: auto; } #configs-table { font-size: 13px; } #configs-table td { padding: 0.25em 0.45em; }
"""
)

# A click on a header sorts by that column (numbers by their data-v, empty cells last); again: reversed.
SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[col];
        var v = cell.getAttribute('data-v');
        if (v === null) { return cell.textContent.trim(); }
        return v === '' ? null : parseFloat(v);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
        var c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _format(column: str, value: float | None) -> str:
    if value is None:
        return "–"
    if column.endswith("accuracy"):
        return f"{100 * value:.2f} %"
    if column.startswith("bytes"):
        return human_bytes(value)
    if column.startswith("time_to"):
        return f"{value:.2f} h"
    if column == "energy_wh":
        return f"{value:.3g} Wh"
    return f"{value:.1f} s" if column == "wall_s" else f"{value:.4g}"


def _spread(column: str, value: float | None) -> str:
    """A standard deviation or CI half-width in the column's unit (accuracy in points)."""
    if value is None:
        return "–"
    return f"{100 * value:.2f}" if column.endswith("accuracy") else _format(column, value)


def stat_cell(column: str, s: Stat, runs: int) -> str:
    """A statistic's cell: the mean ± sd, the 95 % CI below; sorted by the mean."""
    if s.mean is None:
        return '<td class=num data-v="">–</td>'
    text = _format(column, s.mean)
    if s.std is not None:
        text += f" ± {_spread(column, s.std)}"
    interval = bounds(column, s)
    ci = f"95 % CI {_format(column, interval[0])} – {_format(column, interval[1])}" if interval else ""
    if column.startswith("time_to") and s.n < runs:
        ci = (ci + "; " if ci else "") + f"reached by {s.n} of {runs}"
    below = f"<span class=ci>{_esc(ci)}</span>" if ci else ""
    return f'<td class=num data-v="{s.mean:.9g}">{_esc(text)}{below}</td>'


def _link(entry: RunEntry, out: Path) -> str:
    text = f"seed {entry.seed}" if entry.seed else entry.name
    if entry.folder is None:
        return f"<span title='{_esc(entry.name)}: {_esc(entry.status)}'>{_esc(text)} ({_esc(entry.status)})</span>"
    target = entry.folder / "report.html"
    href = os.path.relpath(target, out).replace(os.sep, "/")
    return f"<a href='{_esc(href)}' title='{_esc(entry.name)}'>{_esc(text)}</a>"


def configs_table(folds: Sequence[ConfigFold], keys: Sequence[str], out: Path) -> str:
    head = (
        "<th>config</th>"
        + "".join(f"<th>{_esc(k)}</th>" for k in keys)
        + "<th>seeds done</th>"
        + "".join(f"<th>{_esc(name)}</th>" for _, name in METRICS)
        + "<th>runs</th>"
    )
    rows = []
    for f in folds:
        done = sum(1 for r in f.runs if r.status == DONE)
        cells = [f"<td data-v='{f.id[1:]}'><b>{_esc(f.id)}</b></td>"]
        for k in keys:
            value = f.label.get(k, "")
            try:
                cells.append(f'<td data-v="{float(value):.9g}">{_esc(value)}</td>')
            except ValueError:
                cells.append(f"<td>{_esc(value)}</td>")
        failed = f" ({f.failed} failed)" if f.failed else ""
        cells.append(f"<td class=num data-v='{done}'>{done} of {len(f.runs)}{failed}</td>")
        cells += [stat_cell(column, f.stats[column], done) for column, _ in METRICS]
        cells.append("<td class=runs>" + " ".join(_link(r, out) for r in f.runs) + "</td>")
        rows.append(f"<tr id='{_esc(f.id)}'>{''.join(cells)}</tr>")
    return (
        "<div class=wide><table class=sortable id=configs-table>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def grid_table(folds: Sequence[ConfigFold], keys: Sequence[str]) -> str:
    if not keys:
        return "<p>No key tells these runs apart: one configuration, its runs folded as seeds.</p>"
    body = ""
    for k in keys:
        values = list(dict.fromkeys(f.label.get(k, "") for f in folds))
        body += f"<tr><td>{_esc(k)}</td><td>{_esc(', '.join(values))}</td><td class=num>{len(values)}</td></tr>"
    return f"<table class=grid id=grid-table><tr><th>key</th><th>values</th><th>how many</th></tr>{body}</table>"


def failed_table(folds: Sequence[ConfigFold]) -> str:
    failed = [(f, r) for f in folds for r in f.runs if r.status == FAILED]
    if not failed:
        return "<p>No run failed.</p>"
    body = "".join(
        f"<tr><td>{_esc(r.name)}</td><td>{_esc(f.id)}: {_esc(f.title)}</td><td>{_esc(r.seed)}</td>"
        f"<td>{_esc(r.error)}</td></tr>"
        for f, r in failed
    )
    return (
        "<table id=failed-table class=failed><tr><th>run</th><th>configuration</th><th>seed</th><th>error</th></tr>"
        f"{body}</table>"
    )


def plots_html(folder: Path) -> str:
    parts = []
    for name, caption in PLOTS:
        path = folder / name
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img id="plot-{path.stem}" alt="{_esc(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{_esc(caption)} ({_esc(name)})</figcaption></figure>"
            )
    return "".join(parts) or "<p>No run has finished yet.</p>"


def comparison_html(title: str, folds: Sequence[ConfigFold], keys: Sequence[str], out: Path, note: str = "") -> str:
    runs = [r for f in folds for r in f.runs]
    done = sum(1 for r in runs if r.status == DONE)
    failed = sum(1 for r in runs if r.status == FAILED)
    pending = len(runs) - done - failed
    reload = f"<meta http-equiv=refresh content={RELOAD_S}>" if pending else ""
    state = f"{len(folds)} configurations, {len(runs)} runs: {done} done, {failed} failed, {pending} pending" + (
        f" (this page reloads every {RELOAD_S} s while runs are pending)" if pending else ""
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>{reload}"
        f"<title>simsat comparison: {_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>simsat comparison: {_esc(title)}</h1><p class=folder>{_esc(out.resolve())}</p>"
        f"<p id=state>{_esc(state)}</p>{f'<p class=note>{_esc(note)}</p>' if note else ''}"
        f"<h2>Keys</h2>{grid_table(folds, keys)}"
        "<h2>Configurations</h2><p class=note>One row per configuration, its seeds folded: mean ± standard deviation,"
        " 95 % confidence interval of the mean below (Student's t, clipped to what the value can be). Click a header"
        f" to sort. configs.csv holds the same numbers.</p>{configs_table(folds, keys, out)}"
        f"<h2>Failed runs</h2>{failed_table(folds)}"
        f"<h2>Plots</h2>{plots_html(out)}"
        f"<script>{SORT_JS}</script></body></html>\n"
    )


def write_comparison(title: str, keys: Sequence[str], entries: Sequence[RunEntry], out: Path, note: str = "") -> Path:
    """configs.csv, the plots and report.html in `out` (created); returns the page."""
    out.mkdir(parents=True, exist_ok=True)
    folds = fold(entries)
    write_configs_csv(out / CONFIGS_CSV, folds, keys)
    plot_comparison(folds, keys, out)
    return write_text(out / REPORT_HTML, comparison_html(title, folds, keys, out, note))


def write_sweep_page(folder: Path) -> Path:
    """A sweep folder's configs.csv, plots and report.html, from its sweep.json, runs.csv and run folders."""
    keys, entries = sweep_entries(folder)
    return write_comparison(f"sweep {folder.name}", keys, entries, folder)


def write_compare_page(comparison: Comparison, out: Path) -> Path:
    sources = "; ".join(str(s) for s in comparison.sources)
    return write_comparison(comparison.title, comparison.keys, comparison.entries, out, f"from {sources}")

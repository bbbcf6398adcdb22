"""Render the README's screenshots into docs/images/ from synthetic run folders (tests/fake_run.py).

    python tools/doc_images.py            # needs headless Chromium for the table and report PNGs

The run folders are synthetic (same file formats as a real run); replace them with real runs by
passing folders: python tools/doc_images.py RUN_4_SATS RUN_24_SATS
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from rich.console import Console  # noqa: E402

from simsat.results.report import render_run  # noqa: E402
from simsat.results.runfolder import load_summary  # noqa: E402
from simsat.results.table import summary_renderable  # noqa: E402

OUT = ROOT / "docs" / "images"
BROWSER = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)


def _chromium_png(page: Path, png: Path, width: int, height: int, scratch: Path) -> None:
    if BROWSER is None:
        print(f"no headless Chromium: {png.name} not made", file=sys.stderr)
        return
    subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={scratch}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _table_png(folder: Path, png: Path, scratch: Path) -> None:
    summary = load_summary(folder)
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=100, file=sink, force_terminal=True)
        console.print(summary_renderable(summary))
    svg = console.export_svg(title="simsat run  (stderr at the end of a run)")
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    width, height = (int(float(v)) + 1 for v in match.groups()) if match else (1300, 700)
    page = scratch / "table.html"
    page.write_text(f"<html><body style='margin:0;background:#fff'>{svg}</body></html>")
    _chromium_png(page, png, width, height, scratch / "profile")


def main(folders: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if folders:
            runs = {f"{i}": Path(f) for i, f in enumerate(folders)}
            labels = [f"{n}sats" for n in (4, 24)][: len(runs)]
            runs = dict(zip(labels, list(runs.values())[: len(labels)], strict=True))
        else:
            from fake_run import FakeRun, write_fake_run

            runs = {
                "4sats": write_fake_run(
                    scratch / "run4", FakeRun(satellites=4, hours=12.0, capacity_wh=10.0, scenario="synthetic-4sats")
                ),
                "24sats": write_fake_run(
                    scratch / "run24",
                    FakeRun(satellites=24, hours=24.0, buffer=4, capacity_wh=12.0, scenario="synthetic-24sats"),
                ),
            }
        for label, folder in runs.items():
            render_run(folder)
            for plot in ("accuracy", "timeline", "battery"):
                shutil.copyfile(folder / f"{plot}.png", OUT / f"{plot}_{label}.png")
        last = list(runs.values())[-1]
        _table_png(last, OUT / "run_table.png", scratch)
        _chromium_png(last / "report.html", OUT / "report_page.png", 1280, 2300, scratch / "profile")
    print(f"images in {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""report.html opens in headless Chromium with the summary's numbers and every plot on it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from fake_run import FakeRun, write_fake_run
from simsat.results.facts import run_warnings, summary_facts
from simsat.results.report import PLOTS, render_run
from simsat.results.runfolder import read_run

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for name in BROWSERS if (path := shutil.which(name))), None)

# appended to a copy of the page: once everything loaded, draws each image on a canvas and records
# its size and the share of its pixels that are opaque (a broken or truncated PNG leaves holes)
PROBE = """<script>
window.addEventListener('load', () => {
  const parts = [];
  for (const img of document.images) {
    let opaque = 0;
    try {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] === 255) n++;
      opaque = n / (px.length / 4);
    } catch (e) { opaque = -1; }
    parts.push(img.id + '=' + img.naturalWidth + 'x' + img.naturalHeight + 'x' + opaque.toFixed(3));
  }
  const out = document.createElement('pre'); out.id = 'probe'; out.textContent = parts.join(' ');
  document.body.appendChild(out);
});
</script>"""


def _dom(page: Path, tmp_path: Path) -> str:
    assert BROWSER is not None
    result = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


MISSING = (
    "headless Chromium not found (Debian: apt-get install chromium; .ci/run installs it): "
    "report.html is not checked in a browser here"
)


def _need_browser(environ: Mapping[str, str]) -> None:
    """Skip on a developer's machine without Chromium; in CI (CI=true) the check must run, so fail."""
    if BROWSER is not None:
        return
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {MISSING}", pytrace=False)
    pytest.skip(MISSING)


def test_without_chromium_ci_fails_and_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "BROWSER", None)
    with pytest.raises(pytest.fail.Exception, match="CI=true but headless Chromium not found"):
        _need_browser({"CI": "true"})
    with pytest.raises(pytest.skip.Exception):
        _need_browser({})


@pytest.mark.parametrize(
    "spec",
    [FakeRun(satellites=4, hours=12.0), FakeRun(satellites=3, hours=6.0, aggregate=False)],
    ids=["four_satellites", "no_aggregation"],
)
def test_report_page_shows_summary_numbers_and_every_plot(spec: FakeRun, tmp_path: Path) -> None:
    _need_browser(os.environ)
    folder = write_fake_run(tmp_path / "run", spec)
    render_run(folder)
    page = tmp_path / "probed.html"
    page.write_text((folder / "report.html").read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    dom = _dom(page, tmp_path)

    summary = read_run(folder).summary
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))
    for fact in summary_facts(summary):
        assert fact.value in text, f"{fact.label} = {fact.value} not on the page"
    assert f"{100 * summary['accuracy']['final']:.2f} %" in text
    for warning in run_warnings(summary):
        assert warning in text
    if not spec.aggregate:
        assert "no aggregation" in text

    probe = re.search(r'<pre id="probe">([^<]*)</pre>', dom)
    assert probe, "the page's load event never ran"
    sizes = dict(item.split("=") for item in probe.group(1).split())
    for name, _ in PLOTS:
        width, height, opaque = (float(v) for v in sizes[f"plot-{Path(name).stem}"].split("x"))
        assert width > 400 and height > 200 and opaque > 0.99, f"{name} did not decode whole in the browser"
    assert "contact-table" in dom and "svalbard" in dom
    assert "floor_soc" in dom  # the resolved config is on the page

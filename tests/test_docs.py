"""The docs say what is so: generated pages match their sources, documented columns match the
files, links resolve, and the README stays a page."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from simsat.results import readme
from simsat.results.recorder import METRIC_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_a_page_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "pip install -e . && simsat run" in text
    assert 'pip install -e ".[test]" && python -m pytest -q' in text
    assert "## Where to go next" in text


def test_configuration_reference_is_what_the_schema_gives() -> None:
    tool = _tool("config_reference")
    assert tool.OUT.read_text(encoding="utf-8") == tool.render(), "run python tools/config_reference.py"
    assert "`federation.ground_refine_epochs`" in tool.render()


def test_benchmarks_page_and_readme_table_are_what_the_records_give() -> None:
    tool = _tool("bench_page")
    assert tool.PAGE.read_text(encoding="utf-8") == tool.page(), "run python tools/bench_page.py"
    readme_text = tool.README.read_text(encoding="utf-8")
    assert tool.readme_with_table(readme_text) == readme_text, "run python tools/bench_page.py"
    assert tool.main(["--check"]) == 0


def test_benchmarks_page_reports_each_seed_of_federated_eurosat_as_recorded() -> None:
    """The launch and teacher accuracies differ by seed; the page must not quote seed 0's for all."""
    rows = [line for line in (ROOT / "docs" / "benchmarks.md").read_text().splitlines() if line.startswith("| `")]
    seed1 = [row for row in rows if row.startswith("| `fedkd-sync-s1`")]
    assert seed1 and "| 87.3 % | 91.5 % |" in seed1[0]


def test_documented_metrics_columns_are_the_recorded_ones() -> None:
    assert tuple(name for names, _ in readme.METRIC_COLUMNS for name in names.split(", ")) == METRIC_COLUMNS
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    row = next(line for line in guide.splitlines() if line.startswith("| `metrics.csv` |"))
    assert tuple(re.findall(r"`(\w+)`", row.split("columns", 1)[1])[: len(METRIC_COLUMNS)]) == METRIC_COLUMNS


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_point_at_nothing_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "SPEC section" not in text and "../shared" not in text

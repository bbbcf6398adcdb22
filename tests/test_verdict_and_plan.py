"""The end-of-run verdict (the federated student against the ground-only student and the teachers, a
warning when it ended below) and `simsat run --dry-run` (validated, the plan printed, nothing run)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fake_run import FakeRun, write_fake_run
from simsat.cli.main import main
from simsat.results.facts import run_verdict, run_warnings
from simsat.results.report import render_run
from simsat.results.table import summary_table

TEACHERS = [{"name": "efficientvit_b0", "accuracy": 0.955}, {"name": "mobilevit_xxs", "accuracy": 0.921}]


def _summary(final: float, ground: float | None, initial_model: str = "random") -> dict[str, object]:
    reference = {"teachers": TEACHERS, **({} if ground is None else {"ground_only_accuracy": ground})}
    return {
        "scenario": "mine",
        "initial_model": initial_model,
        "accuracy": {"initial": 0.1, "final": final, "best": final},
        "aggregations": 12,
        "reference": reference,
    }


def test_a_student_below_the_ground_only_one_gets_a_verdict_and_a_warning() -> None:
    summary = _summary(0.33, 0.695)
    verdict = run_verdict(summary)
    assert verdict == (
        "the federated student ended at 33.00 %: 36.5 points below the ground-only student (69.50 %), "
        "62.5 points below the best teacher (efficientvit_b0, 95.50 %)"
    )
    (warning,) = [w for w in run_warnings(summary) if "ground-only" in w]
    assert "ended below the ground-only student: 33.00 % against 69.50 %" in warning
    text = summary_table(summary)
    assert "verdict: the federated student ended at 33.00 %" in text
    assert "warning: the federated student ended below the ground-only student" in text


def test_a_student_above_the_ground_only_one_gets_no_warning() -> None:
    summary = _summary(0.80, 0.70, initial_model="reference")
    assert "10.0 points above the ground-only student it launched from (70.00 %)" in (run_verdict(summary) or "")
    assert not any("ground-only" in w for w in run_warnings(summary))


def test_no_verdict_without_anything_to_compare_with() -> None:
    assert run_verdict({"accuracy": {"final": 0.5}}) is None
    assert (
        run_verdict({"accuracy": {"final": 0.5}, "reference": {"ground_only_accuracy": None, "teachers": []}}) is None
    )
    assert "verdict" not in summary_table({"accuracy": {"final": 0.5}})
    assert run_verdict(_summary(0.5, None)) == (
        "the federated student ended at 50.00 %: 45.5 points below the best teacher (efficientvit_b0, 95.50 %)"
    )


def test_the_run_page_shows_the_verdict(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", FakeRun(hours=4.0))
    render_run(folder)
    assert "<p id=verdict><b>verdict:</b> the federated student ended at" in (folder / "report.html").read_text()


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "runs"
    assert main(["run", "scenario=tiny", "mission.duration_hours=6", f"run.output_dir={out}", "--dry-run"]) == 0
    text = capsys.readouterr().out
    for row in ("satellites", "ground stations", "contact windows", "contact time", "bytes up can carry"):
        assert row in text
    assert "bytes down can carry" in text and "planned in" in text and "6 simulated hours" in text
    assert not out.exists()
    assert main(["run", "scenario=tiny", "training.epochs=0", "--dry-run"]) == 2  # validated first
    assert "training.epochs" in capsys.readouterr().err


@pytest.mark.slow
def test_dry_run_of_megaconstellation_within_10_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CPU time of this process, so other work on a shared machine does not count (~9 s here)."""
    start = time.process_time()
    assert main(["run", "scenario=megaconstellation", f"run.output_dir={tmp_path}", "--dry-run"]) == 0
    assert time.process_time() - start < 10.0
    text = capsys.readouterr().out
    assert "1000" in text and "contact windows" in text and "bytes down can carry" in text

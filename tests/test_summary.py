"""summary.json helpers: time to accuracy from the metric rows, the machine description."""

from __future__ import annotations

from simsat.summary import machine, time_to_accuracy


def test_time_to_accuracy_is_the_first_evaluation_at_or_above_each_threshold() -> None:
    rows = [
        {"time_s": 0.0, "accuracy": 0.1},
        {"time_s": 3600.0, "accuracy": 0.85},
        {"time_s": 5400.0, "accuracy": 0.79},
        {"time_s": 7200.0, "accuracy": 0.90},
    ]
    assert time_to_accuracy(rows) == {"0.80": 1.0, "0.90": 2.0, "0.95": None}


def test_machine_description_is_never_empty() -> None:
    m = machine()
    assert m["cpu"] and m["cores"] >= 1 and m["torch"] and m["simsat"]

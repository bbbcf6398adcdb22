"""A run's summary.json as labelled, formatted facts and warnings: one source for the end-of-run
table and the report page.

summary.json, as this module reads it (every key optional):
``scenario, seed, strategy, aggregator``; ``accuracy: {initial, final, best}``;
``time_to_accuracy_hours: {"0.80": h|null, ...}``; ``bytes: {up: {kind: n}, down: {kind: n}}``;
``contacts``; ``aggregations``; ``energy_wh: {what: Wh}``; ``wall: {mission_wall_seconds,
train_wall_seconds, eval_wall_seconds}``; ``battery: {min_soc, satellites_empty, seconds_empty}``;
``reference: {ground_only_accuracy, teachers: [{name, accuracy}]}``; ``machine: {...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FELL_BY = 0.02  # final accuracy this far below the best counts as a fall at the end


@dataclass(frozen=True)
class Fact:
    row: str  # the table row it belongs to ("accuracy", "time to", "bytes up", ...)
    short: str  # its name within that row
    value: str

    @property
    def label(self) -> str:
        return f"{self.row}: {self.short}" if self.short else self.row


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def percent(value: Any) -> str:
    number = _num(value)
    return "–" if number is None else f"{100 * number:.2f} %"


def human_bytes(value: Any) -> str:
    number = _num(value)
    if number is None:
        return "–"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.2f} {unit}"
    return f"{number:.0f} B"


def duration(seconds: Any) -> str:
    number = _num(seconds)
    if number is None:
        return "–"
    if number >= 3600:
        return f"{number / 3600:.1f} h"
    if number >= 60:
        return f"{number / 60:.1f} min"
    return f"{number:.1f} s"


def _section(summary: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}


def summary_facts(summary: Mapping[str, Any]) -> list[Fact]:
    """The facts of a run in display order, each formatted once."""
    facts: list[Fact] = []
    acc = _section(summary, "accuracy")
    for key in ("final", "best", "initial"):
        if key in acc:
            facts.append(Fact("accuracy", key, percent(acc[key])))
    for threshold, hours in _section(summary, "time_to_accuracy_hours").items():
        label = percent(_float(threshold)).replace(".00 ", " ")
        facts.append(Fact("time to", label, "not reached" if _num(hours) is None else f"{float(hours):.2f} h"))
    for key in ("contacts", "aggregations"):
        value = summary.get(key)
        count = _num(value)
        if count is not None:
            facts.append(Fact("mission", key, f"{int(count)}"))
        elif isinstance(value, Mapping):  # e.g. contacts: {windows, made}
            facts += [Fact("mission", f"{key} {k}", f"{int(v)}") for k, v in value.items() if _num(v) is not None]
    for direction in ("up", "down", "isl"):
        kinds = _section(_section(summary, "bytes"), direction)
        if kinds:
            total = sum(v for v in kinds.values() if _num(v) is not None)
            facts.append(Fact(f"bytes {direction}", "total", human_bytes(total)))
            facts += [Fact(f"bytes {direction}", str(k), human_bytes(v)) for k, v in kinds.items()]
    isl = _section(summary, "isl")
    if isl:
        facts.append(Fact("crosslinks", "aggregation", str(isl.get("aggregation"))))
        for key, value in _section(isl, "windows").items():
            facts.append(Fact("crosslinks", f"windows {key}", f"{value}"))
        for key in ("messages", "aggregations", "carried_down"):
            if _num(isl.get(key)) is not None:
                facts.append(Fact("crosslinks", key.replace("_", " "), f"{int(isl[key])}"))
    for what, wh in _section(summary, "energy_wh").items():
        if _num(wh) is not None:
            facts.append(Fact("energy", str(what).replace("_", " "), f"{float(wh):.3g} Wh"))
    battery = _section(summary, "battery")
    if _num(battery.get("min_soc")) is not None:
        facts.append(Fact("battery", "lowest", percent(battery["min_soc"])))
    for key, value in _section(summary, "wall").items():
        if _num(value) is None:
            continue
        if key.endswith("seconds"):
            name = key.replace("_wall_seconds", "").replace("_seconds", "").replace("_", " ")
            facts.append(Fact("wall time", name, duration(value)))
        else:
            facts.append(
                Fact("wall time", key.replace("_", " "), f"{value:g}" if isinstance(value, int) else f"{value:.2f}")
            )
    reference = _section(summary, "reference")
    for teacher in reference.get("teachers") or []:
        if isinstance(teacher, Mapping):
            facts.append(Fact("reference", str(teacher.get("name", "teacher")), percent(teacher.get("accuracy"))))
    if "ground_only_accuracy" in reference:
        facts.append(Fact("reference", "ground-only", percent(reference["ground_only_accuracy"])))
    return facts


def run_title(summary: Mapping[str, Any]) -> str:
    """ "scenario (seed 0, strategy fedkd, aggregator fedbuff)" from whatever the summary has."""
    details = ", ".join(f"{k} {summary[k]}" for k in ("seed", "strategy", "aggregator") if k in summary)
    name = str(summary.get("scenario", "run"))
    return f"{name} ({details})" if details else name


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _points(a: float, b: float) -> str:
    gap = 100 * (a - b)
    return f"{abs(gap):.1f} points {'above' if gap >= 0 else 'below'}"


def run_verdict(summary: Mapping[str, Any]) -> str | None:
    """One line: the federated student's final accuracy against the ground-only student and the teachers
    (None where the summary has no final accuracy or nothing to compare it with)."""
    final = _num(_section(summary, "accuracy").get("final"))
    reference = _section(summary, "reference")
    ground = _num(reference.get("ground_only_accuracy"))
    teachers = [
        (str(t.get("name", "teacher")), float(t["accuracy"]))
        for t in reference.get("teachers") or []
        if isinstance(t, Mapping) and _num(t.get("accuracy")) is not None
    ]
    if final is None or (ground is None and not teachers):
        return None
    parts = []
    if ground is not None:
        launched = " it launched from" if summary.get("initial_model") == "reference" else ""
        parts.append(f"{_points(final, ground)} the ground-only student{launched} ({percent(ground)})")
    if teachers:
        name, best = max(teachers, key=lambda t: t[1])
        parts.append(f"{_points(final, best)} the best teacher ({name}, {percent(best)})")
    return f"the federated student ended at {percent(final)}: " + ", ".join(parts)


def run_warnings(summary: Mapping[str, Any]) -> list[str]:
    """Plain-language warnings for runs that say little."""
    warnings = []
    contacts = summary.get("contacts")
    made = contacts.get("made") if isinstance(contacts, Mapping) else contacts
    if _num(made) == 0:
        warnings.append("no contact with any ground station: nothing was sent either way")
    gossip = _section(summary, "isl").get("aggregation") == "gossip"  # no ground aggregation by design
    if _num(summary.get("aggregations")) == 0 and not gossip:
        warnings.append(
            "no aggregation: the global student never changed; try a longer mission.duration_hours "
            "or a smaller federation.buffer_size"
        )
    battery = _section(summary, "battery")
    empty = battery.get("satellites_empty") or []
    if empty:
        sats = ", ".join(str(s) for s in empty[:8]) + (" …" if len(empty) > 8 else "")
        spent = duration(battery.get("seconds_empty"))
        warnings.append(f"battery hit empty on {len(empty)} satellite(s) ({sats}) for {spent} in all")
    elif _num(battery.get("min_soc")) is not None and float(battery["min_soc"]) <= 0.005:
        warnings.append("battery hit empty")
    acc = _section(summary, "accuracy")
    final, best, initial = _num(acc.get("final")), _num(acc.get("best")), _num(acc.get("initial"))
    if final is not None and best is not None and best - final > FELL_BY:
        warnings.append(f"accuracy fell at the end: final {percent(final)} against best {percent(best)}")
    if final is not None and initial is not None and final <= initial and _num(summary.get("aggregations")) != 0:
        warnings.append(f"accuracy did not improve: final {percent(final)}, initial {percent(initial)}")
    ground = _num(_section(summary, "reference").get("ground_only_accuracy"))
    if final is not None and ground is not None and final < ground:
        warnings.append(
            f"the federated student ended below the ground-only student: {percent(final)} against {percent(ground)}"
            " (more contacts, a longer mission, federation.initial_model=reference or more imagery may help)"
        )
    return warnings

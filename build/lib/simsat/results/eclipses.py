"""Eclipse events: each satellite's entries into and exits from the Earth's shadow, from the
shadow intervals the world computed for its batteries, written to a run's event log."""

from __future__ import annotations

from collections.abc import Sequence

from simsat.results.recorder import Recorder

Intervals = Sequence[tuple[float, float]]


def record_eclipses(recorder: Recorder, shadows: Sequence[Intervals], duration_s: float) -> int:
    """Record ``eclipse_start`` / ``eclipse_end`` (with ``satellite``) for every shadow interval.

    ``shadows[i]`` holds satellite i's intervals in seconds from the mission start (any part of
    the Sun's disc hidden: umbra and penumbra). An interval still open at the end of the mission
    gets no ``eclipse_end``; readers close it at the mission's end. Returns the intervals recorded.
    """
    count = 0
    for satellite, intervals in enumerate(shadows):
        for start, end in intervals:
            start, end = max(0.0, float(start)), min(float(end), duration_s)
            if end <= start:
                continue
            recorder.event("eclipse_start", start, satellite=satellite)
            if end < duration_s:
                recorder.event("eclipse_end", end, satellite=satellite)
            count += 1
    return count

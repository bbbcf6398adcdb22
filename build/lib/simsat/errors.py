"""Errors that the command line turns into one-line messages.

`SimsatError` and `ConfigError` (bad input) exit with code 2; `MissionError` (a run that could
not go on: every satellite lost, training diverged again and again) exits with code 1.
"""

from __future__ import annotations


class SimsatError(Exception):
    """Base class of errors caused by user input (configs, files, names)."""

    exit_code = 2


class ConfigError(SimsatError, ValueError):
    """A configuration value, key or name is invalid; the message names the culprit."""


class MissionError(SimsatError):
    """The mission stopped: nothing more could come of it. The message says why, in one line."""

    exit_code = 1


class TrainingDiverged(MissionError, ArithmeticError):
    """A training's loss became NaN or infinite (detected in the training loop, where it happened)."""

"""Errors that the command line turns into one-line messages.

`SimsatError` and `ConfigError` (bad input) exit with code 2; `MissionError` (a run that could
not go on: every satellite lost, training diverged again and again) exits with code 1.
"""

from __future__ import annotations


class SimsatError(Exception):
    """Base class of errors caused by user input (configs, files, names)."""

    exit_code = 2


class ConfigError(SimsatError, ValueError):
    """A configuration value, key or name is invalid; the message names the culprit.

    `key`, where given, is the parameter or config key the message names, at its start
    (``ConfigError("max_range_km must be > 0, got -1", key="max_range_km")``): the config layer
    turns a library's parameter into the config key a user wrote (`naming`).
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    def naming(self, key: str) -> ConfigError:
        """The same error naming `key` in place of its own (the message's leading name replaced,
        or `key` put in front where the message does not start with it)."""
        message = str(self)
        if self.key and message.startswith(self.key):
            return ConfigError(key + message[len(self.key) :], key)
        return ConfigError(f"{key}: {message}", key)


class MissionError(SimsatError):
    """The mission stopped: nothing more could come of it. The message says why, in one line."""

    exit_code = 1


class TrainingDiverged(MissionError, ArithmeticError):
    """A training's loss became NaN or infinite (detected in the training loop, where it happened)."""

"""Errors that the command line turns into one-line messages with exit code 2."""

from __future__ import annotations


class SimsatError(Exception):
    """Base class of errors caused by user input (configs, files, names)."""


class ConfigError(SimsatError, ValueError):
    """A configuration value, key or name is invalid; the message names the culprit."""

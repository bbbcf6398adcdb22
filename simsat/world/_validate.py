"""Small checks shared by the world model that raise ConfigError naming the parameter (its `key`)."""

from __future__ import annotations

import math

from simsat.errors import ConfigError


def number(key: str, value: object) -> float:
    """Return ``value`` as a finite float or raise ConfigError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}", key)
    result = float(value)
    if not math.isfinite(result):
        raise ConfigError(f"{key} must be finite, got {value!r}", key)
    return result


def integer(key: str, value: object) -> int:
    """Return ``value`` as an int (integral floats allowed) or raise ConfigError."""
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be an integer, got {value!r}", key)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ConfigError(f"{key} must be an integer, got {value!r}", key)


def positive(key: str, value: object) -> float:
    """Finite number > 0."""
    result = number(key, value)
    if result <= 0.0:
        raise ConfigError(f"{key} must be > 0, got {result}", key)
    return result


def non_negative(key: str, value: object) -> float:
    """Finite number >= 0."""
    result = number(key, value)
    if result < 0.0:
        raise ConfigError(f"{key} must be >= 0, got {result}", key)
    return result


def in_range(key: str, value: object, low: float, high: float) -> float:
    """Finite number in the closed interval [low, high]."""
    result = number(key, value)
    if not low <= result <= high:
        raise ConfigError(f"{key} must be in [{low:g}, {high:g}], got {result}", key)
    return result

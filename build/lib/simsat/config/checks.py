"""Primitive value rules shared by every config (scenarios and experiments).

Each rule raises ConfigError with one line naming the user-facing key, the rule and the value.
Numbers must be finite unless a rule says otherwise: NaN and infinity are refused everywhere.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Collection, Sequence

from simsat.errors import ConfigError


def require(ok: bool, key: str, rule: str, value: object) -> None:
    """Raise `ConfigError("<key> <rule>, got <value>")` unless `ok`."""
    if not ok:
        raise ConfigError(f"{key} {rule}, got {value!r}")


def installed(module: str, key: str, extra: str) -> None:
    """Raise a ConfigError naming the optional extra that provides `module` where it is not installed."""
    try:
        importlib.import_module(module)
    except ImportError:
        message = f'{key} needs {module}, from the optional extra {extra}: pip install -e ".[{extra}]"'
        raise ConfigError(message) from None


def number(
    key: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number within [low, high] (bounds exclusive where `*_open`); returned as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ConfigError(f"{key} must be a finite number, got {value!r}")
    if low is not None and (result <= low if low_open else result < low):
        raise ConfigError(f"{key} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and (result >= high if high_open else result > high):
        raise ConfigError(f"{key} must be {'<' if high_open else '<='} {high:g}, got {value!r}")
    return result


def positive(key: str, value: object, high: float | None = None) -> float:
    """A finite number > 0 (and <= high when given)."""
    return number(key, value, low=0.0, low_open=True, high=high)


def non_negative(key: str, value: object, high: float | None = None) -> float:
    """A finite number >= 0 (and <= high when given)."""
    return number(key, value, low=0.0, high=high)


def fraction(key: str, value: object) -> float:
    """A finite number strictly between 0 and 1."""
    result = number(key, value)
    require(0.0 < result < 1.0, key, "must be between 0 and 1 (exclusive)", value)
    return result


def integer(key: str, value: object, low: int | None = None, high: int | None = None) -> int:
    """An int (not a bool) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ConfigError(f"{key} must be >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{key} must be <= {high}, got {value!r}")
    return value


def text(key: str, value: object, what: str = "a non-empty string") -> str:
    """A string that is not empty or only whitespace."""
    require(isinstance(value, str) and bool(value.strip()), key, f"must be {what}", value)
    assert isinstance(value, str)
    return value


def choice(key: str, value: object, choices: Collection[str]) -> str:
    """One of `choices` (the message lists them)."""
    require(isinstance(value, str) and value in choices, key, f"must be one of {', '.join(choices)}", value)
    assert isinstance(value, str)
    return value


def non_empty_unique(key: str, values: Sequence[object]) -> None:
    """A list with at least one element and no repeats."""
    require(len(values) >= 1, key, "must not be empty", list(values))
    require(len(set(values)) == len(values), key, "must not repeat a value", list(values))

"""Config keys in the errors of the layers below.

`simsat.world`, `simsat.mission`, `simsat.ground` and `simsat.federation` are a library as much
as the mission's parts: their errors name their own parameters (``max_range_km must be > 0,
got -1``, `ConfigError.key` set to ``max_range_km``). Where the config layer hands them a config's
values, it says which key each parameter comes from, and their errors name that key instead::

    with config_keys("isl", "max_range_km", "grazing_altitude_km", "pairs"):
        compute_isl(...)  # ConfigError: isl.max_range_km must be > 0, got -1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from simsat.errors import ConfigError


@contextmanager
def config_keys(section: str, *keys: str, rename: Mapping[str, str] | None = None) -> Iterator[None]:
    """Inside, a ConfigError whose `key` is one of `keys` (a parameter named as its key in
    `section`) or of `rename` (parameter -> its key in `section`) is raised again naming
    ``<section>.<key>``; any other error passes unchanged."""
    names = {key: key for key in keys} | dict(rename or {})
    try:
        yield
    except ConfigError as error:
        name = names.get(error.key) if error.key is not None else None
        if name is None:
            raise
        raise error.naming(f"{section}.{name}") from None

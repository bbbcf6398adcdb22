"""Settings types below the config layer carry the schema's defaults, so a caller of the package
who leaves a value out gets what a scenario that leaves the key out gets."""

from __future__ import annotations

import dataclasses

from simsat.config.schema import FederationConfig, RayConfig
from simsat.federation.simulation import RaySettings
from simsat.mission.aggregation import AggregatorSettings


def test_aggregator_settings_default_to_the_federation_section() -> None:
    section = FederationConfig()
    for field in dataclasses.fields(AggregatorSettings):
        assert getattr(AggregatorSettings(), field.name) == getattr(section, field.name), field.name


def test_ray_settings_default_to_the_ray_section() -> None:
    section = RayConfig()
    for field in dataclasses.fields(RaySettings):
        assert getattr(RaySettings(), field.name) == getattr(section, field.name), field.name

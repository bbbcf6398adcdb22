"""The library layers' errors name their parameters; the config layer names the keys they come from."""

from __future__ import annotations

import pytest

from simsat.config.keys import config_keys
from simsat.errors import ConfigError
from simsat.world.links import LinkRates


def test_a_parameter_is_named_by_its_config_key() -> None:
    with pytest.raises(ConfigError, match=r"^uplink_bps must be > 0, got 0.0$") as caught:
        LinkRates(0.0, 1e6)
    assert caught.value.key == "uplink_bps"
    with (
        pytest.raises(ConfigError, match=r"^link\.uplink_bps must be > 0, got 0.0$") as caught,
        config_keys("link", "uplink_bps", "downlink_bps"),
    ):
        LinkRates(0.0, 1e6)
    assert caught.value.key == "link.uplink_bps"


def test_a_renamed_parameter_and_the_errors_left_alone() -> None:
    with (
        pytest.raises(ConfigError, match=r"^link\.profile_step_s must be > 0"),
        config_keys("link", rename={"step_s": "profile_step_s"}),
    ):
        raise ConfigError("step_s must be > 0, got -1", "step_s")
    with pytest.raises(ConfigError, match=r"^step_s must be > 0"), config_keys("link", "uplink_bps"):
        raise ConfigError("step_s must be > 0, got -1", "step_s")  # not a key of the section: as it was
    with pytest.raises(ConfigError, match=r"^no key here$"), config_keys("link", "uplink_bps"):
        raise ConfigError("no key here")
    with pytest.raises(ValueError, match="plain"), config_keys("link", "uplink_bps"):
        raise ValueError("plain")


def test_a_message_that_does_not_start_with_its_key_gets_the_key_in_front() -> None:
    error = ConfigError("the mission runs too long", "start").naming("mission.start_utc")
    assert str(error) == "mission.start_utc: the mission runs too long" and error.key == "mission.start_utc"
    assert str(ConfigError("plain")) == "plain" and ConfigError("plain").key is None

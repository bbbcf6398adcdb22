"""Energy of classifying the satellites' images onboard, per board."""

from __future__ import annotations

import pytest

from simsat.errors import ConfigError
from simsat.hardware import (
    HardwareProfile,
    assign_fleet,
    default_registry,
    energy_per_inference_j,
    onboard_inference_energy,
)


def test_energy_follows_each_board() -> None:
    registry = default_registry()
    fleet = assign_fleet(["jetson_nano_5w", "raspberry_pi4", "myriad_x"], 3, registry)
    flops = 1.168e8  # ResNet8 forward at 64 px
    result = onboard_inference_energy(fleet, [1000, 1000, 500], flops)
    per = result.satellites
    assert [s.board for s in per] == ["jetson_nano_5w", "raspberry_pi4", "myriad_x"]
    assert per[0].energy_j == pytest.approx(1000 * flops / 1.6e10 * 5.0)
    assert per[1].seconds == pytest.approx(1000 * flops / 4.0e9)
    # ratios are what the profiles predict: (busy W / FLOP/s) x images
    assert per[1].energy_j / per[0].energy_j == pytest.approx((6.4 / 4e9) / (5.0 / 1.6e10))
    assert per[2].energy_j == pytest.approx(500 * energy_per_inference_j(registry.get("myriad_x"), flops))
    assert result.total_j == pytest.approx(sum(s.energy_j for s in per))
    assert result.total_wh == pytest.approx(result.total_j / 3600)
    data = result.as_dict()
    assert data["images"] == 2500 and len(data["per_satellite"]) == 3
    assert data["per_satellite"][2] == {
        "satellite": 2,
        "board": "myriad_x",
        "images": 500,
        "seconds": per[2].seconds,
        "energy_j": per[2].energy_j,
    }


def test_inference_rate_field_is_used() -> None:
    fast = HardwareProfile("fast", "", 1e10, 1.0, 4.0, 1024.0, 3.0, 0.4, inference_flops_per_s=4e10)
    result = onboard_inference_energy([fast], [100], 1e8)
    assert result.satellites[0].energy_j == pytest.approx(100 * 1e8 / 4e10 * 4.0)


def test_mismatched_lengths_and_negative_counts() -> None:
    fleet = assign_fleet("myriad_x", 2, default_registry())
    with pytest.raises(ConfigError, match="2 satellite boards but image counts for 3"):
        onboard_inference_energy(fleet, [1, 2, 3], 1e8)
    with pytest.raises(ConfigError, match="satellite 1: image count must be >= 0"):
        onboard_inference_energy(fleet, [1, -2], 1e8)

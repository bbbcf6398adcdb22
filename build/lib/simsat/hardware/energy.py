"""Energy of classifying images onboard: forward FLOPs / the board's inference rate x busy power."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simsat.errors import ConfigError
from simsat.hardware.profiles import HardwareProfile

JOULES_PER_WH = 3600.0


@dataclass(frozen=True)
class SatelliteInference:
    """One satellite classifying its images with the student."""

    satellite: int
    board: str
    images: int
    seconds: float
    energy_j: float


@dataclass(frozen=True)
class InferenceEnergy:
    """Onboard classification of every satellite's images, per satellite and in total."""

    forward_flops_per_image: float
    satellites: tuple[SatelliteInference, ...]

    @property
    def total_j(self) -> float:
        return sum(s.energy_j for s in self.satellites)

    @property
    def total_wh(self) -> float:
        return self.total_j / JOULES_PER_WH

    @property
    def images(self) -> int:
        return sum(s.images for s in self.satellites)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: totals and one entry per satellite (for summary.json)."""
        return {
            "forward_flops_per_image": self.forward_flops_per_image,
            "images": self.images,
            "energy_wh": self.total_wh,
            "energy_j": self.total_j,
            "per_satellite": [
                {
                    "satellite": s.satellite,
                    "board": s.board,
                    "images": s.images,
                    "seconds": s.seconds,
                    "energy_j": s.energy_j,
                }
                for s in self.satellites
            ],
        }


def energy_per_inference_j(profile: HardwareProfile, forward_flops_per_image: float) -> float:
    """Board energy of classifying one image: FLOPs / inference FLOP/s x busy W, in joules."""
    return profile.inference_energy_j(forward_flops_per_image)


def onboard_inference_energy(
    fleet: Sequence[HardwareProfile], images_per_satellite: Sequence[int], forward_flops_per_image: float
) -> InferenceEnergy:
    """Energy of each satellite classifying its own images once with the student.

    ``fleet[i]`` is satellite i's board (see :func:`simsat.hardware.assign_fleet`),
    ``images_per_satellite[i]`` the images it holds, and ``forward_flops_per_image`` the
    student's forward FLOPs on one image (``simsat.models.cost.count_flops(model, size)``).
    """
    if len(fleet) != len(images_per_satellite):
        raise ConfigError(f"{len(fleet)} satellite boards but image counts for {len(images_per_satellite)} satellites")
    if not forward_flops_per_image >= 0:
        raise ConfigError(f"forward_flops_per_image must be >= 0, got {forward_flops_per_image}")
    satellites = []
    for index, (profile, images) in enumerate(zip(fleet, images_per_satellite, strict=True)):
        if images < 0:
            raise ConfigError(f"satellite {index}: image count must be >= 0, got {images}")
        flops = forward_flops_per_image * int(images)
        satellites.append(
            SatelliteInference(
                satellite=index,
                board=profile.name,
                images=int(images),
                seconds=profile.inference_seconds(flops),
                energy_j=profile.inference_energy_j(flops),
            )
        )
    return InferenceEnergy(float(forward_flops_per_image), tuple(satellites))

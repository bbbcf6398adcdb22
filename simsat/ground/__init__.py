"""The ground station's learning (teachers, reference, refinement, labelling, refresh, scores)."""

from simsat.ground.learning import GroundLearning, Progress, no_progress

__all__ = ["GroundLearning", "Progress", "no_progress"]

"""Distillation: weighting rules, KD losses, knowledge packets, training loops and the teacher cache."""

"""Teacher weighting rules for multi-teacher knowledge distillation.

A rule maps teacher probabilities p (K, B, C) -- p[k] = softmax(z_k / T) -- to weights
w (B, K), without gradient. The loss (simsat.distill.losses) uses alpha_i = mean_k w_ik as
the KD share of image i and sum_k w_ik KL(p_ik || q_i) as its KD term.

Scale convention, shared by all rules: mean_k w_ik = trust_i / 2 with trust_i in [0, 1].
So a fully trusted image gets alpha = 0.5 (the paper's default (0.5, 0.5)) for any number
of teachers; `static` gives every teacher 0.5.

Rules judging confidence per image (`entropy`, `maxprob`) accept `temperature`: the T the
probabilities were softened with. They undo it (softmax(T * log p) = softmax(z)) so that
confidence is judged on the teachers' own predictions, which a high T compresses toward
uniform. The `paper` rule uses p at T as published.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import torch

from simsat.errors import ConfigError

WeightingRule = Callable[..., torch.Tensor]

PAPER_LOW = 0.4
PAPER_HIGH = 0.6


def _check_probs(p: torch.Tensor) -> None:
    if p.dim() != 3:
        raise ConfigError(f"teacher probabilities must have shape (K, B, C), got {tuple(p.shape)}")
    if p.shape[0] < 1:
        raise ConfigError("at least one teacher is needed for distillation")


def paper_weights(conf_1: float, conf_2: float) -> tuple[float, float]:
    """Le et al.'s (a, b) from the two teachers' batch-mean max-probabilities."""
    if conf_1 < PAPER_LOW and conf_2 < PAPER_LOW:
        return 0.0, 0.0
    if conf_1 < PAPER_HIGH and conf_2 < PAPER_HIGH:
        return max(0.5 - (PAPER_HIGH - conf_1), 0.1), max(0.5 - (PAPER_HIGH - conf_2), 0.1)
    if conf_1 < PAPER_HIGH:
        return 0.3, 0.7
    if conf_2 < PAPER_HIGH:
        return 0.7, 0.3
    return 0.5, 0.5


def paper(p: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Le et al.'s dynamic rule for exactly two teachers; batch-level, same (a, b) for every image."""
    del temperature  # the published rule reads probabilities at the distillation temperature
    _check_probs(p)
    if p.shape[0] != 2:
        raise ConfigError(f"weighting rule 'paper' needs exactly 2 teachers, got {p.shape[0]}")
    with torch.no_grad():
        conf = p.detach().amax(dim=-1).mean(dim=-1)
        a, b = paper_weights(float(conf[0]), float(conf[1]))
        return torch.tensor([a, b], dtype=p.dtype, device=p.device).expand(p.shape[1], 2).clone()


def static(p: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Every teacher weight 0.5 (two teachers: (0.5, 0.5), the paper's default branch)."""
    del temperature
    _check_probs(p)
    return torch.full((p.shape[1], p.shape[0]), 0.5, dtype=p.dtype, device=p.device)


def none(p: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """All weights zero: no distillation, the loss is plain cross-entropy."""
    del temperature
    _check_probs(p)
    return torch.zeros((p.shape[1], p.shape[0]), dtype=p.dtype, device=p.device)


def _sharpen(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """Probabilities at temperature 1 from probabilities at `temperature`."""
    if temperature <= 0:
        raise ConfigError(f"temperature must be > 0, got {temperature}")
    logp = torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))
    return torch.softmax(logp * temperature, dim=-1)


def _normalised_entropy(r: torch.Tensor) -> torch.Tensor:
    """Entropy over the last axis divided by log(C), in [0, 1] (0 for C == 1)."""
    num_classes = r.shape[-1]
    if num_classes < 2:
        return torch.zeros(r.shape[:-1], dtype=r.dtype, device=r.device)
    h = -(torch.special.xlogy(r, r)).sum(dim=-1)
    return (h / math.log(num_classes)).clamp(0.0, 1.0)


def _normalised_maxprob(r: torch.Tensor) -> torch.Tensor:
    """(max_c r - 1/C) / (1 - 1/C), in [0, 1] (1 for C == 1)."""
    num_classes = r.shape[-1]
    if num_classes < 2:
        return torch.ones(r.shape[:-1], dtype=r.dtype, device=r.device)
    chance = 1.0 / num_classes
    return ((r.amax(dim=-1) - chance) / (1.0 - chance)).clamp(0.0, 1.0)


def _per_image(
    p: torch.Tensor, temperature: float, tau: float, confidence: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    _check_probs(p)
    if tau <= 0:
        raise ConfigError(f"weighting tau must be > 0, got {tau}")
    with torch.no_grad():
        r = _sharpen(p.detach(), temperature)  # (K, B, C)
        conf = confidence(r)  # (K, B), in [0, 1]
        share = torch.softmax(conf / tau, dim=0)  # over teachers, sums to 1
        trust = confidence(r.mean(dim=0))  # (B,): confidence of the teachers' mixture
        num_teachers = p.shape[0]
        return (share * trust * (num_teachers / 2.0)).T.contiguous()


def entropy(p: torch.Tensor, temperature: float = 1.0, tau: float = 0.1) -> torch.Tensor:
    """Per-image rule: confidence c_ki = 1 - H(r_ki) / log C (r: probabilities at T = 1).

    w_ik = (K / 2) * trust_i * softmax_k(c_ki / tau), trust_i = 1 - H(mean_k r_ki) / log C.
    So a teacher more certain than the others gets more weight; images on which the
    teachers are unsure or disagree get less KD weight; mean_k w_ik = trust_i / 2.
    """
    return _per_image(p, temperature, tau, lambda r: 1.0 - _normalised_entropy(r))


def maxprob(p: torch.Tensor, temperature: float = 1.0, tau: float = 0.1) -> torch.Tensor:
    """As `entropy`, with confidence = max probability rescaled from [1/C, 1] to [0, 1]."""
    return _per_image(p, temperature, tau, _normalised_maxprob)


WEIGHTING_RULES: dict[str, WeightingRule] = {
    "paper": paper,
    "static": static,
    "entropy": entropy,
    "maxprob": maxprob,
    "none": none,
}


def get_weighting(name: str, **params: Any) -> WeightingRule:
    """The rule called `name`, with extra parameters (e.g. tau=0.2) bound; ConfigError if unknown."""
    try:
        rule = WEIGHTING_RULES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown weighting rule {name!r}; choose one of: {', '.join(WEIGHTING_RULES)}") from None
    if not params:
        return rule
    accepted = set(inspect.signature(rule).parameters) - {"p", "temperature"}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(
            f"weighting rule {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(sorted(accepted)) or 'none'}"
        )
    return functools.partial(rule, **params)

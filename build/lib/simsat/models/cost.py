"""Model cost: parameters, FLOPs (torch's FlopCounterMode) and measured CPU latency."""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from simsat.errors import ConfigError

# backward pass ~ 2x forward (gradients w.r.t. activations and w.r.t. weights), so training ~ 3x forward
TRAINING_TO_FORWARD_RATIO = 3.0


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not; buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def _check_size(input_size: int, batch: int) -> None:
    if input_size < 1:
        raise ConfigError(f"input_size must be >= 1, got {input_size}")
    if batch < 1:
        raise ConfigError(f"batch must be >= 1, got {batch}")


def count_flops(model: nn.Module, input_size: int = 64, batch: int = 1) -> int:
    """Forward FLOPs (a multiply-add counts 2) of one pass on (batch, 3, input_size, input_size).

    A model that resizes its input internally (teachers) is counted at the size it runs at.
    """
    _check_size(input_size, batch)
    was_training = model.training
    model.eval()
    x = torch.zeros(batch, 3, input_size, input_size)
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


def training_flops_per_image(model: nn.Module, input_size: int) -> float:
    """Approximate training FLOPs per image: forward + backward ~ 3x the forward FLOPs."""
    return TRAINING_TO_FORWARD_RATIO * count_flops(model, input_size, batch=1)


def _median_seconds(model: nn.Module, x: torch.Tensor, repeats: int, warmup: int, clock: Callable[[], float]) -> float:
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(repeats):
            start = clock()
            model(x)
            times.append(clock() - start)
    return statistics.median(times)


def measure_latency(
    model: nn.Module,
    input_size: int,
    batch: int,
    repeats: int = 20,
    warmup: int = 5,
    channels_last: bool | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median seconds of one forward pass (eval mode, no_grad) on a copy of `model`.

    channels_last=None times both memory formats and returns the faster median;
    True / False forces one format. `clock`: wall time by default; `time.thread_time` with one
    torch thread gives CPU seconds that other work on the machine does not inflate.
    """
    _check_size(input_size, batch)
    if repeats < 1 or warmup < 0:
        raise ConfigError(f"repeats must be >= 1 and warmup >= 0, got {repeats} / {warmup}")
    probe = copy.deepcopy(model).eval()
    x = torch.randn(batch, 3, input_size, input_size, generator=torch.Generator().manual_seed(0))
    formats = [True, False] if channels_last is None else [channels_last]
    best = float("inf")
    for use_cl in formats:
        fmt = torch.channels_last if use_cl else torch.contiguous_format
        probe = probe.to(memory_format=fmt)
        best = min(best, _median_seconds(probe, x.contiguous(memory_format=fmt), repeats, warmup, clock))
    return best

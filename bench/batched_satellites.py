"""Do "batched satellites" pay on this CPU? K onboard trainings one by one vs one vmapped call.

One onboard training is the megaconstellation scenario's (simsat/scenarios/megaconstellation.yaml):
the ResNet8 student, 32x32 images, 25 soft-labelled images per satellite, one epoch of
simsat's own loop (`simsat.distill.train.fit`: AdamW with lr 0.01 and the default weight decay,
constant schedule, batch size 64 so a single batch, seeded batch order and flips/quarter turns,
channels-last) on `weighted_kd_loss`, the distillation loss `train_onboard` uses in `distill`
mode (temperature 5, no labels, no semi-supervised term). Soft labels and weights are
synthetic; images are random uint8 arrays normalised with `to_input`.

For K satellites with different initial weights and BatchNorm statistics, different images,
soft labels and seeds, it times

(a) K unbatched trainings: `build_student` from the satellite's arrays, then `fit`, as
    `train_onboard` does them;
(b) one batched training: the K models' parameters and buffers stacked, each step one
    `torch.func.vmap` over `torch.func.grad_and_value` of a `torch.func.functional_call`,
    then AdamW written out on the stacked tensors (the same update as torch.optim.AdamW's
    single-tensor CPU path). BatchNorm runs in training mode: the buffers are a vmapped input
    that the call clones and hands back updated, so each satellite's batch statistics and
    running_mean / running_var / num_batches_tracked updates are its own. The batch order and
    augmentation of each satellite are replayed from its seed exactly as `fit` draws them.

and reports, per K, the median seconds of (a) and (b) (taking turns, after a warm-up), the
speedup (a)/(b) and the largest absolute difference between each satellite's final parameters,
and buffers, from (a) and (b). Untimed checks beside it: the same comparison in float64 (is (b)
the same computation, rounding aside?), (b) against fit in the contiguous memory format, fit
against fit in the two memory formats (a control: how far float32 rounding alone moves the
result), and the first step's gradients of each. AdamW's first step moves a weight by about
lr * sign(gradient), so a rounding-sized change to a near-zero gradient can move it by 2 * lr.

    PYTHONPATH=. python bench/batched_satellites.py [--satellites 1,2,4,8,16] [--threads 1]
        [--repeats 5] [--results bench/results/batched_satellites.json]

A results file that exists is merged into: its runs with another thread count are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from simsat.data.synthetic import CLASS_NAMES
from simsat.distill.augment import random_flip_rotate
from simsat.distill.losses import Knowledge, weighted_kd_loss
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import batch_order, fit
from simsat.machine import machine
from simsat.mission.onboard import build_student
from simsat.mission.packets import ModelArrays
from simsat.models.inputs import Normalization, to_input
from simsat.models.registry import create_student

RESULTS = Path(__file__).resolve().parent / "results" / "batched_satellites.json"
MODEL = "resnet8"  # SatelliteConfig.model's default; the megaconstellation scenario keeps it
IMAGE_SIZE = 32  # megaconstellation: data.image_size
IMAGES = 25  # about 25 images per satellite (the scenario's own comment on its schedule)
TEMPERATURE = 5.0  # distill/entropy.yaml
NUM_CLASSES = len(CLASS_NAMES)
NORM = Normalization(mean=(0.45, 0.45, 0.4), std=(0.25, 0.22, 0.24))
ADAM_BETAS = (0.9, 0.999)  # torch.optim.AdamW's defaults, which fit uses
ADAM_EPS = 1e-8
TOLERANCE = 1e-5

State = dict[str, torch.Tensor]


def megaconstellation_recipe() -> TrainRecipe:
    """The scenario's `training` section (epochs 1, lr 0.01, constant) over the schema defaults."""
    return TrainRecipe(epochs=1, lr=0.01, schedule="constant")


@dataclass(frozen=True)
class Satellite:
    """What one onboard training starts from."""

    weights: ModelArrays  # the model it receives (parameters and buffers)
    x: torch.Tensor  # its images, normalised as simsat does (channels-last when the recipe asks)
    knowledge: Knowledge  # a soft label and weights per image
    seed: int  # the training's seed


def make_satellite(index: int, images: int, cfg: TrainRecipe) -> Satellite:
    """A satellite with its own initial weights, BatchNorm statistics, images and soft labels."""
    torch.manual_seed(1000 + index)
    model = create_student(MODEL, NUM_CLASSES)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0.0, 0.2)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
            elif name.endswith("num_batches_tracked"):
                buf.fill_(100 + index)
    rng = np.random.default_rng(index)
    pixels = rng.integers(0, 256, size=(images, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    logits = torch.from_numpy(rng.normal(size=(images, NUM_CLASSES)).astype(np.float32))
    knowledge = Knowledge(
        targets=torch.softmax(logits, dim=1),
        kd_weight=torch.from_numpy(rng.uniform(0.2, 1.0, images).astype(np.float32)),
        ce_weight=torch.from_numpy(rng.uniform(0.0, 0.5, images).astype(np.float32)),
        teacher_weights=torch.zeros((images, 0)),
    )
    weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    x = to_input(pixels, NORM, channels_last=cfg.channels_last)
    return Satellite(weights=weights, x=x, knowledge=knowledge, seed=7 * index + 3)


def kd_batch_loss(knowledge: Knowledge) -> Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]:
    """The batch loss `train_onboard` hands `fit` in `distill` mode."""

    def batch_loss(m: nn.Module, xb: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        k = knowledge
        return weighted_kd_loss(m(xb), k.targets[idx], k.kd_weight[idx], k.ce_weight[idx], None, TEMPERATURE)

    return batch_loss


def train_unbatched(sat: Satellite, cfg: TrainRecipe) -> State:
    """(a) One satellite's training as simsat runs it; its final parameters and buffers."""
    model = build_student(MODEL, NUM_CLASSES, sat.weights).to(sat.x.dtype)
    fit(model, sat.x, cfg, kd_batch_loss(sat.knowledge), seed=sat.seed)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def replay_batches(x: torch.Tensor, cfg: TrainRecipe, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(index, augmented inputs) of every step, drawn from `seed` in the order `fit` draws them."""
    gen = torch.Generator().manual_seed(seed)
    steps = []
    for _ in range(cfg.epochs):
        for idx in batch_order(int(x.shape[0]), cfg.batch_size, gen):
            xb = x[idx]
            if cfg.augment:
                xb = random_flip_rotate(xb, gen)
            steps.append((idx, xb))
    return steps


def adamw_update(params: State, grads: State, exp_avg: State, exp_avg_sq: State, step: int, cfg: TrainRecipe) -> None:
    """torch.optim.AdamW's single-tensor update (its CPU default), in place on stacked tensors."""
    beta1, beta2 = ADAM_BETAS
    step_size = cfg.lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    with torch.no_grad():
        for name, param in params.items():
            grad = grads[name]
            param.mul_(1 - cfg.lr * cfg.weight_decay)
            exp_avg[name].lerp_(grad, 1 - beta1)
            exp_avg_sq[name].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq[name].sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
            param.addcdiv_(exp_avg[name], denom, value=-step_size)


def batched_step_fn(skeleton: nn.Module) -> Callable[..., tuple[State, tuple[torch.Tensor, State]]]:
    """vmap over satellites of (gradient, (loss, updated buffers)) of one satellite's batch."""

    def loss(
        params: State, buffers: State, xb: torch.Tensor, targets: torch.Tensor, kd_w: torch.Tensor, ce_w: torch.Tensor
    ) -> tuple[torch.Tensor, State]:
        fresh = {k: v.clone() for k, v in buffers.items()}  # BatchNorm updates these in place
        out = functional_call(skeleton, (params, fresh), (xb,))
        return weighted_kd_loss(out, targets, kd_w, ce_w, None, TEMPERATURE), fresh

    return vmap(grad_and_value(loss, has_aux=True))


def stack_states(sats: list[Satellite], names: list[str]) -> State:
    """The satellites' arrays of each name, stacked along a new first (satellite) axis."""
    return {n: torch.stack([torch.from_numpy(s.weights[n]) for s in sats]) for n in names}


def step_inputs(
    sats: list[Satellite], batch: tuple[tuple[torch.Tensor, torch.Tensor], ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step's stacked inputs, soft labels, KD weights and CE weights (satellite axis first)."""
    pairs = list(zip(sats, batch, strict=True))
    return (
        torch.stack([xb for _, (_, xb) in pairs]),
        torch.stack([s.knowledge.targets[i] for s, (i, _) in pairs]),
        torch.stack([s.knowledge.kd_weight[i] for s, (i, _) in pairs]),
        torch.stack([s.knowledge.ce_weight[i] for s, (i, _) in pairs]),
    )


def batched_plans(sats: list[Satellite], cfg: TrainRecipe) -> list[tuple[tuple[torch.Tensor, torch.Tensor], ...]]:
    """Every step's (index, inputs) of every satellite, grouped by step."""
    plans = [replay_batches(s.x, cfg, s.seed) for s in sats]
    if len({tuple(int(i.numel()) for i, _ in plan) for plan in plans}) != 1:
        raise ValueError("batched satellites need the same batch sizes (same image count)")
    return list(zip(*plans, strict=True))


def train_batched(sats: list[Satellite], cfg: TrainRecipe) -> list[State]:
    """(b) The K trainings as one vmapped call per step; each satellite's final state."""
    skeleton = create_student(MODEL, NUM_CLASSES).train()
    params = stack_states(sats, [n for n, _ in skeleton.named_parameters()])
    buffers = stack_states(sats, [n for n, _ in skeleton.named_buffers()])
    exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
    exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
    step_fn = batched_step_fn(skeleton)
    for step, batch in enumerate(batched_plans(sats, cfg)):
        grads, (losses, buffers) = step_fn(params, buffers, *step_inputs(sats, batch))
        if not bool(torch.isfinite(losses).all()):
            raise RuntimeError(f"a batched loss became non-finite at step {step + 1}")
        adamw_update(params, grads, exp_avg, exp_avg_sq, step + 1, cfg)
    return [{**{n: p[k] for n, p in params.items()}, **{n: b[k] for n, b in buffers.items()}} for k in range(len(sats))]


def first_gradients_unbatched(sat: Satellite, cfg: TrainRecipe) -> State:
    """The gradient of fit's first step for one satellite (its model, format, batch and loss)."""
    model = build_student(MODEL, NUM_CLASSES, sat.weights).to(sat.x.dtype)
    model.to(memory_format=torch.channels_last if cfg.channels_last else torch.contiguous_format).train()
    idx, xb = replay_batches(sat.x, cfg, sat.seed)[0]
    kd_batch_loss(sat.knowledge)(model, xb, idx).backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def first_gradients_batched(sats: list[Satellite], cfg: TrainRecipe) -> list[State]:
    """The vmapped first-step gradient of every satellite."""
    skeleton = create_student(MODEL, NUM_CLASSES).train()
    params = stack_states(sats, [n for n, _ in skeleton.named_parameters()])
    buffers = stack_states(sats, [n for n, _ in skeleton.named_buffers()])
    grads, _ = batched_step_fn(skeleton)(params, buffers, *step_inputs(sats, batched_plans(sats, cfg)[0]))
    return [{n: g[k] for n, g in grads.items()} for k in range(len(sats))]


def compare(a: list[State], b: list[State], names: set[str]) -> tuple[float, int]:
    """Largest |a - b| over all satellites and the tensors in `names`, and how many elements
    differ by more than TOLERANCE."""
    worst, over = 0.0, 0
    for sa, sb in zip(a, b, strict=True):
        for name in names:
            diff = (sa[name].double() - sb[name].double()).abs()
            worst = max(worst, float(diff.max()))
            over += int((diff > TOLERANCE).sum())
    return worst, over


def largest(states: list[State]) -> float:
    """Largest absolute value in any of the states."""
    return max(float(v.abs().max()) for state in states for v in state.values())


def contiguous_twin(sat: Satellite) -> Satellite:
    """The same satellite with its images in the contiguous (NCHW) memory format."""
    return Satellite(weights=sat.weights, x=sat.x.contiguous(), knowledge=sat.knowledge, seed=sat.seed)


def in_float64(sat: Satellite) -> Satellite:
    """The same satellite in double precision (weights, images and soft labels)."""
    k = sat.knowledge
    return Satellite(
        weights={n: v.astype(np.float64) if v.dtype == np.float32 else v for n, v in sat.weights.items()},
        x=sat.x.double(),
        knowledge=Knowledge(k.targets.double(), k.kd_weight.double(), k.ce_weight.double(), k.teacher_weights),
        seed=sat.seed,
    )


def median_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each of `runs` over `repeats` calls after one warm-up call each; the
    runs take turns, so that a change in the machine's load falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def measure(k: int, cfg: TrainRecipe, repeats: int) -> dict[str, Any]:
    """One row: timings and differences for K satellites.

    (b) is compared with fit as simsat runs it (cfg's memory format, channels-last) and with fit
    in the other memory format; the last comparison is also made between the two fits alone."""
    sats = [make_satellite(i, IMAGES, cfg) for i in range(k)]
    skeleton = create_student(MODEL, NUM_CLASSES)
    params = {n for n, _ in skeleton.named_parameters()}
    buffers = {n for n, _ in skeleton.named_buffers()}
    other = replace(cfg, channels_last=not cfg.channels_last)
    twins = [contiguous_twin(s) if cfg.channels_last else s for s in sats]
    fit_a = [train_unbatched(s, cfg) for s in sats]
    fit_other = [train_unbatched(s, other) for s in twins]
    batched = train_batched(sats, cfg)
    grads_a = [first_gradients_unbatched(s, cfg) for s in sats]
    grads_other = [first_gradients_unbatched(s, other) for s in twins]
    grads_b = first_gradients_batched(sats, cfg)
    param_diff, param_over = compare(fit_a, batched, params)
    buffer_diff, buffer_over = compare(fit_a, batched, buffers)
    other_param_diff, other_param_over = compare(fit_other, batched, params)
    other_buffer_diff, _ = compare(fit_other, batched, buffers)
    exact = [in_float64(s) for s in sats]  # rounding aside: is (b) the same computation as (a)?
    exact_a = [train_unbatched(s, cfg) for s in exact]
    exact_b = train_batched(exact, cfg)
    seconds = median_seconds(
        {"a": lambda: [train_unbatched(s, cfg) for s in sats], "b": lambda: train_batched(sats, cfg)}, repeats
    )
    seconds_a, seconds_b = seconds["a"], seconds["b"]
    return {
        "satellites": k,
        "unbatched_s": round(seconds_a, 4),
        "batched_s": round(seconds_b, 4),
        "speedup": round(seconds_a / seconds_b, 3),
        "load_average_1min_after": round(os.getloadavg()[0], 2),  # other work on the machine meanwhile
        "parameter_elements": k * sum(skeleton.get_parameter(n).numel() for n in params),
        # (b) against (a), simsat's fit as it runs (channels-last)
        "max_abs_diff_parameters": param_diff,
        "parameter_elements_over_tolerance": param_over,
        "max_abs_diff_buffers": buffer_diff,
        "buffer_elements_over_tolerance": buffer_over,
        "within_tolerance": max(param_diff, buffer_diff) <= TOLERANCE,
        # the same comparison in float64
        "float64_max_abs_diff_parameters": compare(exact_a, exact_b, params)[0],
        "float64_max_abs_diff_buffers": compare(exact_a, exact_b, buffers)[0],
        "float64_within_tolerance": max(compare(exact_a, exact_b, params)[0], compare(exact_a, exact_b, buffers)[0])
        <= TOLERANCE,
        # (b) against fit in the other memory format (contiguous NCHW)
        "other_format_max_abs_diff_parameters": other_param_diff,
        "other_format_parameter_elements_over_tolerance": other_param_over,
        "other_format_max_abs_diff_buffers": other_buffer_diff,
        "other_format_within_tolerance": max(other_param_diff, other_buffer_diff) <= TOLERANCE,
        # control: fit against fit, the two memory formats
        "control_fit_formats_max_abs_diff_parameters": compare(fit_a, fit_other, params)[0],
        # the first step's gradients, before AdamW
        "max_abs_first_gradient": largest(grads_a),
        "first_gradients_max_abs_diff": compare(grads_a, grads_b, params)[0],
        "other_format_first_gradients_max_abs_diff": compare(grads_other, grads_b, params)[0],
        "control_fit_formats_first_gradients_max_abs_diff": compare(grads_a, grads_other, params)[0],
    }


def merge_results(path: Path, run: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The results file's content with `run` replacing an earlier run of the same thread count."""
    old = json.loads(path.read_text()) if path.exists() else {}
    runs = [r for r in old.get("runs", []) if r.get("threads") != run["threads"]]
    return {**base, "runs": sorted([*runs, run], key=lambda r: int(r["threads"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description="K onboard trainings: one by one vs one vmapped call")
    parser.add_argument("--satellites", default="1,2,4,8,16", help="comma-separated K values (default 1,2,4,8,16)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per K, after a warm-up (default 5)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    args = parser.parse_args()
    ks = [int(v) for v in args.satellites.split(",") if v.strip()]
    torch.set_num_threads(args.threads)
    cfg = megaconstellation_recipe()
    load_before = os.getloadavg()
    start = time.perf_counter()
    rows = []
    for k in ks:
        row = measure(k, cfg, args.repeats)
        print(json.dumps(row), flush=True)
        rows.append(row)
    run = {
        "command": " ".join(["python bench/batched_satellites.py", *sys.argv[1:]]),
        "threads": args.threads,
        "repeats": args.repeats,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "rows": rows,
    }
    base = {
        "what": "K megaconstellation onboard trainings (ResNet8, 32 px, 25 images, 1 epoch, AdamW lr 0.01, "
        "constant, weighted_kd_loss): simsat's fit one by one (a) vs one torch.func vmap call per step (b)",
        "recipe": vars(cfg),
        "images_per_satellite": IMAGES,
        "image_size": IMAGE_SIZE,
        "model": MODEL,
        "tolerance": TOLERANCE,
        "torch": torch.__version__,
        "machine": machine(),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(merge_results(args.results, run, base), indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Measure this machine as a hardware profile: effective training and inference FLOP/s.

Training is timed on the code path satellites run (``simsat.distill.train.train_distill``: KD
loss, AdamW, one-cycle schedule, flips/rotations, channels_last) on random images and soft labels,
the fastest of several epochs (other work on the machine only ever slows a run); inference as
the median forward pass (eval, no_grad, channels_last). FLOPs are the project's own counts
(``simsat.models.cost``: torch FlopCounterMode; training = 3 x forward). Rates are FLOPs /
measured seconds, so the simulator's ``compute_seconds`` predicts this machine. Power and radio
figures cannot be measured here: they come from a base profile or the caller, and the profile's
``sources`` say so.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import yaml

from simsat.data import CLASS_NAMES
from simsat.distill.losses import Knowledge
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import torch_threads, train_distill
from simsat.errors import ConfigError
from simsat.hardware.profiles import BYTES_PER_MB, HardwareProfile
from simsat.machine import cpu_model
from simsat.models.cost import count_flops, measure_latency, training_flops_per_image
from simsat.models.inputs import Normalization
from simsat.models.registry import create_student
from simsat.results.atomic import write_text

NUM_CLASSES = len(CLASS_NAMES)  # the students' head, as in both data sources
CONTENDED_BELOW = 0.8
CALIBRATION_NORM = Normalization(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


@dataclass(frozen=True)
class Calibration:
    """What was measured, on what, and when."""

    model: str
    batch_size: int
    input_size: int
    threads: int
    train_images: int
    train_seconds: float  # fastest of the repeats of one epoch over train_images
    train_flops_per_image: float
    inference_seconds: float  # median forward pass of one batch
    forward_flops_per_image: float
    machine: str
    date: str
    cpu_share: float = (
        1.0  # CPU seconds / (wall seconds x threads) while training: < 1 when other work shared the cores
    )

    @property
    def contended(self) -> bool:
        """True when the training got under 80 % of its threads' CPU time (other work on the cores)."""
        return self.cpu_share < CONTENDED_BELOW

    @property
    def training_flops_per_s(self) -> float:
        return self.train_flops_per_image * self.train_images / self.train_seconds

    @property
    def inference_flops_per_s(self) -> float:
        return self.forward_flops_per_image * self.batch_size / self.inference_seconds


def machine_description(threads: int) -> str:
    """One line naming this machine: host, CPU, cores, OS, torch and the threads used."""
    return (
        f"host {platform.node() or '?'}, {cpu_model()}, {os.cpu_count()} CPUs,"
        f" {platform.system()} {platform.machine()}, torch {torch.__version__}, {threads} threads"
    )


def physical_memory_mb() -> float:
    """This machine's physical memory in MB (2**20 bytes)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / BYTES_PER_MB


def random_training_set(n: int, input_size: int, seed: int) -> tuple[np.ndarray, Knowledge]:
    """``n`` random uint8 images with random soft labels (distillation weight 1, no labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, input_size, input_size, 3), dtype=np.uint8)
    targets = torch.softmax(torch.from_numpy(rng.normal(size=(n, NUM_CLASSES)).astype(np.float32)), dim=1)
    knowledge = Knowledge(targets, torch.ones(n), torch.zeros(n), torch.zeros(n, 0))
    return images, knowledge


def time_training(model_name: str, images: np.ndarray, knowledge: Knowledge, batch_size: int) -> float:
    """Wall seconds of one onboard-style training epoch (``train_distill``) of a fresh student."""
    model = create_student(model_name, NUM_CLASSES)
    config = TrainRecipe(epochs=1, batch_size=batch_size, schedule="onecycle", augment=True, channels_last=True)
    start = time.perf_counter()
    train_distill(model, images, knowledge, None, 5.0, config, CALIBRATION_NORM)
    return time.perf_counter() - start


def measure(
    model_name: str = "resnet8",
    batch_size: int = 64,
    input_size: int = 64,
    threads: int = 1,
    train_images: int = 512,
    repeats: int = 3,
) -> Calibration:
    """Time training and inference of ``model_name`` on this machine (a few seconds)."""
    for key, value in (
        ("batch_size", batch_size),
        ("input_size", input_size),
        ("threads", threads),
        ("train_images", train_images),
        ("repeats", repeats),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")
    if input_size < 16:
        raise ConfigError(f"input_size must be >= 16, got {input_size}")
    model = create_student(model_name, NUM_CLASSES)
    forward = float(count_flops(model, input_size, batch=1))
    train_per_image = training_flops_per_image(model, input_size)
    with torch_threads(threads):
        warm_images, warm_knowledge = random_training_set(min(2 * batch_size, train_images), input_size, seed=1)
        time_training(model_name, warm_images, warm_knowledge, batch_size)
        images, knowledge = random_training_set(train_images, input_size, seed=0)
        cpu_start = time.process_time()
        walls = [time_training(model_name, images, knowledge, batch_size) for _ in range(repeats)]
        cpu_share = (time.process_time() - cpu_start) / (sum(walls) * threads)
        # other work on the machine only ever slows a run: the fastest repeat is the machine's own speed
        train_seconds = min(walls)
        inference_seconds = measure_latency(model, input_size, batch_size, repeats=10, warmup=3, channels_last=True)
    return Calibration(
        model=model_name,
        batch_size=batch_size,
        input_size=input_size,
        threads=threads,
        train_images=train_images,
        train_seconds=train_seconds,
        train_flops_per_image=train_per_image,
        inference_seconds=inference_seconds,
        forward_flops_per_image=forward,
        machine=machine_description(threads),
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        cpu_share=cpu_share,
    )


def calibrated_profile(
    name: str,
    calibration: Calibration,
    base: HardwareProfile,
    memory_mb: float,
    idle_w: float | None = None,
    busy_w: float | None = None,
) -> HardwareProfile:
    """A profile of this machine: measured rates and memory; power from the caller or ``base``."""
    c = calibration
    where = f"`simsat hardware calibrate` on {c.machine}, {c.date}"
    setup = f"{c.model}, batch {c.batch_size}, {c.input_size} px, channels_last, {c.threads} threads"

    def power(key: str, value: float | None) -> tuple[float, str]:
        if value is not None:
            return value, f"given to `simsat hardware calibrate` ({c.date})"
        return getattr(base, key), f"copied from profile {base.name!r}: {base.source(key) or 'no source given'}"

    idle, idle_source = power("idle_w", idle_w)
    busy, busy_source = power("busy_w", busy_w)
    return HardwareProfile(
        name=name,
        description=f"This machine as measured by {where}.",
        flops_per_s=c.training_flops_per_s,
        idle_w=idle,
        busy_w=busy,
        memory_mb=round(memory_mb, 1),
        radio_tx_w=base.radio_tx_w,
        radio_rx_w=base.radio_rx_w,
        inference_flops_per_s=c.inference_flops_per_s,
        sources={
            "flops_per_s": (
                f"measured by {where}: onboard training path (train_distill: KD loss, AdamW, one-cycle,"
                f" flips/rotations; {setup}), {c.train_images} images in {c.train_seconds:.3f} s (fastest of"
                f" the repeats) x {c.train_flops_per_image / 1e6:.2f} MFLOP per image (3 x FlopCounterMode forward);"
                f" the training got {c.cpu_share:.0%} of its threads' CPU time"
            ),
            "inference_flops_per_s": (
                f"measured by {where}: forward pass (eval, no_grad; {setup}), median"
                f" {c.inference_seconds * 1e3:.2f} ms per batch x {c.forward_flops_per_image / 1e6:.2f} MFLOP per image"
            ),
            "memory_mb": f"physical memory of the machine measured by {where}",
            "idle_w": idle_source,
            "busy_w": busy_source,
            "radio_tx_w": f"copied from profile {base.name!r}: {base.source('radio_tx_w') or 'no source given'}",
            "radio_rx_w": f"copied from profile {base.name!r}: {base.source('radio_rx_w') or 'no source given'}",
        },
    )


def write_profile(profile: HardwareProfile, path: str | Path) -> Path:
    """Write ``profile`` as a YAML profile file (the format ``hardware.files`` loads)."""
    out = Path(path)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"calibration output {out} must end in .yaml or .yml")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, yaml.safe_dump(profile.to_dict(), sort_keys=False, width=100, allow_unicode=True))
    return out

"""`simsat hardware` subcommands: list profiles, show one with its sources, calibrate this machine.

simsat hardware [list] [--file PATH ...] [--model resnet8]
simsat hardware show NAME [--file PATH ...] [--model resnet8] [--batch-size 64]
simsat hardware calibrate --name my_board [--model resnet8 --batch-size 64 --out PATH]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsat.cli.tables import print_table
from simsat.errors import ConfigError
from simsat.hardware.registry import HardwareRegistry, default_registry
from simsat.interrupt import StopRequest, stop_on_signals

DEFAULT_MODEL = "resnet8"
DEFAULT_INPUT_SIZE = 64
DEFAULT_BATCH_SIZE = 64
DEFAULT_BASE = "raspberry_pi4"


@dataclass(frozen=True)
class StudentCost:
    model: str
    input_size: int
    forward_flops: float


def _registry(args: argparse.Namespace) -> HardwareRegistry:
    return default_registry(args.files or [])


def _num_classes() -> int:
    from simsat.data import CLASS_NAMES

    return len(CLASS_NAMES)


def _student_cost(model: str, input_size: int) -> StudentCost:
    from simsat.models.cost import count_flops
    from simsat.models.registry import create_student

    return StudentCost(model, input_size, float(count_flops(create_student(model, _num_classes()), input_size)))


def _short_origin(origin: str) -> str:
    return "built-in" if origin.startswith("built-in") else origin


def cmd_list(args: argparse.Namespace) -> int:
    registry = _registry(args)
    cost = _student_cost(args.model, args.input_size)
    headers = ["name", "train GFLOP/s", "infer GFLOP/s", "idle W", "busy W", "memory MB", "mJ/inference", "from"]
    rows = []
    for profile in registry.profiles():
        rows.append(
            [
                profile.name,
                f"{profile.flops_per_s / 1e9:.1f}",
                f"{profile.effective_inference_flops_per_s / 1e9:.1f}",
                f"{profile.idle_w:.2f}",
                f"{profile.busy_w:.2f}",
                f"{profile.memory_mb:.0f}",
                f"{profile.inference_energy_j(cost.forward_flops) * 1e3:.3f}",
                _short_origin(registry.origin(profile.name)),
            ]
        )
    print_table(headers, rows, sys.stdout)
    print(
        f"\nmJ/inference: one {cost.model} forward pass at {cost.input_size} px"
        f" ({cost.forward_flops / 1e6:.1f} MFLOP) / inference FLOP/s x busy W."
        " `simsat hardware show NAME` gives each number's source."
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from simsat.models.memory import training_memory

    registry = _registry(args)
    profile = registry.get(args.name)
    cost = _student_cost(args.model, args.input_size)
    memory = training_memory(args.model, _num_classes(), args.batch_size, args.input_size)
    inference = (
        f"{profile.inference_flops_per_s:.4g} FLOP/s"
        if profile.inference_flops_per_s is not None
        else f"(training rate, {profile.flops_per_s:.4g} FLOP/s)"
    )
    values = {
        "flops_per_s": f"{profile.flops_per_s:.4g} FLOP/s",
        "inference_flops_per_s": inference,
        "idle_w": f"{profile.idle_w:g} W",
        "busy_w": f"{profile.busy_w:g} W",
        "memory_mb": f"{profile.memory_mb:g} MB",
        "radio_tx_w": f"{profile.radio_tx_w:g} W",
        "radio_rx_w": f"{profile.radio_rx_w:g} W",
    }
    print(f"name         {profile.name}")
    print(f"from         {registry.origin(profile.name)}")
    print(f"description  {profile.description or '(none)'}")
    print()
    rows = [[key, value, profile.source(key) or "(not given)"] for key, value in values.items()]
    print_table(["field", "value", "source"], rows, sys.stdout)
    needed = memory.total
    fits = "fits" if needed <= profile.memory_bytes else "DOES NOT FIT"
    energy_mj = profile.inference_energy_j(cost.forward_flops) * 1e3
    print()
    print(
        f"{cost.model} at {cost.input_size} px: one inference {cost.forward_flops / 1e6:.1f} MFLOP ->"
        f" {profile.inference_seconds(cost.forward_flops) * 1e3:.3f} ms, {energy_mj:.3f} mJ at busy power"
    )
    print(
        f"{cost.model} training at batch {args.batch_size}: needs {needed / 2**20:.1f} MB (weights"
        f" {memory.weights / 2**20:.1f}, gradients {memory.gradients / 2**20:.1f}, AdamW state"
        f" {memory.optimizer / 2**20:.1f}, activations {memory.activations / 2**20:.1f}) of"
        f" {profile.memory_mb:g} MB: {fits}"
    )
    return 0


NAME_FORBIDDEN = set(" \t,=:[]{}'\"/\\#")  # a name must be usable as satellite.hardware=NAME


def check_profile_name(name: str) -> None:
    """A new profile's name: non-empty, printable, and usable as `satellite.hardware=NAME`."""
    bad = sorted({ch for ch in name if ch in NAME_FORBIDDEN or not ch.isprintable()})
    if not name.strip() or bad:
        what = f"contains {''.join(bad)!r}" if bad and name.strip() else "is empty"
        raise ConfigError(f"--name {name!r} {what}: a profile name is used as satellite.hardware=NAME")


def check_calibration_output(out: Path) -> None:
    """--out ends in .yaml/.yml, is not a folder, and its folder exists or can be created."""
    from simsat.config.inputs import check_output_dir

    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out} must end in .yaml or .yml")
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder, not a file")
    check_output_dir("--out", str(out.parent))


def cmd_calibrate(args: argparse.Namespace) -> int:
    from simsat.hardware.calibrate import calibrated_profile, measure, physical_memory_mb, write_profile

    check_profile_name(args.name)
    registry = _registry(args)
    if args.name in registry:
        raise ConfigError(
            f"--name {args.name!r} is already a hardware profile (from {registry.origin(args.name)}); "
            "choose another name"
        )
    base = registry.get(args.base)
    out = Path(args.out) if args.out else Path(f"{args.name}.yaml")
    check_calibration_output(out)  # before the measurement
    with stop_on_signals(StopRequest()):  # SIGTERM: one line, exit 143, no file begun left behind
        calibration = measure(args.model, args.batch_size, args.input_size, args.threads, args.images, args.repeats)
        profile = calibrated_profile(args.name, calibration, base, physical_memory_mb(), args.idle_w, args.busy_w)
        write_profile(profile, out)
    print(
        f"{args.model} on this machine ({args.threads} threads, batch {args.batch_size}, {args.input_size} px):"
        f" training {calibration.training_flops_per_s / 1e9:.2f} GFLOP/s"
        f" ({calibration.train_images / calibration.train_seconds:.0f} images/s),"
        f" inference {calibration.inference_flops_per_s / 1e9:.2f} GFLOP/s"
    )
    if calibration.contended:
        print(
            f"warning: the training got only {calibration.cpu_share:.0%} of its {args.threads} threads' CPU time:"
            " other work shared the cores and the measured rate is low; calibrate again on a quiet machine",
            file=sys.stderr,
        )
    print(f"use it with hardware.files=[{out}] satellite.hardware={args.name}")
    print(out)
    return 0


def _shared_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--file and --model on `hardware` and on each subcommand (given before or after the subcommand)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=default([]),
        metavar="PATH",
        help="extra profile file or folder (repeatable)",
    )
    parser.add_argument("--model", default=default(DEFAULT_MODEL), help="student model for energy and memory")
    parser.add_argument("--input-size", type=int, default=default(DEFAULT_INPUT_SIZE), help="image size in px")


def add_hardware_parser(sub: Any) -> None:
    """Register `simsat hardware` and its subcommands on the top-level subparsers."""
    hardware = sub.add_parser("hardware", help="list, show and calibrate hardware profiles")
    _shared_options(hardware, defaults=True)
    hardware.set_defaults(func=cmd_list)
    commands = hardware.add_subparsers(dest="hardware_command")
    listing = commands.add_parser("list", help="all profiles as a table (the default)")
    _shared_options(listing, defaults=False)
    listing.set_defaults(func=cmd_list)
    show = commands.add_parser("show", help="one profile: every field and its source")
    show.add_argument("name")
    _shared_options(show, defaults=False)
    show.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="training batch for memory")
    show.set_defaults(func=cmd_show)
    cal = commands.add_parser("calibrate", help="measure this machine and write a profile file")
    cal.add_argument("--name", required=True, help="name of the new profile")
    _shared_options(cal, defaults=False)
    cal.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    cal.add_argument("--threads", type=int, default=1, help="torch threads of one training (as training.threads)")
    cal.add_argument("--images", type=int, default=512, help="images per timed training epoch")
    cal.add_argument("--repeats", type=int, default=3, help="timed training epochs (the fastest taken)")
    cal.add_argument("--base", default=DEFAULT_BASE, help="profile to copy power and radio figures from")
    cal.add_argument("--idle-w", type=float, default=None, help="idle power in W (else from --base)")
    cal.add_argument("--busy-w", type=float, default=None, help="busy power in W (else from --base)")
    cal.add_argument("--out", default=None, help="output YAML file (default NAME.yaml)")
    cal.set_defaults(func=cmd_calibrate)

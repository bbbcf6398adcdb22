"""`simsat` command line.

    simsat run [scenario=NAME|path.yaml] [key=value ...]   run a mission; prints the run folder last
    simsat scenarios                                       list scenarios with one line each
    simsat hardware                                        list hardware profiles
    simsat contacts [scenario=NAME] [key=value ...]        print the contact plan
    simsat distill [experiment=NAME] [key=value ...]       the centralized distillation experiment

Bad input (unknown scenario or key, impossible value) prints one line and exits with code 2
before anything expensive starts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from simsat.errors import SimsatError

DEFAULT_SCENARIO = "quickstart"
EXIT_USAGE = 2


def _split_overrides(items: Sequence[str]) -> tuple[str, list[str]]:
    from simsat.config.load import split_selector

    return split_selector(items, "scenario", DEFAULT_SCENARIO)


def _setup_logging(verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.INFO
    handler = RichHandler(level=level, console=Console(stderr=True), show_path=False)
    # Third-party libraries log warnings and errors only; simsat logs at `level`.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("simsat").setLevel(level)
    import flwr.common.logger  # noqa: F401  (flwr sets its logger's level on import)

    logging.getLogger("flwr").setLevel(logging.WARNING if verbose else logging.ERROR)


def _cmd_run(args: argparse.Namespace) -> int:
    from simsat.cli.progress import progress_reporter
    from simsat.config.load import load_config

    scenario, overrides = _split_overrides(args.overrides)
    config = load_config(scenario, overrides)
    from simsat.runner import run_scenario  # heavy imports only after the config is valid

    with progress_reporter(config.run.progress) as progress:
        folder = run_scenario(config, progress)
    print(folder)
    return 0


def _cmd_distill(args: argparse.Namespace) -> int:
    from simsat.cli.distill import run_distill

    folder = run_distill(list(args.overrides))
    print(folder)
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from simsat.config.load import list_scenarios

    for name, description in list_scenarios():
        print(f"{name:<18} {description}")
    return 0


def _cmd_hardware(args: argparse.Namespace) -> int:
    from simsat.hardware.registry import default_registry

    registry = default_registry()
    for name in registry.names():
        p = registry.get(name)
        print(
            f"{name:<18} {p.flops_per_s / 1e9:8.1f} GFLOP/s  idle {p.idle_w:5.2f} W  "
            f"busy {p.busy_w:5.2f} W  {p.description}"
        )
    return 0


def _cmd_contacts(args: argparse.Namespace) -> int:
    from simsat.config.load import load_config
    from simsat.mission.plan import build_world

    scenario, overrides = _split_overrides(args.overrides)
    config = load_config(scenario, overrides)
    world = build_world(config)
    print("satellite,station,start_s,end_s,duration_s,max_elevation_deg")
    for w in world.contacts:
        print(
            f"{w.satellite},{world.stations[w.station].name},{w.start_s:.1f},{w.end_s:.1f},"
            f"{w.end_s - w.start_s:.1f},{w.max_elevation_deg:.1f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simsat", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario")
    run.add_argument("overrides", nargs="*", help="scenario=NAME and key=value overrides")
    run.set_defaults(func=_cmd_run)
    distill = sub.add_parser("distill", help="run the centralized distillation experiment")
    distill.add_argument("overrides", nargs="*", help="experiment=NAME and key=value overrides")
    distill.set_defaults(func=_cmd_distill)
    sub.add_parser("scenarios", help="list scenarios").set_defaults(func=_cmd_scenarios)
    sub.add_parser("hardware", help="list hardware profiles").set_defaults(func=_cmd_hardware)
    contacts = sub.add_parser("contacts", help="print a scenario's contact plan (CSV)")
    contacts.add_argument("overrides", nargs="*", help="scenario=NAME and key=value overrides")
    contacts.set_defaults(func=_cmd_contacts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except SimsatError as exc:
        print(f"simsat: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("simsat: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

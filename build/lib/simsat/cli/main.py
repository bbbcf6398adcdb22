"""`simsat` command line.

    simsat run [scenario=NAME|path.yaml] [key=value ...]   run a mission; prints the run folder last
                                  [--dry-run]            validate and print the plan (contacts, bytes), run nothing
    simsat resume RUN_DIR                                  go on with a stopped run (Ctrl-C, kill, power loss)
    simsat scenarios                                       list scenarios as a table
    simsat hardware [list|show NAME|calibrate --name N]    hardware profiles (simsat.cli.hardware)
    simsat contacts [scenario=NAME] [key=value ...]        contact plan CSV + timeline and ground-track PNGs
    simsat distill [experiment=NAME] [key=value ...]       the centralized distillation experiment
    simsat sweep [scenario=NAME] key=v1,v2 ... [--dry-run]  a grid of runs on Ray; prints the sweep folder last
    simsat compare DIR [DIR ...] --out FOLDER             the sweep page for run and sweep folders; prints it last

Bad input (unknown scenario or key, impossible value) prints one line and exits with code 2
before anything expensive starts; a mission that cannot go on (no satellite left, training that
keeps diverging) prints one line and exits with code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from simsat import __version__
from simsat.errors import ConfigError, SimsatError
from simsat.interrupt import Interrupted

if TYPE_CHECKING:
    from simsat.config.schema import SimsatConfig
    from simsat.interrupt import StopRequest

DEFAULT_SCENARIO = "quickstart"
EXIT_USAGE = 2


class UsageError(SimsatError):
    """A malformed command line (unknown flag or command, missing argument)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a malformed command line as one line (no usage block) via UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (its lines joined), never empty."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def _split_overrides(items: Sequence[str]) -> tuple[str, list[str]]:
    from simsat.config.load import split_selector

    return split_selector(items, "scenario", DEFAULT_SCENARIO)


EXAMPLES = """\
examples:
  simsat run                                        the quickstart mission
  simsat run scenario=tiny mission.duration_hours=6
  simsat run scenario=megaconstellation --dry-run    the plan: satellites, contacts, bytes each way
  simsat run scenario=constellation24 distill=paper link=xband
  simsat run scenario=path/to/my_scenario.yaml satellite.hardware=jetson_orin_nano
  simsat contacts scenario=constellation24          the contact plan as CSV
  simsat sweep scenario=tiny seed=1,2,3 federation.aggregation=sync,fedbuff   6 runs on Ray
  simsat compare sweeps/tiny-1a2b3c runs/tiny-s4-20250101-120000 --out comparison
"""

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def _epilog() -> str:
    """Config groups, scenarios and examples for `simsat --help` (plain YAML reads, no Hydra)."""
    from simsat.config.catalog import config_groups, scenario_infos

    try:
        groups = config_groups()
        scenarios = scenario_infos()
    except SimsatError as exc:
        return f"{exc}\n\n{EXAMPLES}"
    width = max([len(name) for name in [*groups, *(s.name for s in scenarios)]], default=0) + 2
    lines = ["config groups (choose with GROUP=OPTION, e.g. link=xband):"]
    lines += [f"  {group:<{width}}{', '.join(options)}" for group, options in groups.items() if group != "experiment"]
    if "experiment" in groups:
        lines += ["", "experiments (simsat distill experiment=NAME):", f"  {', '.join(groups['experiment'])}"]
    lines += ["", "scenarios (choose with scenario=NAME or scenario=path/to/file.yaml):"]
    lines += [f"  {s.name:<{width}}{s.description}" for s in scenarios]
    lines += ["", "any key of the resolved config can be set with key=value, e.g. seed=3", "", EXAMPLES]
    return "\n".join(lines)


def _setup_logging(verbose: bool, stream: object = None) -> None:
    """simsat logs at INFO (DEBUG with -v); others log warnings only.

    On a terminal, rich formats the lines; into a file or pipe each record is one plain line,
    never wrapped.
    """
    stream = sys.stderr if stream is None else stream
    level = logging.DEBUG if verbose else logging.INFO
    handler: logging.Handler
    if getattr(stream, "isatty", lambda: False)():
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(level=level, console=Console(file=stream), show_path=False)  # type: ignore[arg-type]
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("simsat").setLevel(level)


def _quiet_flwr(verbose: bool) -> None:
    """flwr sets its logger's level when imported; set it after, only for commands that use flwr."""
    import flwr.common.logger  # noqa: F401

    logging.getLogger("flwr").setLevel(logging.WARNING if verbose else logging.ERROR)


def _print_run_summary(folder: Path) -> None:
    """The end-of-run table on stderr, from the run folder's summary.json (when it has one)."""
    from simsat.results.table import print_summary

    print_summary(folder, sys.stderr)


def warn_about(config: SimsatConfig) -> None:
    """Log what the valid config allows but likely does not mean (simsat.config.validate.config_warnings)."""
    from simsat.config.validate import config_warnings

    for line in config_warnings(config):
        logging.getLogger("simsat.config").warning("%s", line)


def _cmd_run(args: argparse.Namespace) -> int:
    from simsat.cli.progress import progress_reporter
    from simsat.cli.resume import play_stoppably
    from simsat.config.inputs import check_scenario_inputs
    from simsat.config.load import load_config

    scenario, overrides = _split_overrides(args.overrides)
    config = load_config(scenario, overrides)
    check_scenario_inputs(config)  # output folder, data, checkpoints: before anything is written
    warn_about(config)
    if args.dry_run:
        from simsat.cli.plan import print_plan

        print_plan(config, sys.stdout)
        return 0
    from simsat.runner import run_scenario  # heavy imports only after the config is valid

    _quiet_flwr(args.verbose)

    def play(stop: StopRequest, started: Callable[[Path], None]) -> Path:
        with progress_reporter(config.run.progress) as progress:
            return run_scenario(config, progress, stop, started)

    return _finish(*play_stoppably(play))


def _cmd_resume(args: argparse.Namespace) -> int:
    from simsat.cli.progress import progress_reporter
    from simsat.cli.resume import load_saved_config, play_stoppably
    from simsat.config.inputs import check_scenario_inputs
    from simsat.results.folders import MissionFolder

    folder = MissionFolder.open(Path(args.run_dir))  # refuses a finished or foreign folder
    try:
        config = load_saved_config(folder.path / "config.yaml")
        check_scenario_inputs(config)
        warn_about(config)
    except BaseException:
        folder.unlock()
        raise
    from simsat.runner import resume_scenario

    _quiet_flwr(args.verbose)

    def play(stop: StopRequest, started: Callable[[Path], None]) -> Path:
        with progress_reporter(config.run.progress) as progress:
            return resume_scenario(config, folder, progress, stop, started)

    return _finish(*play_stoppably(play))


def _finish(code: int, folder: Path | None) -> int:
    if folder is not None:
        _print_run_summary(folder)
        print(folder)
    return code


def _cmd_distill(args: argparse.Namespace) -> int:
    from simsat.cli.distill import run_distill

    folder = run_distill(list(args.overrides))
    from simsat.results.experiment_table import print_experiment_table

    print_experiment_table(folder, sys.stderr)
    print(folder)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from simsat.cli.sweep import sweep_command

    items = [item for item in args.overrides if item != "--dry-run"]  # --dry-run may follow the items
    return sweep_command(items, args.dry_run or len(items) < len(args.overrides))


def _cmd_compare(args: argparse.Namespace) -> int:
    from simsat.sweep.gather import gather
    from simsat.sweep.page import write_compare_page

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"compare: --out {args.out} is a file, not a folder")
    comparison = gather([Path(p) for p in args.dirs])  # refuses a folder that is neither, before writing
    print(write_compare_page(comparison, out))
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from simsat.cli.tables import print_table
    from simsat.config.catalog import scenario_infos

    rows = [
        [
            s.name,
            "" if s.satellites is None else str(s.satellites),
            "" if s.hours is None else f"{s.hours:g}",
            ", ".join(f"{k}={v}" for k, v in s.groups.items()),
            s.description,
        ]
        for s in scenario_infos()
    ]
    print_table(["scenario", "satellites", "hours", "config groups", "description"], rows, sys.stdout)
    return 0


def _cmd_contacts(args: argparse.Namespace) -> int:
    from simsat.cli.contacts import contacts_command

    scenario, overrides = _split_overrides(args.overrides)
    print(contacts_command(scenario, overrides))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from simsat.cli.hardware import add_hardware_parser

    parser = _Parser(
        prog="simsat",
        description="Simulate federated knowledge distillation between a ground station and a satellite constellation.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"simsat {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run a scenario", epilog=parser.epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    run.add_argument("overrides", nargs="*", help="scenario=NAME and key=value overrides")
    run.add_argument("--dry-run", action="store_true", help="validate and print the mission's plan, train nothing")
    run.set_defaults(func=_cmd_run)
    distill = sub.add_parser("distill", help="run the centralized distillation experiment")
    distill.add_argument("overrides", nargs="*", help="experiment=NAME and key=value overrides")
    distill.set_defaults(func=_cmd_distill)
    sweep = sub.add_parser("sweep", help="run a grid of scenarios on Ray (key=v1,v2, range(...), choice(...))")
    sweep.add_argument(
        "overrides", nargs=argparse.REMAINDER, help="scenario=NAME, key=value and key=v1,v2 items; resume=SWEEP_DIR"
    )
    sweep.add_argument("--dry-run", action="store_true", help="print the grid and its size, run nothing")
    sweep.set_defaults(func=_cmd_sweep)
    compare = sub.add_parser("compare", help="the comparison page of run and sweep folders")
    compare.add_argument("dirs", nargs="+", metavar="DIR", help="run folders and sweep folders")
    compare.add_argument("--out", required=True, metavar="FOLDER", help="where the page goes (created)")
    compare.set_defaults(func=_cmd_compare)
    resume = sub.add_parser("resume", help="go on with a run that was stopped (Ctrl-C, kill, power loss)")
    resume.add_argument("run_dir", help="the run's folder (printed when the run started)")
    resume.set_defaults(func=_cmd_resume)
    sub.add_parser("scenarios", help="list scenarios (table)").set_defaults(func=_cmd_scenarios)
    add_hardware_parser(sub)
    contacts = sub.add_parser(
        "contacts", help="write a scenario's contact plan (CSV, timeline, ground tracks; ISL windows when isl.enabled)"
    )
    contacts.add_argument("overrides", nargs="*", help="scenario=NAME and key=value overrides")
    contacts.set_defaults(func=_cmd_contacts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"simsat: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(args.verbose)
    try:
        return int(args.func(args))
    except SimsatError as exc:
        print(f"simsat: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:  # a command that routes SIGINT/SIGTERM to a StopRequest
        print(f"simsat: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("simsat: interrupted", file=sys.stderr)
        return 130


def entry() -> NoReturn:
    """The `simsat` command: `main`, then a prompt exit.

    After a run on Ray every file is written and synced and Ray is shut down with its processes
    reaped, but Ray's C++ threads hold the interpreter's normal exit up for 10-20 s; so the
    process ends with `os._exit` once output is flushed (only when Ray was imported)."""
    code = main()
    if "ray" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()

"""What each file of a run folder holds, and what its columns mean: written as the folder's
README.md and shown on the report page."""

from __future__ import annotations

from pathlib import Path

from simsat.results.atomic import write_text

FILES: tuple[tuple[str, str], ...] = (
    ("report.html", "this run on one page (summary, plots, contact table, resolved config); opens offline"),
    (
        "summary.json",
        "the run's facts, grouped: accuracy (initial, final, best), time to 80/90/95 % accuracy in "
        "simulated hours (null: not reached), bytes up and down by kind, contacts, aggregations, energy in Wh, "
        "wall-clock seconds, battery extremes, reference accuracies (teachers, the student trained at the ground "
        "on its labels), machine, and the satellites' names (satellite_names: the names `simsat contacts` "
        "gives them, in the order events.jsonl numbers them)",
    ),
    ("metrics.csv", "one row per evaluation of the global student on the test split (columns below)"),
    ("events.jsonl", "everything that happened, one JSON object per line, in simulated time (kinds below)"),
    ("battery.csv", "battery state of charge per satellite over time: time_s, satellite, soc (0 to 1)"),
    ("config.yaml", "the resolved config the run used"),
    ("status.json", "finished once the run ended; running, interrupted or failed before (simsat resume PATH goes on)"),
    (
        "accuracy.png",
        "accuracy over simulated hours; each aggregation a dot coloured by the staleness of its "
        "most stale update and sized by its number of contributors; teachers and ground-only as lines",
    ),
    (
        "timeline.png",
        "per satellite: eclipse (grey), contacts (light blue), uplinks (dark blue), downlinks "
        "(green), transfers cut by the end of a window (red, hatched) and training (orange); aggregations on "
        "the same time axis above; large constellations show an even sample of satellites, as the title says",
    ),
    (
        "battery.png",
        "state of charge per satellite in small panels, with the floor below which training "
        "waits, the level at which it resumes, eclipses, and any time spent empty (red)",
    ),
    ("README.md", "this file"),
)

METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("time_s", "simulated seconds since the mission start"),
    ("sim_hours", "the same time in simulated hours"),
    ("time_utc", "the same instant in UTC (empty where the mission has no start date)"),
    ("event", "initial (before any update), aggregation, isl_heard (gossip: a model a station heard), or final"),
    ("version", "global model version after this event"),
    ("satellite", "the satellites whose updates this aggregation combined, joined by ';'"),
    (
        "staleness",
        "for each of those satellites, in the same order, how many versions old the model "
        "its update started from was; joined by ';'",
    ),
    ("accuracy", "accuracy of the global student on the test split (0 to 1)"),
    ("precision, recall, f1", "macro averages over the classes"),
    ("loss", "cross-entropy on the test split"),
    ("bytes_up", "bytes sent to satellites so far (cumulative)"),
    ("bytes_down", "bytes received from satellites so far (cumulative)"),
    ("images_down", "images downlinked so far (cumulative)"),
    ("faults", "faults recorded so far, injected or real (cumulative; events of kind fault)"),
)

EVENT_KINDS: tuple[tuple[str, str], ...] = (
    ("contact_start, contact_end", "a satellite in contact with a station (satellite, station)"),
    (
        "transfer",
        "bytes moved in one contact (satellite, direction up|down, payload model|knowledge|imagery|"
        "update, bytes, total_bytes, complete; start_s when it began, time_s when it stopped; complete=false: cut "
        "by the end of the window, resumed at the next one)",
    ),
    (
        "train_start, train_end",
        "onboard training (satellite, images, compute_s simulated, wall_s on this machine, energy_wh)",
    ),
    ("aggregation", "the ground combined updates (version, satellites, staleness)"),
    (
        "ground_refine, ground_training",
        "the ground trained the student (version, images; compute_s simulated with ground.hardware)",
    ),
    (
        "ground_ready, update_waits",
        "ground.hardware: the student the ground trained is the global one (version, waiting updates); an update "
        "arrived while it trained and waits for it (satellite)",
    ),
    ("eclipse_start, eclipse_end", "a satellite in the Earth's shadow"),
    ("safe_mode", "a satellite's battery too low to go on"),
    (
        "fault",
        "a fault, injected (faults.* keys) or real (type contact_loss, train_failure, client_timeout, "
        "dead_satellite, client_error, divergence, satellite_lost or isl_loss; satellite; what and reason where a reply"
        " failed; peer for a lost crosslink window)",
    ),
    (
        "isl_transfer",
        "bytes moved over a crosslink (satellite = sender, peer, payload model|aggregate|labels|gossip, "
        "bytes, total_bytes, complete, start_s; federation.isl_aggregation plane or gossip)",
    ),
    ("isl_merge", "plane: a satellite took the updates a neighbour sent (satellite, peer, added, holds)"),
    ("isl_carried", "plane: the plane's aggregate reached the ground (satellite = carrier, satellites in it)"),
    ("isl_relay_up", "plane: a satellite's uplink brought soft labels for plane-mates (satellite, labels by mate)"),
    ("isl_labels_home", "plane: soft labels relayed over the ring went on board their satellite (labels, trains)"),
    ("isl_average", "gossip: a satellite averaged its neighbours' models into its own (satellite, models)"),
    ("isl_heard", "gossip: the ground received a satellite's model and scored it (satellite, examples)"),
)


def run_readme(title: str) -> str:
    """README.md for a run folder."""
    lines = [f"# simsat run: {title}", "", "## Files", "", "| file | what it holds |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in FILES]
    lines += ["", "## metrics.csv columns", "", "| column | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {text} |" for name, text in METRIC_COLUMNS]
    lines += [
        "",
        "## events.jsonl kinds",
        "",
        "Every line has `kind` and `time_s` (simulated seconds).",
        "",
        "| kind | meaning and fields |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {text} |" for name, text in EVENT_KINDS]
    return "\n".join(lines) + "\n"


def write_run_readme(folder: Path, title: str) -> Path:
    path = Path(folder) / "README.md"
    write_text(path, run_readme(title))
    return path

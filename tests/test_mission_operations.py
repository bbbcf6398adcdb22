"""The SimPy mission driving the real satellite ClientApp in-process (no Ray), wired by the one
assembly: honest bytes by kind, transfers cut and resumed across windows, training after
uplinks, each strategy's behaviour, and the same result twice."""

from __future__ import annotations

import itertools
import pickle
from collections import Counter
from pathlib import Path
from typing import TypeVar

import pytest

from simsat.assembly import Mission, assemble
from simsat.config.load import load_config
from simsat.federation import payloads
from simsat.federation.client_app import SatelliteApp, make_client_app
from simsat.federation.transport import InProcessTransport
from simsat.mission.imagery import ImageCodec
from simsat.mission.onboard import load_shard
from simsat.mission.operations import Operations
from simsat.mission.packets import ImageryPacket, KnowledgePacket, TrainReport, UpdatePacket, UplinkPacket
from simsat.mission.transport import Reply, TrainOrder, Transport
from simsat.results.recorder import Recorder
from simsat.summary import mission_summary
from simsat.world.antennas import forecast_grants

T = TypeVar("T")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _play(cache: Path, out: Path, *overrides: str) -> tuple[Mission, Operations, Recorder]:
    config = load_config("tiny", [f"data.cache_dir={cache}", "reference.epochs=0", *overrides])
    with assemble(config) as mission:
        recorder = Recorder(out)
        ops = mission.run(recorder, in_process=True)
        recorder.close()
        # shards are needed by the byte checks: keep copies of what the satellites hold
        mission.shards = [load_shard(mission.setup.shards_dir, i) for i in range(mission.num_satellites)]  # type: ignore[attr-defined]
    return mission, ops, recorder


def _transfers(recorder: Recorder, direction: str) -> list[dict]:
    return [e for e in recorder.events if e["kind"] == "transfer" and e["direction"] == direction]


def test_every_byte_is_counted_by_kind(cache: Path, tmp_path: Path) -> None:
    mission, ops, recorder = _play(cache, tmp_path, "federation.aggregation=fedasync")
    events = recorder.events
    kinds = Counter(e["kind"] for e in events)
    assert kinds["contact_start"] == kinds["contact_end"] >= 2
    assert kinds["train_end"] >= 1 and kinds["aggregation"] >= 1
    # The counters are the sum of what the transfer events say, kind by kind.
    by_kind: Counter[str] = Counter()
    for e in events:
        if e["kind"] == "transfer":
            by_kind.update(e["bytes_by_kind"])
            assert sum(e["bytes_by_kind"].values()) == e["bytes"]
    counted = ops.bytes_by_kind()
    assert dict(by_kind) == {k: v for d in counted.values() for k, v in d.items() if v}
    # Imagery: what arrived is exactly the JPEG encodings of those images of the shard.
    codec = ImageCodec(mission.config.imagery.size, mission.config.imagery.quality)
    received = [e for e in events if e["kind"] == "imagery_received"]
    assert received and sum(e["images"] for e in received) == sum(ops.ground.received)
    for sat in range(mission.num_satellites):
        images, _, _ = mission.shards[sat]  # type: ignore[attr-defined]
        n = ops.ground.received[sat]
        encoded = sum(len(codec.encode(images[i])) for i in range(n))
        assert encoded == sum(e["encoded_bytes"] for e in received if e["satellite"] == sat)
    imagery_sent = sum(e["bytes"] for e in _transfers(recorder, "down") if e["payload"] == "imagery" and e["complete"])
    assert imagery_sent >= sum(e["encoded_bytes"] for e in received)
    assert imagery_sent < 1.05 * sum(e["encoded_bytes"] for e in received) + 1024
    # Uplinks: the model's share is the serialised student; soft labels only for received images.
    model_size = payloads.uplink_bytes(UplinkPacket(0, mission.learning.initial_model, KnowledgePacket.empty(10)))
    first_up = _transfers(recorder, "up")[0]
    assert first_up["bytes_by_kind"]["model"] == model_size
    for sat in range(mission.num_satellites):
        assert ops.ground.sent[sat] <= ops.ground.received[sat]
    # Training starts only after that satellite's first completed uplink.
    for sat in range(mission.num_satellites):
        ups = [e["time_s"] for e in _transfers(recorder, "up") if e["satellite"] == sat and e["complete"]]
        starts = [e["time_s"] for e in events if e["kind"] == "train_start" and e["satellite"] == sat]
        assert starts and min(starts) >= min(ups)
    assert ops.ground.version == kinds["aggregation"]
    assert len(recorder.rows) == 1 + ops.ground.version


def test_slow_uplink_cuts_transfer_and_resumes_next_window(cache: Path, tmp_path: Path) -> None:
    mission, ops, recorder = _play(cache, tmp_path, "link.uplink_bps=2000")
    ups = [e for e in _transfers(recorder, "up") if e["satellite"] == 0]
    assert len(ups) >= 2 and not ups[0]["complete"]
    first_window = min((w for w in mission.world.contacts if w.satellite == 0), key=lambda w: w.start_s)
    # The first piece fills the rest of the first window at 2 kbit/s.
    assert ups[0]["bytes"] <= first_window.duration_s * 2_000 / 8 + 1
    total, sent = ups[0]["total_bytes"], 0
    for e in ups:
        assert e["total_bytes"] == total
        sent += e["bytes"]
        if e["complete"]:
            break
    assert sent <= total


@pytest.mark.parametrize(
    ("strategy", "present", "absent"),
    [
        ("ground", {"ground_training", "imagery_received"}, {"train_start", "aggregation"}),
        pytest.param(  # about 13 s: a whole 12-hour mission of trainings (slow set)
            "fedavg_labels", {"train_end", "aggregation"}, {"imagery_received"}, marks=pytest.mark.slow
        ),
        ("local", {"train_end", "local_update", "imagery_received"}, {"aggregation"}),
    ],
)
def test_each_strategy_does_what_it_says(
    cache: Path, tmp_path: Path, strategy: str, present: set[str], absent: set[str]
) -> None:
    _, ops, recorder = _play(
        cache,
        tmp_path,
        f"federation.strategy={strategy}",
        "federation.ground_interval_hours=0.5",
        "mission.duration_hours=18",
    )
    kinds = {e["kind"] for e in recorder.events}
    assert present <= kinds, present - kinds
    assert not absent & kinds
    if strategy == "fedavg_labels":
        assert ops.bytes_by_kind()["down"]["imagery"] == 0 and ops.bytes_by_kind()["up"]["knowledge"] == 0
    if strategy == "ground":
        assert ops.bytes_by_kind()["down"]["update"] == 0 and ops.ground.version >= 1


@pytest.mark.slow  # two missions; the quick set keeps test_end_to_end's same metrics on two transports
def test_same_seed_same_metrics(cache: Path, tmp_path: Path) -> None:
    _, ops, first = _play(cache, tmp_path / "a", "federation.aggregation=fedbuff")
    _, _, second = _play(cache, tmp_path / "b", "federation.aggregation=fedbuff")
    assert (tmp_path / "a" / "metrics.csv").read_bytes() == (tmp_path / "b" / "metrics.csv").read_bytes()
    assert len(first.rows) >= 2
    # without federation.ground_refine_epochs nothing is refined and the ground keeps no imagery
    assert not [e for e in first.events if e["kind"] == "ground_refine"] and ops.ground.pool_size() == 0


@pytest.mark.slow  # about 13 s: an 8-hour mission of four boards
def test_mixed_fleet_trains_at_each_boards_rate(cache: Path, tmp_path: Path) -> None:
    """Each satellite's simulated training time and energy per image follow its own board."""
    config = load_config(
        "mixed_fleet",
        [f"data.cache_dir={cache}", "reference.epochs=0", "data.n_images=800", "mission.duration_hours=8"],
    )
    with assemble(config) as mission:
        recorder = Recorder(tmp_path)
        mission.run(recorder, in_process=True)
        recorder.close()
        boards = {i: p for i, p in enumerate(mission.hardware)}
        flops = mission.plan.train_flops_per_image * mission.plan.epochs
    assert len({p.name for p in boards.values()}) == 4
    starts = [e for e in recorder.events if e["kind"] == "train_start"]
    ends = {(e["satellite"], e["time_s"]): e for e in recorder.events if e["kind"] == "train_end"}
    seen = set()
    for e in starts:
        board = boards[e["satellite"]]
        assert e["board"] == board.name
        assert e["compute_s"] == pytest.approx(flops * e["images"] / board.flops_per_s, rel=1e-5)
        seen.add(board.name)
    assert len(seen) >= 3
    for (sat, _), e in ends.items():
        board = boards[sat]
        if e["paused_s"] == 0:
            assert e["energy_wh"] == pytest.approx(e["busy_s"] * (board.busy_w - board.idle_w) / 3600.0, rel=1e-3)


def test_mission_can_start_from_the_ground_only_reference(cache: Path, tmp_path: Path) -> None:
    """`federation.initial_model=reference`: the first evaluation is the reference itself, and
    `distill.reference_teacher` adds it to the teachers the ground labels with."""
    config = load_config(
        "tiny",
        [
            f"data.cache_dir={cache}",
            "reference.epochs=1",
            "federation.initial_model=reference",
            "distill.reference_teacher=true",
            "distill.weighting=entropy",
            "mission.duration_hours=2",
        ],
    )
    with assemble(config) as mission:
        reference = mission.learning.ground_only_reference()
        assert reference is not None
        recorder = Recorder(tmp_path)
        mission.run(recorder, in_process=True)
        recorder.close()
        packet = mission.learning.label(mission.data.ground.images[:8], mission.data.ground.ids[:8])
    assert recorder.rows[0]["accuracy"] == pytest.approx(reference["accuracy"], abs=1e-5)
    assert len(packet) > 0 and packet.targets.shape[1] == 10


def test_ground_refines_each_aggregated_student_before_it_goes_up(cache: Path, tmp_path: Path) -> None:
    """`federation.ground_refine_epochs`: after every aggregation the ground trains the new
    student on its labels plus the imagery it received; the refined student is the version
    the satellites get and the one evaluated."""
    _, ops, recorder = _play(
        cache,
        tmp_path,
        "federation.ground_refine_epochs=1",
        "federation.aggregation=fedbuff",
        "federation.buffer_size=2",
        "data.image_size=32",
    )
    aggregations = [e for e in recorder.events if e["kind"] == "aggregation"]
    refines = [e for e in recorder.events if e["kind"] == "ground_refine"]
    assert aggregations
    assert [e["version"] for e in refines] == [e["version"] for e in aggregations]
    pooled = [e["images"] for e in refines]
    assert pooled == sorted(pooled) and 0 < pooled[-1] == ops.ground.pool_size()
    assert ops.ground.history[ops.ground.version] is ops.ground.model
    assert ops.clock.ground_train_s > 0


def test_refinement_interval_refines_at_most_once_per_interval(cache: Path, tmp_path: Path) -> None:
    """`federation.ground_refine_interval_hours`: with an update mixed in at every arrival, the
    ground refines the first aggregated student and then at most once per interval; the others go
    up as aggregated."""
    _, _, recorder = _play(
        cache,
        tmp_path,
        "federation.ground_refine_epochs=1",
        "federation.ground_refine_interval_hours=2",
        "federation.aggregation=fedasync",
        "data.image_size=32",
    )
    aggregations = [e for e in recorder.events if e["kind"] == "aggregation"]
    refines = [e for e in recorder.events if e["kind"] == "ground_refine"]
    assert 1 <= len(refines) < len(aggregations)
    assert refines[0]["version"] == aggregations[0]["version"]
    times = [e["time_s"] for e in refines]
    assert all(b - a >= 2 * 3600.0 for a, b in itertools.pairwise(times))
    # each refinement follows an aggregation at the same simulated time
    assert {(e["time_s"], e["version"]) for e in refines} <= {(e["time_s"], e["version"]) for e in aggregations}


@pytest.mark.slow  # about 10 s: a mission scored at intervals
def test_evaluation_interval_scores_at_most_once_per_interval_and_the_last_student_at_the_end(
    cache: Path, tmp_path: Path
) -> None:
    small = ("federation.aggregation=fedasync", "data.image_size=32")
    _, every, every_recorder = _play(cache, tmp_path / "every", *small)
    _, ops, recorder = _play(cache, tmp_path / "hourly", *small, "federation.eval_interval_hours=3")
    times = [float(r["time_s"]) for r in recorder.rows]
    assert len(recorder.rows) < len(every_recorder.rows)
    assert all(b - a >= 3 * 3600.0 for a, b in itertools.pairwise(times[1:-1]))
    # the mission's student is the same; its last version is scored, at the latest at the end
    assert ops.ground.version == every.ground.version
    assert recorder.rows[-1]["version"] == ops.ground.version
    assert recorder.rows[-1]["accuracy"] == every_recorder.rows[-1]["accuracy"]


class _Counting:
    """A Transport that counts the commands sent and not yet answered (all satellites together)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.open = 0
        self.most_open = 0

    def _track(self, reply: Reply[T]) -> Reply[T]:
        self.open += 1
        self.most_open = max(self.most_open, self.open)

        def answered(value: T) -> T:
            self.open -= 1
            return value

        return reply.then(answered)

    def uplink_bytes(self, packet: UplinkPacket) -> int:
        return self.inner.uplink_bytes(packet)

    def update_bytes(self, packet: UpdatePacket) -> int:
        return self.inner.update_bytes(packet)

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]:
        return self._track(self.inner.deliver(satellite, packet, train))

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None:
        self.inner.start_training(satellite, acquired, fail)

    def finish_training(self, satellite: int) -> TrainReport:
        return self.inner.finish_training(satellite)

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]:
        return self._track(self.inner.downlink(satellite))

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]:
        return self._track(self.inner.imagery(satellite, start, stop, budget_bytes))

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None:
        self.inner.prefetch_imagery(satellite, start, stop, budget_bytes)


def _play_counted(cache: Path, out: Path, *overrides: str) -> tuple[_Counting, Recorder]:
    config = load_config("tiny", [f"data.cache_dir={cache}", "reference.epochs=0", *overrides])
    with assemble(config) as mission:
        recorder = Recorder(out)
        counting = _Counting(InProcessTransport(make_client_app(mission.setup), mission.num_satellites))
        mission.operations(counting, recorder).run()
        recorder.close()
    return counting, recorder


def test_commands_take_simulated_time_and_are_in_flight_together(cache: Path, tmp_path: Path) -> None:
    """`mission.command_s`: each command's answer is taken that long after it was sent (the
    window's time runs meanwhile) and commands to different satellites overlap. (Without it each
    answer is taken at once; that the results do not depend on which real reply comes first is
    `tests/test_end_to_end.py`'s Flower run against the in-process one.)"""
    # eight satellites and two stations: windows of different satellites overlap
    overlapping = (
        "constellation=dawn_dusk_8",
        "ground=two_stations",
        "mission.duration_hours=4",
        "federation.aggregation=fedasync",
        "data.image_size=32",
    )
    counting, recorder = _play_counted(cache, tmp_path, *overlapping, "mission.command_s=120")
    assert counting.most_open >= 2 and counting.open == 0
    events = recorder.events
    started = {}
    for e in events:
        if e["kind"] == "contact_start":
            started[e["satellite"]] = e["time_s"]
        elif e["kind"] == "transfer" and e["direction"] == "down" and e["bytes"] == e["total_bytes"]:
            # an update or imagery sent whole goes down once the command that fetched it was answered
            assert e["start_s"] >= started[e["satellite"]] + 120.0 - 0.1  # as recorded (six digits)
    assert [e for e in events if e["kind"] == "train_start"]


def test_an_empty_battery_puts_a_satellite_in_safe_mode_and_the_summary_counts_it(cache: Path, tmp_path: Path) -> None:
    """A 2 Wh battery drawing 6 W in each eclipse empties every orbit: safe mode is entered at
    safe_soc, left once the Sun has charged it to safe_exit_soc, recorded as events, and the
    summary's safe_mode_seconds is the time between them (an open stretch counted to the end)."""
    power = [
        "satellite.power.capacity_wh=2",
        "satellite.power.baseline_w=6",
        "satellite.power.safe_soc=0.2",
        "satellite.power.safe_exit_soc=0.3",
        "mission.duration_hours=4",
    ]
    mission, ops, recorder = _play(cache, tmp_path, *power)
    summary = mission_summary(mission, ops, recorder.rows, None, 0.0)
    duration = mission.world.duration_s
    for sat in range(mission.num_satellites):
        safe = [e for e in recorder.events if e["kind"] == "safe_mode" and e["satellite"] == sat]
        changes = [(e["time_s"], e["change"]) for e in safe]
        assert [c for _, c in changes][:2] == ["enter", "exit"], changes
        enters = [t for t, c in changes if c == "enter"]
        exits = [t for t, c in changes if c == "exit"] + ([duration] if changes[-1][1] == "enter" else [])
        expected = sum(b - a for a, b in zip(enters, exits, strict=True))
        assert summary["safe_mode_seconds"][sat] == pytest.approx(expected, abs=1.0)
        assert expected > 0


@pytest.mark.slow
def test_the_antenna_forecast_names_the_contacts_the_mission_makes(cache: Path, tmp_path: Path) -> None:
    # 24 satellites, one station with one antenna: passes overlap and some are missed; imagery is
    # asked ahead only for the windows the forecast grants
    mission, _, recorder = _play(cache, tmp_path, "constellation=walker_24", "mission.duration_hours=3")
    world = mission.world
    forecast = forecast_grants(world.contacts, [s.antennas for s in world.stations], world.antenna_policy)
    names = [s.name for s in world.stations]
    starts = [e for e in recorder.events if e["kind"] == "contact_start"]
    made = {(e["satellite"], e["station"], round(e["end_s"], 3)) for e in starts}
    assert any(e["kind"] == "contact_missed" for e in recorder.events)
    assert made == {(w.satellite, names[w.station], round(w.end_s, 3)) for w in forecast}


SLOW_GROUND = (
    "name: slow_ground\ndescription: a ground computer slow enough that a refinement takes hours\n"
    "flops_per_s: 5.0e6\nidle_w: 50\nbusy_w: 300\nmemory_mb: 64000\nradio_tx_w: 1\nradio_rx_w: 1\n"
)


@pytest.mark.slow  # about 20 s: a mission whose ground refines each aggregated student for hours
def test_a_slow_ground_computer_sends_the_refined_student_only_once_it_is_ready(cache: Path, tmp_path: Path) -> None:
    """`ground.hardware`: each refinement takes its FLOPs over the ground computer's rate in
    simulated time. Until it is done the satellites get the student before it, updates that
    arrive wait, and the aggregation's metrics row is written when the refined student is ready."""
    board = tmp_path / "slow_ground.yaml"
    board.write_text(SLOW_GROUND)
    _, ops, recorder = _play(
        cache,
        tmp_path / "run",
        f"hardware.files=[{board}]",
        "ground.hardware=slow_ground",
        "federation.ground_refine_epochs=1",
        "federation.aggregation=fedbuff",
        "federation.buffer_size=1",
        "data.image_size=32",
        "mission.duration_hours=24",
    )
    events = recorder.events
    refines = [e for e in events if e["kind"] == "ground_refine"]
    ready = {e["version"]: e for e in events if e["kind"] == "ground_ready"}
    assert refines and all(e["compute_s"] > 3600.0 for e in refines)
    done = [e for e in refines if e["version"] in ready]
    assert done, "no refinement finished within the mission"
    for refine in done:
        assert ready[refine["version"]]["time_s"] == pytest.approx(refine["time_s"] + refine["compute_s"])
    # while a refinement runs, a global student sent up is an older one
    held_back = 0
    for refine in refines:
        end = ready[refine["version"]]["time_s"] if refine["version"] in ready else float("inf")
        sent = [
            int(e["label"].split("global v")[1].split()[0])
            for e in events
            if e["kind"] == "transfer"
            and e["direction"] == "up"
            and "global v" in e["label"]
            and refine["time_s"] <= e["start_s"] < end
        ]
        assert all(version < refine["version"] for version in sent)
        held_back += len(sent)
    assert held_back > 0, "no student went up while the ground was training: make the ground slower"
    # updates arriving during a refinement wait, and are aggregated when it is done
    waits = [e for e in events if e["kind"] == "update_waits"]
    assert waits, "no update arrived while the ground was training: make the ground slower"
    for wait in waits:
        after = [r for r in done if r["time_s"] <= wait["time_s"]]
        assert after and wait["time_s"] < ready[after[-1]["version"]]["time_s"]
    # a waiting update reaches the rule (buffer_size 1: aggregated at once) when a student is ready
    ready_s = [e["time_s"] for e in ready.values()]
    handed = 0
    for wait in waits:
        later = [
            e
            for e in events
            if e["kind"] == "aggregation" and e["time_s"] > wait["time_s"] and wait["satellite"] in e["satellites"]
        ]
        if later:  # else the mission ended first
            assert min(abs(later[0]["time_s"] - t) for t in ready_s) < 1e-6
            handed += 1
    assert handed > 0, "no waiting update was aggregated within the mission"
    rows = [r for r in recorder.rows if r["event"] == "aggregation"]
    assert [r["version"] for r in rows] == sorted(ready)
    assert [r["time_s"] for r in rows] == pytest.approx([ready[v]["time_s"] for v in sorted(ready)], abs=0.1)
    assert ops.ground_compute_s == pytest.approx(sum(e["compute_s"] for e in refines))


def test_a_node_that_boots_beside_its_first_messages_trains_as_one_built_in_place(cache: Path, tmp_path: Path) -> None:
    """A Ray worker unpickles the ClientApp and warms it up on a thread of its own while the
    nodes are identified; its trainings wait for that and equal those of an app built here."""
    trained = []
    for shipped in (False, True):
        config = load_config("tiny", [f"data.cache_dir={cache}", "reference.epochs=0", "mission.duration_hours=6"])
        with assemble(config) as mission:
            app = make_client_app(mission.setup)
            if shipped:  # as Flower's engine hands it to a worker, which boots it on a thread
                app = pickle.loads(pickle.dumps(app))
                assert isinstance(app, SatelliteApp) and app.booted.wait(60)
            recorder = Recorder(tmp_path / f"shipped-{shipped}")
            mission.operations(InProcessTransport(app, mission.num_satellites), recorder).run()
            recorder.close()
        trained.append([(e["satellite"], str(e["loss"])) for e in recorder.events if e["kind"] == "train_end"])
    assert trained[0] and trained[1] == trained[0]

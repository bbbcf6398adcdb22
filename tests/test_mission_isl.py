"""Crosslinks in the mission (federation.isl_aggregation): played through the real mission and
ClientApp in this process, on one plane of ten satellites that see their ring neighbours all day."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from simsat.assembly import assemble
from simsat.config.load import load_config
from simsat.errors import ConfigError
from simsat.federation import payloads
from simsat.mission.aggregation import AggregatorSettings, FedAsyncAggregator, make_aggregator
from simsat.mission.ground import GroundSegment
from simsat.mission.isl_merge import Contribution, combination_weights, combine, merge
from simsat.mission.journal import Journal
from simsat.mission.operations import Operations
from simsat.mission.packets import KnowledgePacket, UpdatePacket, UplinkPacket
from simsat.mission.strategies import get_strategy
from simsat.results.facts import run_warnings, summary_facts
from simsat.results.recorder import Recorder
from simsat.results.runfolder import read_run, transfers
from simsat.results.timeline_plot import plot_timeline

# one plane of ten at 550 km (each sees both ring neighbours all the time), satellites with labels
# (no teachers to train), an hour and a half: several passes of the plane over the two stations
PLANE = [
    "constellation.planes=1",
    "constellation.phasing=0",
    "constellation.sats_per_plane=10",
    "mission.duration_hours=1.5",
    "data.n_images=600",
    "training.epochs=1",
    "federation.strategy=fedavg_labels",
    "reference.epochs=0",
]


def _play(cache: Path, out: Path, *overrides: str, journal: Journal | None = None) -> tuple[Operations, list[dict]]:
    config = load_config("isl_constellation", [*PLANE, f"data.cache_dir={cache}", *overrides])
    out.mkdir(parents=True, exist_ok=True)
    with assemble(config) as mission:
        recorder = Recorder(out)
        ops = mission.run(recorder, in_process=True, journal=journal)
        recorder.close()
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    return ops, events


def _metrics(out: Path) -> str:
    return (out / "metrics.csv").read_text()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def plane(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Operations, list[dict], Path]:
    out = tmp_path_factory.mktemp("plane")
    ops, events = _play(cache, out, "federation.isl_aggregation=plane", "mission.duration_hours=0.5")
    return ops, events, out


def _update_arrivals(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "transfer" and e["payload"] == "update" and e["complete"]]


def test_a_plane_sends_one_update_down_for_many_satellites(plane: tuple[Operations, list[dict], Path]) -> None:
    ops, events, _ = plane
    carried = [e for e in events if e["kind"] == "isl_carried"]
    assert carried and len(carried) == len(_update_arrivals(events)) == ops.ground.version
    assert max(len(e["satellites"]) for e in carried) >= 3  # the plane's updates, gathered over the ring
    # each arrival is one update to the aggregation rule, from the satellite that carried it
    aggregations = [e for e in events if e["kind"] == "aggregation"]
    assert [a["satellites"] for a in aggregations] == [[c["satellite"]] for c in carried]
    # fewer updates went down than satellites contributed
    assert len(carried) < sum(len(e["satellites"]) for e in carried)
    # the global student spread over the crosslinks, and satellites trained from it
    assert ops.isl is not None and ops.isl.counts.bytes["model"] > 0
    assert ops.isl.counts.aggregations > 0 and ops.isl.counts.windows == len(ops.isl.plan.windows)


def test_isl_bytes_are_the_messages_serialised_sizes(plane: tuple[Operations, list[dict], Path]) -> None:
    ops, events, _ = plane
    assert ops.isl is not None
    transfers = [e for e in events if e["kind"] == "isl_transfer"]
    by_kind: dict[str, int] = {}
    for e in transfers:
        by_kind[e["payload"]] = by_kind.get(e["payload"], 0) + e["bytes"]
    assert {k: v for k, v in ops.isl.counts.bytes.items() if v} == by_kind
    # a global student over a crosslink: exactly its uplink message, serialised in full
    model = next(e for e in transfers if e["payload"] == "model")
    version = int(model["label"].split("v")[1])
    weights = ops.ground.history.get(version, ops.ground.model)
    empty = KnowledgePacket.empty(ops.ground.num_classes)
    assert model["total_bytes"] == payloads.uplink_bytes(UplinkPacket(version, weights, empty))
    # an aggregate: an update message (its metadata's varints aside, the same for every update)
    aggregate = next(e for e in transfers if e["payload"] == "aggregate")
    sizes = {payloads.update_bytes(UpdatePacket(v, weights, n, 0.5)) for v in (0, 5) for n in (50, 500)}
    assert min(sizes) - 8 <= aggregate["total_bytes"] <= max(sizes) + 8
    # and what went down through the stations is counted on the ground link, not the crosslinks
    assert sum(e["bytes"] for e in _update_arrivals(events)) <= ops.bytes_by_kind()["down"]["update"]


def test_isl_transfers_are_recorded_and_cost_energy(plane: tuple[Operations, list[dict], Path]) -> None:
    ops, events, _ = plane
    assert ops.isl is not None
    transfers = [e for e in events if e["kind"] == "isl_transfer"]
    assert transfers and all(e["satellite"] != e["peer"] for e in transfers)
    # drawn from the batteries of both ends while the terminals are busy (transfers that ended,
    # and at most one per link still under way when the mission ends)
    ended = ops.isl.counts.busy_s * ops.isl.plan.power_w / 3600.0
    under_way = len(ops.isl.plan.windows) * 2 * ops.isl.plan.power_w * 120 / 3600.0  # a message at most each
    assert 0 < ended * (1 - 1e-9) <= ops.isl.energy_wh() <= ended + under_way


@pytest.mark.slow  # two missions
def test_every_isl_window_lost_is_a_mission_without_crosslinks(cache: Path, tmp_path: Path) -> None:
    none, _ = _play(cache, tmp_path / "none")
    lost, events = _play(cache, tmp_path / "lost", "federation.isl_aggregation=plane", "faults.isl_loss_rate=1")
    assert lost.isl is not None and lost.isl.counts.windows == 0 and sum(lost.isl.counts.bytes.values()) == 0
    assert lost.faults.counts["isl_loss"] == len(lost.isl.plan.windows)
    # the same learning, bytes and times as without crosslinks (the faults column counts the lost windows)
    a, b = _metrics(tmp_path / "none").splitlines(), _metrics(tmp_path / "lost").splitlines()
    header = a[0].split(",")
    faults = header.index("faults")

    def drop(row: str) -> list[str]:
        return [v for i, v in enumerate(row.split(",")) if i != faults]

    assert [drop(r) for r in a] == [drop(r) for r in b]
    assert none.bytes_by_kind() == lost.bytes_by_kind()


def test_isl_aggregation_none_leaves_the_mission_alone(cache: Path, tmp_path: Path) -> None:
    """isl.enabled with isl_aggregation=none: no crosslink process, the same metrics as without."""
    ops, events = _play(cache, tmp_path / "enabled", "mission.duration_hours=0.5")
    assert ops.isl is None and not any(e["kind"].startswith("isl_") for e in events)
    _play(cache, tmp_path / "disabled", "mission.duration_hours=0.5", "isl.enabled=false")
    assert _metrics(tmp_path / "enabled") == _metrics(tmp_path / "disabled")


@pytest.mark.slow  # three missions
def test_a_resumed_isl_mission_replays_to_the_same_metrics(cache: Path, tmp_path: Path) -> None:
    for mode in ("plane", "gossip"):
        journal = Journal(tmp_path / f"journal-{mode}")
        _play(cache, tmp_path / f"first-{mode}", f"federation.isl_aggregation={mode}", journal=journal)
        entries = sorted((tmp_path / f"journal-{mode}").glob("train-*.npz"))
        assert entries
        for path in entries[len(entries) // 2 :]:  # stopped half-way: the later trainings are done again
            path.unlink()
        again = Journal(tmp_path / f"journal-{mode}")
        _play(cache, tmp_path / f"again-{mode}", f"federation.isl_aggregation={mode}", journal=again)
        assert again.replayed > 0
        assert _metrics(tmp_path / f"again-{mode}") == _metrics(tmp_path / f"first-{mode}")


@pytest.mark.slow  # half a day of one plane: a passes-less stretch, then every satellite meets a station
def test_gossip_averages_over_the_links_and_the_ground_scores_what_it_hears(cache: Path, tmp_path: Path) -> None:
    ops, events = _play(cache, tmp_path / "gossip", "federation.isl_aggregation=gossip", "mission.duration_hours=12")
    assert ops.isl is not None and ops.isl.counts.bytes["gossip"] > 0 and ops.isl.counts.aggregations > 0
    assert ops.ground.version == 0  # no ground aggregation
    assert not any(e["kind"] == "aggregation" for e in events)
    heard = [e for e in events if e["kind"] == "isl_heard"]
    assert heard and _metrics(tmp_path / "gossip").count("isl_heard") == len(heard)


def test_isl_aggregation_needs_crosslinks_and_a_strategy_that_aggregates(cache: Path) -> None:
    base = [*PLANE, f"data.cache_dir={cache}"]
    with pytest.raises(ConfigError, match=r"^federation.isl_aggregation needs isl.enabled"):
        load_config("isl_constellation", [*base, "federation.isl_aggregation=plane", "isl.enabled=false"])
    with pytest.raises(ConfigError, match=r"^federation.isl_aggregation must be one of none, plane, gossip"):
        load_config("isl_constellation", [*base, "federation.isl_aggregation=ring"])
    with pytest.raises(ConfigError, match=r"^federation.isl_aggregation works with"):
        load_config("isl_constellation", [*base, "federation.isl_aggregation=plane", "federation.strategy=local"])
    with pytest.raises(ConfigError, match=r"^faults.isl_loss_rate"):
        load_config("isl_constellation", [*base, "faults.isl_loss_rate=1.5"])


def _update(base: int, n: int, value: float) -> UpdatePacket:
    return UpdatePacket(base, {"w": np.full(3, value, np.float32)}, n, value)


def test_a_plane_aggregate_weighs_examples_and_the_rules_staleness_weight() -> None:
    rule = FedAsyncAggregator(AggregatorSettings(staleness_exponent=1.0), 3)
    bundle = {
        0: Contribution(0, 1, _update(4, 100, 1.0)),
        1: Contribution(1, 1, _update(3, 100, 2.0)),  # one version older: weight 100 / 2
        2: Contribution(2, 2, _update(4, 50, 4.0)),
    }
    assert combination_weights(bundle, rule.staleness_weight) == {0: 100.0, 1: 50.0, 2: 50.0}
    combined = combine(bundle, rule.staleness_weight)
    assert combined.base_version == 4 and combined.num_examples == 250
    np.testing.assert_allclose(combined.model["w"], (100 * 1.0 + 50 * 2.0 + 50 * 4.0) / 200)
    single = {5: Contribution(5, 3, _update(2, 10, 7.0))}
    assert combine(single, rule.staleness_weight) is single[5].update  # one update goes down as itself
    # a receiver keeps the newest contribution of each satellite, whichever path brought it
    older = {2: Contribution(2, 1, _update(3, 50, 9.0))}
    assert merge(older, bundle)[2].seq == 2 and merge(bundle, older)[2].seq == 2


def test_the_timeline_draws_crosslinks_and_the_report_lists_them(
    plane: tuple[Operations, list[dict], Path], tmp_path: Path
) -> None:
    ops, events, out = plane
    run = read_run(out)
    crosslinks = transfers(run, "isl_transfer")
    assert len(crosslinks) == sum(1 for e in events if e["kind"] == "isl_transfer")
    assert all(t.direction == "crosslink" and t.end_s >= t.start_s for t in crosslinks)
    assert plot_timeline(run, tmp_path / "timeline.png").stat().st_size > 0
    assert ops.isl is not None
    summary = {"bytes": {"isl": dict(ops.isl.counts.bytes)}, "isl": ops.isl.summary()}
    facts = {(f.row, f.short): f.value for f in summary_facts(summary)}
    assert facts[("crosslinks", "aggregation")] == "plane"
    assert facts[("crosslinks", "carried down")] == str(ops.isl.counts.carried)
    assert ("bytes isl", "aggregate") in facts


def test_gossip_runs_are_not_warned_about_the_ground_never_aggregating() -> None:
    plain = {"aggregations": 0}
    assert any("no aggregation" in w for w in run_warnings(plain))
    assert not any("no aggregation" in w for w in run_warnings({**plain, "isl": {"aggregation": "gossip"}}))


@pytest.mark.slow  # a small teacher trained, then two short missions
@pytest.mark.parametrize(("mode", "aggregation"), [("plane", "fedbuff"), ("plane", "sync"), ("gossip", "fedasync")])
def test_fedkd_federates_over_crosslinks_with_the_teachers_labels(
    mode: str, aggregation: str, cache: Path, tmp_path: Path
) -> None:
    """With `fedkd` the teachers' soft labels go up at each contact as without crosslinks, and the
    crosslinks carry what the mode says: a plane's gathered updates, or neighbours' averages."""
    ops, events = _play(
        cache,
        tmp_path / mode,
        "federation.strategy=fedkd",
        f"federation.aggregation={aggregation}",
        "federation.buffer_size=2",
        "federation.round_size=2",
        f"federation.isl_aggregation={mode}",
        "distill.teachers=[{name: resnet8, input_size: 32, epochs: 1, lr: 0.01, batch_size: 64}]",
        "data.image_size=32",
    )
    assert ops.isl is not None
    up = [e for e in events if e["kind"] == "transfer" and e["complete"]]
    labels_up = [e for e in up if "knowledge" in e["payload"].split("+")]  # alone, or with the student
    assert labels_up, "no soft labels went up"
    if mode == "plane":
        carried = [e for e in events if e["kind"] == "isl_carried"]
        assert carried and max(len(e["satellites"]) for e in carried) >= 2
        assert ops.ground.version >= 1
    else:
        assert ops.isl.counts.bytes["gossip"] > 0 and ops.ground.version == 0


def _labels(ids: list[int]) -> KnowledgePacket:
    n = len(ids)
    return KnowledgePacket(
        np.array(ids, np.int64), np.full((n, 10), 0.1, np.float16), np.ones(n, np.float32), np.zeros(n, np.float32)
    )


def test_labels_handed_to_a_plane_mate_are_not_sent_again_from_a_station() -> None:
    """The ground's count of a satellite's labels: delivered, relayed over crosslinks (not sent
    from a station again), in its own packet in flight (which keeps the order: no relay then)."""
    ground = GroundSegment(
        model={"w": np.zeros(2, np.float32)},
        strategy=get_strategy("fedkd"),
        aggregator=make_aggregator("fedasync", AggregatorSettings(), 2),
        num_satellites=2,
        num_classes=10,
        max_labels_per_contact=4,
    )
    ground.queue[1] = _labels(list(range(10)))

    def size(packet: UplinkPacket) -> int:
        return 100 + 40 * len(packet.knowledge)

    relayed = ground.build_relay(1, 100 + 40 * 3, size)  # three fit the carrier's uplink
    assert relayed is not None and relayed.ids.tolist() == [0, 1, 2]
    assert ground.relayed == [0, 3] and ground.labels_pending(1) == 7
    assert ground.build_relay(1, 100 + 39, size) is None  # not one more fits
    own = ground.build_uplink(1, 0, 10**6, size)  # its own contact: the next ones, at most four
    assert own is not None and own.knowledge.ids.tolist() == [3, 4, 5, 6]
    assert ground.build_relay(1, 10**6, size) is None  # its own packet is in flight: they go in order
    ground.mark_delivered(1, own)
    ground.relay_delivered(1, 3)  # the relayed three reach it over the ring
    assert ground.sent == [0, 7] and ground.relayed == [0, 0]
    again = ground.build_relay(1, 10**6, size)
    assert again is not None and again.ids.tolist() == [7, 8, 9]
    assert ground.build_uplink(1, 0, 10**6, size) is None  # nothing left for a station to send


@pytest.mark.slow  # a small teacher trained, then a mission
def test_a_plane_relays_its_mates_soft_labels_over_the_ring(cache: Path, tmp_path: Path) -> None:
    """fedkd over a plane, a few labels per contact: a satellite at a station takes up labels
    for its plane-mates, which cross the ring to them and go on board; each label reaches its
    satellite once (through its own uplink or over the ring), and the bytes are the messages'."""
    overrides = (
        "federation.strategy=fedkd",
        "federation.aggregation=fedbuff",
        "federation.buffer_size=2",
        "federation.isl_aggregation=plane",
        "federation.max_labels_per_contact=5",
        "distill.teachers=[{name: resnet8, input_size: 32, epochs: 1, lr: 0.01, batch_size: 64}]",
        "data.image_size=32",
    )
    ops, events = _play(cache, tmp_path / "relayed", *overrides)
    assert ops.isl is not None
    ground, plane = ops.ground, ops.isl.plan.planes[0]
    up = [e for e in events if e["kind"] == "isl_relay_up"]
    home = [e for e in events if e["kind"] == "isl_labels_home"]
    assert up and home and ops.isl.counts.labels_relayed == sum(e["labels"] for e in home) > 0
    for e in up:  # for plane-mates, never for the carrier itself
        assert all(int(mate) in plane and int(mate) != e["satellite"] for mate in e["labels"])
    for s in range(len(ops.satellites)):
        relayed_to_s = sum(e["labels"].get(str(s), 0) for e in up)
        arrived = sum(e["labels"] for e in home if e["satellite"] == s)
        assert relayed_to_s == arrived + ground.relayed[s]  # arrived, or still on the ring at the end
        own = sum(  # labels its own uplinks brought it from the stations ("global v3 + 5 labels ...")
            int(found.group(1))
            for e in events
            if e["kind"] == "transfer" and e["satellite"] == s and e["direction"] == "up" and e["complete"]
            for found in [re.search(r"(\d+) labels", e["label"])]
            if found
        )
        assert ground.sent[s] == own + arrived
        assert ground.sent[s] + ground.relayed[s] + ground.labels_pending(s) == len(ground.queue[s])
    crossed = [e for e in events if e["kind"] == "isl_transfer" and e["payload"] == "labels"]
    assert crossed and sum(e["bytes"] for e in crossed) == ops.isl.counts.bytes["labels"]
    empty = KnowledgePacket.empty(ground.num_classes)
    assert all(e["total_bytes"] > payloads.uplink_bytes(UplinkPacket(0, None, empty)) for e in crossed)
    assert ops.isl.summary()["labels_relayed"] == ops.isl.counts.labels_relayed
    # isl.relay_labels=false: each satellite gets its labels only at its own passes
    alone, events = _play(cache, tmp_path / "alone", *overrides, "isl.relay_labels=false")
    assert alone.isl is not None and alone.isl.counts.labels_relayed == 0 == alone.isl.counts.bytes["labels"]
    assert not [e for e in events if e["kind"] in ("isl_relay_up", "isl_labels_home")]
    assert sum(alone.ground.relayed) == 0 and sum(alone.ground.sent) < sum(ground.sent)


@pytest.mark.slow  # a mission
def test_the_optical_preset_moves_a_student_in_milliseconds_after_a_30_s_acquisition(
    cache: Path, tmp_path: Path
) -> None:
    """`isl=optical` in a mission: 10 Gbit/s, 30 s of pointing and acquisition once per window,
    60 W per busy terminal, four terminals (grid pairs; one plane here, so its ring)."""
    ops, events = _play(
        cache, tmp_path, "isl=optical", "federation.isl_aggregation=plane", "mission.duration_hours=0.5"
    )
    assert ops.isl is not None
    plan = ops.isl.plan
    assert (plan.rate_bps, plan.setup_s, plan.power_w, plan.terminals) == (10e9, 30.0, 60.0, 4)
    crossed = [e for e in events if e["kind"] == "isl_transfer" and e["complete"]]
    assert crossed and {e["payload"] for e in crossed} >= {"model", "aggregate"}
    for e in crossed:  # a student of ~430 kB crosses in milliseconds
        assert e["time_s"] - e["start_s"] <= e["bytes"] * 8 / plan.rate_bps + 0.002  # both to the ms
    # both ends' terminals are busy for the acquisition of each window, and hardly longer
    opened = ops.isl.counts.windows
    assert opened == len(plan.windows) > 0
    assert 2 * plan.setup_s * opened <= ops.isl.counts.busy_s <= 2 * plan.setup_s * opened + 1.0
    assert ops.isl.energy_wh() == pytest.approx(ops.isl.counts.busy_s * plan.power_w / 3600.0, rel=1e-3)

"""Inter-satellite links in the mission (`IslPlan.mode` plane or gossip).

Each link window of the plan (`simsat.world.isl`) is one SimPy process. While the window is open
the two satellites send each other what the federation asks for, one message at a time: each
message takes a terminal on both satellites (a SimPy resource of `terminals` per satellite, as a
station's antennas are), the link's acquisition time once per window (`setup_s`), then its bytes at
`rate_bps`; both terminals draw `power_w` from their batteries meanwhile. A message cut by the
window's end resumes in the pair's next window (if it is still of use then). Byte counts are the
serialised sizes of the messages (the transport's own counts). A window can be lost
(`FaultSettings.isl_loss_rate`, drawn from the run's seed).

What crosses (see `simsat.mission.isl_merge` for the arithmetic):

- ``plane``: a satellite's update stays on board in its plane's aggregate. Aggregates travel
  along the ring towards the satellite of the plane that meets a station next (known from the
  contact plan, as a real plane's would be): a satellite sends its neighbour, if that neighbour is
  nearer the carrier on the ring, the updates it lacks (as one combined update), and the carrier
  takes the plane's updates down as one. A global student newer
  than a neighbour's goes to it over the link (`model`), and it trains from it, once its own last
  update has reached the ground (in someone's aggregate). With soft labels (`fedkd`), a satellite
  at a station also takes up, after its own packet and as the pass's uplink allows, the labels the
  ground holds for its plane-mates; they travel along the ring towards their satellite (`labels`,
  each hop nearer it) and go on board when it is idle (it trains on them as on labels from a
  station, once its last update has reached the ground). Labels handed to the plane are not sent
  from a station again: if the satellite carrying them fails, they are lost.
- ``gossip``: each satellite sends its newest trained model to its neighbours, which average it
  into theirs (on board: no ground aggregation). A satellite trains once per ground contact from
  its averaged model; the ground scores the model a station hears (metrics row `isl_heard`).

Which updates have reached the ground is known plane-wide at once (in orbit the new global
student carries that acknowledgement); a receiver merges the sender's updates by satellite, so an
update counts once however many paths bring it.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from simsat.mission.ground import concat_knowledge
from simsat.mission.isl_merge import Bundle, Contribution, combine, gossip_average, merge, newer
from simsat.mission.packets import KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket
from simsat.world.links import Transfer, transmit

if TYPE_CHECKING:
    from simsat.mission.operations import Operations
    from simsat.mission.state import SatelliteState

log = logging.getLogger(__name__)

ISL_MODES = ("plane", "gossip")
ISL_KINDS = ("model", "aggregate", "labels", "gossip")  # what crosses a crosslink (summary.json bytes.isl)
GOSSIP_VERSION_BASE = 1 << 30
"""Models averaged on board get versions from here on, apart from the ground's global versions."""


@dataclass(frozen=True)
class IslLink:
    """A window in which satellites `a` and `b` can link (seconds from the mission start)."""

    a: int
    b: int
    start_s: float
    end_s: float


@dataclass(frozen=True)
class IslPlan:
    """The crosslinks the federation uses: how (`mode`), the plan's windows, the orbit planes, and
    the terminals (rate, acquisition time, power, how many per satellite)."""

    mode: str  # plane | gossip
    windows: tuple[IslLink, ...]
    planes: tuple[tuple[int, ...], ...]  # satellite indices by orbit plane
    rate_bps: float
    setup_s: float
    power_w: float
    terminals: int
    relay_labels: bool = True  # plane, soft labels: plane-mates' labels go up with a satellite at a station


@dataclass
class _Job:
    """One message over a link: `kind`, from `sender` to `receiver`; its content and size are
    made when it is first sent (`nbytes` -1 until then)."""

    kind: str
    sender: int
    receiver: int
    label: str
    nbytes: int = -1
    version: int = -1  # model: the global version sent
    bundle: Bundle = field(default_factory=dict)  # aggregate: the contributions it carries
    update: UpdatePacket | None = None  # aggregate: the combined update; gossip: the model
    seq: int = 0  # gossip: the sender's training it comes from
    dest: int = -1  # labels: the satellite they are for
    chunks: tuple[KnowledgePacket, ...] = ()  # labels: the relayed packets they carry


@dataclass
class IslCounts:
    """What the links did, for the summary."""

    windows: int = 0  # windows that opened (not lost)
    windows_lost: int = 0
    messages: int = 0  # messages that arrived whole
    aggregations: int = 0  # plane: merges that added an update; gossip: averages
    carried: int = 0  # plane: aggregates that reached the ground
    labels_relayed: int = 0  # plane: soft labels that reached their satellite over crosslinks
    busy_s: float = 0.0  # terminal-seconds (both ends) spent on setup and transfers that ended
    bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ISL_KINDS, 0))


class IslMission:
    """The link processes and what the satellites hold for the federation over them."""

    def __init__(self, ops: Operations, plan: IslPlan) -> None:
        self.ops = ops
        self.plan = plan
        self.env = ops.env
        n = len(ops.satellites)
        self.terminals = [simpy.Resource(self.env, capacity=plan.terminals) for _ in range(n)]
        self.plane_of = {s: k for k, plane in enumerate(plan.planes) for s in plane}
        self.counts = IslCounts()
        self.changed = self.env.event()
        self.seq = [0] * n  # trainings whose update the ISL took, per satellite
        self.bundles: list[Bundle] = [{} for _ in range(n)]  # plane: what each satellite holds
        self.delivered: dict[int, int] = {}  # satellite -> its newest contribution that reached the ground
        self.carrying: dict[int, Bundle] = {}  # satellite -> the aggregate it is downlinking
        self.own: list[tuple[int, UpdatePacket] | None] = [None] * n  # gossip: newest trained model
        self.current: list[tuple[ModelArrays, int] | None] = [None] * n  # gossip: the model it trains from
        self.got: dict[tuple[int, int], int] = {}  # gossip: (sender, receiver) -> seq received
        self.inbox: list[list[UpdatePacket]] = [[] for _ in range(n)]  # gossip: received while training
        self.heard: list[int] = [0] * n  # gossip: seq of the last model the ground heard
        self.next_gossip_version = GOSSIP_VERSION_BASE
        self.pending: dict[tuple[int, int], tuple[Transfer, _Job]] = {}
        self.outgoing: dict[int, dict[int, KnowledgePacket]] = {}  # carrier -> plane-mate -> labels going up
        self.labels: list[dict[int, list[KnowledgePacket]]] = [{} for _ in range(n)]  # holder -> for whom -> labels
        self.homing: set[int] = set()  # satellites whose relayed labels are being put on board
        self.ring = {s: (k, i) for k, plane in enumerate(plan.planes) for i, s in enumerate(plane)}
        # each plane's passes over the stations, by start: (start_s, end_s, satellite)
        self.passes: list[list[tuple[float, float, int]]] = [[] for _ in plan.planes]
        for window in ops.plan.world.contacts:
            if window.satellite in self.ring:
                self.passes[self.ring[window.satellite][0]].append((window.start_s, window.end_s, window.satellite))
        for passes in self.passes:
            passes.sort()
        self._longest_pass = max((e - b for p in self.passes for b, e, _ in p), default=0.0)

    # -- hooks the mission calls ------------------------------------------------------------------
    def start(self) -> None:
        for k, link in enumerate(self.plan.windows):
            self.env.process(self._window(k, link))

    def trained(self, sat: SatelliteState) -> None:
        """A training left an update on board: it stays there for the ISL federation."""
        sat.update_ready = False
        fetched = None
        with self.ops.reply_guard(sat.index, "query.downlink"):
            fetched = self.ops.transport.downlink(sat.index).result()
        if fetched is None:
            return
        update = fetched[0]
        self.seq[sat.index] += 1
        seq = self.seq[sat.index]
        if self.plan.mode == "plane":
            self.bundles[sat.index][sat.index] = Contribution(sat.index, seq, update)
        else:
            self.own[sat.index] = (seq, update)
            self.current[sat.index] = (update.model, update.num_examples)
            self.env.process(self._hold(sat.index, list(self.inbox[sat.index])))
            self.inbox[sat.index] = []
        self._changed()

    def to_ground(self, satellite: int) -> UpdatePacket | None:
        """The update the satellite downlinks at a contact (None: nothing): its plane's aggregate
        (plane) or its own newest model (gossip)."""
        if self.plan.mode == "plane":
            offer = self._undelivered(self.bundles[satellite])
            if not offer:
                return None
            self.carrying[satellite] = offer
            return combine(offer, self.ops.ground.aggregator.staleness_weight)
        own = self.own[satellite]
        if own is None or own[0] <= self.heard[satellite]:
            return None
        self.carrying[satellite] = {satellite: Contribution(satellite, own[0], own[1])}
        return own[1]

    def arrived(self, satellite: int, update: UpdatePacket) -> bool:
        """The downlinked update reached the ground. True when the ISL federation took it (gossip:
        the ground scores the model it heard); False: the ground's aggregation rule takes it."""
        carried = self.carrying.pop(satellite, {})
        if self.plan.mode == "gossip":
            self.heard[satellite] = max([self.heard[satellite], *(c.seq for c in carried.values())])
            self.ops.event("isl_heard", satellite=satellite, examples=update.num_examples)
            self.ops.metric("isl_heard", [satellite], [0], self.ops.score_later(update.model))
            return True
        for s, c in carried.items():
            self.delivered[s] = max(self.delivered.get(s, 0), c.seq)
        for k, bundle in enumerate(self.bundles):
            self.bundles[k] = self._undelivered(bundle)
        self.counts.carried += 1
        self.ops.event("isl_carried", satellite=satellite, satellites=sorted(carried), examples=update.num_examples)
        self._changed()
        return False

    def new_model(self) -> None:
        """A satellite took a newer global student from a station."""
        self._changed()

    def relay_up(self, carrier: int, budget_bytes: int) -> int:
        """plane, with soft labels: the labels for the carrier's plane-mates that its uplink takes
        after its own packet, nearest plane-mates first, within `budget_bytes`. Returns their bytes
        (labels-only packets, serialised)."""
        ground = self.ops.ground
        relays = self.plan.mode == "plane" and self.plan.relay_labels and ground.strategy.knowledge
        if not relays or carrier not in self.ring:
            return 0
        plane = self.plan.planes[self.ring[carrier][0]]
        total, out = 0, {}
        for mate in sorted((s for s in plane if s != carrier), key=lambda s: (self._hops(carrier, s), s)):
            labels = ground.build_relay(mate, budget_bytes - total, self.ops.transport.uplink_bytes)
            if labels is not None:
                out[mate] = labels
                total += self._labels_bytes((labels,))
        if out:
            self.outgoing[carrier] = out
        return total

    def relay_arrived(self, carrier: int) -> None:
        """The carrier's uplink arrived: the plane-mates' labels it took are on board, to relay."""
        out = self.outgoing.pop(carrier, {})
        for mate, labels in out.items():
            self._hold_labels(carrier, mate, (labels,))
        if out:
            self.ops.event("isl_relay_up", satellite=carrier, labels={str(m): len(k) for m, k in out.items()})
            self._changed()

    def idle(self, satellite: int) -> None:
        """The satellite's computer finished a training: relayed labels waiting there go on board."""
        if self.labels[satellite].get(satellite):
            self.env.process(self._home(satellite))

    @property
    def trains_each_contact(self) -> bool:
        """gossip: a satellite trains at each ground contact even when nothing goes up to it."""
        return self.plan.mode == "gossip"

    # -- state ----------------------------------------------------------------------------------
    def _changed(self) -> None:
        event, self.changed = self.changed, self.env.event()
        event.succeed()

    def _undelivered(self, bundle: Bundle) -> Bundle:
        return {s: c for s, c in bundle.items() if c.seq > self.delivered.get(s, 0)}

    def _hops(self, a: int, b: int) -> int:
        """Hops between two satellites of one plane along its ring."""
        m, i, j = len(self.plan.planes[self.ring[a][0]]), self.ring[a][1], self.ring[b][1]
        return min((i - j) % m, (j - i) % m)

    def _same_plane(self, a: int, b: int) -> bool:
        return a in self.plane_of and self.plane_of.get(a) == self.plane_of.get(b)

    def carrier(self, plane: int) -> int | None:
        """The satellite of the plane whose pass over a station comes next (or is under way)."""
        now = self.env.now
        passes = self.passes[plane]
        first = bisect.bisect_left(passes, (now - self._longest_pass, -1.0, -1))
        return next((sat for _, end, sat in passes[first:] if end > now), None)

    def _towards_carrier(self, s: int, r: int) -> bool:
        """Whether `r` is nearer than `s` (on the plane's ring) to the plane's next carrier."""
        plane, i = self.ring[s]
        carrier = self.carrier(plane)
        if carrier is None:
            return False
        m, c, j = len(self.plan.planes[plane]), self.ring[carrier][1], self.ring[r][1]

        def hops(x: int) -> int:
            return min((x - c) % m, (c - x) % m)

        return hops(j) < hops(i)

    def _labels_bytes(self, chunks: tuple[KnowledgePacket, ...]) -> int:
        packet = UplinkPacket(self.ops.ground.offered()[0], None, concat_knowledge(list(chunks)))
        return self.ops.transport.uplink_bytes(packet)

    def _hold_labels(self, holder: int, mate: int, chunks: tuple[KnowledgePacket, ...]) -> None:
        self.labels[holder].setdefault(mate, []).extend(chunks)
        if holder == mate:
            self.env.process(self._home(mate))

    def _home(self, satellite: int) -> Generator[simpy.Event, Any, None]:
        """Relayed labels that reached their satellite go on board once its computer is idle."""
        if satellite in self.homing:
            return
        self.homing.add(satellite)
        try:
            while self.labels[satellite].get(satellite):
                while self.ops.node_busy(satellite):
                    yield self.changed | self.env.timeout(60.0)
                if not self.ops.faults.usable(satellite, self.env.now):
                    return
                chunks = self.labels[satellite].pop(satellite)
                sat = self.ops.satellites[satellite]
                knowledge = concat_knowledge(chunks)
                train = sat.model_version >= 0 and self._takes_model(satellite)
                packet = UplinkPacket(sat.model_version, None, knowledge)
                delivered = yield from self.ops.deliver(sat, packet, from_ground=False, train=train)
                if not delivered:
                    self.labels[satellite].setdefault(satellite, [])[:0] = chunks  # again when it is next idle
                    return
                self.ops.ground.relay_delivered(satellite, len(knowledge))
                self.counts.labels_relayed += len(knowledge)
                self.ops.event("isl_labels_home", satellite=satellite, labels=len(knowledge), trains=train)
        finally:
            self.homing.discard(satellite)

    def _useful(self, job: _Job) -> bool:
        """Whether a message is still worth sending (or, when it arrives, taking)."""
        receiver = self.ops.satellites[job.receiver]
        if job.kind == "model":
            return receiver.model_version < job.version and self._takes_model(job.receiver)
        if job.kind == "labels":
            held = self.labels[job.sender].get(job.dest, [])
            return any(c is chunk for chunk in job.chunks for c in held)
        if job.kind == "aggregate":
            return self._towards_carrier(job.sender, job.receiver) and bool(
                newer(self._undelivered(self.bundles[job.receiver]), self._undelivered(job.bundle))
            )
        return self.got.get((job.sender, job.receiver), 0) < job.seq

    def _takes_model(self, satellite: int) -> bool:
        """A satellite takes a global student over a link when it is idle, usable, and its last
        update has reached the ground (training again would waste it)."""
        return (
            not self.ops.node_busy(satellite)
            and self.ops.faults.usable(satellite, self.env.now)
            and self.delivered.get(satellite, 0) >= self.seq[satellite]
        )

    def _next_job(self, a: int, b: int) -> _Job | None:
        for pair in ((a, b), (b, a)):
            held = self.pending.get(pair)
            if held is not None:
                if self._useful(held[1]):
                    return held[1]
                del self.pending[pair]
        for s, r in ((a, b), (b, a)):
            job = self._new_job(s, r)
            if job is not None:
                return job
        return None

    def _new_job(self, s: int, r: int) -> _Job | None:
        if not self.ops.faults.usable(s, self.env.now) or not self.ops.faults.usable(r, self.env.now):
            return None
        if self.plan.mode == "gossip":
            own = self.own[s]
            if own is None or self.got.get((s, r), 0) >= own[0]:
                return None
            seq, update = own
            return _Job("gossip", s, r, f"model of {s} #{seq}", update=update, seq=seq)
        if not self._same_plane(s, r):
            return None
        version = self.ops.satellites[s].model_version
        if version >= 0 and self.ops.satellites[r].model_version < version and self._takes_model(r):
            return _Job("model", s, r, f"global v{version}", version=version)
        for mate, chunks in sorted(self.labels[s].items()):
            if mate != s and chunks and self._hops(r, mate) < self._hops(s, mate):
                labels = sum(len(c) for c in chunks)
                return _Job("labels", s, r, f"{labels} labels for {mate}", dest=mate, chunks=tuple(chunks))
        offer = self._undelivered(self.bundles[s])
        if offer and self._towards_carrier(s, r) and newer(self._undelivered(self.bundles[r]), offer):
            return _Job("aggregate", s, r, f"aggregate of {len(offer)}", bundle=offer)
        return None

    def _model_packet(self, version: int) -> UplinkPacket:
        ground = self.ops.ground
        return UplinkPacket(version, ground.history[version], KnowledgePacket.empty(ground.num_classes))

    # -- the link processes -----------------------------------------------------------------------
    def _window(self, k: int, link: IslLink) -> Generator[simpy.Event, Any, None]:
        if link.start_s > self.env.now:
            yield self.env.timeout(link.start_s - self.env.now)
        if self.ops.faults.isl_lost(k, link.a, link.b):
            self.counts.windows_lost += 1
            return
        self.counts.windows += 1
        acquired = False
        while self.env.now < link.end_s:
            job = self._next_job(link.a, link.b)
            if job is None:
                yield self.changed | self.env.timeout(link.end_s - self.env.now)
                continue
            sent = yield from self._send(job, link, acquired)
            if sent is None:
                return  # the window closed before both terminals were free
            acquired = True
            if sent:
                yield from self._arrived(job)

    def _send(self, job: _Job, link: IslLink, acquired: bool) -> Generator[simpy.Event, Any, bool | None]:
        """Send (or resume) `job` within the window: True when it arrived whole, False when cut,
        None when no terminal came free before the window closed."""
        pair = (job.sender, job.receiver)
        held = self.pending.get(pair)
        transfer = held[0] if held is not None else Transfer(self._made(job), "crosslink", job.label)
        self.pending[pair] = (transfer, job)
        with self.terminals[link.a].request() as ta, self.terminals[link.b].request() as tb:
            closes = self.env.timeout(max(link.end_s - self.env.now, 0.0))
            yield (ta & tb) | closes
            if not (ta.triggered and tb.triggered):
                return None
            batteries = [self.ops.satellites[s].battery for s in (job.sender, job.receiver)]
            load = f"isl:{job.sender}-{job.receiver}"
            for battery in batteries:
                battery.add_load(load, self.plan.power_w)
            began = self.env.now
            try:
                if not acquired and self.plan.setup_s > 0:
                    yield self.env.timeout(min(self.plan.setup_s, link.end_s - self.env.now))
                start_s, before = self.env.now, transfer.bytes_done
                sent = yield self.env.process(transmit(self.env, transfer, self.plan.rate_bps, link.end_s))
            finally:
                for battery in batteries:
                    battery.remove_load(load)
                self.counts.busy_s += 2 * (self.env.now - began)
        self.counts.bytes[job.kind] += int(sent)
        self.ops.event(
            "isl_transfer",
            satellite=job.sender,
            peer=job.receiver,
            payload=job.kind,
            label=job.label,
            bytes=int(sent),
            bytes_before=before,
            total_bytes=transfer.nbytes,
            complete=transfer.done,
            start_s=round(start_s, 3),
        )
        if transfer.done:
            del self.pending[pair]
        return transfer.done

    def _made(self, job: _Job) -> int:
        """The job's message made (an aggregate's combined update), and its serialised size."""
        if job.kind == "model":
            job.nbytes = self.ops.transport.uplink_bytes(self._model_packet(job.version))
        elif job.kind == "labels":
            job.nbytes = self._labels_bytes(job.chunks)
        else:
            if job.kind == "aggregate":
                job.update = combine(job.bundle, self.ops.ground.aggregator.staleness_weight)
            assert job.update is not None
            job.nbytes = self.ops.transport.update_bytes(job.update)
        return job.nbytes

    def _arrived(self, job: _Job) -> Generator[simpy.Event, Any, None]:
        self.counts.messages += 1
        if not self._useful(job):
            return  # superseded while it crossed (e.g. the update reached the ground another way)
        r = job.receiver
        if job.kind == "aggregate":
            added = newer(self._undelivered(self.bundles[r]), self._undelivered(job.bundle))
            self.bundles[r] = merge(self._undelivered(self.bundles[r]), self._undelivered(job.bundle))
            self.counts.aggregations += 1
            self.ops.event("isl_merge", satellite=r, peer=job.sender, added=added, holds=sorted(self.bundles[r]))
            self._changed()
        elif job.kind == "model":
            yield from self.ops.deliver(self.ops.satellites[r], self._model_packet(job.version), from_ground=False)
            self._changed()
        elif job.kind == "labels":
            held = self.labels[job.sender].get(job.dest, [])
            rest = [c for c in held if not any(c is chunk for chunk in job.chunks)]
            if rest:
                self.labels[job.sender][job.dest] = rest
            else:
                self.labels[job.sender].pop(job.dest, None)
            self._hold_labels(r, job.dest, job.chunks)
            self._changed()
        else:
            assert job.update is not None
            self.got[(job.sender, r)] = job.seq
            if self.ops.node_busy(r):
                self.inbox[r].append(job.update)
            else:
                yield from self._hold(r, [job.update])

    def _hold(self, satellite: int, received: list[UpdatePacket]) -> Generator[simpy.Event, Any, None]:
        """gossip: average the received models into the satellite's own and leave the result on
        board as the model it trains from next."""
        sat = self.ops.satellites[satellite]
        current = self.current[satellite]
        if current is None:
            if sat.model_version < 0 or not received:
                self.inbox[satellite].extend(received)  # nothing of its own yet to average into
                return
            model: ModelArrays = self._model_of(sat.model_version)
            examples = 0
        else:
            model, examples = current
        for update in received:
            model = gossip_average(model, examples, update.model, update.num_examples)
            examples = max(examples, update.num_examples)
            self.counts.aggregations += 1
        self.current[satellite] = (model, examples)
        version = self.next_gossip_version
        self.next_gossip_version += 1
        packet = UplinkPacket(version, model, KnowledgePacket.empty(self.ops.ground.num_classes))
        if received:
            self.ops.event("isl_average", satellite=satellite, models=len(received) + 1, version=version)
        yield from self.ops.deliver(sat, packet, from_ground=False, train=False)

    def _model_of(self, version: int) -> ModelArrays:
        return self.ops.ground.history.get(version, self.ops.ground.model)

    def energy_wh(self) -> float:
        """Energy the terminals drew from the batteries (a transfer under way at the end included)."""
        return sum(
            wh for s in self.ops.satellites for name, wh in s.battery.energy_used_wh.items() if name.startswith("isl:")
        )

    def summary(self) -> dict[str, Any]:
        c = self.counts
        return {
            "aggregation": self.plan.mode,
            "windows": {"planned": len(self.plan.windows), "opened": c.windows, "lost": c.windows_lost},
            "messages": c.messages,
            "aggregations": c.aggregations,
            "carried_down": c.carried,
            "labels_relayed": c.labels_relayed,
            "terminal_busy_seconds": round(c.busy_s, 1),
            "energy_wh": round(self.energy_wh(), 4),
        }

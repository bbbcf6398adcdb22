"""A satellite's contact with a ground station, as a SimPy process.

In a window the satellite takes one of the station's antennas (`WorldPlan.antenna_priority`
orders the requests), downlinks its pending update (the aggregation rule decides what the
ground does with it), then imagery within its share of the window's downlink (the ground's
teachers label what arrives), then uplinks what the strategy sends: the global student and as
many soft labels as the window allows. The antenna tracks the satellite until it sets. Transfers
cut by the end of a window resume in the next one. A delivered uplink goes to the satellite's
node with the order of the training it feeds (`simsat.mission.training`). `Contacts` runs these
processes for `simsat.mission.operations`.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simsat.mission.imagery import decode_packet
from simsat.mission.packets import UplinkPacket
from simsat.mission.state import SatelliteState
from simsat.world.antennas import forecast_grants
from simsat.world.contacts import ContactWindow
from simsat.world.links import Transfer, bytes_in, transmit
from simsat.world.rates import RateProfile

if TYPE_CHECKING:
    from simsat.mission.operations import Operations


class Contacts:
    """The satellites' ground contacts: the stations' antennas, the transfers in each pass and
    the delivery of what goes up."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.env = ops.env
        self.antennas = [simpy.PriorityResource(ops.env, capacity=s.antennas) for s in ops.plan.world.stations]
        self._model_bytes: dict[int, int] = {}  # global version -> bytes of the student alone in a packet
        # the windows forecast to get an antenna: imagery is asked ahead only for those
        world = ops.plan.world
        asks_ahead = ops.strategy.imagery and ops.plan.imagery.share > 0
        self._forecast = (
            forecast_grants(world.contacts, [s.antennas for s in world.stations], world.antenna_policy)
            if asks_ahead
            else set()
        )

    def contact(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        """One contact (a SimPy process): the antenna, then update down, imagery down, uplink."""
        ops = self.ops
        antenna = self.antennas[window.station]
        station = ops.plan.world.stations[window.station].name
        # simpy types priority as int; it only compares priorities, and the tuple orders requests
        with antenna.request(priority=ops.plan.world.antenna_priority(window)) as request:  # type: ignore[arg-type]
            closes = self.env.timeout(max(window.end_s - self.env.now, 0.0))
            granted = yield request | closes
            if request not in granted:
                ops.event("contact_missed", satellite=sat.index, station=station)
                return
            sat.contacts += 1
            ops.event(
                "contact_start",
                satellite=sat.index,
                station=station,
                end_s=window.end_s,
                max_elevation_deg=window.max_elevation_deg,
            )
            yield from self._downlink_update(sat, window)
            yield from self._downlink_imagery(sat, window)
            yield from self._uplink(sat, window)
            # The antenna keeps tracking the satellite until it sets.
            if window.end_s > self.env.now:
                yield self.env.timeout(window.end_s - self.env.now)
            ops.event("contact_end", satellite=sat.index, station=station)

    def _send(
        self, sat: SatelliteState, transfer: Transfer, window: ContactWindow, uplink: bool, shares: dict[str, int]
    ) -> Generator[simpy.Event, Any, int]:
        """Transmit within the window. `shares` orders the transfer's bytes by kind (first kind
        first); the bytes sent are added to the satellite's counters by kind."""
        plan = self.ops.plan
        rate = plan.world.link_rate(window, "uplink" if uplink else "downlink")
        hardware = plan.hardware[sat.index]
        radio_w = hardware.radio_rx_w if uplink else hardware.radio_tx_w
        start_s, before = self.env.now, transfer.bytes_done
        sent = yield self.env.process(transmit(self.env, transfer, rate, window.end_s, sat.battery, radio_w))
        by_kind: dict[str, int] = {}
        offset = 0
        for kind, size in shares.items():
            lo, hi = offset, offset + size
            part = max(0, min(before + sent, hi) - max(before, lo))
            offset = hi
            if part:
                by_kind[kind] = part
                sat.bytes[kind] += part
        self.ops.event(
            "transfer",
            satellite=sat.index,
            direction="up" if uplink else "down",
            payload="+".join(shares),
            label=transfer.label,
            bytes=sent,
            bytes_by_kind=by_kind,
            total_bytes=transfer.nbytes,
            complete=transfer.done,
            start_s=round(start_s, 3),
        )
        return int(sent)

    def _downlink_update(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        ops = self.ops
        if sat.downlink is None and ops.isl is not None:  # its plane's aggregate, or its gossiped model
            carried = ops.isl.to_ground(sat.index)
            if carried is not None:
                nbytes = ops.transport.update_bytes(carried)
                sat.downlink = (Transfer(nbytes, "downlink", f"update v{carried.base_version}"), carried)
        if sat.downlink is None and sat.update_ready:
            _, fetched = yield from ops.ask(sat.index, "query.downlink", ops.transport.downlink(sat.index))
            sat.update_ready = False
            if fetched is not None:
                update, nbytes = fetched
                sat.downlink = (Transfer(nbytes, "downlink", f"update v{update.base_version}"), update)
        if sat.downlink is None:
            return
        transfer, update = sat.downlink
        yield from self._send(sat, transfer, window, uplink=False, shares={"update": transfer.nbytes})
        if not transfer.done:
            return
        sat.downlink = None
        ops.update_arrived(sat, update)

    def prefetch_imagery(self, sat: SatelliteState, window: ContactWindow) -> None:
        """Before a contact, ask the node for the most imagery the contact can ask of it (the
        images acquired by the window's end, within the bytes of its downlink share), so that
        it is on the ground when the contact asks (`Transport.prefetch_imagery`: the ask is
        answered from it, the same images and bytes). The images the ground takes are those the
        ask names, when it names them; the prefetch only takes the message off the critical path."""
        ops = self.ops
        plan = ops.plan.imagery
        if not ops.strategy.imagery or plan.share <= 0 or sat.imagery is not None or window not in self._forecast:
            return
        start = ops.ground.received[sat.index]
        stop = plan.acquired(ops.plan.images_held[sat.index], window.end_s)
        begins = max(window.start_s, self.env.now)
        if stop <= start or begins >= window.end_s:
            return
        budget = ops.plan.world.bytes_available(window, "downlink", begins, window.end_s)
        rate = ops.plan.world.link_rate(window, "downlink")
        if not isinstance(rate, RateProfile):  # no ask spans more than the share of the window
            budget = min(budget, bytes_in(plan.share * (window.end_s - window.start_s), rate))
        if budget > 0:
            ops.transport.prefetch_imagery(sat.index, start, stop, budget)

    def _downlink_imagery(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        ops = self.ops
        plan = ops.plan.imagery
        if not ops.strategy.imagery or plan.share <= 0 or self.env.now >= window.end_s:
            return
        if sat.imagery is None:
            if sat.training:
                return  # the node is busy; its images wait for the next window
            start = ops.ground.received[sat.index]
            stop = plan.acquired(ops.plan.images_held[sat.index], self.env.now)
            until = min(self.env.now + plan.share * (window.end_s - window.start_s), window.end_s)
            budget = ops.plan.world.bytes_available(window, "downlink", self.env.now, until)
            if stop <= start or budget <= 0:
                return
            asked = ops.transport.imagery(sat.index, start, stop, budget)
            _, reply = yield from ops.ask(sat.index, "query.imagery", asked)
            if reply is None:
                return
            packet, nbytes = reply
            if len(packet) == 0:
                return
            sat.imagery = (Transfer(nbytes, "downlink", f"{len(packet)} images"), packet)
        transfer, packet = sat.imagery
        yield from self._send(sat, transfer, window, uplink=False, shares={"imagery": transfer.nbytes})
        if not transfer.done:
            return
        sat.imagery = None
        sat.images_down += len(packet)
        began = time.perf_counter()
        images = decode_packet(plan.codec, packet, plan.edge)
        labels = ops.ground.receive_imagery(sat.index, images, packet.ids)
        ops.clock.label_s += time.perf_counter() - began
        ops.event(
            "imagery_received",
            satellite=sat.index,
            images=len(packet),
            encoded_bytes=packet.encoded_bytes,
            soft_labels=labels,
        )

    def _model_share(self, packet: UplinkPacket) -> int:
        """Bytes of the packet that are the student (with the packet's framing); the rest are
        soft labels."""
        if packet.model is None:
            return 0
        if packet.version not in self._model_bytes:
            alone = UplinkPacket(packet.version, packet.model, packet.knowledge.take(slice(0, 0)))
            self._model_bytes[packet.version] = self.ops.transport.uplink_bytes(alone)
        return self._model_bytes[packet.version]

    def _uplink(self, sat: SatelliteState, window: ContactWindow) -> Generator[simpy.Event, Any, None]:
        ops = self.ops
        if sat.training or self.env.now >= window.end_s:
            return
        if sat.uplink is None:
            budget = ops.plan.world.bytes_available(window, "uplink", self.env.now, window.end_s)
            packet = ops.ground.build_uplink(sat.index, sat.model_version, budget, ops.transport.uplink_bytes)
            own = 0 if packet is None else ops.transport.uplink_bytes(packet)
            again = sat.retrain or (ops.isl is not None and ops.isl.trains_each_contact)
            if packet is None and again and sat.model_version >= 0 and ops.strategy.downlinks_updates:
                self.env.process(ops.training.train(sat))
                return
            # plane-mates' soft labels the satellite carries to them over crosslinks, after its own
            relay = 0 if ops.isl is None else ops.isl.relay_up(sat.index, budget - own)
            if packet is None and relay == 0:
                return
            parts = [] if packet is None else [_uplink_label(packet)]
            label = " + ".join(parts + (["labels to relay"] if relay else []))
            model_share = 0 if packet is None else min(self._model_share(packet), own)
            sat.uplink = (Transfer(own + relay, "uplink", label), packet, model_share)
        transfer, uplinked, model_share = sat.uplink
        shares = {"model": model_share, "knowledge": transfer.nbytes - model_share}
        yield from self._send(sat, transfer, window, uplink=True, shares={k: v for k, v in shares.items() if v})
        if not transfer.done:
            return
        sat.uplink = None
        if ops.isl is not None:
            ops.isl.relay_arrived(sat.index)
        if uplinked is not None:
            yield from self.deliver(sat, uplinked)

    def deliver(
        self, sat: SatelliteState, packet: UplinkPacket, from_ground: bool = True, train: bool = True
    ) -> Generator[simpy.Event, Any, bool]:
        """`packet` has reached the satellite (from a station, or over a crosslink when not
        `from_ground`): its node takes it and, with `train`, trains next (in the same message).
        False: the node did not take it."""
        ops = self.ops
        training = ops.training
        training.settle(sat.index)
        planned = None
        if train and (sat.model_version >= 0 or packet.model is not None):
            planned = training.plan(sat, self.env.now + ops.plan.command_s, len(packet.knowledge))
        order = planned.order if planned is not None and ops.strategy.downlinks_updates else None
        sent = ops.transport.deliver(sat.index, packet, order)
        if order is not None:
            training.ordered.add(sat.index)
        delivered, _ = yield from ops.ask(sat.index, "train.deliver", sent)
        if not delivered:
            return False  # the node did not take it: the model and labels are sent again
        if from_ground:
            ops.ground.mark_delivered(sat.index, packet)
        if packet.model is not None:
            sat.model_version = packet.version
            if from_ground and ops.isl is not None:
                ops.isl.new_model()
        if train and sat.model_version >= 0 and ops.strategy.downlinks_updates:
            self.env.process(training.train(sat, planned))
        return True


def _uplink_label(packet: UplinkPacket) -> str:
    """How a transfer names an uplink packet: "global v3 + 12 labels" or "knowledge + 12 labels"."""
    what = f"global v{packet.version}" if packet.model is not None else "knowledge"
    return f"{what} + {len(packet.knowledge)} labels"

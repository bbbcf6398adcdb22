"""The satellite: a thin Flower ClientApp over the plain onboard functions.

Messages it answers (the ServerApp sends them when the simulated world says so):
- ``query.identify``: which satellite (partition id) this node simulates;
- ``train.deliver``: an uplink completed: store the global student it carries (if any) and merge
  its soft labels; with a ``train`` order (the usual case: a satellite trains right after an
  uplink) the onboard computer then trains on its first ``acquired`` images, and the reply
  carries the training's report and update (the update stays onboard until the simulated
  downlink; the ground keeps the reply aside until then);
- ``train.compute``: train without a new uplink (a training that failed is tried again);
- ``train.restore``: a resumed run replays a journaled training: hold its result as if trained;
- ``query.imagery``: encode images ``start``.. in acquisition order within ``budget`` bytes
  (reads no node memory, so it is safe while the node trains).
The node's memory between messages is its onboard storage (`simsat.federation.storage`);
Flower's ``context.state`` holds only its generation, so a message carries only what changes.
A handler that raises answers with an error reply (see `errors_as_replies`), as Flower does for
a failed ClientApp, so the ground records the failure and goes on.
"""

from __future__ import annotations

import logging
import pickle
import threading
from functools import lru_cache

from flwr.app import ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable

from simsat.errors import TrainingDiverged
from simsat.federation import payloads
from simsat.federation.storage import NodeMemory, OnboardStorage
from simsat.mission.faults import InjectedFault
from simsat.mission.imagery import ImageCodec, encode_within
from simsat.mission.onboard import OnboardSetup, load_shard, train_onboard, warm_up

log = logging.getLogger(__name__)

TRAIN = "train"

# Error codes of the replies of a handler that raised (Flower's own codes are below 100).
ERROR_RAISED = 9000
ERROR_INJECTED = 9001
ERROR_DIVERGED = 9002


def _partition(context: Context) -> int:
    return int(context.node_config["partition-id"])


def errors_as_replies(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """A Flower mod: an exception in a handler becomes an error reply naming it (code ERROR_*),
    so the failure reaches the ground as a result, without a traceback in the logs."""
    try:
        return call_next(msg, context)
    except TrainingDiverged as exc:
        return Message(Error(code=ERROR_DIVERGED, reason=str(exc)), reply_to=msg)
    except InjectedFault as exc:
        return Message(Error(code=ERROR_INJECTED, reason=str(exc)), reply_to=msg)
    except Exception as exc:
        return Message(Error(code=ERROR_RAISED, reason=f"{type(exc).__name__}: {exc}"), reply_to=msg)


def train_order(acquired: int, fail: bool = False) -> ConfigRecord:
    """The ``train`` record of a message that makes a node train."""
    return ConfigRecord({"acquired": int(acquired), "fail": bool(fail)})


class SatelliteApp(ClientApp):
    """The satellites' ClientApp. It travels to Ray's workers as its small `setup` only: a
    worker builds the app once and keeps it (with its onboard storage's cache) for every later
    message, as a satellite's computer stays up between contacts. Flower's engine sends the app
    with each message, so pickling the handlers' code and state would cost every message."""

    def __init__(self, setup: OnboardSetup, warm: bool = False) -> None:
        super().__init__(mods=[errors_as_replies])
        self.setup = setup
        # `warm`: the onboard computer boots (`warm_up`) on a thread of its own while the node
        # answers its first messages (the identify exchange); a training waits for it
        self.booted = threading.Event()
        if warm:
            threading.Thread(target=self._boot, name="simsat-warm-up", daemon=True).start()
        else:
            self.booted.set()
        _serve(self, setup)

    def _boot(self) -> None:
        try:
            warm_up(self.setup)
        except Exception as exc:  # the first training meets the same fault and answers with it
            log.warning("the onboard warm-up failed: %s", exc)
        finally:
            self.booted.set()

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return (_app_in_this_process, (pickle.dumps(self.setup),))


@lru_cache(maxsize=4)
def _app_in_this_process(setup: bytes) -> SatelliteApp:
    """The app for a pickled setup, built once per process (a Ray worker, at its first message:
    while the nodes are identified); it warms up before its first training, if it trains."""
    onboard: OnboardSetup = pickle.loads(setup)
    return SatelliteApp(onboard, warm=onboard.mode != "none")


def make_client_app(setup: OnboardSetup) -> SatelliteApp:
    """Build the satellites' ClientApp; `setup` is small and travels with the app to Ray actors.
    Nodes keep their memory in `setup.storage_dir` (empty: in this process only)."""
    return SatelliteApp(setup)


def _serve(app: SatelliteApp, setup: OnboardSetup) -> None:
    """Register the satellite's message handlers on `app`."""
    codec = ImageCodec(setup.image_size, setup.image_quality)
    storage = OnboardStorage(setup.num_classes, setup.storage_dir)

    @app.query("identify")
    def identify(msg: Message, context: Context) -> Message:
        content = RecordDict({"node": ConfigRecord({"partition_id": _partition(context)})})
        return Message(content=content, reply_to=msg)

    def _train(msg: Message, context: Context, memory: NodeMemory) -> RecordDict:
        app.booted.wait()
        order = msg.content.config_records[TRAIN]
        if order.get("fail"):
            raise InjectedFault("injected training failure (train_failure_rate)")
        sat = _partition(context)
        images, ids, labels = load_shard(setup.shards_dir, sat)
        if memory.model is None:
            raise RuntimeError("asked to train before any global student arrived")
        update, report = train_onboard(
            setup,
            satellite=sat,
            images=images,
            ids=ids,
            labels=labels,
            acquired=payloads.record_int(order, "acquired"),
            base_model=memory.model,
            version=memory.version,
            knowledge=memory.knowledge,
        )
        content = RecordDict(
            {
                "report": MetricRecord(
                    {
                        "num_examples": report.num_examples,
                        "unlabelled": report.unlabelled,
                        "loss": report.loss,
                        "wall_seconds": report.wall_seconds,
                    }
                )
            }
        )
        if report.num_examples > 0:
            if setup.keep_own_model:
                storage.save(sat, context, NodeMemory(memory.version, update.model, memory.knowledge, own=True))
            records = payloads.update_content(update)
            content[payloads.MODEL] = records.array_records[payloads.MODEL]
            content[payloads.META] = records.metric_records[payloads.META]
        return content

    @app.train("deliver")
    def deliver(msg: Message, context: Context) -> Message:
        packet = payloads.content_uplink(msg.content)
        sat = _partition(context)
        memory = storage.load(sat, context)
        if packet.model is not None:
            memory = NodeMemory(packet.version, packet.model, memory.knowledge)
        memory = NodeMemory(memory.version, memory.model, memory.knowledge.merge(packet.knowledge), memory.own)
        storage.save(sat, context, memory)
        content = RecordDict({"ack": MetricRecord({"labels_held": len(memory.knowledge)})})
        if TRAIN in msg.content.config_records:
            for key, record in _train(msg, context, memory).items():
                content[key] = record
        return Message(content=content, reply_to=msg)

    @app.train("compute")
    def compute(msg: Message, context: Context) -> Message:
        memory = storage.load(_partition(context), context)
        return Message(content=_train(msg, context, memory), reply_to=msg)

    @app.train("restore")
    def restore(msg: Message, context: Context) -> Message:
        """A journaled training's update, replayed on resume: the node holds it as if it had trained."""
        if setup.keep_own_model:
            sat = _partition(context)
            memory = storage.load(sat, context)
            update = payloads.content_update(msg.content)
            storage.save(sat, context, NodeMemory(memory.version, update.model, memory.knowledge, own=True))
        return Message(content=RecordDict(), reply_to=msg)

    @app.query("imagery")
    def imagery(msg: Message, context: Context) -> Message:
        ask = msg.content.config_records["imagery"]
        images, ids, _ = load_shard(setup.shards_dir, _partition(context))
        start, stop = payloads.record_int(ask, "start"), min(payloads.record_int(ask, "stop"), len(ids))
        packet = encode_within(codec, images, ids, start, stop, payloads.record_int(ask, "budget"))
        return Message(content=payloads.imagery_content(packet), reply_to=msg)

"""The satellite: a thin Flower ClientApp over the plain onboard functions.

Messages it answers (the ServerApp sends them when the simulated world says so):
- ``query.identify``: which satellite (partition id) this node simulates;
- ``train.deliver``: an uplink completed; store the global student and merge the soft labels;
- ``train.compute``: the onboard computer trains now on its first ``acquired`` images; the
  update stays onboard until it is downlinked;
- ``train.restore``: a resumed run replays a journaled training: hold its update as if trained;
- ``query.downlink``: a downlink started; hand over the pending update;
- ``query.imagery``: encode images ``start``.. in acquisition order within ``budget`` bytes
  (reads no node state, so it is safe while the node trains).
The node's memory between messages is ``context.state`` (Flower keeps it per node).
A handler that raises answers with an error reply (see `errors_as_replies`), as Flower does for
a failed ClientApp, so the ground records the failure and goes on.
"""

from __future__ import annotations

from flwr.app import ConfigRecord, Context, Error, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable

from simsat.errors import TrainingDiverged
from simsat.federation import payloads
from simsat.mission.faults import InjectedFault
from simsat.mission.imagery import ImageCodec, encode_within
from simsat.mission.onboard import OnboardSetup, load_shard, train_onboard
from simsat.mission.packets import KnowledgePacket

_GLOBAL = "global"
_KNOWLEDGE = "knowledge"
_UPDATE = "update"
_UPDATE_META = "update_meta"

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


def make_client_app(setup: OnboardSetup) -> ClientApp:
    """Build the satellites' ClientApp; `setup` is small and travels with the app to Ray actors."""
    app = ClientApp(mods=[errors_as_replies])
    codec = ImageCodec(setup.image_size, setup.image_quality)

    @app.query("identify")
    def identify(msg: Message, context: Context) -> Message:
        content = RecordDict({"node": ConfigRecord({"partition_id": _partition(context)})})
        return Message(content=content, reply_to=msg)

    @app.train("deliver")
    def deliver(msg: Message, context: Context) -> Message:
        packet = payloads.content_uplink(msg.content)
        state = context.state
        if packet.model is not None:
            state[_GLOBAL] = msg.content.array_records[payloads.MODEL]
            state[payloads.META] = ConfigRecord({"version": packet.version})
        known = (
            payloads.record_knowledge(state.array_records[_KNOWLEDGE])
            if _KNOWLEDGE in state.array_records
            else KnowledgePacket.empty(setup.num_classes)
        )
        merged = known.merge(packet.knowledge)
        state[_KNOWLEDGE] = payloads.knowledge_record(merged)
        reply = MetricRecord({"labels_held": len(merged)})
        return Message(content=RecordDict({"ack": reply}), reply_to=msg)

    @app.train("compute")
    def compute(msg: Message, context: Context) -> Message:
        if msg.content.config_records["train"].get("fail"):
            raise InjectedFault("injected training failure (faults.train_failure_rate)")
        state = context.state
        sat = _partition(context)
        images, ids, labels = load_shard(setup.shards_dir, sat)
        knowledge = (
            payloads.record_knowledge(state.array_records[_KNOWLEDGE])
            if _KNOWLEDGE in state.array_records
            else KnowledgePacket.empty(setup.num_classes)
        )
        version = payloads.record_int(state.config_records[payloads.META], "version")
        update, report = train_onboard(
            setup,
            satellite=sat,
            images=images,
            ids=ids,
            labels=labels,
            acquired=payloads.record_int(msg.content.config_records["train"], "acquired"),
            base_model=payloads.record_model(state.array_records[_GLOBAL]),
            version=version,
            knowledge=knowledge,
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
            update_records = payloads.update_content(update)
            _keep_update(state, update_records)
            content[payloads.MODEL] = update_records.array_records[payloads.MODEL]  # for the run's journal
            content[payloads.META] = update_records.metric_records[payloads.META]
        return Message(content=content, reply_to=msg)

    def _keep_update(state: RecordDict, update_records: RecordDict) -> None:
        state[_UPDATE] = update_records.array_records[payloads.MODEL]
        state[_UPDATE_META] = update_records.metric_records[payloads.META]
        if setup.keep_own_model:
            state[_GLOBAL] = update_records.array_records[payloads.MODEL]

    @app.train("restore")
    def restore(msg: Message, context: Context) -> Message:
        """A journaled training's update, replayed on resume: the node holds it as if it had trained."""
        _keep_update(context.state, msg.content)
        return Message(content=RecordDict(), reply_to=msg)

    @app.query("downlink")
    def downlink(msg: Message, context: Context) -> Message:
        state = context.state
        if _UPDATE not in state.array_records:
            return Message(content=RecordDict(), reply_to=msg)
        content = RecordDict(
            {
                payloads.MODEL: state.array_records[_UPDATE],
                payloads.META: state.metric_records[_UPDATE_META],
            }
        )
        del state[_UPDATE]
        del state[_UPDATE_META]
        return Message(content=content, reply_to=msg)

    @app.query("imagery")
    def imagery(msg: Message, context: Context) -> Message:
        ask = msg.content.config_records["imagery"]
        images, ids, _ = load_shard(setup.shards_dir, _partition(context))
        start, stop = payloads.record_int(ask, "start"), min(payloads.record_int(ask, "stop"), len(ids))
        packet = encode_within(codec, images, ids, start, stop, payloads.record_int(ask, "budget"))
        return Message(content=payloads.imagery_content(packet), reply_to=msg)

    return app

"""Packets to Flower records and back; link byte counts are the records' serialised sizes."""

from __future__ import annotations

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict
from flwr.common.serde import recorddict_to_proto

from simsat.mission.packets import ImageryPacket, KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket

MODEL = "model"
KNOWLEDGE = "knowledge"
META = "meta"


def record_int(record: ConfigRecord | MetricRecord, key: str) -> int:
    """``record[key]`` as an int: the records also hold lists, strings and bytes, which our keys never do."""
    value = record[key]
    if isinstance(value, (list, str, bytes)):
        raise TypeError(f"record key {key!r} holds a {type(value).__name__}, not a number")
    return int(value)


def record_float(record: ConfigRecord | MetricRecord, key: str) -> float:
    """``record[key]`` as a float (see :func:`record_int`)."""
    value = record[key]
    if isinstance(value, (list, str, bytes)):
        raise TypeError(f"record key {key!r} holds a {type(value).__name__}, not a number")
    return float(value)


def model_record(model: ModelArrays) -> ArrayRecord:
    return ArrayRecord({name: Array(np.ascontiguousarray(value)) for name, value in model.items()})


def record_model(record: ArrayRecord) -> ModelArrays:
    return {name: array.numpy() for name, array in record.items()}


def knowledge_record(packet: KnowledgePacket) -> ArrayRecord:
    return ArrayRecord(
        {
            "ids": Array(np.ascontiguousarray(packet.ids, dtype=np.int64)),
            "targets": Array(np.ascontiguousarray(packet.targets, dtype=np.float16)),
            "kd_weight": Array(np.ascontiguousarray(packet.kd_weight, dtype=np.float32)),
            "ce_weight": Array(np.ascontiguousarray(packet.ce_weight, dtype=np.float32)),
        }
    )


def record_knowledge(record: ArrayRecord) -> KnowledgePacket:
    return KnowledgePacket(
        ids=record["ids"].numpy(),
        targets=record["targets"].numpy(),
        kd_weight=record["kd_weight"].numpy(),
        ce_weight=record["ce_weight"].numpy(),
    )


def uplink_content(packet: UplinkPacket) -> RecordDict:
    content = RecordDict(
        {
            KNOWLEDGE: knowledge_record(packet.knowledge),
            META: ConfigRecord({"version": packet.version, "has_model": packet.model is not None}),
        }
    )
    if packet.model is not None:
        content[MODEL] = model_record(packet.model)
    return content


def content_uplink(content: RecordDict) -> UplinkPacket:
    meta = content.config_records[META]
    model = record_model(content.array_records[MODEL]) if meta["has_model"] else None
    return UplinkPacket(
        version=record_int(meta, "version"),
        model=model,
        knowledge=record_knowledge(content.array_records[KNOWLEDGE]),
    )


def update_content(packet: UpdatePacket) -> RecordDict:
    return RecordDict(
        {
            MODEL: model_record(packet.model),
            META: MetricRecord(
                {
                    "base_version": packet.base_version,
                    "num_examples": packet.num_examples,
                    "loss": float(packet.loss),
                }
            ),
        }
    )


def content_update(content: RecordDict) -> UpdatePacket:
    meta = content.metric_records[META]
    return UpdatePacket(
        base_version=record_int(meta, "base_version"),
        model=record_model(content.array_records[MODEL]),
        num_examples=record_int(meta, "num_examples"),
        loss=record_float(meta, "loss"),
    )


def serialized_bytes(content: RecordDict) -> int:
    """Size in bytes of the records as Flower serialises them (protobuf)."""
    return int(recorddict_to_proto(content).ByteSize())


def uplink_bytes(packet: UplinkPacket) -> int:
    return serialized_bytes(uplink_content(packet))


IMAGERY = "imagery"


def imagery_content(packet: ImageryPacket) -> RecordDict:
    return RecordDict(
        {
            IMAGERY: ArrayRecord(
                {
                    "ids": Array(np.ascontiguousarray(packet.ids, dtype=np.int64)),
                    "data": Array(np.ascontiguousarray(packet.data, dtype=np.uint8)),
                    "offsets": Array(np.ascontiguousarray(packet.offsets, dtype=np.int64)),
                }
            )
        }
    )


def content_imagery(content: RecordDict) -> ImageryPacket:
    record = content.array_records[IMAGERY]
    return ImageryPacket(ids=record["ids"].numpy(), data=record["data"].numpy(), offsets=record["offsets"].numpy())

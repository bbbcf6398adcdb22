"""Packets to Flower records and back; link byte counts are the records' serialised sizes."""

from __future__ import annotations

import ast
import math
from functools import lru_cache

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict
from flwr.common.serde import recorddict_to_proto

from simsat.mission.ground_worker import Signature, model_signature
from simsat.mission.packets import ImageryPacket, KnowledgePacket, ModelArrays, UpdatePacket, UplinkPacket

MODEL = "model"
KNOWLEDGE = "knowledge"
META = "meta"


_NPY_MAGIC = b"\x93NUMPY"


@lru_cache(maxsize=1024)
def _npy_layout(header: bytes) -> tuple[np.dtype, tuple[int, ...], bool] | None:
    """The dtype, shape and order a .npy header describes (None: one `values` leaves to numpy)."""
    fields = ast.literal_eval(header.decode("latin1"))
    dtype = np.lib.format.descr_to_dtype(fields["descr"])
    if dtype.hasobject:
        return None
    return dtype, tuple(fields["shape"]), bool(fields["fortran_order"])


def values(array: Array) -> np.ndarray:
    """The numpy array in a Flower `Array`, as `Array.numpy()` gives it (a writable copy), with
    the .npy header parsed once per layout: a student's update is some 40 arrays whose headers
    repeat from message to message."""
    data = array.data
    if array.stype != "numpy.ndarray" or data[:6] != _NPY_MAGIC or data[6] not in (1, 2, 3):
        return array.numpy()
    size = 2 if data[6] == 1 else 4
    start = 8 + size + int.from_bytes(data[8 : 8 + size], "little")
    layout = _npy_layout(bytes(data[8 + size : start]))
    if layout is None:
        return array.numpy()  # refused there, as Flower refuses pickles
    dtype, shape, fortran = layout
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=start)
    return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")


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
    return {name: values(array) for name, array in record.items()}


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
        ids=values(record["ids"]),
        targets=values(record["targets"]),
        kd_weight=values(record["kd_weight"]),
        ce_weight=values(record["ce_weight"]),
    )


def uplink_content(packet: UplinkPacket, sizes: Sizes | None = None) -> RecordDict:
    """The uplink as records; `sizes` (optional) reuses a student's record already made."""
    content = RecordDict(
        {
            KNOWLEDGE: knowledge_record(packet.knowledge),
            META: ConfigRecord({"version": packet.version, "has_model": packet.model is not None}),
        }
    )
    if packet.model is not None:
        content[MODEL] = sizes.record(packet.model) if sizes is not None else model_record(packet.model)
    return content


def content_uplink(content: RecordDict) -> UplinkPacket:
    meta = content.config_records[META]
    model = record_model(content.array_records[MODEL]) if meta["has_model"] else None
    return UplinkPacket(
        version=record_int(meta, "version"),
        model=model,
        knowledge=record_knowledge(content.array_records[KNOWLEDGE]),
    )


def update_content(packet: UpdatePacket, model: bool = True) -> RecordDict:
    """The update as records (`model` False: its metadata alone, for counting bytes)."""
    meta = MetricRecord(
        {
            "base_version": packet.base_version,
            "num_examples": packet.num_examples,
            "loss": float(packet.loss),
        }
    )
    if not model:
        return RecordDict({META: meta})
    return RecordDict({MODEL: model_record(packet.model), META: meta})


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


def update_bytes(packet: UpdatePacket) -> int:
    return serialized_bytes(update_content(packet))


class Sizes:
    """The serialised sizes of uplink and update messages, without serialising the student each time.

    A RecordDict is serialised as a list of items, so its size is the sum of its items' sizes;
    the student's item has the same size for every student of one architecture (same names,
    shapes and dtypes), so it is measured once and added to the size of the rest. Equal to
    `uplink_bytes` / `update_bytes` (tested). Also keeps the student's record per version, so a
    student sent to many satellites is converted once.
    """

    def __init__(self) -> None:
        self._model_item: dict[Signature, int] = {}
        self._records: dict[int, tuple[ModelArrays, ArrayRecord]] = {}  # id(model) -> (model, record)

    def model_item(self, model: ModelArrays) -> int:
        key = model_signature(model)  # a student still being refined is not waited for
        size = self._model_item.get(key)
        if size is None:
            size = serialized_bytes(RecordDict({MODEL: model_record(model)}))
            self._model_item[key] = size
        return size

    def uplink(self, packet: UplinkPacket) -> int:
        rest = serialized_bytes(uplink_content(UplinkPacket(packet.version, None, packet.knowledge), self))
        return rest if packet.model is None else rest + self.model_item(packet.model)

    def update(self, packet: UpdatePacket) -> int:
        meta = update_content(packet, model=False)
        return serialized_bytes(meta) + self.model_item(packet.model)

    def record(self, model: ModelArrays) -> ArrayRecord:
        """The student's record (the last few students' are kept: the model dicts are not copied)."""
        found = self._records.get(id(model))
        if found is not None and found[0] is model:
            return found[1]
        record = model_record(model)
        self._records[id(model)] = (model, record)
        while len(self._records) > 4:
            del self._records[next(iter(self._records))]
        return record


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
    return ImageryPacket(ids=values(record["ids"]), data=values(record["data"]), offsets=values(record["offsets"]))

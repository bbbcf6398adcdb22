"""A satellite node's onboard storage: its global student, its soft labels, its own model.

A satellite keeps what it learnt between contacts in its own storage; simsat does the same, so
that a message to a node carries only what changes (the uplink's new student and labels, a
training order) and not the node's whole memory. Flower's `context.state` holds only a
generation counter; the memory itself lives here:

- in this process (the in-process engine: one process plays every node), a dictionary;
- with a `folder` (Flower's engine: any Ray worker may play any node), files in that folder
  written before the reply leaves, plus each worker's own cache of what it read or wrote.
  A worker whose cached generation differs from the Context's reads the file again.

Global students are stored once per version (many satellites hold the same one); a satellite's
own model (`local`, which continues from it) is stored with the satellite's memory.
"""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flwr.app import ConfigRecord, Context

from simsat.mission.packets import KnowledgePacket, ModelArrays

_STATE = "onboard"
_MODELS_CACHED = 8  # global students a worker keeps in memory (a few versions are in use at once)


@dataclass(frozen=True)
class NodeMemory:
    """What a satellite holds between contacts. `version` -1: no global student yet; `own`: the
    model is the satellite's own (not a global version shared with others)."""

    version: int
    model: ModelArrays | None
    knowledge: KnowledgePacket
    own: bool = False

    @staticmethod
    def empty(num_classes: int) -> NodeMemory:
        return NodeMemory(-1, None, KnowledgePacket.empty(num_classes))


def _generation(context: Context) -> int:
    record = context.state.config_records.get(_STATE)
    return int(record["generation"]) if record is not None else 0  # type: ignore[arg-type]


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to `path` whole (a temporary name, then renamed); no fsync: the storage
    lives as long as the run's temporary folder."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


class OnboardStorage:
    """Every node's memory, kept in this process and, with a `folder`, on disk for other workers."""

    def __init__(self, num_classes: int, folder: str = "") -> None:
        self.num_classes = num_classes
        self.folder = Path(folder) if folder else None
        self._nodes: dict[int, tuple[int, NodeMemory]] = {}  # satellite -> (generation, memory)
        self._models: OrderedDict[int, ModelArrays] = OrderedDict()  # version -> global student
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)

    # -- the node's memory -------------------------------------------------------------------
    def load(self, satellite: int, context: Context) -> NodeMemory:
        generation = _generation(context)
        if generation == 0:
            return NodeMemory.empty(self.num_classes)
        cached = self._nodes.get(satellite)
        if cached is not None and cached[0] == generation:
            return cached[1]
        if self.folder is None:
            raise RuntimeError(f"satellite {satellite}: onboard memory of generation {generation} is not here")
        memory = self._read(satellite, generation)
        self._nodes[satellite] = (generation, memory)
        return memory

    def save(self, satellite: int, context: Context, memory: NodeMemory) -> None:
        generation = _generation(context) + 1
        if self.folder is not None:
            self._write(satellite, generation, memory)
        self._nodes[satellite] = (generation, memory)
        if memory.model is not None and not memory.own:
            self._keep_model(memory.version, memory.model)
        context.state[_STATE] = ConfigRecord({"generation": generation})

    # -- files -------------------------------------------------------------------------------
    def _node_path(self, satellite: int, generation: int) -> Path:
        assert self.folder is not None
        return self.folder / f"satellite_{satellite:04d}-g{generation}.npz"

    def _model_path(self, version: int) -> Path:
        assert self.folder is not None
        return self.folder / f"global_v{version}.npz"

    def _write(self, satellite: int, generation: int, memory: NodeMemory) -> None:
        k = memory.knowledge
        arrays: dict[str, np.ndarray] = {
            "version": np.array([memory.version, int(memory.own), int(memory.model is not None)], np.int64),
            "k_ids": k.ids,
            "k_targets": k.targets,
            "k_kd_weight": k.kd_weight,
            "k_ce_weight": k.ce_weight,
        }
        if memory.model is not None:
            if memory.own:
                arrays.update({f"m:{name}": value for name, value in memory.model.items()})
            elif not self._model_path(memory.version).is_file():
                _save_npz(self._model_path(memory.version), dict(memory.model))
        _save_npz(self._node_path(satellite, generation), arrays)
        self._node_path(satellite, generation - 1).unlink(missing_ok=True)

    def _read(self, satellite: int, generation: int) -> NodeMemory:
        arrays = _load_npz(self._node_path(satellite, generation))
        version, own, has_model = (int(v) for v in arrays["version"])
        knowledge = KnowledgePacket(
            ids=arrays["k_ids"],
            targets=arrays["k_targets"],
            kd_weight=arrays["k_kd_weight"],
            ce_weight=arrays["k_ce_weight"],
        )
        model: ModelArrays | None = None
        if has_model and own:
            model = {name[2:]: value for name, value in arrays.items() if name.startswith("m:")}
        elif has_model:
            model = self._global(version)
        return NodeMemory(version, model, knowledge, bool(own))

    def _keep_model(self, version: int, model: ModelArrays) -> None:
        self._models[version] = model
        self._models.move_to_end(version)
        while len(self._models) > _MODELS_CACHED:
            self._models.popitem(last=False)

    def _global(self, version: int) -> ModelArrays:
        model = self._models.get(version)
        if model is None:
            model = _load_npz(self._model_path(version))
            self._keep_model(version, model)
        return model

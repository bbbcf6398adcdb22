"""Ground-side knowledge: teachers' confidence-weighted soft labels for a satellite's images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from simsat.distill.losses import Knowledge, knowledge_targets
from simsat.distill.train import predict_logits
from simsat.mission.packets import KnowledgePacket
from simsat.models.inputs import Normalization


def teacher_logits(
    teachers: Sequence[torch.nn.Module], images: np.ndarray, norm: Normalization, device: torch.device | None = None
) -> list[torch.Tensor]:
    """Each teacher's logits (on the CPU) for `images`, run on `device`."""
    return [predict_logits(teacher, images, norm, device=device) for teacher in teachers]


def knowledge_packet(logits: Sequence[torch.Tensor], ids: np.ndarray, rule: str, temperature: float) -> KnowledgePacket:
    """Soft labels for the images `ids`, in sending order: most useful (highest KD weight) first.

    Images every teacher is unsure of get zero weight under some rules; they are not sent.
    """
    knowledge = knowledge_targets(list(logits), rule, temperature)
    packet = KnowledgePacket(
        ids=np.asarray(ids, dtype=np.int64),
        targets=knowledge.targets.numpy().astype(np.float16),
        kd_weight=knowledge.kd_weight.numpy().astype(np.float32),
        ce_weight=knowledge.ce_weight.numpy().astype(np.float32),
    )
    useful = np.flatnonzero(packet.kd_weight > 0)
    order = useful[np.argsort(-packet.kd_weight[useful], kind="stable")]
    return packet.take(order)


def training_knowledge(packet: KnowledgePacket) -> Knowledge:
    """A packet as the tensors `train_distill` consumes (per-teacher weights are not sent)."""
    return Knowledge(
        targets=torch.from_numpy(packet.targets.astype(np.float32)),
        kd_weight=torch.from_numpy(packet.kd_weight.astype(np.float32)),
        ce_weight=torch.from_numpy(packet.ce_weight.astype(np.float32)),
        teacher_weights=torch.zeros((len(packet), 0)),
    )


def labelled_plus_soft(labelled: int, soft: Knowledge, num_classes: int) -> Knowledge:
    """Knowledge for `labelled` images with true labels (cross-entropy only, no distillation)
    followed by the images of `soft`: one training set of the ground's labels and soft labels."""
    return Knowledge(
        targets=torch.cat([torch.full((labelled, num_classes), 1.0 / num_classes), soft.targets]),
        kd_weight=torch.cat([torch.zeros(labelled), soft.kd_weight]),
        ce_weight=torch.cat([torch.ones(labelled), soft.ce_weight]),
        teacher_weights=torch.zeros((labelled + len(soft), 0)),
    )

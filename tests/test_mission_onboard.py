"""Onboard training: soft labels where held, own labels, the semi-supervised term, acquisition."""

from __future__ import annotations

import numpy as np
import torch

from simsat.distill.augment import strong_augment
from simsat.distill.recipe import TrainRecipe
from simsat.distill.semi import SemiSupervised
from simsat.distill.train import TrainHooks, fit
from simsat.mission.onboard import OnboardSetup, build_student, model_arrays, train_onboard, warm_up
from simsat.mission.packets import KnowledgePacket

CLASSES = 10


def _setup(mode: str = "distill", semi: SemiSupervised | None = None) -> OnboardSetup:
    return OnboardSetup(
        shards_dir="unused",
        model_name="resnet8",
        num_classes=CLASSES,
        temperature=2.0,
        training=TrainRecipe(epochs=1, batch_size=8, lr=1e-3),
        seed=3,
        norm_mean=(0.5, 0.5, 0.5),
        norm_std=(0.25, 0.25, 0.25),
        mode=mode,
        semi=semi or SemiSupervised(),
    )


def _shard(n: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(n, 16, 16, 3), dtype=np.uint8)
    ids = np.arange(100, 100 + n, dtype=np.int64)[::-1].copy()  # acquisition order is not id order
    return images, ids, rng.integers(0, CLASSES, size=n)


def _knowledge(ids: np.ndarray) -> KnowledgePacket:
    rng = np.random.default_rng(1)
    n = len(ids)
    return KnowledgePacket(
        ids=ids.astype(np.int64),
        targets=rng.dirichlet(np.ones(CLASSES), size=n).astype(np.float16),
        kd_weight=np.full(n, 0.8, np.float32),
        ce_weight=np.zeros(n, np.float32),
    )


def _base() -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    return model_arrays(build_student("resnet8", CLASSES))


def test_distill_trains_only_on_held_acquired_images_and_is_deterministic() -> None:
    images, ids, labels = _shard()
    knowledge = _knowledge(ids[[0, 1, 2, 3, 20, 21]])  # 20, 21 not acquired yet
    first, report = train_onboard(_setup(), 0, images, ids, labels, 16, _base(), 4, knowledge)
    assert report.num_examples == 4 and report.unlabelled == 0 and first.base_version == 4
    again, _ = train_onboard(_setup(), 0, images, ids, labels, 16, _base(), 4, knowledge)
    for name in first.model:
        np.testing.assert_array_equal(first.model[name], again.model[name])
    changed = any(not np.array_equal(first.model[k], _base()[k]) for k in first.model)
    assert changed


def test_semi_supervised_term_uses_images_without_soft_labels() -> None:
    images, ids, labels = _shard()
    knowledge = _knowledge(ids[:8])
    semi = SemiSupervised(weight=1.0, threshold=0.0, ratio=2)  # threshold 0: every pseudo-label counts
    plain, _ = train_onboard(_setup(), 0, images, ids, labels, 32, _base(), 0, knowledge)
    mixed, report = train_onboard(_setup(semi=semi), 0, images, ids, labels, 32, _base(), 0, knowledge)
    assert report.num_examples == 8 and report.unlabelled == 16  # one batch of 8, two unlabelled each
    assert any(not np.array_equal(plain.model[k], mixed.model[k]) for k in plain.model)


def test_labels_mode_trains_on_every_acquired_image() -> None:
    images, ids, labels = _shard()
    _, report = train_onboard(_setup("labels"), 0, images, ids, labels, 20, _base(), 0, KnowledgePacket.empty(CLASSES))
    assert report.num_examples == 20


def test_nothing_to_learn_returns_the_base_model() -> None:
    images, ids, labels = _shard()
    update, report = train_onboard(_setup(), 0, images, ids, labels, 32, _base(), 0, KnowledgePacket.empty(CLASSES))
    assert report.num_examples == 0 and update.num_examples == 0


def test_strong_augment_keeps_shape_format_and_cuts_a_hole() -> None:
    x = torch.ones(4, 3, 16, 16).contiguous(memory_format=torch.channels_last)
    out = strong_augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.is_contiguous(memory_format=torch.channels_last)
    assert ((out == 0).flatten(1).sum(dim=1) >= 3 * 16).all()  # a 4x4 hole in each of 3 channels


def test_fit_calls_the_epoch_hook_after_each_epoch() -> None:
    model = build_student("resnet8", CLASSES)
    x = torch.randn(10, 3, 16, 16)
    y = torch.randint(0, CLASSES, (10,))
    epochs: list[int] = []
    batches: list[int] = []
    hooks = TrainHooks(on_batch=lambda done, total: batches.append(done), on_epoch_end=epochs.append)
    fit(
        model,
        x,
        TrainRecipe(epochs=3, batch_size=4),
        lambda m, xb, idx: torch.nn.functional.cross_entropy(m(xb), y[idx]),
        hooks,
    )
    assert epochs == [1, 2, 3] and batches[-1] == 30


def test_the_warm_up_leaves_the_random_state_and_the_trainings_as_they_were() -> None:
    """A node warms up (one step on blank images) as it boots: what it trains afterwards, and
    torch's random state, are the same as without it."""
    images, ids, labels = _shard()
    knowledge = _knowledge(ids[:8])
    cold, _ = train_onboard(_setup(), 0, images, ids, labels, 16, _base(), 4, knowledge)
    torch.manual_seed(11)
    state = torch.get_rng_state()
    warm_up(_setup())
    assert torch.equal(torch.get_rng_state(), state)
    warm, _ = train_onboard(_setup(), 0, images, ids, labels, 16, _base(), 4, knowledge)
    assert all(np.array_equal(cold.model[k], warm.model[k]) for k in cold.model)

"""Training loops, augmentation and evaluation metrics (tiny data, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simsat.distill.augment import random_flip_rotate
from simsat.distill.losses import knowledge_targets
from simsat.distill.metrics import confusion_matrix, metrics_from_confusion
from simsat.distill.recipe import TrainRecipe
from simsat.distill.train import (
    evaluate,
    predict_logits,
    train_distill,
    train_supervised,
)
from simsat.errors import ConfigError
from simsat.models.inputs import Normalization
from simsat.models.resnet import resnet8

torch.set_num_threads(1)


def _colour_data(n: int = 96, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three easy classes: images dominated by red, green or blue, with noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.int64) % 3
    images = rng.integers(0, 90, size=(n, size, size, 3)).astype(np.int64)
    images[np.arange(n), :, :, labels] += 150
    return images.astype(np.uint8), labels


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [v.clone() for v in model.state_dict().values()]


def _fresh(seed: int = 0, classes: int = 3) -> torch.nn.Module:
    torch.manual_seed(seed)
    return resnet8(num_classes=classes)


def test_supervised_training_learns_and_is_deterministic() -> None:
    images, labels = _colour_data()
    norm = Normalization.from_images(images)
    cfg = TrainRecipe(epochs=2, batch_size=16, lr=5e-3)
    calls: list[tuple[int, int]] = []
    a = _fresh()
    before = evaluate(a, images, labels, norm, 3)
    stats = train_supervised(a, images, labels, cfg, norm, progress=lambda d, t: calls.append((d, t)), seed=7)
    assert stats.images_seen == 2 * 96 and stats.seconds > 0 and stats.images_per_s > 0
    assert np.isfinite(stats.mean_loss)
    assert calls[0] == (16, 192) and calls[-1] == (192, 192) and len(calls) == 12
    after = evaluate(a, images, labels, norm, 3)
    assert after.accuracy >= 0.9 and after.loss < before.loss
    assert a.stem[0].weight.is_contiguous()  # memory format restored

    b = _fresh()
    train_supervised(b, images, labels, cfg, norm, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    c = _fresh()
    train_supervised(c, images, labels, cfg, norm, seed=8)
    assert not all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(c), strict=True))


@pytest.mark.parametrize("schedule", ["step", "constant"])
def test_other_schedules_and_formats_run(schedule: str) -> None:
    images, labels = _colour_data(n=20, size=8)
    norm = Normalization.from_images(images)
    model = _fresh()
    start = _weights(model)
    cfg = TrainRecipe(epochs=1, batch_size=8, schedule=schedule, augment=False, channels_last=False)
    stats = train_supervised(model, images, labels, cfg, norm)
    # 20 images in batches of 8: 8 + 8 + 4
    assert stats.images_seen == 20
    assert not all(torch.equal(x, y) for x, y in zip(start, _weights(model), strict=True))


def test_trailing_single_image_joins_previous_batch() -> None:
    images, labels = _colour_data(n=9, size=8)
    norm = Normalization.from_images(images)
    calls: list[int] = []
    stats = train_supervised(_fresh(), images, labels, TrainRecipe(batch_size=4), norm, lambda d, t: calls.append(d))
    assert calls == [4, 9]  # 4 + 5, never a batch of one (BatchNorm)
    assert stats.images_seen == 9


def test_zero_epochs_leaves_model_unchanged() -> None:
    images, labels = _colour_data(n=8, size=8)
    model = _fresh()
    start = _weights(model)
    stats = train_supervised(model, images, labels, TrainRecipe(epochs=0), Normalization.from_images(images))
    assert stats.images_seen == 0
    assert all(torch.equal(x, y) for x, y in zip(start, _weights(model), strict=True))


def test_distillation_from_soft_labels_without_ground_truth() -> None:
    images, labels = _colour_data()
    norm = Normalization.from_images(images)
    # two "teachers" that know the classes, one sharper than the other
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels), 3).float()
    teachers = [onehot * 12.0, onehot * 6.0 + 0.5]
    know = knowledge_targets(teachers, "entropy", temperature=2.0)
    cfg = TrainRecipe(epochs=2, batch_size=16, lr=5e-3)
    a = _fresh()
    stats = train_distill(a, images, know, None, 2.0, cfg, norm, seed=1)
    assert stats.images_seen == 192 and np.isfinite(stats.mean_loss)
    assert evaluate(a, images, labels, norm, 3).accuracy >= 0.9
    b = _fresh()
    train_distill(b, images, know, None, 2.0, cfg, norm, seed=1)
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    # labels add a CE term: different trajectory
    c = _fresh()
    train_distill(c, images, know, labels, 2.0, cfg, norm, seed=1)
    assert not all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(c), strict=True))
    with pytest.raises(ConfigError, match="knowledge covers 10 images"):
        train_distill(_fresh(), images, know.subset(range(10)), None, 2.0, cfg, norm)


def test_augmentation_applies_a_symmetry_per_image() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    out = random_flip_rotate(x, gen)
    assert out.is_contiguous(memory_format=torch.channels_last)
    kinds = set()
    for i in range(32):
        variants = [torch.rot90(x[i], k, (1, 2)) for k in range(4)]
        variants += [torch.flip(v, (2,)) for v in variants]
        matches = [j for j, v in enumerate(variants) if torch.equal(v, out[i])]
        assert len(matches) == 1
        kinds.add(matches[0])
    assert len(kinds) >= 6  # different images get different symmetries
    again = random_flip_rotate(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    wide = torch.randn(4, 3, 4, 6)
    assert random_flip_rotate(wide, gen).shape == wide.shape


def test_metrics_from_hand_made_confusion() -> None:
    # rows: true class, columns: predicted; class 3 absent from labels and predictions
    conf = np.array([[3, 1, 0, 0], [0, 2, 2, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    res = metrics_from_confusion(conf, loss=0.7)
    p = [3 / 4, 2 / 3, 1 / 3]
    r = [3 / 4, 2 / 4, 1 / 2]
    f = [2 * a * b / (a + b) for a, b in zip(p, r, strict=True)]
    assert res.accuracy == pytest.approx(6 / 10)
    assert res.precision == pytest.approx(sum(p) / 3)
    assert res.recall == pytest.approx(sum(r) / 3)
    assert res.f1 == pytest.approx(sum(f) / 3)
    assert res.per_class[3] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0.0}
    assert res.per_class[1]["support"] == 4.0 and res.loss == 0.7
    # a class with images but never predicted counts with precision 0, no NaN
    never = metrics_from_confusion(np.array([[2, 0], [1, 0]]))
    assert never.precision == pytest.approx((2 / 3 + 0) / 2) and never.recall == pytest.approx(0.5)
    assert all(np.isfinite(v) for v in never.as_dict().values() if v == v) and np.isnan(never.loss)


def test_confusion_matrix_counts_and_errors() -> None:
    conf = confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]), 3)
    assert conf.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    with pytest.raises(ConfigError, match="labels"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3)


def test_predict_and_evaluate_agree() -> None:
    images, labels = _colour_data(n=40, size=8)
    norm = Normalization.from_images(images)
    model = _fresh()
    model.train()
    logits = predict_logits(model, images, norm, batch_size=7)
    assert model.training  # mode restored
    assert torch.allclose(logits, predict_logits(model, images, norm, batch_size=64), atol=1e-5)
    res = evaluate(model, images, labels, norm, 3, batch_size=16)
    preds = logits.argmax(dim=1).numpy()
    assert res.accuracy == pytest.approx(float((preds == labels).mean()))
    assert res.confusion.sum() == 40
    expected_loss = float(torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)))
    assert res.loss == pytest.approx(expected_loss, rel=1e-5)
    with pytest.raises(ConfigError, match="num_classes"):
        evaluate(model, images, labels, norm, 5)


def test_batches_cover_every_image_once() -> None:
    from simsat.distill.train import batch_order

    for n, bs in [(9, 4), (10, 4), (1, 4), (64, 64), (65, 64)]:
        chunks = batch_order(n, bs, torch.Generator().manual_seed(0))
        assert sorted(torch.cat(chunks).tolist()) == list(range(n))
        assert all(c.numel() > 1 for c in chunks) or n == 1

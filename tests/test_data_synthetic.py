"""The procedural EuroSAT-like dataset: determinism, balance, difficulty and its building blocks."""

from __future__ import annotations

import time

import numpy as np
import pytest

from simsat.data.synthetic import (
    CLASS_NAMES,
    RENDERERS,
    SyntheticNuisance,
    generate_synthetic,
    synthetic_labels,
)
from simsat.data.synthetic_scenes import N_FIELDS, N_PARAMS, SceneBatch
from simsat.data.synthetic_textures import NOISE_LEN, TextureKit, fbm, gaussian_blur, hash_cells
from simsat.errors import ConfigError


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    return generate_synthetic(1500, seed=0)


def test_names_follow_eurosat() -> None:
    assert CLASS_NAMES == (
        "AnnualCrop",
        "Forest",
        "HerbaceousVegetation",
        "Highway",
        "Industrial",
        "Pasture",
        "PermanentCrop",
        "Residential",
        "River",
        "SeaLake",
    )
    assert sorted(RENDERERS) == list(range(10))


def test_same_seed_same_bytes_and_prefix_is_a_smaller_set() -> None:
    a, la = generate_synthetic(300, seed=3)
    b, lb = generate_synthetic(300, seed=3)
    small, small_labels = generate_synthetic(37, seed=3)
    other, _ = generate_synthetic(37, seed=4)
    assert a.shape == (300, 64, 64, 3) and a.dtype == np.uint8
    assert la.shape == (300,) and la.dtype == np.int64
    assert a.tobytes() == b.tobytes() and np.array_equal(la, lb)
    assert np.array_equal(a[:37], small) and np.array_equal(la[:37], small_labels)
    assert np.mean(small != other) > 0.5  # another seed: other images
    assert np.array_equal(synthetic_labels(300, 3), la)


def test_classes_are_balanced_in_every_block_of_ten() -> None:
    labels = synthetic_labels(1000, seed=9)
    assert np.bincount(labels, minlength=10).tolist() == [100] * 10
    blocks = labels.reshape(-1, 10)
    assert all(sorted(block.tolist()) == list(range(10)) for block in blocks)
    assert len({tuple(block) for block in blocks}) > 50  # seeded order, not i % 10
    counts = np.bincount(synthetic_labels(95, seed=9), minlength=10)
    assert counts.min() >= 9 and counts.max() <= 10


def test_other_image_sizes_and_empty_set() -> None:
    images, labels = generate_synthetic(12, seed=1, image_size=32)
    assert images.shape == (12, 32, 32, 3)
    assert generate_synthetic(12, seed=1, image_size=96)[0].shape == (12, 96, 96, 3)
    empty, empty_labels = generate_synthetic(0, seed=1)
    assert empty.shape == (0, 64, 64, 3) and empty_labels.shape == (0,)


def test_per_class_means_differ_in_the_expected_direction(sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    means = np.stack([images[labels == c].mean(0) for c in range(10)])  # (10, H, W, 3)
    pair_gap = min(np.abs(means[i] - means[j]).mean() for i in range(10) for j in range(i))
    assert pair_gap > 1.0
    colour = means.mean(axis=(1, 2))  # (10, 3) mean RGB per class
    forest, crop, sea, pasture = (CLASS_NAMES.index(n) for n in ("Forest", "AnnualCrop", "SeaLake", "Pasture"))
    assert colour[forest].sum() < colour[crop].sum() - 60  # forest canopy is dark
    assert colour[sea, 2] > colour[sea, 0] + 10  # water is blue
    assert colour[pasture, 1] > colour[pasture, 0] + 10  # meadows are green
    contrast = np.array([images[labels == c].std(axis=(1, 2)).mean() for c in range(10)])
    assert contrast[CLASS_NAMES.index("Industrial")] > contrast[pasture] + 5


def test_colour_statistics_alone_do_not_solve_it(sample: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = sample
    flat = images.reshape(len(images), -1, 3).astype(np.float32)
    features = np.concatenate([flat.mean(1), flat.std(1)], axis=1)
    features = (features - features.mean(0)) / features.std(0)
    train, test = slice(0, 1000), slice(1000, 1500)
    centroids = np.stack([features[train][labels[train] == c].mean(0) for c in range(10)])
    distance = ((features[test][:, None] - centroids[None]) ** 2).sum(-1)
    accuracy = float((distance.argmin(1) == labels[test]).mean())
    assert 0.2 < accuracy < 0.7  # some colour signal (0.39 measured), far from solved


def test_mixed_scenes_touch_about_the_configured_share() -> None:
    plain = SyntheticNuisance(mix_probability=0.0)
    mixed_images, _ = generate_synthetic(400, seed=5)
    plain_images, _ = generate_synthetic(400, seed=5, nuisance=plain)
    changed = np.mean([not np.array_equal(a, b) for a, b in zip(mixed_images, plain_images, strict=True)])
    assert 0.1 < changed < 0.3  # default mix_probability = 0.2


def test_noise_and_blur_nuisances_act() -> None:
    calm = SyntheticNuisance(blur_px=(0.0, 0.0), sensor_noise=(0.0, 0.0))
    sharp, _ = generate_synthetic(60, seed=2, nuisance=calm)
    soft, _ = generate_synthetic(60, seed=2, nuisance=SyntheticNuisance(blur_px=(2.0, 2.0), sensor_noise=(0.0, 0.0)))

    def edge_energy(x: np.ndarray) -> float:
        return float(np.abs(np.diff(x.astype(np.float32), axis=2)).mean())

    assert edge_energy(soft) < 0.7 * edge_energy(sharp)


def test_generation_speed_is_sane() -> None:
    """CPU time of this process, not wall time: other work on the machine does not fail it."""
    generate_synthetic(20, seed=0)
    start = time.process_time()
    generate_synthetic(400, seed=1)
    rate = 400 / (time.process_time() - start)
    assert rate > 300  # ~2,100 images/s measured on one core


@pytest.mark.parametrize(
    ("call", "culprit"),
    [
        (lambda: generate_synthetic(-1, 0), "n "),
        (lambda: generate_synthetic(5, -3), "seed"),
        (lambda: generate_synthetic(5, 1.5), "seed"),  # type: ignore[arg-type]
        (lambda: generate_synthetic(5, 0, image_size=8), "image_size"),
        (lambda: SyntheticNuisance(mix_probability=1.5), "nuisance.mix_probability"),
        (lambda: SyntheticNuisance(blur_px=(2.0, 1.0)), "nuisance.blur_px"),
        (lambda: SyntheticNuisance(haze=-0.1), "nuisance.haze"),
        (lambda: SyntheticNuisance(sensor_noise=(-0.1, 0.1)), "nuisance.sensor_noise"),
    ],
)
def test_bad_input_names_the_culprit(call, culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        call()


def test_every_renderer_gives_float32_channel_first_images() -> None:
    kit = TextureKit(48)
    rng = np.random.default_rng(0)
    for cls, render in RENDERERS.items():
        ctx = SceneBatch(
            rng.random((5, N_PARAMS), dtype=np.float32),
            rng.random((5, N_FIELDS, NOISE_LEN), dtype=np.float32) - 0.5,
            rng.integers(0, 2**32, (5, 1, 1), dtype=np.uint32),
            kit,
        )
        out = render(ctx)
        assert out.shape == (5, 3, 48, 48) and out.dtype == np.float32, CLASS_NAMES[cls]
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() < 1.5, CLASS_NAMES[cls]
        assert ctx._next_param <= N_PARAMS, CLASS_NAMES[cls]  # no parameter is reused


def test_fractal_noise_is_normalised_and_rougher_when_asked() -> None:
    kit = TextureKit(64)
    noise = np.random.default_rng(1).random((200, NOISE_LEN), dtype=np.float32) - 0.5
    smooth = fbm(kit, noise, np.full(200, 0.4, dtype=np.float32))
    grainy = fbm(kit, noise, np.full(200, 1.6, dtype=np.float32))
    for field in (smooth, grainy):
        assert abs(float(field.mean())) < 0.1 and 0.9 < float(field.std()) < 1.1
    step = lambda f: float(np.abs(np.diff(f, axis=2)).mean())  # noqa: E731
    assert step(grainy) > 2 * step(smooth)


def test_blur_keeps_flat_images_and_averages_detail() -> None:
    flat = np.full((2, 3, 32, 32), 0.4, dtype=np.float32)
    assert np.allclose(gaussian_blur(flat, np.array([0.5, 2.0])), 0.4, atol=1e-5)
    dots = np.zeros((1, 3, 32, 32), dtype=np.float32)
    dots[0, :, 16, 16] = 1.0
    blurred = gaussian_blur(dots, np.array([1.0]))
    assert np.isclose(blurred.sum(), 3.0, atol=1e-3) and blurred.max() < 0.2


def test_cell_hash_is_deterministic_and_spread() -> None:
    a = np.arange(-50, 50, dtype=np.float32)[:, None].repeat(100, 1)
    b = a.T.copy()
    salt = np.uint32(12345)
    h = hash_cells(a, b, salt)
    assert np.array_equal(h, hash_cells(a, b, salt))
    assert len(np.unique(h)) == h.size  # 10,000 distinct cells, no collisions
    assert abs(float(np.mean(h % 8 == 3)) - 1 / 8) < 0.02

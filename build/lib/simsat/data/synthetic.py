"""Procedural Earth-observation dataset: ten EuroSAT-like land-cover classes of RGB scenes.

Image i depends only on (seed, i): each image draws its random numbers from a Philox
stream keyed by the seed with counter i, so a prefix of a larger set equals a smaller
set. Labels are balanced: each block of ten consecutive images holds every class once,
in a seeded order. See docs/synthetic_dataset.md for what the classes look like.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simsat.data import synthetic_land as land
from simsat.data import synthetic_urban as urban
from simsat.data.synthetic_scenes import N_FIELDS, N_PARAMS, SceneBatch
from simsat.data.synthetic_textures import NOISE_LEN, OCTAVES, TextureKit, fbm, gaussian_blur, smooth_step
from simsat.errors import ConfigError

logger = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = (
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

RENDERERS: dict[int, Callable[[SceneBatch], np.ndarray]] = {
    0: land.annual_crop,
    1: land.forest,
    2: land.herbaceous,
    3: urban.highway,
    4: urban.industrial,
    5: land.pasture,
    6: land.permanent_crop,
    7: urban.residential,
    8: land.river,
    9: land.sea_lake,
}

CONFUSERS: dict[int, tuple[int, int, int]] = {
    0: (6, 2, 5),
    1: (2, 5, 8),
    2: (5, 0, 1),
    3: (8, 0, 7),
    4: (7, 3, 0),
    5: (2, 1, 0),
    6: (0, 2, 7),
    7: (4, 3, 1),
    8: (3, 9, 5),
    9: (8, 1, 5),
}
"""Class whose scene may cover part of an image of each class (a mixed scene)."""

_CHUNK = 256
_N_POST = 17
_FINE = OCTAVES[-1]  # the finest noise octave is cropped from a seeded bank, not drawn per image
_COARSE = NOISE_LEN - _FINE * _FINE
_N_DRAWS = 2 * N_PARAMS + _N_POST + (N_FIELDS + 1) * _COARSE + 4  # + 4: two crop offsets
_BLUR_LEVELS = 16
_POST_BATCH = 32
_HAZE = 255.0 * np.array([0.55, 0.60, 0.70], dtype=np.float32).reshape(1, 3, 1, 1)
_CLOUD = 255.0 * np.array([0.90, 0.90, 0.92], dtype=np.float32).reshape(1, 3, 1, 1)
_SEASON = np.array([1.3, 0.25, -0.1], dtype=np.float32).reshape(1, 3, 1, 1)


@dataclass(frozen=True)
class SyntheticNuisance:
    """Strength of the per-image nuisances; the defaults are the calibrated dataset."""

    mix_probability: float = 0.2  # share of images partly covered by a confusable class's scene
    mix_coverage: tuple[float, float] = (0.15, 0.45)  # share of such an image that is covered
    season: tuple[float, float] = (-0.3, 0.8)  # vegetation from lusher (< 0) to drier, yellow (> 0)
    brightness: float = 0.3  # illumination gain exp(U(-b, b))
    tint: float = 0.14  # per-channel colour cast exp(U(-t, t))
    haze: float = 0.35  # largest haze share (bright or dark, uneven across the image)
    cloud_probability: float = 0.05  # share of images with a thin cloud
    blur_px: tuple[float, float] = (0.3, 1.2)  # Gaussian blur sigma in pixels
    sensor_noise: tuple[float, float] = (0.004, 0.024)  # Gaussian noise std, fraction of full scale

    def __post_init__(self) -> None:
        for name in ("mix_probability", "cloud_probability", "haze"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"nuisance.{name} must be in [0, 1], got {value}")
        for name in ("brightness", "tint"):
            if getattr(self, name) < 0.0:
                raise ConfigError(f"nuisance.{name} must be >= 0, got {getattr(self, name)}")
        for name, floor, ceiling in (
            ("mix_coverage", 0.0, 1.0),
            ("season", -1.0, 2.0),
            ("blur_px", 0.0, 8.0),
            ("sensor_noise", 0.0, 1.0),
        ):
            lo, hi = getattr(self, name)
            if not floor <= lo <= hi <= ceiling:
                raise ConfigError(
                    f"nuisance.{name} must be (low, high) with {floor} <= low <= high <= {ceiling}, got {(lo, hi)}"
                )


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ConfigError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    return int(seed)


def _stream(seed: int, domain: int, index: int) -> np.random.Generator:
    """Independent counter-based random stream for (seed, domain, index)."""
    return np.random.Generator(np.random.Philox(key=seed, counter=[0, 0, domain, index]))


def synthetic_labels(n: int, seed: int) -> np.ndarray:
    """Labels (int64, shape (n,)) of the first n synthetic images; balanced per block of ten."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigError(f"n (number of synthetic images) must be an integer >= 0, got {n!r}")
    seed = _check_seed(seed)
    n_cls = len(CLASS_NAMES)
    blocks = [_stream(seed, 1, b).permutation(n_cls) for b in range(-(-int(n) // n_cls))]
    if not blocks:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(blocks)[: int(n)].astype(np.int64)


def _render_classes(
    labels: np.ndarray, params: np.ndarray, noise: np.ndarray, salt: np.ndarray, kit: TextureKit
) -> np.ndarray:
    out = np.empty((labels.size, 3, kit.size, kit.size), dtype=np.float32)
    for cls, render in RENDERERS.items():
        rows = np.flatnonzero(labels == cls)
        if rows.size:
            ctx = SceneBatch(params[rows], noise[rows], salt[rows], kit)
            out[rows] = render(ctx)
    return out


def _mix_mask(kit: TextureKit, post: np.ndarray, field: np.ndarray, nz: SyntheticNuisance) -> np.ndarray:
    """Soft half-plane covering a random share of the image (B, H, W)."""
    angle = (post[:, 2] * np.pi)[:, None, None]
    across = np.cos(angle) * kit.y - np.sin(angle) * kit.x + 0.1 * field
    lo, hi = nz.mix_coverage
    threshold = (1.0 - 2.0 * (lo + (hi - lo) * post[:, 3]))[:, None, None]
    return smooth_step(threshold - kit.pixel, threshold + kit.pixel, across)


def _atmosphere(image: np.ndarray, post: np.ndarray, field: np.ndarray, nz: SyntheticNuisance) -> np.ndarray:
    """Season shift, illumination, colour tint, haze and thin cloud on (B, 3, H, W), in place.

    Scenes come in as reflectance-like values in [0, 1] and leave in 8-bit units (0..255).
    """
    p = post[:, :, None, None]
    season = nz.season[0] + (nz.season[1] - nz.season[0]) * p[:, 4]
    veg = np.maximum(image[:, 1] - 0.5 * (image[:, 0] + image[:, 2]), 0.0) * season
    image += veg[:, None] * _SEASON
    gain = 255.0 * np.exp(nz.brightness * (2.0 * p[:, 5] - 1.0))[:, None]
    image *= gain * np.exp(nz.tint * (2.0 * post[:, 6:9] - 1.0))[:, :, None, None]
    haze = np.clip(nz.haze * p[:, 9] ** 1.5 * (1.0 + 0.6 * p[:, 10] * field), 0.0, 0.9)
    image += (_HAZE * (0.55 + 0.7 * p[:, 16, None]) - image) * haze[:, None]  # bright or dark haze
    cloudy = np.flatnonzero(post[:, 11] < nz.cloud_probability)
    if cloudy.size:
        pc = p[cloudy]
        cloud = smooth_step(0.0, 1.0, field[cloudy] - (0.5 + pc[:, 12])) * (0.3 + 0.5 * pc[:, 13])
        image[cloudy] += (_CLOUD - image[cloudy]) * cloud[:, None]
    return image


@dataclass(frozen=True)
class _Banks:
    """Seeded noise tiles that each image crops at its own random offset (cheaper than drawing)."""

    sensor: np.ndarray  # (3, 2S, 2S) standard normal
    fine: np.ndarray  # (N_FIELDS + 1, 3 * _FINE, 3 * _FINE) uniform in [-0.5, 0.5)

    @staticmethod
    def make(seed: int, size: int) -> _Banks:
        sensor = _stream(seed, 2, 0).standard_normal((3, 2 * size, 2 * size), dtype=np.float32)
        fine = _stream(seed, 3, 0).random((N_FIELDS + 1, 3 * _FINE, 3 * _FINE), dtype=np.float32) - 0.5
        return _Banks(sensor, fine)


def _finish(
    image: np.ndarray,
    post: np.ndarray,
    extra: np.ndarray,
    offsets: np.ndarray,
    nz: SyntheticNuisance,
    banks: _Banks,
    out: np.ndarray,
) -> None:
    """Atmosphere, blur, sensor noise and quantisation of (b, 3, S, S) floats into out (b, S, S, 3)."""
    image = _atmosphere(image, post, extra, nz)
    blur_lo, blur_hi = nz.blur_px
    level = np.floor(post[:, 14] * _BLUR_LEVELS) + 0.5  # few distinct kernels: built once each
    image = gaussian_blur(image, blur_lo + (blur_hi - blur_lo) * level / _BLUR_LEVELS)
    lo, hi = nz.sensor_noise
    sigma = 255.0 * (lo + (hi - lo) * post[:, 15])
    size = image.shape[2]
    for row, (oy, ox) in enumerate(offsets):
        image[row] += banks.sensor[:, oy : oy + size, ox : ox + size] * sigma[row]
    np.clip(image, 0.0, 255.0, out=image)
    out[...] = image.astype(np.uint8).transpose(0, 2, 3, 1)  # truncation: a -0.5 DN bias, harmless


def _render_chunk(
    indices: np.ndarray,
    labels: np.ndarray,
    seed: int,
    kit: TextureKit,
    nz: SyntheticNuisance,
    banks: _Banks,
    out: np.ndarray,
) -> None:
    """Draw images `indices` (with their labels) into out, uint8 (len, S, S, 3)."""
    count, size, fine = indices.size, kit.size, 2 * _FINE
    draws = np.empty((count, _N_DRAWS), dtype=np.float32)
    salt = np.empty(count, dtype=np.uint32)
    noise = np.empty((count, N_FIELDS + 1, NOISE_LEN), dtype=np.float32)
    for row, index in enumerate(indices):
        rng = _stream(seed, 0, int(index))
        draws[row] = rng.random(_N_DRAWS, dtype=np.float32)
        salt[row] = rng.integers(0, 2**32, dtype=np.uint32)
        fy, fx = int(draws[row, -2] * fine), int(draws[row, -1] * fine)
        noise[row, :, _COARSE:] = banks.fine[:, fy : fy + _FINE, fx : fx + _FINE].reshape(N_FIELDS + 1, -1)
    offsets = (draws[:, -4:-2] * size).astype(np.int64)  # sensor-noise crop
    params = draws[:, : 2 * N_PARAMS].reshape(count, 2, N_PARAMS)
    post = draws[:, 2 * N_PARAMS : 2 * N_PARAMS + _N_POST]
    coarse = draws[:, 2 * N_PARAMS + _N_POST : -4].reshape(count, N_FIELDS + 1, _COARSE)
    np.subtract(coarse, 0.5, out=noise[:, :, :_COARSE])
    salt3 = salt[:, None, None]
    image = _render_classes(labels, params[:, 0], noise[:, :N_FIELDS], salt3, kit)
    extra = fbm(kit, noise[:, N_FIELDS], np.full(count, 0.6, dtype=np.float32))
    mixed = np.flatnonzero(post[:, 0] < nz.mix_probability)
    if mixed.size:
        other = np.array(
            [CONFUSERS[int(c)][int(k)] for c, k in zip(labels[mixed], np.minimum(post[mixed, 1] * 3, 2), strict=True)],
            dtype=np.int64,
        )
        second = _render_classes(
            other, params[mixed, 1], -noise[mixed, N_FIELDS - 1 :: -1], salt3[mixed] ^ np.uint32(0xA5A5A5A5), kit
        )
        mask = _mix_mask(kit, post[mixed], extra[mixed], nz)[:, None]
        image[mixed] += (second - image[mixed]) * mask
    for lo in range(0, count, _POST_BATCH):  # small batches stay in the CPU cache
        part = slice(lo, min(lo + _POST_BATCH, count))
        _finish(image[part], post[part], extra[part], offsets[part], nz, banks, out[part])


def generate_synthetic(
    n: int, seed: int, image_size: int = 64, nuisance: SyntheticNuisance | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Generate n synthetic scenes: images uint8 (n, S, S, 3) and labels int64 (n,).

    Same (n, seed, image_size, nuisance) gives byte-identical output on the same machine,
    and the first m images of a set of n > m are the set of m.
    """
    labels = synthetic_labels(n, seed)
    seed = _check_seed(seed)
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 16:
        raise ConfigError(f"image_size must be an integer >= 16, got {image_size!r}")
    nz = nuisance if nuisance is not None else SyntheticNuisance()
    kit = TextureKit(int(image_size))
    banks = _Banks.make(seed, kit.size)
    images = np.empty((labels.size, kit.size, kit.size, 3), dtype=np.uint8)
    for start in range(0, labels.size, _CHUNK):
        stop = min(start + _CHUNK, labels.size)
        _render_chunk(np.arange(start, stop), labels[start:stop], seed, kit, nz, banks, images[start:stop])
    logger.debug("generated %d synthetic images (seed %d, %d px)", labels.size, seed, kit.size)
    return images, labels

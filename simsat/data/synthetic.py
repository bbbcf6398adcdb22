"""A procedural Earth-observation dataset: ten land-cover classes of RGB scenes, EuroSAT's names.

Each image is drawn from its own generator seeded by (seed, index), so a prefix of a larger set
equals a smaller set and any image can be regenerated alone. Scenes vary in orientation, scale,
colour, illumination, haze, blur and sensor noise, and several classes are built to be confused
(Pasture / HerbaceousVegetation, River / Highway, Industrial / Residential, AnnualCrop /
PermanentCrop), so a classifier has to learn spatial structure, not colour statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

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

Rng = np.random.Generator
Scene = Callable[[Rng, int], np.ndarray]  # returns float32 (H, W, 3) in 0..255

_VEGETATION = np.array([[70, 105, 55], [95, 125, 60], [120, 135, 75], [85, 110, 70]], np.float32)
_SOIL = np.array([[150, 125, 95], [170, 145, 110], [125, 105, 80], [185, 165, 130]], np.float32)
_CROPS = np.array(
    [[110, 140, 60], [175, 160, 95], [140, 115, 80], [95, 130, 70], [190, 175, 120], [150, 150, 85]],
    np.float32,
)
_ROOFS = np.array([[170, 90, 75], [150, 80, 70], [135, 130, 130], [190, 120, 90], [110, 100, 100]], np.float32)
_INDUSTRIAL = np.array([[200, 200, 200], [170, 175, 180], [120, 125, 130], [150, 165, 185], [215, 210, 200]], np.float32)
_WATER = np.array([[35, 60, 90], [45, 75, 95], [30, 55, 70], [60, 85, 95]], np.float32)


@lru_cache(maxsize=256)
def _interpolation(k: int, size: int) -> np.ndarray:
    """(size, k) matrix of linear-interpolation weights from k grid points to `size` pixels."""
    pos = np.linspace(0, k - 1, size)
    i0 = np.minimum(pos.astype(np.int64), k - 2)
    f = pos - i0
    a = np.zeros((size, k), np.float32)
    a[np.arange(size), i0] = 1 - f
    a[np.arange(size), i0 + 1] = f
    return a


@lru_cache(maxsize=8)
def _centred_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) - (size - 1) / 2
    return y, x


def _upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upsampling of a small (k, k) grid to (size, size)."""
    a = _interpolation(grid.shape[0], size)
    return a @ grid @ a.T


def _noise(rng: Rng, size: int, cells: int) -> np.ndarray:
    """Smooth value noise in about [-1, 1] with `cells` features across the image."""
    return _upsample(rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32), size)


def _fractal(rng: Rng, size: int, base: int, octaves: int = 3) -> np.ndarray:
    out = np.zeros((size, size), np.float32)
    amp = 1.0
    for o in range(octaves):
        out += amp * _noise(rng, size, base * 2**o)
        amp *= 0.5
    return out / 1.75


def _coords(rng: Rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by a random angle, in pixels from the centre."""
    angle = rng.uniform(0, np.pi)
    y, x = _centred_grid(size)
    c, s = np.cos(angle), np.sin(angle)
    return x * c + y * s, -x * s + y * c


def _pick(rng: Rng, palette: np.ndarray, jitter: float = 12.0) -> np.ndarray:
    return palette[rng.integers(len(palette))] + rng.normal(0, jitter, 3).astype(np.float32)


def _fill(mask_value: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return mask_value[..., None] * colour


def _textured(rng: Rng, size: int, colour: np.ndarray, cells: int, amount: float) -> np.ndarray:
    return colour + _fractal(rng, size, cells)[..., None] * amount


def _annual_crop(rng: Rng, size: int) -> np.ndarray:
    u, v = _coords(rng, size)
    width = rng.uniform(7, 18)
    field = np.floor(u / width + rng.uniform(0, 10)).astype(np.int64)
    colours = np.stack([_pick(rng, _CROPS, 15) for _ in range(12)])
    img = colours[field % 12]
    rows = np.sin(v * rng.uniform(1.2, 2.2)) * rng.uniform(3, 9)  # drill rows along the field
    img = img + rows[..., None]
    if rng.random() < 0.5:  # a cross track splitting the fields
        img = np.where((np.abs(v - rng.uniform(-20, 20)) < 1.0)[..., None], _pick(rng, _SOIL), img)
    return img + _fractal(rng, size, 3)[..., None] * 10


def _forest(rng: Rng, size: int) -> np.ndarray:
    base = np.array([40, 70, 40], np.float32) + rng.normal(0, 8, 3).astype(np.float32)
    crowns = _noise(rng, size, int(rng.integers(14, 22)))
    canopy = _fractal(rng, size, 3)
    img = base + crowns[..., None] * rng.uniform(14, 24) + canopy[..., None] * 12
    gaps = _noise(rng, size, 5) > rng.uniform(0.55, 0.9)
    return np.where(gaps[..., None], img + 25, img)


def _herbaceous(rng: Rng, size: int) -> np.ndarray:
    green, brown = _pick(rng, _VEGETATION, 14), _pick(rng, _SOIL, 14)
    mix = np.clip(_fractal(rng, size, int(rng.integers(5, 9)), 3) * 1.4 + 0.5, 0, 1)
    img = _fill(mix, green) + _fill(1 - mix, brown)
    return img + _noise(rng, size, int(rng.integers(16, 26)))[..., None] * rng.uniform(8, 14)


def _pasture(rng: Rng, size: int) -> np.ndarray:
    green = _pick(rng, _VEGETATION, 14) + np.array([5, 15, 0], np.float32)
    patches = _noise(rng, size, int(rng.integers(2, 4)))
    img = green + patches[..., None] * rng.uniform(8, 18)
    img = img + _noise(rng, size, 10)[..., None] * rng.uniform(2, 5)
    if rng.random() < 0.3:  # a hedge or fence line
        u, _ = _coords(rng, size)
        img = np.where((np.abs(u - rng.uniform(-25, 25)) < 1.2)[..., None], img - 30, img)
    return img


def _band(rng: Rng, size: int, wiggle: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance to a (possibly meandering) line across the image, and the along-track coordinate."""
    u, v = _coords(rng, size)
    centre = rng.uniform(-12, 12) + wiggle * np.sin(v / rng.uniform(6, 14) + rng.uniform(0, 6.3))
    return np.abs(u - centre), v


def _highway(rng: Rng, size: int) -> np.ndarray:
    img = _herbaceous(rng, size) if rng.random() < 0.5 else _annual_crop(rng, size)
    dist, along = _band(rng, size, wiggle=rng.uniform(0, 1.5))
    half = rng.uniform(2.5, 5.5)
    asphalt = np.array([105, 105, 110], np.float32) + rng.normal(0, 12, 3).astype(np.float32)
    road = dist < half
    img = np.where(road[..., None], asphalt, img)
    dashes = road & (np.abs(dist - half / 2) < 0.5) & (np.sin(along * 0.8) > 0)
    img = np.where(dashes[..., None], asphalt + 60, img)
    verge = (dist >= half) & (dist < half + 1.5)
    return np.where(verge[..., None], img * 0.8 + 30, img)


def _river(rng: Rng, size: int) -> np.ndarray:
    img = _herbaceous(rng, size) if rng.random() < 0.5 else _pasture(rng, size)
    dist, _ = _band(rng, size, wiggle=rng.uniform(3, 9))
    half = rng.uniform(2.5, 7)
    water = _pick(rng, _WATER, 10)
    if rng.random() < 0.3:  # silty water, easy to mistake for a road
        water = water * 0.4 + np.array([100, 100, 95], np.float32) * 0.6
    img = np.where((dist < half)[..., None], water + _noise(rng, size, 8)[..., None] * 6, img)
    bank = (dist >= half) & (dist < half + 2)
    return np.where(bank[..., None], img * 0.7 + 20, img)


def _rectangles(
    rng: Rng, size: int, img: np.ndarray, count: int, lo: int, hi: int, palette: np.ndarray
) -> np.ndarray:
    for _ in range(count):
        h, w = rng.integers(lo, hi + 1, 2)
        y, x = rng.integers(-2, size - 2, 2)
        colour = _pick(rng, palette, 10)
        img[max(y, 0) : y + h, max(x, 0) : x + w] = colour
        shade = slice(max(y + h, 0), y + h + 2), slice(max(x, 0) + 1, x + w + 1)  # shadow
        img[shade] *= 0.75
    return img


def _industrial(rng: Rng, size: int) -> np.ndarray:
    ground = np.array([120, 118, 112], np.float32) + rng.normal(0, 10, 3).astype(np.float32)
    img = _textured(rng, size, ground, 6, 12)
    img = _rectangles(rng, size, img, int(rng.integers(3, 7)), 10, 26, _INDUSTRIAL)
    if rng.random() < 0.5:  # parking lot rows
        _, v = _coords(rng, size)
        img = img + (np.sin(v * 1.6) > 0.7)[..., None] * 15
    return img


def _residential(rng: Rng, size: int) -> np.ndarray:
    img = _textured(rng, size, _pick(rng, _VEGETATION, 12), 6, 15)
    pitch = int(rng.integers(8, 12))
    house = int(rng.integers(4, pitch - 2))
    street = np.array([125, 120, 115], np.float32)
    grid = np.zeros((size, size), bool)
    off = rng.integers(0, pitch, 2)
    grid[(np.arange(size) + off[0]) % pitch == 0, :] = True
    grid[:, (np.arange(size) + off[1]) % pitch == 0] = True
    img = np.where(grid[..., None], street, img)
    for y in range(int(off[0]) % pitch + 2 - pitch, size, pitch):
        for x in range(int(off[1]) % pitch + 2 - pitch, size, pitch):
            if rng.random() < 0.85:
                img[max(y, 0) : y + house, max(x, 0) : x + house] = _pick(rng, _ROOFS, 15)
    return img


def _permanent_crop(rng: Rng, size: int) -> np.ndarray:
    img = _textured(rng, size, _pick(rng, _SOIL, 15), 4, 10)
    u, v = _coords(rng, size)
    row, tree = rng.uniform(3.5, 6.5), rng.uniform(2.5, 5)
    dots = (np.cos(u * 2 * np.pi / row) > 0.3) & (np.cos(v * 2 * np.pi / tree) > rng.uniform(-0.6, 0.3))
    canopy = _pick(rng, _VEGETATION, 10) - 15
    img = np.where(dots[..., None], canopy + _noise(rng, size, 12)[..., None] * 8, img)
    return img


def _sea_lake(rng: Rng, size: int) -> np.ndarray:
    water = _pick(rng, _WATER, 8)
    img = water + _fractal(rng, size, 3)[..., None] * rng.uniform(3, 8)
    if rng.random() < 0.45:  # a shore
        u, v = _coords(rng, size)
        coast = u + 4 * _noise(rng, size, 4) * 3 - rng.uniform(5, 28)
        land = _herbaceous(rng, size)
        img = np.where((coast > 0)[..., None], land, img)
        img = np.where((np.abs(coast) < 1.5)[..., None], np.array([190, 180, 150], np.float32), img)
    return img


_SCENES: tuple[Scene, ...] = (
    _annual_crop,
    _forest,
    _herbaceous,
    _highway,
    _industrial,
    _pasture,
    _permanent_crop,
    _residential,
    _river,
    _sea_lake,
)


def _sensor(rng: Rng, img: np.ndarray) -> np.ndarray:
    """Acquisition nuisances: orientation, illumination, colour cast, haze, blur, noise."""
    img = np.rot90(img, int(rng.integers(4)))
    if rng.random() < 0.5:
        img = img[:, ::-1]
    img = img * rng.uniform(0.75, 1.25) + rng.normal(0, 10, 3).astype(np.float32)
    haze = rng.uniform(0, 0.35) if rng.random() < 0.4 else 0.0
    img = img * (1 - haze) + haze * rng.uniform(170, 220)
    if rng.random() < 0.35:
        img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1) + np.roll(img, (1, 1), (0, 1))) / 4
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(2, 8)
    return np.clip(img, 0, 255).astype(np.uint8)


def synthetic_image(seed: int, index: int, image_size: int = 64) -> tuple[np.ndarray, int]:
    """Image number `index` of the dataset with this seed, and its label."""
    label = index % len(CLASS_NAMES)
    rng = np.random.default_rng([seed, index])
    img = np.ascontiguousarray(_SCENES[label](rng, image_size), dtype=np.float32)
    return _sensor(rng, img), label


def generate_synthetic(n: int, seed: int, image_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """`n` images (uint8, (n, H, W, 3)) and labels (int64), classes balanced (label = index mod 10)."""
    images = np.empty((n, image_size, image_size, 3), np.uint8)
    labels = np.empty(n, np.int64)
    for i in range(n):
        images[i], labels[i] = synthetic_image(seed, i, image_size)
    return images, labels

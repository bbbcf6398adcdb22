"""Renderers of the natural and agricultural synthetic classes (float (B, 3, H, W) images)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simsat.data.synthetic_scenes import (
    CONIFER,
    DRYGRASS,
    FOREST,
    GRASS,
    GREENCROP,
    LIGHTSOIL,
    LUSH,
    OLIVE,
    SAND,
    SOIL,
    WATER_BLUE,
    WATER_DEEP,
    WATER_TEAL,
    WATER_TURBID,
    YELLOWCROP,
    Colour,
    SceneBatch,
    band,
    countryside,
    paint,
    shade,
)
from simsat.data.synthetic_textures import hash_cells, hash_unit, smooth_step

_CROPS = (SOIL, LIGHTSOIL, YELLOWCROP, GREENCROP, LUSH, DRYGRASS, OLIVE, SOIL)
_ORCHARD_GROUND = (DRYGRASS, LIGHTSOIL, SOIL, OLIVE, GRASS)


def _pivot(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    """A circular centre-pivot field."""
    cx, cy, radius = ctx.u(-0.6, 0.6), ctx.u(-0.6, 0.6), ctx.u(0.3, 0.7)
    dist = np.sqrt((ctx.kit.x - cx) ** 2 + (ctx.kit.y - cy) ** 2)
    return paint(image, ctx.colour((GREENCROP, OLIVE, YELLOWCROP)), band(dist, radius, ctx.px))


def _track(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    """A thin winding dirt track."""
    along, across = ctx.frame()
    path = across - ctx.u(-0.6, 0.6) - 0.2 * np.sin(along * ctx.u(1.0, 5.0))
    return paint(image, ctx.colour((LIGHTSOIL, SAND, DRYGRASS)), band(path, 0.55 * ctx.px, ctx.px) * ctx.u(0.5, 0.9))


def _patches(
    colours: tuple[Colour, ...], level: tuple[float, float], rough: float
) -> Callable[[SceneBatch, np.ndarray], np.ndarray]:
    """A drawer painting blobs of one of `colours` where a noise field exceeds `level`."""

    def draw(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
        blobs = smooth_step(0.0, 0.35, ctx.field(rough, rough + 0.3) - ctx.u(*level))
        return paint(image, ctx.colour(colours), blobs)

    return draw


def annual_crop(ctx: SceneBatch) -> np.ndarray:
    """Long parallel parcels in crop colours with tillage lines; sometimes a pivot circle."""
    along, across = ctx.frame()
    width = ctx.u(0.12, 0.5)
    across_w = across + 0.03 * ctx.field(0.4, 0.7)
    pos_a = across_w / width + ctx.u()
    pos_b = along / ctx.u(0.5, 2.5) + ctx.u()
    cell_a, cell_b = np.floor(pos_a), np.floor(pos_b)
    image = ctx.lookup(ctx.table(_CROPS, jitter=0.12), hash_cells(cell_a, cell_b, ctx.salt))
    use_along = hash_unit(cell_a, cell_b, ctx.salt ^ np.uint32(7)) < 0.5
    lines = np.sin(np.where(use_along, along, across_w) * ((2.0 * np.pi) / ctx.u(0.05, 0.12)))
    image = shade(image, 1.0 + ctx.u(0.01, 0.08) * lines + ctx.u(0.02, 0.07) * ctx.field(0.6, 1.0))
    edge = np.minimum(pos_a - cell_a, 1.0 - (pos_a - cell_a)) * width
    image = shade(image, 1.0 - ctx.u(0.0, 0.25) * band(edge, 0.5 * ctx.px, ctx.px))
    return ctx.sometimes(0.12, _pivot, image)


def permanent_crop(ctx: SceneBatch) -> np.ndarray:
    """Parcels of orchards (dotted rows) or vineyards (fine continuous rows)."""
    along, across = ctx.frame()
    size_a, size_b = ctx.u(0.35, 1.0), ctx.u(0.35, 1.2)
    cell_a = np.floor(across / size_a + ctx.u())
    cell_b = np.floor(along / size_b + ctx.u())
    ground = ctx.lookup(ctx.table(_ORCHARD_GROUND, jitter=0.12), hash_cells(cell_a, cell_b, ctx.salt))
    ground = shade(ground, 1.0 + ctx.u(0.02, 0.07) * ctx.field(0.8, 1.2))
    turn = hash_unit(cell_a, cell_b, ctx.salt ^ np.uint32(11)) < ctx.u(0.0, 0.5)
    row_c, tree_c = np.where(turn, along, across), np.where(turn, across, along)
    row_gap, tree_gap = ctx.u(0.07, 0.16), ctx.u(0.06, 0.16)
    d_row = ((row_c / row_gap + ctx.u()) % 1.0 - 0.5) * row_gap
    d_tree = ((tree_c / tree_gap + ctx.u()) % 1.0 - 0.5) * tree_gap
    spread = (d_row**2 + d_tree**2 * (1.0 - ctx.coin(0.35))) / (ctx.u(0.25, 0.45) * np.minimum(row_gap, tree_gap)) ** 2
    dots = np.exp(-np.minimum(spread, 30.0))  # bounded: subnormal floats are very slow
    planted = hash_unit(cell_a, cell_b, ctx.salt ^ np.uint32(13)) > 0.15
    canopy = dots * planted * ctx.u(0.55, 0.95)
    return paint(ground, ctx.colour((FOREST, OLIVE, LUSH), 0.12), canopy)


def forest(ctx: SceneBatch) -> np.ndarray:
    """Dark blotchy canopy with shadowed crowns; sometimes clearings, tracks or autumn patches."""
    image = ctx.canvas(ctx.colour((FOREST, CONIFER, (0.14, 0.26, 0.12), (0.20, 0.32, 0.15)), 0.15))
    image = paint(
        image, ctx.colour((CONIFER, FOREST, OLIVE), 0.1), smooth_step(-0.8, 0.8, ctx.field(0.4, 0.6)) * ctx.u(0.2, 0.8)
    )
    image = shade(image, 1.0 + ctx.u(0.08, 0.22) * ctx.field(1.2, 1.6))
    image = ctx.sometimes(0.3, _patches((GRASS, DRYGRASS, OLIVE), (1.3, 2.4), 0.5), image)
    image = ctx.sometimes(0.15, _patches(((0.35, 0.25, 0.12), (0.30, 0.30, 0.12)), (0.8, 1.8), 0.6), image)
    return ctx.sometimes(0.25, _track, image)


def herbaceous(ctx: SceneBatch) -> np.ndarray:
    """Mottled mix of light green, olive and dry soil with scattered shrubs."""
    first = ctx.colour((GRASS, OLIVE, DRYGRASS), 0.1)
    second = ctx.colour((LIGHTSOIL, DRYGRASS, SOIL, OLIVE), 0.1)
    mottle = ctx.field(0.8, 1.2) * ctx.u(0.7, 1.6) + ctx.u(-0.8, 0.8)
    image = paint(ctx.canvas(first), second, smooth_step(-0.6, 0.6, mottle))
    image = shade(image, 1.0 + ctx.u(0.03, 0.10) * ctx.field(1.1, 1.5))
    shrubs = smooth_step(0.0, 0.4, ctx.field(1.0, 1.4) - ctx.u(0.8, 1.8))
    image = paint(image, ctx.colour((LUSH, FOREST, OLIVE)), shrubs * ctx.u(0.4, 0.9))
    return ctx.sometimes(0.3, _track, image)


def _hedges(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    """Dark hedgerows along the borders of large rectangular meadows."""
    along, across = ctx.frame()
    width_a, width_b = ctx.u(0.5, 1.5), ctx.u(0.5, 1.5)
    frac_a = (across / width_a + ctx.u()) % 1.0
    frac_b = (along / width_b + ctx.u()) % 1.0
    edge = np.minimum(np.minimum(frac_a, 1 - frac_a) * width_a, np.minimum(frac_b, 1 - frac_b) * width_b)
    return paint(image, ctx.colour((FOREST, LUSH)), band(edge, ctx.u(0.4, 1.0) * ctx.px, ctx.px))


def pasture(ctx: SceneBatch) -> np.ndarray:
    """Smooth green meadows with soft patches, optional hedgerows and lone trees."""
    image = ctx.canvas(ctx.colour((GRASS, LUSH, GREENCROP, (0.34, 0.48, 0.24)), 0.1))
    image = shade(image, 1.0 + ctx.u(0.03, 0.10) * ctx.field(0.35, 0.6))
    tone = smooth_step(-0.5, 1.0, ctx.field(0.4, 0.7)) * ctx.u(0.1, 0.6)
    image = paint(image, ctx.colour((OLIVE, LUSH, DRYGRASS)), tone)
    image = ctx.sometimes(0.5, _hedges, image)
    return ctx.sometimes(0.5, _patches((FOREST, CONIFER), (1.8, 2.8), 1.3), image)


def river(ctx: SceneBatch) -> np.ndarray:
    """A meandering (sometimes straight, canal-like) water band across countryside."""
    image = countryside(ctx)
    along, across = ctx.frame()
    amp = ctx.u(0.0, 0.4) * ctx.coin(0.8)
    freq, phase = ctx.u(0.3, 1.2) * np.pi, ctx.u(0.0, 2.0 * np.pi)
    wobble = ctx.field(0.3, 0.5)
    centre = (
        ctx.u(-0.5, 0.5)
        + amp * np.sin(freq * along + phase)
        + 0.3 * amp * np.sin(2.3 * freq * along + 2.0 * phase)
        + 0.03 * wobble
    )
    half = ctx.u(0.04, 0.24) * (1.0 + 0.15 * wobble)
    dist = across - centre
    bank = band(dist, half + ctx.u(0.02, 0.08), ctx.px) * ctx.u(0.4, 1.0)
    image = paint(image, ctx.colour((SAND, FOREST, LUSH, DRYGRASS)), bank)
    water = ctx.colour((WATER_BLUE, WATER_TEAL, WATER_TURBID, WATER_DEEP), 0.12)
    water = water * (1.0 + ctx.u(0.02, 0.08) * ctx.field(0.4, 0.7))[:, None]
    return paint(image, water, band(dist, half, ctx.px))


def _shore(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    """Land beyond a wavy shore line, with an optional beach."""
    land = countryside(ctx)
    along, across = ctx.frame()
    shore_line = across + 0.12 * ctx.field(0.5, 0.8) - ctx.u(0.35, 1.0)
    beach = smooth_step(-ctx.u(0.02, 0.08), 0.0, shore_line) * ctx.u(0.0, 1.0)
    image = paint(image, ctx.colour((SAND, LIGHTSOIL)), beach)
    return paint(image, land, smooth_step(0.0, ctx.px, shore_line))


def sea_lake(ctx: SceneBatch) -> np.ndarray:
    """Open water with slow tonal variation and ripples; sometimes a wavy shore."""
    image = ctx.canvas(
        ctx.colour(
            (WATER_DEEP, WATER_BLUE, WATER_TEAL, (0.10, 0.14, 0.22), (0.22, 0.30, 0.30), (0.30, 0.32, 0.26)), 0.15
        )
    )
    image = shade(image, 1.0 + ctx.u(0.03, 0.12) * ctx.field(0.3, 0.5))
    along, across = ctx.frame()
    image = shade(image, 1.0 + ctx.u(0.0, 0.04) * np.sin(across * ((2.0 * np.pi) / ctx.u(0.05, 0.15))))
    return ctx.sometimes(0.5, _shore, image)

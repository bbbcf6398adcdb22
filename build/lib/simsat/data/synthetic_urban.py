"""Renderers of the built-up synthetic classes: Highway, Industrial, Residential."""

from __future__ import annotations

import numpy as np

from simsat.data.synthetic_scenes import (
    ASPHALT,
    CONCRETE,
    DRYGRASS,
    FOREST,
    GRASS,
    LIGHTSOIL,
    LUSH,
    ROOF_BLUE,
    ROOF_BROWN,
    ROOF_GREY,
    ROOF_RED,
    ROOF_WHITE,
    SceneBatch,
    band,
    countryside,
    paint,
    shade,
)
from simsat.data.synthetic_textures import hash_cells, hash_unit, smooth_step

_ROOFS_BIG = (ROOF_WHITE, CONCRETE, ROOF_GREY, ROOF_BLUE, (0.72, 0.72, 0.74), (0.55, 0.36, 0.30), ROOF_BROWN)
_ROOFS_HOUSE = (ROOF_RED, ROOF_BROWN, ROOF_GREY, (0.70, 0.45, 0.35), CONCRETE, ROOF_RED)


def _box(pos: np.ndarray, lo: np.ndarray | float, hi: np.ndarray | float, px: float) -> np.ndarray:
    """Soft indicator of lo < pos < hi."""
    return smooth_step(lo - 0.5 * px, lo + 0.5 * px, pos) * smooth_step(hi + 0.5 * px, hi - 0.5 * px, pos)


def _road(ctx: SceneBatch, image: np.ndarray, wide: tuple[float, float]) -> np.ndarray:
    """Paint one straight or gently curved road with verges, median and lane marks."""
    along, across = ctx.frame()
    dist = np.abs(across - ctx.u(-0.5, 0.5) - ctx.u(-0.25, 0.25) * along**2)
    half = ctx.u(*wide)
    verge = band(dist, half + ctx.u(0.02, 0.07), ctx.px) * 0.7
    image = paint(image, ctx.colour((DRYGRASS, LIGHTSOIL, GRASS)), verge)
    road = band(dist, half, ctx.px)
    image = paint(image, ctx.colour((ASPHALT, (0.42, 0.42, 0.43), (0.26, 0.27, 0.29)), 0.08), road)
    median = band(dist, 0.2 * half, ctx.px) * ctx.coin(0.6)
    image = paint(image, ctx.colour((GRASS, CONCRETE, LUSH)), median)
    marks = smooth_step(0.85, 1.0, np.cos(dist * (4.0 * np.pi) / half)) * road
    cars = hash_unit(np.floor(along / 0.04), np.floor(dist / (0.25 * half + 1e-3)), ctx.salt) > 0.93
    return shade(image, 1.0 + ctx.u(0.0, 0.25) * marks + 0.5 * cars.astype(np.float32) * road * ctx.coin(0.5))


def _second_road(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    return _road(ctx, image, (0.025, 0.06))


def _roadside_houses(ctx: SceneBatch, image: np.ndarray) -> np.ndarray:
    """A few small buildings in a strip of the image."""
    along, across = ctx.frame()
    lots = hash_unit(np.floor(along / 0.1), np.floor(across / 0.1), ctx.salt ^ np.uint32(3))
    near = smooth_step(0.6, 0.3, np.abs(across - ctx.u(-0.6, 0.6)))
    houses = (lots > 0.75) * near * _box((along / 0.1) % 1.0, 0.2, 0.8, 0.1) * _box((across / 0.1) % 1.0, 0.2, 0.8, 0.1)
    return paint(image, ctx.colour((ROOF_RED, ROOF_GREY, ROOF_WHITE)), houses)


def highway(ctx: SceneBatch) -> np.ndarray:
    """One or two roads with lanes over countryside; sometimes a few roadside buildings."""
    image = _road(ctx, countryside(ctx), (0.035, 0.09))
    image = ctx.sometimes(0.4, _second_road, image)
    return ctx.sometimes(0.25, _roadside_houses, image)


def industrial(ctx: SceneBatch) -> np.ndarray:
    """Large bright roofs on a coarse block grid, parking lots, yards and storage tanks."""
    along, across = ctx.frame()
    size_a, size_b = ctx.u(0.25, 0.6), ctx.u(0.2, 0.5)
    pos_a, pos_b = along / size_a + ctx.u(), across / size_b + ctx.u()
    cell_a, cell_b = np.floor(pos_a), np.floor(pos_b)
    loc_a, loc_b = (pos_a - cell_a) * size_a, (pos_b - cell_b) * size_b
    street = ctx.u(0.03, 0.07)
    ground = ctx.table((ASPHALT, CONCRETE, DRYGRASS, GRASS, LIGHTSOIL), 0.1)
    image = ctx.lookup(ground, hash_cells(cell_a, cell_b, ctx.salt ^ np.uint32(5)))
    image = shade(image, 1.0 + ctx.u(0.03, 0.08) * ctx.field(1.0, 1.4))
    kind = hash_unit(cell_a, cell_b, ctx.salt)
    ext_a = street + (0.55 + 0.4 * hash_unit(cell_a, cell_b, ctx.salt ^ np.uint32(1))) * (size_a - street)
    ext_b = street + (0.55 + 0.4 * hash_unit(cell_a, cell_b, ctx.salt ^ np.uint32(2))) * (size_b - street)
    footprint = _box(loc_b, street, ext_b, ctx.px)
    roof = _box(loc_a, street, ext_a, ctx.px) * footprint
    building = kind < ctx.u(0.55, 0.8)
    shadow = _box(loc_a, ext_a, ext_a + ctx.u(0.015, 0.04), ctx.px) * footprint * building
    roofs = ctx.lookup(ctx.table(_ROOFS_BIG, 0.08), hash_cells(cell_a, cell_b, ctx.salt ^ np.uint32(9)))
    ridges = 1.0 + ctx.u(0.0, 0.05) * np.sin(loc_a * ((2.0 * np.pi) / ctx.u(0.03, 0.06))) - 0.45 * shadow
    image = shade(paint(image, roofs, roof * building), ridges)
    stripes = 0.5 + 0.5 * np.sin(loc_a * ((2.0 * np.pi) / 0.035))
    lot = ctx.colour((ASPHALT, (0.25, 0.25, 0.27)), 0.06) * (1.0 + 0.3 * stripes * ctx.u(0.2, 1.0))[:, None]
    image = paint(image, lot, roof * (~building) * (kind < 0.9))
    tank_r = ctx.u(0.04, 0.09)
    tank = band(np.sqrt((loc_a - 0.5 * size_a) ** 2 + (loc_b - 0.5 * size_b) ** 2), tank_r, ctx.px)
    tanks = tank * (kind >= 0.9) * ctx.coin(0.5)
    return paint(image, ctx.colour((ROOF_WHITE, CONCRETE)), tanks)


def residential(ctx: SceneBatch) -> np.ndarray:
    """Dense small houses in rows along a street grid, with gardens and trees."""
    along, across = ctx.frame()
    warp = 0.02 * ctx.field(0.4, 0.7)
    size_a, size_b = ctx.u(0.25, 0.5), ctx.u(0.18, 0.38)
    pos_a, pos_b = (along + warp) / size_a + ctx.u(), (across + warp) / size_b + ctx.u()
    block_a, block_b = np.floor(pos_a), np.floor(pos_b)
    loc_a, loc_b = (pos_a - block_a) * size_a, (pos_b - block_b) * size_b
    street = ctx.u(0.025, 0.05)
    image = ctx.canvas(ctx.colour((GRASS, LUSH, DRYGRASS, (0.40, 0.42, 0.30)), 0.1))
    image = shade(image, 1.0 + ctx.u(0.03, 0.08) * ctx.field(1.1, 1.5))
    streets = 1.0 - _box(loc_a, street, size_a, ctx.px) * _box(loc_b, street, size_b, ctx.px)
    image = paint(image, ctx.colour((ASPHALT, (0.45, 0.45, 0.46), CONCRETE), 0.08), streets)
    house_w = ctx.u(0.06, 0.13)
    hpos = (loc_a - street) / house_w
    house = np.floor(hpos)
    hloc = (hpos - house) * house_w
    row_h = 0.5 * (size_b - street)
    row = loc_b > street + row_h
    rloc = loc_b - street - row * row_h
    fill = ctx.u(0.55, 0.9)
    key_a, key_b = house + 97.0 * block_a, 2.0 * block_b + row
    here = hash_unit(key_a, key_b, ctx.salt) < ctx.u(0.75, 0.97)
    body = (
        _box(hloc, 0.08 * house_w, fill * house_w, ctx.px)
        * _box(rloc, 0.1 * row_h, (0.3 + 0.6 * fill) * row_h, ctx.px)
        * here
        * (1.0 - streets)
    )
    roofs = ctx.lookup(ctx.table(_ROOFS_HOUSE, 0.1), hash_cells(key_a, key_b, ctx.salt ^ np.uint32(4)))
    roofs = shade(roofs, 1.0 - 0.15 * (hloc > 0.5 * fill * house_w).astype(np.float32))
    image = paint(image, roofs, body)
    trees = smooth_step(0.0, 0.3, ctx.field(1.2, 1.6) - ctx.u(1.2, 2.2)) * (1.0 - body)
    return paint(image, ctx.colour((FOREST, LUSH)), trees * ctx.u(0.5, 1.0))

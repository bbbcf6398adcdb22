"""Scene-drawing context shared by the synthetic land-cover renderers.

A `SceneBatch` holds the random numbers of a batch of images (one row per image) and
hands them out in a fixed order, so a renderer reads parameters like `ctx.u(0.1, 0.4)`
and every image of the batch gets its own value. Colours are display RGB in [0, 1].
Images are channel-first float32 (B, 3, H, W): that keeps numpy's inner loops long (a
trailing axis of 3 makes every broadcast slow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from simsat.data.synthetic_textures import TextureKit, fbm, hash_cells, hash_unit, smooth_step

N_PARAMS: int = 64
"""Uniform random numbers available to one scene renderer per image."""

N_FIELDS: int = 6
"""Noise fields available to one scene renderer per image."""

Colour = tuple[float, float, float]

GRASS: Colour = (0.30, 0.45, 0.20)
LUSH: Colour = (0.22, 0.42, 0.15)
OLIVE: Colour = (0.42, 0.43, 0.25)
DRYGRASS: Colour = (0.60, 0.55, 0.38)
SOIL: Colour = (0.48, 0.36, 0.27)
LIGHTSOIL: Colour = (0.66, 0.56, 0.45)
YELLOWCROP: Colour = (0.70, 0.64, 0.36)
GREENCROP: Colour = (0.28, 0.50, 0.20)
FOREST: Colour = (0.10, 0.21, 0.12)
CONIFER: Colour = (0.07, 0.15, 0.12)
ASPHALT: Colour = (0.33, 0.33, 0.35)
CONCRETE: Colour = (0.62, 0.62, 0.60)
ROOF_WHITE: Colour = (0.85, 0.85, 0.85)
ROOF_GREY: Colour = (0.52, 0.53, 0.56)
ROOF_BLUE: Colour = (0.38, 0.46, 0.62)
ROOF_RED: Colour = (0.62, 0.32, 0.24)
ROOF_BROWN: Colour = (0.48, 0.34, 0.28)
WATER_DEEP: Colour = (0.04, 0.09, 0.18)
WATER_BLUE: Colour = (0.08, 0.18, 0.30)
WATER_TEAL: Colour = (0.12, 0.30, 0.32)
WATER_TURBID: Colour = (0.38, 0.36, 0.28)
SAND: Colour = (0.75, 0.68, 0.55)

COUNTRY_PALETTE: tuple[Colour, ...] = (
    GRASS,
    LUSH,
    OLIVE,
    DRYGRASS,
    SOIL,
    LIGHTSOIL,
    YELLOWCROP,
    GREENCROP,
)


@dataclass
class SceneBatch:
    """Random inputs of a batch of scenes, consumed in a fixed order by a renderer."""

    params: np.ndarray  # (B, N_PARAMS) float32 uniforms in [0, 1)
    noise: np.ndarray  # (B, N_FIELDS, NOISE_LEN) float32 uniforms in [-0.5, 0.5)
    salt: np.ndarray  # (B, 1, 1) uint32, per-image hash salt
    kit: TextureKit
    _next_param: int = 0
    _next_field: int = 0

    @property
    def batch(self) -> int:
        return int(self.params.shape[0])

    @property
    def px(self) -> float:
        """One pixel in grid units (the image spans [-1, 1])."""
        return self.kit.pixel

    def _raw(self) -> np.ndarray:
        j = self._next_param % N_PARAMS
        self._next_param += 1
        return self.params[:, j]

    def u(self, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        """Per-image uniform value in [lo, hi), shape (B, 1, 1)."""
        return (lo + (hi - lo) * self._raw())[:, None, None].astype(np.float32)

    def coin(self, prob: float) -> np.ndarray:
        """Per-image Bernoulli(prob) as float32 0/1, shape (B, 1, 1)."""
        return (self._raw() < prob).astype(np.float32)[:, None, None]

    def pick(self, n: int) -> np.ndarray:
        """Per-image integer in [0, n), shape (B,)."""
        return np.minimum((self._raw() * n).astype(np.int64), n - 1)

    def field(self, rough_lo: float, rough_hi: float) -> np.ndarray:
        """Next fractal noise field (B, H, W), zero mean and unit variance."""
        rough = rough_lo + (rough_hi - rough_lo) * self._raw()
        j = self._next_field
        self._next_field += 1
        out = fbm(self.kit, self.noise[:, j % N_FIELDS], rough)
        if j >= N_FIELDS:  # reuse a field, transposed and mirrored
            out = out.transpose(0, 2, 1)[:, ::-1]
        return out

    def sometimes(
        self, prob: float, draw: Callable[[SceneBatch, np.ndarray], np.ndarray], image: np.ndarray
    ) -> np.ndarray:
        """Apply `draw(sub_batch, image_rows)` only to the images whose coin (prob) came up.

        The sub-batch continues this batch's parameter order, and the order after the call is
        the same for every image, so skipping the work for the other images changes nothing.
        """
        rows = np.flatnonzero(self._raw() < prob)
        sub = SceneBatch(
            self.params[rows], self.noise[rows], self.salt[rows], self.kit, self._next_param, self._next_field
        )
        result = draw(sub, image[rows])
        self._next_param, self._next_field = sub._next_param, sub._next_field
        image[rows] = result
        return image

    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """Grid coordinates rotated by a random angle: (along, across), each (B, H, W)."""
        angle = self.u(0.0, np.pi)
        cos, sin = np.cos(angle), np.sin(angle)
        along = cos * self.kit.x + sin * self.kit.y
        across = cos * self.kit.y - sin * self.kit.x
        return along, across

    def colour(self, options: Sequence[Colour], jitter: float = 0.08) -> np.ndarray:
        """One colour per image picked from `options`, jittered per channel: (B, 3, 1, 1)."""
        base = np.asarray(options, dtype=np.float32)[self.pick(len(options))]
        scale = np.exp(jitter * (2.0 * np.stack([self._raw() for _ in range(3)], 1) - 1.0))
        return (base * scale.astype(np.float32))[:, :, None, None]

    def table(self, options: Sequence[Colour], jitter: float = 0.08, n: int = 8) -> np.ndarray:
        """Per-image table of n jittered colours drawn from `options`: (B, 3, n)."""
        slots = np.arange(n, dtype=np.int64)[None, :, None]
        salt = self.salt.reshape(-1, 1, 1) ^ np.uint32(0x5BD1E995 + self._next_param)
        self._next_param += 1
        which = hash_cells(slots, np.zeros_like(slots), salt)[..., 0] % np.uint32(len(options))
        base = np.asarray(options, dtype=np.float32)[which.astype(np.int64)]
        chan = np.arange(3, dtype=np.int64)[None, None, :]
        wiggle = hash_unit(slots + 1000, chan, salt)
        table = base * np.exp(jitter * (2.0 * wiggle - 1.0)).astype(np.float32)
        return np.ascontiguousarray(table.transpose(0, 2, 1))

    def lookup(self, table: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Colour of each pixel from its hashed cell id: table (B, 3, n), cells (B, H, W) uint32."""
        n = table.shape[2]
        index = (cells % np.uint32(n)).astype(np.intp)
        index += (np.arange(self.batch, dtype=np.intp) * n)[:, None, None]
        out = np.empty((self.batch, 3) + cells.shape[1:], dtype=np.float32)
        for c in range(3):  # one gather per channel: no (B, 3, H, W) index array
            np.take(np.ascontiguousarray(table[:, c]).reshape(-1), index, out=out[:, c])
        return out

    def canvas(self, colour: np.ndarray) -> np.ndarray:
        """A (B, 3, H, W) image filled with one colour (B, 3, 1, 1) per image."""
        size = self.kit.size
        return np.broadcast_to(colour, (self.batch, 3, size, size)).astype(np.float32)


def paint(base: np.ndarray, colour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Blend `colour` (B, 3, 1, 1) or (B, 3, H, W) over `base` (B, 3, H, W) where mask (B, H, W) is 1."""
    out = colour - base
    out *= mask[:, None]
    out += base
    return out


def shade(image: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Multiply (B, 3, H, W) by a per-pixel brightness factor (B, H, W)."""
    return image * factor[:, None]


def band(distance: np.ndarray, half_width: np.ndarray | float, px: float) -> np.ndarray:
    """Anti-aliased mask of |distance| < half_width, one pixel of soft edge."""
    return smooth_step(half_width + 0.5 * px, half_width - 0.5 * px, np.abs(distance))


def countryside(ctx: SceneBatch) -> np.ndarray:
    """Mixed rural background: fields of several crops, grass and woodland patches."""
    along, across = ctx.frame()
    warp = 0.04 * ctx.field(0.5, 0.8)
    cell_a = np.floor((along + warp) / ctx.u(0.3, 0.9) + ctx.u())
    cell_b = np.floor(across / ctx.u(0.3, 1.3) + ctx.u())
    table = ctx.table(COUNTRY_PALETTE, jitter=0.12)
    image = ctx.lookup(table, hash_cells(cell_a, cell_b, ctx.salt))
    image = shade(image, 1.0 + ctx.u(0.03, 0.09) * ctx.field(0.8, 1.2))
    woods = ctx.field(0.45, 0.7)
    cover = smooth_step(0.0, 0.35, woods - ctx.u(0.4, 2.2))
    trees = ctx.colour((FOREST, CONIFER, LUSH), 0.1)
    return paint(image, trees, cover)

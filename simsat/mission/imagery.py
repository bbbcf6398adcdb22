"""Imagery as it crosses the downlink: JPEG encoding onboard, decoding at the ground.

The byte count of an image is its encoded length, so what the ground receives, and what its
teachers can label, is limited by the downlink like everything else. `size` is the edge in
pixels an image is resampled to before encoding (the stand-in for a real product's size);
the ground decodes and resamples back to the mission's image size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from simsat.errors import ConfigError
from simsat.mission.packets import ImageryPacket


@dataclass(frozen=True)
class ImageCodec:
    size: int = 0  # 0: native size
    quality: int = 90

    def __post_init__(self) -> None:
        if self.size < 0 or (0 < self.size < 8):
            raise ConfigError(f"imagery.size must be 0 (native) or >= 8 pixels, got {self.size}")
        if not 1 <= self.quality <= 95:
            raise ConfigError(f"imagery.quality must be in [1, 95], got {self.quality}")

    def encode(self, image: np.ndarray) -> bytes:
        picture = Image.fromarray(image)
        if self.size and picture.size != (self.size, self.size):
            picture = picture.resize((self.size, self.size), Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=self.quality)
        return buffer.getvalue()

    def decode(self, data: bytes, edge: int) -> np.ndarray:
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        if picture.size != (edge, edge):
            picture = picture.resize((edge, edge), Image.Resampling.BILINEAR)
        return np.asarray(picture, dtype=np.uint8)


def encode_within(
    codec: ImageCodec, images: np.ndarray, ids: np.ndarray, start: int, stop: int, budget_bytes: int
) -> ImageryPacket:
    """Encode images[start:stop] in order while their total encoded size fits `budget_bytes`."""
    chunks: list[bytes] = []
    total = 0
    for row in range(start, stop):
        data = codec.encode(images[row])
        if total + len(data) > budget_bytes:
            break
        chunks.append(data)
        total += len(data)
    offsets = np.zeros(len(chunks) + 1, np.int64)
    offsets[1:] = np.cumsum([len(c) for c in chunks]) if chunks else []
    data = np.frombuffer(b"".join(chunks), dtype=np.uint8).copy()
    return ImageryPacket(np.asarray(ids[start : start + len(chunks)], np.int64), data, offsets)


def decode_packet(codec: ImageCodec, packet: ImageryPacket, edge: int) -> np.ndarray:
    """The packet's images as uint8 (n, edge, edge, 3)."""
    out = np.zeros((len(packet), edge, edge, 3), np.uint8)
    raw = packet.data.tobytes()
    for i in range(len(packet)):
        out[i] = codec.decode(raw[packet.offsets[i] : packet.offsets[i + 1]], edge)
    return out

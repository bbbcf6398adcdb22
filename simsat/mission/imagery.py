"""Imagery as it crosses the downlink: JPEG encoding onboard, decoding at the ground.

The byte count of an image is its encoded length, so what the ground receives, and what its
teachers can label, is limited by the downlink like everything else. `size` is the edge in
pixels an image is resampled to before encoding (the stand-in for a real product's size);
the ground decodes and resamples back to the mission's image size.

EuroSAT's 64 px JPEGs (about 2-3 kB) are far smaller than the product a satellite would send
down. `ProductSizedImagery` makes each image occupy `bytes_per_image` on the link (for example
the 13-band 64 x 64 uint16 Sentinel-2 patch, 106,496 bytes) while the JPEG still travels as the
payload the ground decodes; `imagery_share` turns a wanted fraction of the satellites' images
into the share of each window's downlink that carries about that many over the mission.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from simsat.errors import ConfigError
from simsat.mission.packets import ImageryPacket, TrainReport, UpdatePacket, UplinkPacket
from simsat.mission.transport import Reply, TrainOrder, Transport

# bytes of a 64 x 64 pixel, 13-band Sentinel-2 L1C patch stored as uint16 (EuroSAT's multispectral product)
SENTINEL2_13BAND_64PX_BYTES = 64 * 64 * 13 * 2


@dataclass(frozen=True)
class ImageCodec:
    size: int = 0  # 0: native size
    quality: int = 90

    def __post_init__(self) -> None:
        if self.size < 0 or (0 < self.size < 8):
            raise ConfigError(f"size must be 0 (native) or >= 8 pixels, got {self.size}", "size")
        if not 1 <= self.quality <= 95:
            raise ConfigError(f"quality must be in [1, 95], got {self.quality}", "quality")

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


def imagery_share(fraction: float, images: int, bytes_per_image: float, capacity_bytes: float) -> float:
    """Share of every window's downlink that carries `fraction` of `images` images of
    `bytes_per_image` bytes each, when the mission's windows carry `capacity_bytes` in all
    (capped at 1: the whole window)."""
    if capacity_bytes <= 0:
        return 1.0
    return float(min(1.0, fraction * images * bytes_per_image / capacity_bytes))


def mean_encoded_bytes(codec: ImageCodec, images: np.ndarray, sample: int = 64) -> float:
    """Mean encoded length of the first `sample` images (the link size when no product size is set)."""
    picked = images[:sample]
    if len(picked) == 0:
        return 0.0
    return float(np.mean([len(codec.encode(image)) for image in picked]))


class ProductSizedImagery:
    """A Transport whose imagery packets occupy `bytes_per_image` per image on the link.

    A packet holds at most budget // bytes_per_image images; its byte count is the serialised
    message's with each JPEG's length replaced by `bytes_per_image`. Everything else is passed
    through unchanged.
    """

    def __init__(self, inner: Transport, bytes_per_image: int) -> None:
        if bytes_per_image < 1:
            raise ConfigError(f"bytes_per_image must be >= 1 here, got {bytes_per_image}", "bytes_per_image")
        self.inner = inner
        self.bytes_per_image = int(bytes_per_image)

    def uplink_bytes(self, packet: UplinkPacket) -> int:
        return self.inner.uplink_bytes(packet)

    def update_bytes(self, packet: UpdatePacket) -> int:
        return self.inner.update_bytes(packet)

    def deliver(self, satellite: int, packet: UplinkPacket, train: TrainOrder | None = None) -> Reply[None]:
        return self.inner.deliver(satellite, packet, train)

    def start_training(self, satellite: int, acquired: int, fail: bool = False) -> None:
        self.inner.start_training(satellite, acquired, fail)

    def finish_training(self, satellite: int) -> TrainReport:
        return self.inner.finish_training(satellite)

    def downlink(self, satellite: int) -> Reply[tuple[UpdatePacket, int] | None]:
        return self.inner.downlink(satellite)

    def imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> Reply[tuple[ImageryPacket, int]]:
        stop = min(stop, start + int(budget_bytes) // self.bytes_per_image)
        if stop <= start:
            return Reply.ready((ImageryPacket.empty(), 0))

        def product_sized(answer: tuple[ImageryPacket, int]) -> tuple[ImageryPacket, int]:
            packet, nbytes = answer
            return packet, nbytes - packet.encoded_bytes + len(packet) * self.bytes_per_image

        return self.inner.imagery(satellite, start, stop, budget_bytes).then(product_sized)

    def prefetch_imagery(self, satellite: int, start: int, stop: int, budget_bytes: int) -> None:
        stop = min(stop, start + int(budget_bytes) // self.bytes_per_image)
        if stop > start:
            self.inner.prefetch_imagery(satellite, start, stop, budget_bytes)

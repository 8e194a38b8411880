"""Colorize photos of any size with a trained checkpoint, keeping each photo's own full-resolution luminance.

The network runs at a *working size* (the training size scaled to the photo's aspect ratio; the generator
pads to its encoder stride itself). Its RGB prediction is reduced to YCbCr chroma, upsampled bilinearly to
the photo's resolution and merged with the photo's full-resolution gray, the same way for every color space.
So a 4000×3000 photo comes out 4000×3000, as sharp as it went in, and its Rec.601 luma equals the input's
gray up to uint8 rounding (≤ 0.5 level) wherever the merged color lies inside the sRGB gamut.

Checkpoints are loaded safely (weights only, whitelisted generator): see `colorgan.checkpoints`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from colorgan.checkpoints import CheckpointError, build_generator, read_checkpoint, resolve_checkpoint
from colorgan.color import REC601_WEIGHTS, ColorSpace, get_colorspace
from colorgan.data import is_grayscale, load_rgb
from colorgan.errors import UserError

__all__ = ["CheckpointError", "Colorizer", "auto_device", "resolve_checkpoint", "side_by_side"]
#: the color space whose chroma carries the prediction to full resolution (linear, keeps Rec.601 luma)
REFERENCE_SPACE = "ycbcr"
#: rows merged at once at full resolution (bounds peak memory for huge photos)
STRIP_ROWS = 512
ImageLike = Image.Image | np.ndarray | str | Path


def auto_device(requested: str | None = None) -> torch.device:
    """``requested`` if given and available, else CUDA, then Apple MPS, then the CPU."""
    if requested:
        try:
            device = torch.device(requested)
        except (RuntimeError, ValueError) as error:
            raise UserError(f"unknown device {requested!r}: use cpu, cuda, cuda:N or mps") from error
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }.get(device.type, False)
        if not available:
            raise UserError(f"device {requested!r} is not available on this machine")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class PreparedImage:
    """A photo's full-resolution gray [H,W] in [0,1] and its model input at the working size."""

    gray: Tensor
    luma: Tensor
    was_color: bool
    as_pil: bool


def _float_image(array: np.ndarray) -> np.ndarray:
    """uint8 / uint16 / bool / float [0,1] array -> float32 in [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0):
            raise ValueError("float image arrays must hold finite values in [0, 1]")
        return array.astype(np.float32)
    raise ValueError(f"unsupported image array dtype {array.dtype}: use uint8, uint16 or float in [0, 1]")


def _to_array(image: ImageLike) -> tuple[np.ndarray, bool]:
    """Any supported input -> (H×W gray or H×W×3 RGB array, whether it came as a PIL image)."""
    if isinstance(image, str | Path):
        return load_rgb(image), True
    if isinstance(image, Image.Image):
        if image.mode in ("L", "RGB", "I;16", "I;16L", "I;16B", "F"):
            array = np.asarray(image)
            return (array / 65535.0 if image.mode.startswith("I;16") else array), True
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")), True
    if isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim == 3 and image.shape[-1] == 4:
            alpha = _float_image(image[..., 3:])
            return _float_image(image[..., :3]) * alpha + (1.0 - alpha), False
        if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] == 3):
            return image, False
        raise ValueError(f"expected an H×W gray or H×W×3 RGB(A) array, got shape {image.shape}")
    raise TypeError(f"cannot colorize a {type(image).__name__}: pass a PIL image, a numpy array or a path")


def gray_of(image: ImageLike) -> tuple[Tensor, bool, bool]:
    """(full-resolution gray [H,W] float32 in [0,1], was it a color photo, was it a PIL image/path)."""
    array, as_pil = _to_array(image)
    if min(array.shape[:2]) < 1:
        raise ValueError(f"empty image of shape {array.shape}")
    if array.ndim == 2:
        return torch.from_numpy(_float_image(array)), False, as_pil
    height, width = array.shape[:2]
    step = max(1, math.ceil(max(height, width) / 256))
    thumb = array[::step, ::step]
    thumb = thumb if thumb.dtype == np.uint8 else np.rint(_float_image(thumb) * 255).astype(np.uint8)
    weights = np.array(REC601_WEIGHTS, dtype=np.float32) / (255.0 if array.dtype == np.uint8 else 1.0)
    gray = np.empty((height, width), dtype=np.float32)
    for top in range(0, height, STRIP_ROWS):  # rgb_to_gray's weights, in strips (small float copies)
        strip = array[top : top + STRIP_ROWS]
        strip = strip if strip.dtype == np.uint8 else _float_image(strip)
        np.matmul(strip.astype(np.float32, copy=False), weights, out=gray[top : top + STRIP_ROWS])
    gray = torch.from_numpy(gray)
    return gray, not is_grayscale(thumb), as_pil


def working_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(h, w) with the short side ``short_side`` and the photo's aspect ratio."""
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


class Colorizer:
    """A trained generator ready to colorize PIL images, arrays or files of any size."""

    def __init__(self, generator: nn.Module, colorspace: str | ColorSpace, image_size: int,
                 device: str | torch.device | None = None, short_side: int | None = None) -> None:
        self.device = auto_device(str(device) if device is not None else None)
        self.generator = generator.eval().to(self.device)
        self.colorspace = colorspace if isinstance(colorspace, ColorSpace) else get_colorspace(colorspace)
        self.reference = get_colorspace(REFERENCE_SPACE)
        self.merge_matrix = affine_merge_matrix(self.reference)
        self.image_size = int(image_size)
        self.short_side = int(short_side or image_size)
        if self.short_side < 8:
            raise UserError(f"short side of the working size must be >= 8 px, got {self.short_side}")
        self.checkpoint_path: Path | None = None

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None,
                        short_side: int | None = None) -> Colorizer:
        """Load a checkpoint file or a run directory's best checkpoint (safely: weights only)."""
        resolved = resolve_checkpoint(path)
        record, weights = read_checkpoint(resolved)
        colorspace = get_colorspace(record["colorspace"])
        generator = build_generator(record, weights, colorspace)
        colorizer = cls(generator, colorspace, int(record.get("image_size") or 128), device, short_side)
        colorizer.checkpoint_path = resolved
        return colorizer

    # ---- public API ---------------------------------------------------------------------------
    def colorize(self, image: ImageLike, short_side: int | None = None) -> Image.Image | np.ndarray:
        """Colorize one photo; PIL images and paths give a PIL RGB image, arrays an H×W×3 uint8 array."""
        return self.colorize_batch([image], short_side)[0]

    def colorize_batch(self, images: Sequence[ImageLike], short_side: int | None = None,
                       batch_size: int = 8) -> list[Image.Image | np.ndarray]:
        """Colorize several photos, batching the network over photos that share a working size."""
        prepared = [self.prepare(image, short_side) for image in images]
        small = self.predict([item.luma for item in prepared], batch_size)
        results: list[Image.Image | np.ndarray] = []
        for item, rgb in zip(prepared, small, strict=True):
            array = self.full_resolution(item.gray, rgb)
            results.append(Image.fromarray(array) if item.as_pil else array)
        return results

    # ---- the three steps ----------------------------------------------------------------------
    def prepare(self, image: ImageLike, short_side: int | None = None) -> PreparedImage:
        """Full-resolution gray and the model's luma input at the working size."""
        gray, was_color, as_pil = gray_of(image)
        size = working_size(*gray.shape, int(short_side or self.short_side))
        small = F.interpolate(gray[None, None], size=size, mode="bicubic", antialias=True)
        luma = self.colorspace.luma_from_gray(small.clamp_(0.0, 1.0))[0]
        return PreparedImage(gray=gray, luma=luma, was_color=was_color, as_pil=as_pil)

    @torch.no_grad()
    def predict(self, lumas: Sequence[Tensor], batch_size: int = 8) -> list[Tensor]:
        """Colorized RGB [3,h,w] at the working size for each luma [1,h,w] (batched by equal size)."""
        results: list[Tensor | None] = [None] * len(lumas)
        by_size: dict[tuple[int, ...], list[int]] = {}
        for index, luma in enumerate(lumas):
            by_size.setdefault(tuple(luma.shape), []).append(index)
        for indices in by_size.values():
            for start in range(0, len(indices), max(1, batch_size)):
                chunk = indices[start : start + max(1, batch_size)]
                luma = torch.stack([lumas[i] for i in chunk]).to(self.device)
                chroma = self.generator(luma).float()
                rgb = self.colorspace.merge(luma, chroma).cpu()
                for i, image in zip(chunk, rgb, strict=True):
                    results[i] = image
        return [image for image in results if image is not None]

    @torch.no_grad()
    def full_resolution(self, gray: Tensor, rgb_small: Tensor) -> np.ndarray:
        """Merge the prediction's chroma, upsampled, with the full-resolution gray: H×W×3 uint8.

        Equals ``reference.merge(reference.luma_from_gray(gray), upsampled chroma)`` rounded to uint8, but
        computed as ``gray + upsample(M·chroma)``: the reference merge is ``gray + M·chroma`` (M probed from
        the space) and bilinear upsampling is linear, so the RGB offset is formed at the working size and
        only a few passes touch the full-resolution pixels (in strips of rows).
        """
        height, width = gray.shape
        _, chroma_small = self.reference.split(rgb_small[None].to(self.device))
        offset = torch.einsum("kc,bchw->bkhw", self.merge_matrix.to(self.device) * 255.0, chroma_small)
        offset = offset.add_(0.5).contiguous(memory_format=torch.channels_last)  # +0.5: uint8 cast truncates
        upsampled = F.interpolate(offset, size=(height, width), mode="bilinear", align_corners=False)
        upsampled = upsampled[0].permute(1, 2, 0).contiguous()  # H×W×3 (already so when channels_last)
        output = np.empty((height, width, 3), dtype=np.uint8)
        target = torch.from_numpy(output)
        for top in range(0, height, STRIP_ROWS):
            rows = slice(top, top + STRIP_ROWS)
            strip = upsampled[rows].add_(gray[rows].to(self.device).unsqueeze(-1), alpha=255.0)
            target[rows].copy_(strip.clamp_(0.0, 255.0))  # float -> uint8 in the copy
        return output


def affine_merge_matrix(space: ColorSpace, step: float = 0.05) -> Tensor:
    """M [3, C] with ``space.merge(space.luma_from_gray(g), c) == g + M c`` for in-gamut colors.

    Probed from the space itself and verified, so only a space that really is affine (YCbCr, YUV) passes.
    """
    gray = torch.full((1, 1, 1, 1), 0.5, dtype=torch.float64)
    luma = space.luma_from_gray(gray)
    zero = torch.zeros(1, space.chroma_channels, 1, 1, dtype=torch.float64)
    columns = []
    for channel in range(space.chroma_channels):
        probe = zero.clone()
        probe[0, channel] = step
        columns.append((space.merge(luma, probe) - 0.5).flatten() / step)
    matrix = torch.stack(columns, dim=1)
    generator = torch.Generator().manual_seed(0)
    grays = torch.rand(1, 1, 4, 4, generator=generator, dtype=torch.float64) * 0.5 + 0.25
    chroma = torch.rand(1, space.chroma_channels, 4, 4, generator=generator, dtype=torch.float64) * 0.2 - 0.1
    expected = space.merge(space.luma_from_gray(grays), chroma)
    predicted = grays + torch.einsum("kc,bchw->bkhw", matrix, chroma)
    if not torch.allclose(expected, predicted, atol=1e-6):
        raise ValueError(f"color space {space.name!r} is not affine in its chroma: not usable as reference")
    return matrix.float()


def side_by_side(gray: Tensor | np.ndarray, colorized: np.ndarray, gap: int = 0) -> np.ndarray:
    """gray | colorized as one H×(2W+gap)×3 uint8 panel."""
    gray_array = gray.numpy() if isinstance(gray, Tensor) else np.asarray(gray)
    if gray_array.dtype != np.uint8:
        gray_array = np.rint(np.clip(gray_array, 0.0, 1.0) * 255.0).astype(np.uint8)
    left = np.repeat(gray_array[..., None], 3, axis=-1)
    spacer = np.full((colorized.shape[0], gap, 3), 255, dtype=np.uint8)
    return np.concatenate([left, spacer, colorized], axis=1)

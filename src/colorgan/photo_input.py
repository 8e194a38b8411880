"""A photo as the network's input: any image-like in, its full-resolution Rec.601 gray and the working size.

`gray_of` turns a file, PIL image or array (uint8/16-bit/float, gray or color) into float gray in [0, 1];
`working_size` scales the training size to the photo's aspect ratio, refusing extreme shapes
(`UnsupportedSize`) and capping the pixel count; `auto_device` picks where the network runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from colorgan.color import REC601_WEIGHTS
from colorgan.data import is_grayscale, load_rgb
from colorgan.errors import UserError

#: rows handled at once at full resolution (bounds peak memory for huge photos)
STRIP_ROWS = 512
#: photos more elongated than this (long side / short side) are refused: their working size would explode
MAX_ASPECT = 32
#: the network input is scaled down to at most this many pixels (e.g. for a large --short-side)
MAX_WORK_PIXELS = 4096 * 4096
ImageLike = Image.Image | np.ndarray | str | Path


class UnsupportedSize(UserError):
    """A photo whose shape the network cannot take (an extreme aspect ratio): skipped, the others go on."""


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
    """(h, w) with the short side ``short_side`` and the photo's aspect ratio, scaled down to at most
    `MAX_WORK_PIXELS`; an `UnsupportedSize` for photos more elongated than `MAX_ASPECT`:1."""
    aspect = max(height, width) / min(height, width)
    if aspect > MAX_ASPECT:
        raise UnsupportedSize(f"extreme aspect ratio {width}x{height} px (more than {MAX_ASPECT}:1): skipped")
    scale = short_side / min(height, width)
    scale = min(scale, math.sqrt(MAX_WORK_PIXELS / (height * width)))
    return max(1, round(height * scale)), max(1, round(width * scale))

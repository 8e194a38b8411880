"""Reading photo files as 8-bit RGB, whatever their mode, and telling color photos from gray ones."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from colorgan.data.errors import ImageError

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
"""File name endings treated as photos (compared case-insensitively)."""

DEFAULT_GRAY_TOLERANCE = 12
"""Channel spread (max - min over R, G, B, in 8-bit levels) below which a pixel counts as colorless."""

MAX_ASPECT = 8.0
"""Photos longer than this many times their width (or wider than their height) are skipped: a thin strip
(a 1×2000 PNG) would become a huge network input or cache entry and teaches nothing about photos."""

MAX_PIXELS = 100_000_000
"""Photos of more pixels than this (100 megapixels) are skipped: one would need gigabytes to decode."""

EXTREME_ASPECT, TOO_MANY_PIXELS = "extreme aspect ratio", "too many pixels"

_WHITE = (255, 255, 255)
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
                  Image.DecompressionBombError, IndexError, TypeError, KeyError)


def find_images(root: str | Path, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """All photo files under ``root`` (recursive, sorted), skipping hidden files and folders."""
    root = Path(root)
    wanted = {ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions}
    return [path for path in list_visible_files(root) if path.suffix.lower() in wanted]


def list_visible_files(root: Path) -> list[Path]:
    """Every regular file under ``root`` whose path (relative to root) has no hidden part, sorted."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


def open_rgb(path: str | Path, min_side: int | None = None) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB PIL image, silencing PIL's warnings about odd files.

    ``min_side`` lets JPEG decoding shrink the image by 2, 4 or 8 (PIL ``draft``) as long as both
    sides stay at least that long; other formats are decoded at full size. Raises ImageError.
    """
    with warnings.catch_warnings():  # not thread-safe: threads call decode_rgb under one of these
        warnings.simplefilter("ignore")
        return decode_rgb(path, min_side)


def decode_rgb(path: str | Path, min_side: int | None = None) -> Image.Image:
    """open_rgb without touching the warning filters (safe to call from many threads at once)."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            if min_side is not None and image.format == "JPEG":
                image.draft(image.mode, (min_side, min_side))
            image.load()
            return _to_rgb(ImageOps.exif_transpose(image))
    except ImageError:
        raise
    except _DECODE_ERRORS as error:
        raise ImageError(f"cannot read image {path}: {error}") from error


def read_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file from its header, without decoding it; raises ImageError."""
    try:
        with Image.open(path) as image:
            return image.size
    except _DECODE_ERRORS as error:
        raise ImageError(f"cannot read image {path}: {error}") from error


def shape_problem(width: int, height: int) -> str | None:
    """Why a ``width``×``height`` photo is unfit for training (EXTREME_ASPECT, TOO_MANY_PIXELS), or None."""
    if width * height > MAX_PIXELS:
        return TOO_MANY_PIXELS
    if max(width, height) > MAX_ASPECT * max(1, min(width, height)):
        return EXTREME_ASPECT
    return None


def load_rgb(path: str | Path) -> np.ndarray:
    """Read ``path`` as an H×W×3 uint8 RGB array, EXIF orientation applied.

    Handles palette, gray (L, 1), CMYK, alpha (composited on white) and 16-bit images (scaled to
    8 bit). Raises ImageError (a DataError) when the file cannot be decoded.
    """
    return np.asarray(open_rgb(path))


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in _HIGH_BIT_MODES:
        full_scale = 65535.0 if mode.startswith("I;16") else None
        gray = Image.fromarray(_scale_to_uint8(np.asarray(image), full_scale))
        return gray.convert("RGB")
    if mode == "P":
        has_alpha = "transparency" in image.info or image.palette.mode == "RGBA"
        return _composite_on_white(image.convert("RGBA")) if has_alpha else image.convert("RGB")
    if mode in _ALPHA_MODES:
        return _composite_on_white(image.convert("RGBA"))
    try:
        return image.convert("RGB")  # L, 1, CMYK, YCbCr, ...
    except (ValueError, OSError) as error:
        raise ImageError(f"unsupported image mode {mode!r}: {error}") from error


def _composite_on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _scale_to_uint8(values: np.ndarray, full_scale: float | None = None) -> np.ndarray:
    """Map a high-bit-depth or float gray array to 0..255, rounding to nearest.

    Without ``full_scale`` it is guessed: 1.0 for floats in [0, 1], else 255, 65535 or the maximum.
    """
    is_float = np.issubdtype(values.dtype, np.floating)
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if full_scale is None:
        full_scale = _guess_full_scale(float(values.max()) if values.size else 0.0, is_float)
    return np.clip(np.rint(values * (255.0 / full_scale)), 0, 255).astype(np.uint8)


def _guess_full_scale(peak: float, is_float: bool) -> float:
    if is_float and peak <= 1.0:
        return 1.0  # float images stored in [0, 1]
    if peak <= 255:
        return 255.0
    if peak <= 65535:
        return 65535.0
    return peak


def is_grayscale(rgb: np.ndarray, tolerance: int = DEFAULT_GRAY_TOLERANCE,
                 min_color_fraction: float = 0.01) -> bool:
    """True when the photo has (almost) no color, i.e. would teach a colorizer to desaturate.

    A pixel counts as colored when its channel spread (max - min over R, G, B) exceeds
    ``tolerance`` levels; the photo is gray when fewer than ``min_color_fraction`` of its pixels are.
    The tolerance absorbs JPEG chroma noise on gray photos saved as RGB. Works best on a small
    thumbnail (averaging removes noise and it is fast).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[-1] == 1):
        return True
    if rgb.ndim != 3 or rgb.shape[-1] < 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {tuple(rgb.shape)}")
    channels = rgb[..., :3].astype(np.int16)
    spread = channels.max(axis=-1) - channels.min(axis=-1)
    if spread.size == 0:
        return True
    return float(np.mean(spread > tolerance)) < min_color_fraction

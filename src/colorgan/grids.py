"""The one owner of tiling pictures into a grid: the training sample panels, colorize's side by side, the
comparison report's grid and evaluate's worst/median/best grid all lay their images out here.

Pure numpy (torch tensors accepted): the callers resize (to a tile, to a row height) and draw any text in
the bands this module leaves blank (``top``, ``caption_height``) themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import Tensor

#: the background of every grid, and of the gaps between its images
WHITE = 255

ImageLike = Tensor | np.ndarray


def to_rgb_uint8(image: ImageLike) -> np.ndarray:
    """An H×W×3 uint8 array from a picture in any of the layouts the code base passes around.

    numpy: H×W (gray) or H×W×3, uint8 or float in [0, 1]; torch: H×W, [1,H,W] or [3,H,W], uint8 or
    float in [0, 1]. Floats are clipped to [0, 1] and rounded (NaN: 0); gray is repeated over R, G, B.

    Example:
        >>> import numpy as np, torch
        >>> to_rgb_uint8(torch.ones(3, 2, 4)).shape
        (2, 4, 3)
        >>> to_rgb_uint8(np.array([[0.0, 0.5, 2.0]]))[0, :, 0].tolist()
        [0, 128, 255]
    """
    if isinstance(image, Tensor):
        array = image.detach().cpu()
        if array.ndim == 3:
            array = array.permute(1, 2, 0)
        array = array.float().numpy() if array.is_floating_point() else array.numpy()
    else:
        array = np.asarray(image)
    if array.dtype != np.uint8:  # NaN (a diverged model's output) shows as black
        array = np.rint(np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0) * 255.0).astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected a gray or RGB picture, got shape {list(np.shape(image))}")
    return array


def letterbox(image: ImageLike, height: int, width: int, fill: int = WHITE) -> np.ndarray:
    """Center a picture (no larger than height×width) on a height×width canvas of ``fill``."""
    array = to_rgb_uint8(image)
    if array.shape[0] > height or array.shape[1] > width:
        raise ValueError(f"a {array.shape[0]}x{array.shape[1]} picture does not fit in {height}x{width}")
    canvas = np.full((height, width, 3), fill, dtype=np.uint8)
    top, left = (height - array.shape[0]) // 2, (width - array.shape[1]) // 2
    canvas[top : top + array.shape[0], left : left + array.shape[1]] = array
    return canvas


def tile(
    rows: Sequence[Sequence[ImageLike]],
    gap: int = 2,
    top: int = 0,
    bottom: int = 0,
    caption_height: int = 0,
    fill: int = WHITE,
) -> np.ndarray:
    """Lay rows of pictures out on one H×W×3 uint8 canvas of ``fill``.

    Within a row the pictures stand side by side, top-aligned, ``gap`` pixels apart; each row takes the
    height of its tallest picture, rows are ``gap`` apart, and the canvas is as wide as the widest row
    (rows are left-aligned). ``top`` and ``bottom`` add blank bands above and below everything, and
    ``caption_height`` a blank band above each row, for the caller's text.

    Example:
        >>> import numpy as np
        >>> black = np.zeros((2, 3), dtype=np.uint8)
        >>> tile([[black, black], [black]], gap=1).shape
        (5, 7, 3)
        >>> tile([[black]], gap=1, top=4, bottom=1, caption_height=2).shape
        (9, 3, 3)
    """
    if not rows or not all(rows):
        raise ValueError("tile needs at least one picture in every row")
    pictures = [[to_rgb_uint8(image) for image in row] for row in rows]
    heights = [max(picture.shape[0] for picture in row) for row in pictures]
    widths = [sum(picture.shape[1] for picture in row) + gap * (len(row) - 1) for row in pictures]
    total = top + sum(heights) + len(rows) * caption_height + gap * (len(rows) - 1) + bottom
    canvas = np.full((total, max(widths), 3), fill, dtype=np.uint8)
    y = top
    for row, height in zip(pictures, heights, strict=True):
        y += caption_height
        x = 0
        for picture in row:
            canvas[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
            x += picture.shape[1] + gap
        y += height + gap
    return canvas

"""User color hints: points of a photo with the color they should have, as the hint model's input.

A hint is ``(x, y, (r, g, b))`` or ``(x, y, (r, g, b), size)``: x and y in pixels of the full-resolution
photo (x from the left, y from the top; fractions allowed), a color as 0-255 sRGB, and optionally the side of
its square patch in pixels of the network's working size (default `DEFAULT_HINT_SIZE`). The color gives the
hue and saturation; its brightness always comes from the photo: it is re-expressed at the photo's gray
there (through YCbCr, which keeps Rec.601 luma) and then split by the model's own `ColorSpace`, so the same
code serves every color space.

The hints file of ``python -m colorgan.colorize RUN photo.jpg --hints hints.json`` (`read_hints_file`)::

    {"size": 5,
     "hints": [{"x": 120, "y": 64, "color": "#d03020"},
               {"x": 300, "y": 210.5, "color": [40, 90, 200], "size": 3}]}

A bare list of such points is accepted too; colors are ``"#rrggbb"``, ``"#rgb"`` or ``[r, g, b]`` (0-255).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from colorgan.color import ColorSpace, get_colorspace
from colorgan.errors import UserError
from colorgan.models.hints import HintDraw, paint

#: side of a hint's patch in working-size pixels when none is given (training saw 1-9 px patches)
DEFAULT_HINT_SIZE = 5
#: the space whose chroma carries a hint's color to the photo's brightness (linear, keeps Rec.601 luma)
CARRIER_SPACE = "ycbcr"
Color = tuple[int, int, int]
Hint = tuple[float, float, Color] | tuple[float, float, Color, int]


class HintError(UserError):
    """A hints file or hint that cannot be used (bad JSON, bad color, a point outside the photo...)."""


def parse_color(value: Any, where: str = "color") -> Color:
    """``"#rrggbb"``, ``"#rgb"`` or ``[r, g, b]`` with 0-255 numbers -> (r, g, b) ints."""
    if isinstance(value, str):
        text = value.strip().lstrip("#")
        if len(text) == 3:
            text = "".join(ch * 2 for ch in text)
        if len(text) == 6:
            try:
                return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
            except ValueError:
                pass
        raise HintError(f"{where}: {value!r} is not a color: use \"#rrggbb\" or [r, g, b] with 0-255 values")
    if isinstance(value, Sequence) and len(value) == 3 and all(
            isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) and 0 <= c <= 255
            for c in value):
        return tuple(round(c) for c in value)  # type: ignore[return-value]
    raise HintError(f"{where}: {value!r} is not a color: use \"#rrggbb\" or [r, g, b] with 0-255 values")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise HintError(f"{where} must be a number, got {value!r}")
    return float(value)


def _size(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise HintError(f"{where} must be a whole number of pixels in 1..64, got {value!r}")
    return value


def parse_hints(data: Any, source: str = "hints") -> tuple[list[Hint], int | None]:
    """(hints, default size or None) from decoded JSON: ``{"hints": [...], "size": N}`` or a bare list."""
    size = None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"hints", "size"})
        if unknown or "hints" not in data:
            raise HintError(f"{source}: expected {{\"hints\": [...], \"size\": N}}, got keys {sorted(data)}")
        if data.get("size") is not None:
            size = _size(data["size"], f"{source}: size")
        data = data["hints"]
    if not isinstance(data, list):
        raise HintError(f"{source}: expected a list of hints like "
                        f"{{\"x\": 10, \"y\": 20, \"color\": \"#ff0000\"}}")
    hints: list[Hint] = []
    for index, item in enumerate(data):
        where = f"{source}: hint {index + 1}"
        if not isinstance(item, dict) or not {"x", "y", "color"} <= set(item) or set(item) - {
                "x", "y", "color", "size"}:
            raise HintError(f"{where}: expected {{\"x\": ..., \"y\": ..., \"color\": ...[, \"size\": N]}}, "
                            f"got {item!r}")
        point = (_number(item["x"], f"{where}: x"), _number(item["y"], f"{where}: y"),
                 parse_color(item["color"], f"{where}: color"))
        hints.append((*point, _size(item["size"], f"{where}: size")) if "size" in item else point)
    return hints, size


def read_hints_file(path: str | Path) -> tuple[list[Hint], int | None]:
    """The hints and default size of a hints JSON file (format in the module docstring)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HintError(f"cannot read hints file {path}: {error.strerror or error}") from error
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HintError(f"hints file {path} is not valid JSON: {error}") from error
    return parse_hints(data, str(path))


def check_points(hints: Sequence[Hint], width: int, height: int) -> None:
    """A HintError for the first hint outside a ``width`` x ``height`` photo (or not a hint at all)."""
    for index, hint in enumerate(hints):
        if not isinstance(hint, Sequence) or len(hint) not in (3, 4):
            raise HintError(f"hint {index + 1}: expected (x, y, (r, g, b)[, size]), got {hint!r}")
        x, y = _number(hint[0], f"hint {index + 1}: x"), _number(hint[1], f"hint {index + 1}: y")
        if not (0 <= x < width and 0 <= y < height):
            raise HintError(f"hint {index + 1} at ({x:g}, {y:g}) lies outside the {width}x{height} px photo "
                            f"(x in 0..{width - 1}, y in 0..{height - 1})")


def hint_map(hints: Sequence[Hint], colorspace: ColorSpace, gray_small: Tensor, full_size: tuple[int, int],
             hint_size: int = DEFAULT_HINT_SIZE) -> Tensor:
    """The model's hint input [C + 1, h, w] for ``hints`` on a photo of ``full_size`` (H, W) whose gray at
    the working size is ``gray_small`` [1, h, w] in [0, 1]; later hints cover earlier ones."""
    height, width = full_size
    check_points(hints, width, height)
    small_h, small_w = gray_small.shape[-2:]
    count = len(hints)
    channels = colorspace.chroma_channels
    if count == 0:
        return gray_small.new_zeros(channels + 1, small_h, small_w)
    sizes = torch.tensor([min(_size(h[3], "hint size") if len(h) == 4 else hint_size, small_h, small_w)
                          for h in hints])
    rows = torch.tensor([min(int(h[1] * small_h / height), small_h - 1) for h in hints])
    cols = torch.tensor([min(int(h[0] * small_w / width), small_w - 1) for h in hints])
    tops = torch.minimum((rows - (sizes - 1) // 2).clamp(min=0), small_h - sizes)
    lefts = torch.minimum((cols - (sizes - 1) // 2).clamp(min=0), small_w - sizes)
    draw = HintDraw(torch.tensor([count]), tops[None], lefts[None], sizes[None])
    grays = torch.stack([gray_small[0, top : top + side, left : left + side].mean() for top, left, side in
                         zip(tops.tolist(), lefts.tolist(), sizes.tolist(), strict=True)])
    colors = torch.tensor([list(h[2]) for h in hints], dtype=torch.float32).T[None, :, None] / 255.0
    chroma = colorspace_chroma(colors, grays.view(1, 1, 1, count).float(), colorspace)  # [1, C, 1, K]
    values = chroma[0, :, 0].T[None].to(gray_small.dtype)  # [1, K, C]
    return paint(draw, values, small_h, small_w)[0]


def colorspace_chroma(rgb: Tensor, gray: Tensor, colorspace: ColorSpace) -> Tensor:
    """The model-space chroma [B, C, H, W] of colors ``rgb`` [B, 3, H, W] re-expressed at brightness
    ``gray`` [B, 1, H, W] (their YCbCr chroma on that Rec.601 luma)."""
    carrier = get_colorspace(CARRIER_SPACE)
    at_gray = carrier.merge(carrier.luma_from_gray(gray), carrier.split(rgb)[1])
    return colorspace.split(at_gray)[1]


def palette(chroma: Tensor, weights: Tensor, k: int, iterations: int = 12) -> tuple[Tensor, Tensor]:
    """Weighted k-means of chroma vectors [N, C]: (centers [k', C], their weights [k']), heaviest first."""
    k = max(1, min(k, chroma.shape[0]))
    centers = chroma[weights.argmax()][None]
    for _ in range(k - 1):  # farthest-point start: distinct colors first
        distance = torch.cdist(chroma, centers).min(dim=1).values
        centers = torch.cat([centers, chroma[distance.argmax()][None]])
    for _ in range(iterations):
        assign = torch.cdist(chroma, centers).argmin(dim=1)
        one_hot = F.one_hot(assign, k).to(chroma.dtype) * weights[:, None]
        mass = one_hot.sum(dim=0)
        centers = torch.where(mass[:, None] > 0, one_hot.T @ chroma / mass.clamp_min(1e-12)[:, None], centers)
    order = mass.argsort(descending=True)
    return centers[order], mass[order]


def suggest_chroma(chroma: Tensor, row: int, col: int, k: int, distinct: float = 0.04) -> Tensor:
    """Up to ``k`` distinct chroma vectors [C, k'] for a palette at (row, col) of a predicted ``chroma``
    [C, h, w]: the prediction at the point, then k-means centers of the prediction around it (a Gaussian
    window of 1/8 of the short side, heaviest first), then of the whole photo; vectors closer than
    ``distinct`` (normalized chroma units) to an earlier one are dropped."""
    height, width = chroma.shape[-2:]
    radius = max(2, min(height, width) // 8)
    rows = torch.arange(height, device=chroma.device)[:, None] - row
    cols = torch.arange(width, device=chroma.device)[None, :] - col
    closeness = torch.exp(-(rows**2 + cols**2).float() / (2 * radius**2)).flatten()
    vectors = chroma.flatten(1).T.float()
    near, _ = palette(vectors, closeness, k)
    far, _ = palette(vectors, torch.ones_like(closeness), k)
    chosen: list[Tensor] = []
    for candidate in torch.cat([vectors[row * width + col][None], near, far]):
        if len(chosen) < k and all(float((candidate - other).norm()) > distinct for other in chosen):
            chosen.append(candidate)
    return torch.stack(chosen).T

"""Things that stand above the ground line: layered mountains (haze, snow caps) and forests."""

from __future__ import annotations

import math

import numpy as np

from colorgan.data.synthetic.noise import clamp, noise1d, smoothstep, texture
from colorgan.data.synthetic.paint import paint
from colorgan.data.synthetic.sky import Palette, rgb255

ROCKS = (rgb255(118, 108, 100), rgb255(96, 104, 124), rgb255(128, 98, 78), rgb255(105, 100, 92))
HILLS = (rgb255(70, 112, 58), rgb255(88, 118, 60), rgb255(60, 96, 62))
SNOW = rgb255(246, 248, 252)
CONIFERS = (rgb255(22, 52, 30), rgb255(30, 62, 32), rgb255(18, 44, 34))
BROADLEAF = (rgb255(48, 92, 36), rgb255(62, 104, 40), rgb255(40, 80, 38), rgb255(96, 110, 40))


def _pick(rng: np.random.Generator, colors: tuple[np.ndarray, ...]) -> np.ndarray:
    """One of ``colors``, each channel jittered by up to ±12 %."""
    color = colors[int(rng.integers(len(colors)))]
    return color * rng.uniform(0.88, 1.12, 3).astype(np.float32)


def _ridge(rng: np.random.Generator, width: int) -> np.ndarray:
    """Mountain skyline profile in [0, 1] per column: sharp ridged peaks over a smooth swell."""
    sharp = 1.0 - np.abs(noise1d(rng, width, cells=rng.uniform(1.5, 3.5), octaves=5, persistence=0.5))
    profile = sharp * sharp + 0.5 * noise1d(rng, width, cells=rng.uniform(0.6, 1.5), octaves=2)
    low, high = float(profile.min()), float(profile.max())
    return (profile - low) * (1.0 / max(high - low, 1e-6))


def _slope(profile: np.ndarray) -> np.ndarray:
    """Central differences of a 1-D profile (np.gradient without its overhead)."""
    slope = np.empty_like(profile)
    np.subtract(profile[2:], profile[:-2], out=slope[1:-1])
    slope[1:-1] *= 0.5
    slope[0], slope[-1] = profile[1] - profile[0], profile[-1] - profile[-2]
    return slope


def mountains(rng: np.random.Generator, canvas: np.ndarray, palette: Palette, horizon: int,
              sun_x: float) -> None:
    """Paint 1-3 mountain ranges, far to near, down to the ``horizon`` row (in place)."""
    _, height, width = canvas.shape
    layers = int(rng.integers(1, 4))
    toward_sun = -1.0 if sun_x > 0.5 else 1.0
    for layer in range(layers):
        nearness = layer / (layers - 1) if layers > 1 else 1.0
        is_hill = layer == layers - 1 and layers > 1 and rng.random() < 0.5
        size = rng.uniform(0.05, 0.16) if is_hill else rng.uniform(0.14, 0.38) * (1.0 - 0.4 * nearness)
        floor = rng.uniform(0.05, 0.4)
        ridge = horizon - (height * size) * (floor + (1.0 - floor) * _ridge(rng, width))
        _mountain_layer(rng, canvas, palette, horizon, ridge, nearness, is_hill, toward_sun)


def _mountain_layer(rng: np.random.Generator, canvas: np.ndarray, palette: Palette, horizon: int,
                    ridge: np.ndarray, nearness: float, is_hill: bool, toward_sun: float) -> None:
    _, height, width = canvas.shape
    top = max(int(ridge.min()), 0)
    if top >= horizon - 1:
        return
    rows = np.arange(top, horizon, dtype=np.float32)[:, None]
    depth = rows - ridge  # pixels below the skyline
    alpha = clamp(depth + 0.5, 0.0, 1.0)
    relative_depth = clamp(depth * (1.0 / np.maximum(horizon - ridge, 1.0)), 0.0, 1.0)
    # faces toward the sun are brighter; the effect fades lower down the slope
    facing = np.tanh(_slope(ridge) * (toward_sun * 96.0 / width))
    streaks = texture(rng, "streaks", horizon - top, width, max(height, width))
    upper = 1.0 - relative_depth
    upper *= upper
    shade = 0.88 + 0.1 * streaks + upper * (0.3 * facing)
    haze = np.minimum(relative_depth * relative_depth * 0.3 + (0.12 + 0.55 * (1.0 - nearness)), 0.9)
    lit = 1.0 - haze
    rock = _pick(rng, HILLS if is_hill else ROCKS) * palette.light
    colors, weights = [rock, palette.haze], [shade * lit, haze]
    if not is_hill and horizon - top > 0.12 * height and rng.random() < 0.75:
        line = float(rng.uniform(0.25, 0.6))
        edge_noise = noise1d(rng, width, cells=rng.uniform(3, 8), octaves=3)
        wobble = relative_depth + 0.1 * streaks + 0.12 * edge_noise
        snow = smoothstep(line + 0.03, line - 0.03, wobble)
        snow_shade = clamp(0.92 + 0.35 * facing + 0.08 * streaks, 0.55, 1.1)
        weights[0] *= 1.0 - snow
        colors.append(SNOW * palette.light)
        weights.append(snow * snow_shade * lit)
    paint(canvas, top, alpha, colors, weights)


def _tree_tops(rng: np.random.Generator, width: int, base: float, tall: float, conifer: bool,
               x_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(top row per column, index of the tree owning each column); rows are +inf where no tree.

    Trees stand about one crown apart, so each column only looks at its few nearest trees.
    """
    half_width = tall * (rng.uniform(0.22, 0.34) if conifer else rng.uniform(0.4, 0.7))
    spacing = max(half_width * 1.1, 0.75)
    start = x_range[0] * width
    count = max(1, math.ceil((x_range[1] - x_range[0]) * width / spacing))
    centers = (start + (np.arange(count) + rng.uniform(0.1, 0.9, count)) * spacing).astype(np.float32)
    heights = (tall * rng.uniform(0.55, 1.0, count)).astype(np.float32)
    halves = (half_width * rng.uniform(0.75, 1.25, count)).astype(np.float32)
    columns = np.arange(width, dtype=np.float32) + 0.5
    reach = math.ceil(float(halves.max()) / spacing) + 1
    nearest = np.floor((columns - start) / spacing).astype(np.intp)
    candidates = clamp(nearest + np.arange(-reach, reach + 1)[:, None], 0, count - 1)  # (2 reach + 1, W)
    offset = np.abs(columns - centers[candidates])
    rise, half = heights[candidates], halves[candidates]
    if conifer:
        tops = base - rise + offset * (rise / half)
    else:
        cap = np.sqrt(np.maximum(half * half - offset * offset, 0.0))
        tops = np.where(offset < half, base - rise + half - cap, np.inf)
    best = np.argmin(tops, axis=0)
    every = np.arange(width)
    crown, owner = tops[best, every], candidates[best, every]
    if x_range == (0.0, 1.0):  # a continuous wood: undergrowth closes the gaps between crowns
        crown = np.minimum(crown, base - tall * rng.uniform(0.25, 0.45))
    ragged = 0.08 if not conifer else 0.035  # leafy crowns are ragged, needles a little
    crown += (ragged * tall) * noise1d(rng, width, cells=width / max(tall * 0.2, 1.0), octaves=2)
    return crown.astype(np.float32), owner


def forest(rng: np.random.Generator, canvas: np.ndarray, palette: Palette, base: float, tall: float,
           bottom: int, haze: float, sun_x: float, x_range: tuple[float, float] = (0.0, 1.0),
           conifer: bool | None = None) -> None:
    """Paint a band of trees standing on row ``base`` (``tall`` pixels high), filled down to ``bottom``."""
    _, height, width = canvas.shape
    conifer = bool(rng.random() < 0.6) if conifer is None else conifer
    top_rows, owner = _tree_tops(rng, width, base, max(tall, 1.5), conifer, x_range)
    present = np.isfinite(top_rows)
    if not present.any():
        return
    top = max(int(top_rows[present].min()), 0)
    bottom = min(bottom, height)
    if top >= bottom:
        return
    top_rows[~present] = 1e9
    below_top = np.arange(top, bottom, dtype=np.float32)[:, None] - top_rows
    alpha = clamp(below_top + 0.5, 0.0, 1.0)
    foliage = texture(rng, "foliage", bottom - top, width, max(height, width))
    tone = rng.uniform(0.8, 1.2, int(owner.max()) + 1).astype(np.float32)[owner]
    lit_side = np.tanh((np.arange(width, dtype=np.float32) * (1.0 / width) - sun_x) * 40.0)
    tone *= 1.0 + (0.05 if sun_x < 0.5 else -0.05) * lit_side  # faint light on the sunny flank
    shadow = np.minimum(below_top * (0.12 / max(tall, 1.0)), 0.3)  # the forest floor is darker
    shade = (1.0 + 0.2 * foliage) * tone - shadow
    leaves = _pick(rng, CONIFERS if conifer else BROADLEAF) * palette.light * (1.0 - haze)
    if haze > 0:
        paint(canvas, top, alpha, [leaves, palette.haze], [shade, haze])
    else:
        paint(canvas, top, alpha, [leaves], [shade])

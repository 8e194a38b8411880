"""The ground below the horizon: fields and meadows in perspective, lakes that mirror the sky."""

from __future__ import annotations

import numpy as np

from colorgan.data.synthetic.noise import clamp, noise1d, texture
from colorgan.data.synthetic.paint import mix
from colorgan.data.synthetic.sky import Palette, rgb255

CROPS = (rgb255(78, 128, 46), rgb255(104, 146, 52), rgb255(150, 160, 60), rgb255(205, 170, 78),
         rgb255(120, 88, 58), rgb255(64, 110, 50), rgb255(176, 150, 70), rgb255(90, 136, 70))
CROP_CHANCES = np.array([0.2, 0.18, 0.12, 0.14, 0.08, 0.14, 0.06, 0.08])
_CROP_TABLE = np.stack(CROPS, axis=1)


def fields(rng: np.random.Generator, canvas: np.ndarray, palette: Palette, horizon: int,
           top_edge: np.ndarray) -> None:
    """Paint fields from ``top_edge`` (a row per column) to the bottom, in perspective (in place)."""
    _, height, width = canvas.shape
    top = max(int(np.floor(top_edge.min())), 0)
    if top >= height:
        return
    band_height = height - top
    side = max(height, width)
    rows = np.arange(top, height, dtype=np.float32)[:, None]
    ground = float(max(height - horizon, 1))
    nearness = clamp((rows - horizon + 1.0) * (1.0 / ground), 1.0 / ground, 1.0)  # ~0 far, 1 near
    x = np.arange(width, dtype=np.float32)

    count = int(rng.integers(1, 7))  # field boundaries, denser toward the horizon
    starts = (np.sort(rng.random(count) ** 1.6) * ground + horizon).astype(np.float32)
    tilts = rng.uniform(-0.35, 0.35, count).astype(np.float32) * (starts - horizon) / ground
    field_id = np.zeros((band_height, width), dtype=np.intp)
    for start, tilt in zip(starts, tilts, strict=True):
        field_id += rows > start + tilt * (x - width / 2)
    field_count = count + 1
    choice = np.searchsorted(np.cumsum(CROP_CHANCES), rng.random(field_count) * CROP_CHANCES.sum())
    table = _CROP_TABLE[:, choice]  # (3, fields)
    table = table * (rng.uniform(0.85, 1.15, (1, field_count)) * palette.light[:, None]).astype(np.float32)
    color = np.take(table, field_id, axis=1)  # (3, h, W)

    # crop rows converge on a vanishing point on the horizon; some fields have them
    frequency = (rng.uniform(4.0, 12.0, field_count) * (rng.random(field_count) < 0.55)).astype(np.float32)
    angle = (x - rng.uniform(0.2, 0.8) * width) / (rows - horizon + 1.0)
    angle *= np.take(frequency, field_id)
    stripes = np.sin(angle, out=angle)
    stripes *= 0.1 * np.minimum(nearness * 4.0, 1.0)
    haze = 0.5 * (1.0 - nearness) ** 4
    shade = texture(rng, "grass", band_height, width, side) * (0.12 * nearness)
    shade += texture(rng, "patches", band_height, width, side) * 0.2
    shade += stripes
    shade += 1.0
    shade *= 1.0 - haze
    color *= shade
    color += palette.haze[:, None, None] * haze

    band = canvas[:, top:]
    edge_rows = min(int(np.ceil(float(top_edge.max()))) - top + 1, band_height)  # rows the edge crosses
    band[:, edge_rows:] = color[:, edge_rows:]
    if edge_rows > 0:
        alpha = clamp(rows[:edge_rows] - top_edge + 0.5, 0.0, 1.0)
        upper = band[:, :edge_rows]
        upper += (color[:, :edge_rows] - upper) * alpha


def lake(rng: np.random.Generator, canvas: np.ndarray, palette: Palette, waterline: int, bottom: int) -> None:
    """Rows waterline..bottom become water mirroring what lies above the waterline (in place).

    The reflection is darker, tinted by the water, rippled sideways, and fades into deep-water color
    toward the viewer, as on a real lake.
    """
    _, height, width = canvas.shape
    bottom = min(bottom, height)
    depth_rows = bottom - waterline
    if depth_rows <= 0 or waterline <= 0:
        return
    side = max(height, width)
    rows = np.arange(waterline, bottom)
    distance = (rows - waterline).astype(np.float32)[:, None] * (1.0 / max(height - waterline, 1))  # 0 far
    ripple = texture(rng, "ripples", depth_rows, width, side)
    shift_x = ripple * ((0.3 + 2.0 * distance) * (rng.uniform(0.004, 0.015) * width))
    shift_x += np.arange(width, dtype=np.float32)
    source_x = np.clip(np.rint(shift_x), 0, width - 1).astype(np.intp)
    source_y = np.clip(2 * waterline - 1 - rows, 0, height - 1)
    source_x += (source_y * width)[:, None]
    water = canvas[:, waterline:bottom]
    np.take(canvas.reshape(3, -1), source_x.ravel(), axis=1, out=water.reshape(3, -1), mode="clip")

    reflectance = 0.85 - 0.45 * distance**0.8
    glint = np.maximum(texture(rng, "ripples", depth_rows, width, side) - 0.4, 0.0)
    glint *= 0.25 * (1.0 - distance)
    water *= 0.88 * reflectance
    water += mix([palette.water, palette.horizon], [(1.0 + 0.15 * ripple) * (1.0 - reflectance), glint])


def shoreline(rng: np.random.Generator, width: int, row: float, wiggle: float) -> np.ndarray:
    """A gently wavy boundary (row per column) around ``row``."""
    return row + wiggle * noise1d(rng, width, cells=rng.uniform(1.0, 3.0), octaves=3)

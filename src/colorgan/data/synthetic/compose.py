"""Putting a landscape together: sky, mountains, far shore, then a lake, fields or a forest."""

from __future__ import annotations

import numpy as np

from colorgan.data.synthetic.ground import fields, lake, shoreline
from colorgan.data.synthetic.noise import grain
from colorgan.data.synthetic.sky import choose_palette, render_sky
from colorgan.data.synthetic.terrain import forest, mountains

SCENES = ("lake", "fields", "forest")
SCENE_CHANCES = (0.45, 0.33, 0.22)


def render_landscape(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One random landscape as a uint8 array (3, height, width), drawn from ``rng`` alone."""
    palette = choose_palette(rng)
    horizon = round(height * rng.uniform(0.4, 0.62))
    canvas, sun_x = render_sky(rng, palette, height, width, horizon)
    if rng.random() < 0.85:
        mountains(rng, canvas, palette, horizon, sun_x)
    scene = SCENES[int(rng.choice(len(SCENES), p=SCENE_CHANCES))]
    if scene == "forest" or rng.random() < 0.6:  # a distant tree line on the horizon
        forest(rng, canvas, palette, base=horizon + 0.5, tall=height * rng.uniform(0.015, 0.05),
               bottom=horizon + 1, haze=float(rng.uniform(0.25, 0.5)), sun_x=sun_x)
    ground = height - horizon
    flat = np.full(width, float(horizon), dtype=np.float32)
    if scene == "lake":
        shore_row = horizon + ground * rng.uniform(0.45, 1.1)
        lake(rng, canvas, palette, waterline=horizon, bottom=height)
        if shore_row < height - 1:
            edge = shoreline(rng, width, shore_row, wiggle=ground * 0.12)
            fields(rng, canvas, palette, horizon, np.maximum(edge, horizon + 2.0))
    else:
        fields(rng, canvas, palette, horizon, flat)
        if scene == "forest":  # rows of woods, each nearer one standing lower and taller
            for place in np.sort(rng.uniform(0.15, 1.15, int(rng.integers(1, 4)))):
                base = horizon + ground * place
                tall = height * (0.04 + 0.2 * place) * rng.uniform(0.7, 1.2)
                forest(rng, canvas, palette, base=base, tall=tall, bottom=int(base) + 1,
                       haze=0.2 * max(1.0 - place, 0.0), sun_x=sun_x)
        elif rng.random() < 0.5:
            middle = horizon + ground * rng.uniform(0.1, 0.35)
            forest(rng, canvas, palette, base=middle, tall=height * rng.uniform(0.04, 0.1),
                   bottom=int(middle) + 1, haze=float(rng.uniform(0.1, 0.3)), sun_x=sun_x)
    if rng.random() < 0.3:  # a clump of near trees at one side
        left = bool(rng.random() < 0.5)
        x_range = (0.0, rng.uniform(0.1, 0.3)) if left else (rng.uniform(0.7, 0.9), 1.0)
        forest(rng, canvas, palette, base=float(height), tall=height * rng.uniform(0.3, 0.6),
               bottom=height, haze=0.0, sun_x=sun_x, x_range=x_range, conifer=True)
    return _to_uint8(canvas, grain(rng, height, width))


def _to_uint8(canvas: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """canvas in [0, 1] to uint8, with ``noise`` (in 8-bit levels, including the +0.5 for rounding) added."""
    canvas *= 255.0
    canvas += noise
    np.clip(canvas, 0.0, 255.0, out=canvas)
    return canvas.astype(np.uint8)

"""Times of day (palettes) and the sky: gradient, sun with glow, clouds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorgan.data.synthetic.noise import clamp, noise2d, smoothstep
from colorgan.data.synthetic.paint import mix


def rgb255(red: int, green: int, blue: int) -> np.ndarray:
    return np.array([red, green, blue], dtype=np.float32) / 255.0


@dataclass
class Palette:
    """Colors of one time of day; every color is float32 RGB in [0, 1]."""

    name: str
    zenith: np.ndarray
    mid: np.ndarray
    horizon: np.ndarray
    sun: np.ndarray
    glow: np.ndarray
    cloud_lit: np.ndarray
    cloud_shade: np.ndarray
    light: np.ndarray  # multiplies every terrain color
    haze: np.ndarray  # what distant terrain fades into
    water: np.ndarray  # deep-water tint
    sun_rows: tuple[float, float] | None  # sun height range, as a fraction of the horizon row; None: set
    sun_chance: float


_BASE = {
    "day": dict(
        zenith=rgb255(38, 92, 190), mid=rgb255(110, 160, 225), horizon=rgb255(196, 220, 238),
        sun=rgb255(255, 252, 235), glow=rgb255(255, 240, 200) * 0.35,
        cloud_lit=rgb255(252, 252, 250), cloud_shade=rgb255(150, 160, 182),
        light=rgb255(255, 250, 238), haze=rgb255(180, 205, 228), water=rgb255(20, 60, 85),
        sun_rows=(0.15, 0.65), sun_chance=0.5),
    "sunset": dict(
        zenith=rgb255(52, 64, 135), mid=rgb255(222, 130, 120), horizon=rgb255(255, 160, 60),
        sun=rgb255(255, 235, 160), glow=rgb255(255, 140, 40) * 0.55,
        cloud_lit=rgb255(255, 150, 100), cloud_shade=rgb255(110, 70, 110),
        light=rgb255(236, 172, 128), haze=rgb255(230, 140, 100), water=rgb255(35, 30, 55),
        sun_rows=(0.78, 0.97), sun_chance=0.85),
    "dusk": dict(
        zenith=rgb255(14, 18, 55), mid=rgb255(80, 58, 115), horizon=rgb255(225, 115, 90),
        sun=rgb255(255, 200, 150), glow=rgb255(230, 90, 60) * 0.45,
        cloud_lit=rgb255(150, 85, 110), cloud_shade=rgb255(40, 32, 62),
        light=rgb255(105, 95, 140), haze=rgb255(100, 75, 120), water=rgb255(12, 14, 35),
        sun_rows=None, sun_chance=0.0),
}
_CHANCES = {"day": 0.6, "sunset": 0.25, "dusk": 0.15}
_COLOR_KEYS = tuple(key for key, value in _BASE["day"].items() if isinstance(value, np.ndarray))
_BASE_TABLES = {name: np.stack([colors[key] for key in _COLOR_KEYS]) for name, colors in _BASE.items()}


def choose_palette(rng: np.random.Generator) -> Palette:
    """Pick a time of day (day 60 %, sunset 25 %, dusk 15 %) and jitter its colors a little."""
    bounds = np.cumsum(list(_CHANCES.values()))
    name = list(_CHANCES)[min(int(np.searchsorted(bounds, rng.random(), side="right")), len(bounds) - 1)]
    base = _BASE[name]
    shift = rng.uniform(-0.06, 0.06, (1, 3)) + rng.uniform(-0.05, 0.05, (len(_COLOR_KEYS), 3))
    colors = clamp(_BASE_TABLES[name] * (1.0 + shift.astype(np.float32)), 0.0, 1.0)
    jittered = {key: colors[i] for i, key in enumerate(_COLOR_KEYS)}
    return Palette(name=name, sun_rows=base["sun_rows"], sun_chance=base["sun_chance"], **jittered)


def _vertical_gradient(palette: Palette, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Sky color per row (3, horizon): zenith -> mid -> horizon, piecewise linear in a warped height."""
    t = (np.arange(horizon, dtype=np.float32) * (1.0 / max(horizon - 1, 1))) ** float(rng.uniform(0.8, 1.4))
    mid_at = float(rng.uniform(0.45, 0.75))
    to_zenith = np.maximum(1.0 - t * (1.0 / mid_at), 0.0)
    to_horizon = np.maximum((t - mid_at) * (1.0 / (1.0 - mid_at)), 0.0)
    to_mid = 1.0 - to_zenith - to_horizon
    return mix([palette.zenith, palette.mid, palette.horizon], [to_zenith, to_mid, to_horizon])


def _sun(palette: Palette, width: int, horizon: int,
         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None, float]:
    """(glow, disk or None, sun x in [0,1]) over the sky rows; glow and disk are (horizon, width) weights."""
    size = float(max(horizon, width))
    sun_x = float(rng.uniform(0.1, 0.9))
    if palette.sun_rows is None or rng.random() > palette.sun_chance:
        sun_y = horizon + rng.uniform(0.02, 0.08) * size  # below the horizon: glow only
        radius = 0.0
    else:
        sun_y = horizon * float(rng.uniform(*palette.sun_rows))
        radius = float(rng.uniform(0.025, 0.05)) * width
    dy = (np.arange(horizon, dtype=np.float32) - sun_y)[:, None]
    dx = (np.arange(width, dtype=np.float32) - sun_x * width)[None, :]
    squared = dx * dx + dy * dy
    spread = float(rng.uniform(0.1, 0.22)) * size
    glow = 1.0 / (1.0 + squared * (1.0 / spread**2))  # a soft halo with long tails, no exp()
    disk = smoothstep((radius + 1.0) ** 2, max(radius - 1.0, 0.0) ** 2, squared) if radius > 0 else None
    return glow, disk, sun_x


def _clouds(palette: Palette, horizon: int, width: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """(cover, light) fields (horizon, width) of horizontally stretched clouds, or None for a clear sky."""
    if horizon < 4 or rng.random() < 0.2:
        return None
    coverage = float(rng.uniform(0.1, 0.75))
    field = noise2d(rng, horizon, width, cells_y=rng.uniform(2.5, 5.0), cells_x=rng.uniform(1.0, 2.5),
                    octaves=4, persistence=0.55)
    threshold = 0.45 - 0.55 * coverage
    cover = smoothstep(threshold, threshold + 0.3, field)
    rows = np.arange(horizon, dtype=np.float32)[:, None] * (1.0 / horizon)
    cover *= (1.0 - 0.7 * rows**3) * float(rng.uniform(0.75, 0.95))  # thinner toward the horizon
    lift = max(1, horizon // 24)
    edge = field - np.roll(field, lift, axis=0)  # positive where the cloud thickens downward
    sign = 6.0 if palette.name == "day" else -6.0  # a high sun lights cloud tops, a low one their bellies
    light = clamp(0.55 + sign * edge, 0.0, 1.0)
    return cover, light


def render_sky(rng: np.random.Generator, palette: Palette, height: int, width: int,
               horizon: int) -> tuple[np.ndarray, float]:
    """(canvas, sun x in [0, 1]): a canvas (3, height, width) with the sky above ``horizon``.

    Rows from the horizon down hold the horizon color, for terrain to be drawn over. The sun's x
    position tells terrain which side is lit.
    """
    column = _vertical_gradient(palette, horizon, rng)
    glow, disk, sun_x = _sun(palette, width, horizon, rng)
    clouds = _clouds(palette, horizon, width, rng)
    # sky = gradient + glow, then the sun disk over it, then clouds over both — as one weighted mix
    keep = np.ones((horizon, width), dtype=np.float32) if disk is None else 1.0 - disk  # gradient + glow
    colors, weights = [], []
    if disk is not None:
        colors.append(palette.sun)
        weights.append(disk)
    if clouds is not None:
        cover, light = clouds
        clear = 1.0 - cover
        keep *= clear
        weights = [weight * clear for weight in weights]
        colors += [palette.cloud_shade, palette.cloud_lit - palette.cloud_shade]
        weights += [cover, cover * light]
    colors.append(palette.glow)
    weights.append(glow * keep)
    canvas = np.empty((3, height, width), dtype=np.float32)
    canvas[:, horizon:] = palette.horizon[:, None, None]
    sky = canvas[:, :horizon]
    np.multiply(column[:, :, None], keep[None], out=sky)
    sky += mix(colors, weights)
    return canvas, sun_x

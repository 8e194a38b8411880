"""Fast smooth value noise: random coarse grids upsampled by cached interpolation matrices."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_GRAIN_SEED = 0x5EED


# OpenBLAS spreads a product over threads once m*n*k passes ~262k, which makes these tiny products
# ~10x slower on a busy machine; keep each product under that so it stays on the calling thread.
_SINGLE_THREAD_WORK = 200_000


@lru_cache(maxsize=4096)
def _upsampler(pixels: int, cells: int) -> np.ndarray:
    """Matrix (pixels, cells + 1) mapping grid node values to smoothly interpolated pixel values."""
    position = (np.arange(pixels, dtype=np.float64) + 0.5) * (cells / pixels)
    left = np.minimum(np.floor(position).astype(np.int64), cells - 1)
    frac = position - left
    weight = frac * frac * (3.0 - 2.0 * frac)  # smoothstep: no visible grid creases
    matrix = np.zeros((pixels, cells + 1), dtype=np.float32)
    rows = np.arange(pixels)
    matrix[rows, left] = 1.0 - weight
    matrix[rows, left + 1] = weight
    matrix.setflags(write=False)
    return matrix


def product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right for 2-D float32 arrays, split so that BLAS never starts threads for it."""
    rows, inner = left.shape
    columns = right.shape[1]
    if rows * inner * columns <= _SINGLE_THREAD_WORK:
        return left @ right
    out = np.empty((rows, columns), dtype=np.float32)
    if rows >= columns:
        step = max(1, _SINGLE_THREAD_WORK // max(inner * columns, 1))
        for start in range(0, rows, step):
            np.matmul(left[start:start + step], right, out=out[start:start + step])
    else:
        step = max(1, _SINGLE_THREAD_WORK // max(inner * rows, 1))
        for start in range(0, columns, step):
            np.matmul(left, right[:, start:start + step], out=out[:, start:start + step])
    return out


def _octave_counts(cells: float, octaves: int, limit: int) -> tuple[int, ...]:
    return tuple(max(1, min(limit, round(cells * 2**octave))) for octave in range(octaves))


def _amplitudes(octaves: int, persistence: float) -> list[float]:
    raw = [persistence**octave for octave in range(octaves)]
    return [value / sum(raw) for value in raw]


@lru_cache(maxsize=4096)
def _stacked_upsampler(pixels: int, counts: tuple[int, ...], persistence: float | None = None) -> np.ndarray:
    """The octaves' upsamplers side by side, transposed: (sum(counts + 1), pixels).

    With ``persistence`` each octave's rows are pre-scaled by its amplitude (used by noise1d).
    """
    blocks = [_upsampler(pixels, count).T for count in counts]
    if persistence is not None:
        blocks = [block * amplitude for block, amplitude in zip(blocks, _amplitudes(len(counts), persistence),
                                                                 strict=True)]
    stacked = np.ascontiguousarray(np.concatenate(blocks, axis=0), dtype=np.float32)
    stacked.setflags(write=False)
    return stacked


@lru_cache(maxsize=4096)
def _noise1d_basis(length: int, cells: int, octaves: int, persistence: float) -> np.ndarray:
    return _stacked_upsampler(length, _octave_counts(cells, octaves, length), persistence)


def noise1d(rng: np.random.Generator, length: int, cells: float, octaves: int = 3,
            persistence: float = 0.5) -> np.ndarray:
    """Fractal 1-D noise of ``length`` samples, roughly in [-1, 1]; ``cells`` (rounded to a whole
    number) = features per length."""
    basis = _noise1d_basis(length, max(1, round(cells)), octaves, persistence)
    return rng.uniform(-1.0, 1.0, basis.shape[0]).astype(np.float32) @ basis


def noise2d(rng: np.random.Generator, height: int, width: int, cells_y: float, cells_x: float,
            octaves: int = 3, persistence: float = 0.5) -> np.ndarray:
    """Fractal 2-D noise (height, width), roughly in [-1, 1]; unequal cells stretch the features."""
    counts_y = _octave_counts(cells_y, octaves, height)
    counts_x = _octave_counts(cells_x, octaves, width)
    columns = []
    amplitudes = _amplitudes(octaves, persistence)
    for amplitude, count_y, count_x in zip(amplitudes, counts_y, counts_x, strict=True):
        grid = rng.uniform(-amplitude, amplitude, (count_y + 1, count_x + 1)).astype(np.float32)
        columns.append(_upsampler(height, count_y) @ grid)
    return product(np.concatenate(columns, axis=1), _stacked_upsampler(width, counts_x))


TEXTURES: dict[str, tuple[float, float, int]] = {
    # kind: (features per pixel along y, along x, octaves)
    "streaks": (1 / 24, 1 / 8, 3),  # taller than wide: rock gullies
    "foliage": (1 / 4, 1 / 5, 2),  # fine blobs: tree crowns
    "ripples": (1 / 2.5, 1 / 30, 2),  # wide and flat: water
    "grass": (1 / 6, 1 / 8, 2),  # fields
    "patches": (1 / 40, 1 / 30, 2),  # large soft blotches: uneven growth on fields
}


@lru_cache(maxsize=64)
def _texture_tile(kind: str, side: int) -> np.ndarray:
    """A fixed (2*side, 2*side) noise field per texture kind, scaled to [-1, 1]."""
    cells_y, cells_x, octaves = TEXTURES[kind]
    rng = np.random.default_rng([_GRAIN_SEED, side, *kind.encode()])
    tile = noise2d(rng, 2 * side, 2 * side, cells_y * 2 * side, cells_x * 2 * side, octaves)
    tile /= max(float(np.abs(tile).max()), 1e-6)
    tile.setflags(write=False)
    return tile


def texture(rng: np.random.Generator, kind: str, height: int, width: int, side: int) -> np.ndarray:
    """Fine noise (height, width) in about [-1, 1] for a ``kind`` of surface on a canvas whose longer
    side is ``side``: a random window of a cached tile, maybe mirrored (far cheaper than fresh noise)."""
    tile = _texture_tile(kind, side)
    row_draw, column_draw, flip_draw = rng.random(3)
    top = int(row_draw * (2 * side - height + 1))
    left = int(column_draw * (2 * side - width + 1))
    window = tile[top:top + height, left:left + width]
    return window[:, ::-1] if flip_draw < 0.5 else window


GRAIN_LEVELS = (2.0, 3.0, 4.0, 5.0, 6.5)
"""Film-grain strengths, as the std of the noise in 8-bit levels."""


@lru_cache(maxsize=64)
def _grain_tile(side: int, level: float) -> np.ndarray:
    """A fixed (3, 2*side, 2*side) tile of film grain in 8-bit levels, mostly luminance, plus 0.5 for
    rounding. Cached per strength so adding grain is a single pass over the image."""
    rng = np.random.default_rng(_GRAIN_SEED + side)
    common = rng.standard_normal((1, 2 * side, 2 * side), dtype=np.float32)
    own = rng.standard_normal((3, 2 * side, 2 * side), dtype=np.float32)
    tile = (0.85 * level) * common + (0.3 * level) * own + 0.5
    tile.setflags(write=False)
    return tile


def grain(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Film grain (3, height, width) in 8-bit levels (+0.5 for rounding), of a random strength: a
    random window of a cached tile (fast)."""
    side = max(height, width)
    level_draw, row_draw, column_draw = rng.random(3)
    tile = _grain_tile(side, GRAIN_LEVELS[int(level_draw * len(GRAIN_LEVELS))])
    top = int(row_draw * (2 * side - height + 1))
    left = int(column_draw * (2 * side - width + 1))
    return tile[:, top:top + height, left:left + width]


def clamp(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """A clipped copy of ``values`` (np.clip minus its Python-level overhead, which adds up here)."""
    out = np.maximum(values, low)
    return np.minimum(out, high, out=out)


def smoothstep(edge0: float, edge1: float, values: np.ndarray) -> np.ndarray:
    """Hermite ramp from 0 (at edge0) to 1 (at edge1)."""
    t = clamp((values - edge0) * (1.0 / (edge1 - edge0)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)

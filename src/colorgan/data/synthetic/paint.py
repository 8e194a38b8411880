"""Painting a layer onto the canvas as a weighted mix of a few flat colors: one small product per layer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from colorgan.data.synthetic.noise import product


def paint(canvas: np.ndarray, top: int, alpha: np.ndarray, colors: Sequence[np.ndarray],
          weights: Sequence[np.ndarray | float]) -> None:
    """Blend a layer into rows ``top``.. of ``canvas`` (3, H, W), in place.

    The layer's color at each pixel is ``sum_k colors[k] * weights[k]`` (colors RGB, weights scalar
    fields broadcastable to ``alpha``'s (rows, W) shape), covering the canvas by ``alpha`` in [0, 1].
    Expressing layers this way turns most per-channel work into one (3 × k) @ (k × pixels) product.
    """
    rows, width = alpha.shape
    band = canvas[:, top:top + rows].reshape(3, rows * width)
    stacked = np.empty((len(weights), rows, width), dtype=np.float32)
    for index, weight in enumerate(weights):
        np.multiply(alpha, weight, out=stacked[index])
    layer = product(_color_matrix(colors), stacked.reshape(len(weights), -1))
    band *= (1.0 - alpha).reshape(1, -1)
    band += layer


def mix(colors: Sequence[np.ndarray], weights: Sequence[np.ndarray]) -> np.ndarray:
    """``sum_k colors[k] * weights[k]`` as an array (3, *weights shape) — paint without a canvas."""
    shape = np.broadcast_shapes(*(np.shape(weight) for weight in weights))
    stacked = np.empty((len(weights), *shape), dtype=np.float32)
    for index, weight in enumerate(weights):
        stacked[index] = weight
    return product(_color_matrix(colors), stacked.reshape(len(weights), -1)).reshape(3, *shape)


def _color_matrix(colors: Sequence[np.ndarray]) -> np.ndarray:
    """Colors as the columns of a float32 (3, k) matrix (np.stack minus its overhead)."""
    matrix = np.empty((3, len(colors)), dtype=np.float32)
    for index, color in enumerate(colors):
        matrix[:, index] = color
    return matrix

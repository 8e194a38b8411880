"""Procedurally generated landscapes: the embedded default training data."""

from colorgan.data.synthetic.compose import render_landscape
from colorgan.data.synthetic.dataset import SyntheticLandscapes, SyntheticSource

__all__ = ["SyntheticLandscapes", "SyntheticSource", "render_landscape"]

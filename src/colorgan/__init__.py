"""colorgan: train, compare and use deep image colorizers."""

__version__ = "0.1.0"

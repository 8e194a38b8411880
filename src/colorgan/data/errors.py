"""User-facing errors of the data package."""

from __future__ import annotations

from colorgan.errors import UserError


class DataError(UserError):
    """A data problem the user can fix: missing or empty folder, nothing usable, bad sizes."""


class ImageError(DataError):
    """One image file could not be decoded."""

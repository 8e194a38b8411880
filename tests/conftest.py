"""Fixtures only; helpers shared by test modules live in `tests.helpers` (never import this file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import DictConfig

from tests import helpers


@pytest.fixture
def tiny_config(tmp_path: Path):
    """A factory: tiny_config(*overrides) -> composed, shrunk config writing into tmp_path/run."""

    def make(*overrides: str) -> DictConfig:
        return helpers.tiny_config(tmp_path / "run", *overrides)

    return make

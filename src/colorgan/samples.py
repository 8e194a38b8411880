"""Where evaluation and report photos come from: a folder of photos or a colorgan data config's val split.

A `Sample` is a name and a loader returning H×W×3 uint8 RGB, so large folders are read lazily, one photo
at a time, and the same photo can be read again (e.g. for the worst/median/best grid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorgan.data import DataError, build_datamodule, find_images, load_rgb
from colorgan.data.build import load_data_config


@dataclass(frozen=True)
class Sample:
    """One photo: a name and how to load it as H×W×3 uint8 RGB."""

    name: str
    load: Callable[[], np.ndarray]


def folder_samples(root: Path, max_images: int | None = None) -> list[Sample]:
    """Every photo under ``root`` (or ``root`` itself when it is a file), sorted, as lazily loaded samples."""
    paths = [root] if root.is_file() else find_images(root)
    if not paths:
        raise DataError(f"no images found in {root}")
    base = root.parent if root.is_file() else root
    return [Sample(path.relative_to(base).as_posix(), lambda path=path: load_rgb(path))
            for path in paths[:max_images]]


def config_samples(spec: str, overrides: Sequence[str], image_size: int,
                   max_images: int | None = None) -> list[Sample]:
    """The validation images of a colorgan data config (a conf/data name or a YAML file); built through the
    allow-list (`build_datamodule`), since run folders are shared and downloaded."""
    datamodule = build_datamodule(load_data_config(spec, overrides, image_size))
    datamodule.setup("validate")
    dataset = datamodule.val_dataset
    count = len(dataset) if max_images is None else min(len(dataset), max_images)
    return [Sample(f"val_{index:04d}", lambda index=index: dataset[index].permute(1, 2, 0).numpy())
            for index in range(count)]



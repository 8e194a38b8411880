"""Where evaluation and report photos come from: a folder of photos or a colorgan data config's val split.

A `Sample` is a name and a loader returning H×W×3 uint8 RGB, so large folders are read lazily, one photo
at a time, and the same photo can be read again (e.g. for the worst/median/best grid).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hydra.utils import instantiate
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from colorgan.config import config_dir
from colorgan.data import DataError, find_images, load_rgb
from colorgan.errors import UserError


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
    """The validation images of a colorgan data config (a conf/data name or a YAML file)."""
    path = Path(spec).expanduser()
    if not path.is_file():
        path = Path(config_dir()) / "data" / f"{spec}.yaml"
    if not path.is_file():
        raise UserError(f"data {spec!r} is not a folder, an image, a YAML file or a conf/data config name")
    try:
        loaded = OmegaConf.load(path)
        if "data" in loaded:  # a whole run config: its own image_size
            root = OmegaConf.create({"image_size": loaded.get("image_size", image_size), "data": loaded.data})
        else:  # a conf/data file: its ${image_size} is the checkpoint's training size
            root = OmegaConf.create({"image_size": image_size, "data": loaded})
        root = OmegaConf.merge(root, OmegaConf.from_dotlist([f"data.{item}" for item in overrides]))
        data = OmegaConf.to_container(root.data, resolve=True)
    except OmegaConfBaseException as error:
        raise UserError(f"cannot read data config {path}: {error}") from error
    if not isinstance(data, dict) or not str(data.get("_target_", "")).startswith("colorgan.data."):
        raise UserError(f"{path} is not a colorgan data config (its _target_ must be a colorgan.data class)")
    data.update(num_workers=0, persistent_workers=False)
    datamodule = instantiate(data)
    datamodule.setup("validate")
    dataset = datamodule.val_dataset
    count = len(dataset) if max_images is None else min(len(dataset), max_images)
    return [Sample(f"val_{index:04d}", lambda index=index: dataset[index].permute(1, 2, 0).numpy())
            for index in range(count)]



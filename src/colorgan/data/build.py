"""`build_datamodule`: the one way any code turns a data config into a `ColorDataModule`.

A data config (``conf/data/*.yaml``, a run's ``.hydra/config.yaml``, a YAML given to ``evaluate --data``)
holds the loader settings and a ``source`` node chosen by ``_target_``::

    batch_size: 16            # loader settings, shared by every source (LOADER_KEYS)
    num_workers: 2
    root: /photos             # other top-level keys are shortcuts the source refers to (${..root})
    source:
      _target_: colorgan.data.FolderSource
      root: ${..root}
      image_size: ${image_size}

Run folders are shared and downloaded, so their configs are not trusted: every ``_target_`` at every
depth must be on `ALLOWED_TARGETS` (checked on the resolved config before anything is imported or
built), and objects are built here from plain values, never by Hydra's recursive instantiate.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue, OmegaConfBaseException

from colorgan.config import config_dir
from colorgan.data.datamodule import ColorDataModule
from colorgan.data.errors import DataError
from colorgan.data.source import DataSource
from colorgan.data.torchvision_source import TORCHVISION_DATASETS

ALLOWED_TARGETS: frozenset[str] = frozenset({
    "colorgan.data.FolderSource",
    "colorgan.data.SyntheticSource",
    "colorgan.data.PreparedSource",
    "colorgan.data.StreamingSource",
    "colorgan.data.TorchvisionSource",
    "colorgan.data.HuggingFaceSource",
    *(f"torchvision.datasets.{name}" for name in TORCHVISION_DATASETS),
})
"""Every class a data config may name, by full name. A new source (torchvision, Hugging Face) adds its own
class and each dataset class it may build (e.g. ``torchvision.datasets.Places365``) here, never a module
prefix: ``torchvision.datasets.utils.download_url`` sits under the same prefix and writes files."""

LOADER_KEYS = ("batch_size", "num_workers", "pin_memory", "persistent_workers", "drop_last")
LEGACY_TARGET = "colorgan.data.ColorDataModule"
_SPECIAL_KEYS = {"_target_", "_args_", "_partial_"}
_LEGACY_SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    # source name -> (class, {old key: new key}) for run configs written before sources were classes
    "synthetic": ("colorgan.data.SyntheticSource",
                  {"num_train": "num_train", "num_val": "num_val", "image_size": "image_size",
                   "synthetic_seed": "seed"}),
    "folder": ("colorgan.data.FolderSource",
               {key: key for key in ("root", "image_size", "val_fraction", "max_val_images", "split_seed",
                                     "min_scale", "hflip")}),
    "prepared": ("colorgan.data.PreparedSource",
                 {key: key for key in ("root", "image_size", "val_fraction", "max_val_images", "split_seed",
                                       "min_scale", "hflip")}),
    "streaming": ("colorgan.data.StreamingSource",
                  {key: key for key in ("root", "image_size", "min_scale", "hflip")}),
}


def build_datamodule(data: DictConfig | Mapping[str, Any]) -> ColorDataModule:
    """The DataModule of a data config (the ``data`` node; interpolations resolve against its parents).

    Raises DataError (a UserError) for a target that is not allowed, naming it and where it sits, before
    importing or calling anything; and for a config that is not a colorgan data config. A mandatory value
    left unset (``root: ???``) raises omegaconf's MissingMandatoryValue, which `colorgan.cli` words.
    """
    plain = _resolved(data)
    if plain.get("_target_") == LEGACY_TARGET and isinstance(plain.get("source"), str):
        check_targets({key: value for key, value in plain.items() if key != "_target_"})
        plain = translate_legacy(plain)
    check_targets(plain)
    if "_target_" in plain:
        raise DataError(f"data config with _target_ {plain['_target_']!r} at its top: a colorgan data config "
                        "holds the loader settings and a source: {_target_: colorgan.data.FolderSource, ...}")
    if not isinstance(plain.get("source"), Mapping) or "_target_" not in plain["source"]:
        raise DataError("the data config has no source: choose data=folder|synthetic|prepared|streaming|"
                        "torchvision|huggingface, "
                        "or set data.source: {_target_: colorgan.data.FolderSource, root: ...}")
    source = _build(plain["source"], "data.source")
    if not isinstance(source, DataSource):
        raise DataError(f"data.source {plain['source']['_target_']!r} is not a colorgan DataSource")
    return ColorDataModule(source, **{key: plain[key] for key in LOADER_KEYS if key in plain})


def _resolved(data: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, Mapping) and not isinstance(data, DictConfig):
        data = OmegaConf.create(dict(data))
    try:
        plain = OmegaConf.to_container(data, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue:
        raise  # `colorgan.cli` words it: "data.root must be set, e.g. data.root=VALUE on the command line"
    except InterpolationToMissingValueError as error:
        raise DataError(f"{error.full_key} refers to a value that must be set first") from error
    except OmegaConfBaseException as error:
        raise DataError(f"cannot read the data config: {error}".splitlines()[0]) from error
    if not isinstance(plain, dict):
        raise DataError(f"a data config is a mapping, got {type(plain).__name__}")
    return plain


def check_targets(node: Any, where: str = "data") -> None:
    """Raise DataError naming the first ``_target_`` (at any depth) that is not on the allow-list."""
    if isinstance(node, Mapping):
        if "_target_" in node:
            target = node["_target_"]
            if not isinstance(target, str) or target not in ALLOWED_TARGETS:
                raise DataError(f"refusing {where}._target_ {target!r}: a data config may only build "
                                f"{', '.join(sorted(ALLOWED_TARGETS))}")
        for key, value in node.items():
            check_targets(value, f"{where}.{key}")
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            check_targets(value, f"{where}[{index}]")


def _build(node: Any, where: str) -> Any:
    """Plain values as they are; a mapping with an (already checked) ``_target_`` called with its built
    arguments (``_args_`` positional, ``_partial_`` for a partial); lists element by element."""
    if isinstance(node, list | tuple):
        return [_build(value, f"{where}[{index}]") for index, value in enumerate(node)]
    if not isinstance(node, Mapping):
        return node
    if "_target_" not in node:
        return {key: _build(value, f"{where}.{key}") for key, value in node.items()}
    unknown = sorted(key for key in node
                     if key.startswith("_") and key.endswith("_") and key not in _SPECIAL_KEYS)
    if unknown:
        raise DataError(f"{where}: unsupported keys {unknown} (only _target_, _args_ and _partial_)")
    module_name, _, name = node["_target_"].rpartition(".")
    factory = getattr(importlib.import_module(module_name), name)
    args = [_build(value, f"{where}._args_[{index}]") for index, value in enumerate(node.get("_args_", []))]
    kwargs = {key: _build(value, f"{where}.{key}") for key, value in node.items() if key not in _SPECIAL_KEYS}
    if node.get("_partial_", False):
        return functools.partial(factory, *args, **kwargs)
    try:
        return factory(*args, **kwargs)
    except TypeError as error:
        raise DataError(f"{where} ({node['_target_']}): {error}") from error


def translate_legacy(plain: Mapping[str, Any]) -> dict[str, Any]:
    """A data config of runs made before sources were classes (``source: folder`` and flat keys) in
    today's form: the loader settings plus ``source: {_target_: ..., its own keys}``."""
    name = plain["source"]
    if name not in _LEGACY_SOURCES:
        raise DataError(f"unknown data source {name!r} in an old run config; choose one of "
                        f"{sorted(_LEGACY_SOURCES)}")
    target, renames = _LEGACY_SOURCES[name]
    source = {"_target_": target, **{new: plain[old] for old, new in renames.items() if old in plain}}
    return {**{key: plain[key] for key in LOADER_KEYS if key in plain}, "source": source}


def load_data_config(spec: str | Path, overrides: Sequence[str] = (), image_size: int = 256) -> DictConfig:
    """The data node of ``spec``: a conf/data name (``synthetic``, ``places365`` …), a data config YAML file,
    or a run's ``.hydra/config.yaml`` (its own ``image_size`` wins), with ``KEY=VALUE`` overrides (``root=…``
    or ``data.root=…``) and in-process loading (no workers). Build it with `build_datamodule`."""
    path = Path(spec).expanduser()
    if not path.is_file():
        path = Path(config_dir()) / "data" / f"{spec}.yaml"
    if not path.is_file():
        raise DataError(f"data {str(spec)!r} is not a folder, an image, a YAML file or a conf/data config "
                        "name")
    try:
        loaded = OmegaConf.load(path)
        if "data" in loaded:  # a whole run config: its own image_size
            root = OmegaConf.create({"image_size": loaded.get("image_size", image_size), "data": loaded.data})
        else:  # a conf/data file: its ${image_size} is the caller's
            root = OmegaConf.create({"image_size": image_size, "data": loaded})
        items = [f"data.{item.removeprefix('data.')}" for item in overrides]
        root = OmegaConf.merge(root, OmegaConf.from_dotlist(items),
                               {"data": {"num_workers": 0, "persistent_workers": False}})
    except OmegaConfBaseException as error:
        raise DataError(f"cannot read data config {path}: {error}".splitlines()[0]) from error
    return root.data

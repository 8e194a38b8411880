"""`data=torchvision`: any image dataset of ``torchvision.datasets`` (Places365, ImageFolder, ImageNet, ...).

The dataset is a node chosen by ``_target_`` (on `colorgan.data.build.ALLOWED_TARGETS` by exact class name)
with ``_partial_: true``: the source builds it at setup, so a missing download is one clear line::

    source:
      _target_: colorgan.data.TorchvisionSource
      dataset: {_target_: torchvision.datasets.Places365, _partial_: true, root: /data/places365,
                split: train-standard, small: true, download: false}
      val_dataset: {_target_: torchvision.datasets.Places365, _partial_: true, root: ..., split: val, ...}
      categories: [mountain, coast, valley]      # class names; Places365's "/m/mountain" also works

Samples are ``(image, label)`` (or an image alone); the image goes through the folder source's uint8
transforms. ``labels`` and class names come from the dataset's ``targets``/``classes``/``class_to_idx`` (read
without decoding a photo), so a category selection over Places365's 1.8 million photos is instant.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset

from colorgan.data.collection import CollectionSource, PhotoCollection, as_rgb_image
from colorgan.data.errors import DataError, ImageError

logger = logging.getLogger(__name__)

TORCHVISION_DATASETS: tuple[str, ...] = (
    "Places365", "ImageFolder", "ImageNet", "FakeData", "SUN397", "LSUN", "LSUNClass", "Caltech256",
    "CIFAR10", "CIFAR100", "STL10", "Flowers102", "Food101", "OxfordIIITPet", "StanfordCars", "Country211",
    "DTD", "Imagenette", "INaturalist", "CelebA", "EuroSAT", "FGVCAircraft", "GTSRB",
)
"""The ``torchvision.datasets`` classes a data config may build (their samples are an image and a label)."""

_READ_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError,
                Image.DecompressionBombError)


PLACES365_LANDSCAPES: tuple[str, ...] = (
    "badlands", "bamboo_forest", "beach", "butte", "canyon", "cliff", "coast", "corn_field", "creek",
    "crevasse", "desert/sand", "desert/vegetation", "field/cultivated", "field/wild", "forest/broadleaf",
    "forest_path", "glacier", "hayfield", "ice_floe", "ice_shelf", "iceberg", "islet", "lagoon",
    "lake/natural", "marsh", "mountain", "mountain_path", "mountain_snowy", "ocean", "pasture", "rainforest",
    "rice_paddy", "river", "rock_arch", "sky", "snowfield", "swamp", "tundra", "valley", "vineyard",
    "volcano", "waterfall", "wave", "wheat_field",
)
"""Places365 class names (without the ``/x/`` prefix) of outdoor natural landscapes: 44 of the 365."""

CATEGORY_PRESETS: dict[str, tuple[str, ...]] = {"landscapes": PLACES365_LANDSCAPES}
"""Names that stand for a list in ``data.categories`` (``data.categories=[landscapes]``)."""


def expand_categories(categories: Sequence[str] | str | None) -> list[str]:
    """``categories`` with each preset name (`CATEGORY_PRESETS`) replaced by its classes, order kept."""
    names = [categories] if isinstance(categories, str) else list(categories or [])
    expanded: list[str] = []
    for name in names:
        for item in CATEGORY_PRESETS.get(str(name), (str(name),)):
            if item not in expanded:
                expanded.append(item)
    return expanded


def dataset_name(dataset: Any) -> str:
    factory = dataset.func if hasattr(dataset, "func") else type(dataset)
    return getattr(factory, "__name__", type(dataset).__name__)


class TorchvisionPhotos(PhotoCollection):
    """A torchvision dataset as a `PhotoCollection` (photo = the sample's image, label = its target)."""

    def __init__(self, dataset: Dataset, role: str = "train") -> None:
        self.dataset = dataset
        self.root = Path(str(getattr(dataset, "root", "") or ""))
        files = getattr(dataset, "imgs", None) or getattr(dataset, "samples", None)
        self.files: list[str] | None = None
        if isinstance(files, list) and files and isinstance(files[0], tuple | list):
            self.files = [str(entry[0]) for entry in files]
        split = getattr(dataset, "split", None)
        where = f" {split}" if isinstance(split, str) else ""
        self.description = f"torchvision {type(dataset).__name__}{where} at {self.root}" if str(self.root) \
            not in ("", ".") else f"torchvision {type(dataset).__name__}{where}"
        self.role = role

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def image(self, index: int) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sample = self.dataset[index]
                return as_rgb_image(sample[0] if isinstance(sample, tuple | list) else sample)
        except ImageError:
            raise
        except _READ_ERRORS as error:
            raise ImageError(f"cannot read {self.name(index)}: {error}") from error

    def name(self, index: int) -> str:
        if self.files is None:
            return f"{self.role}/#{index:08d}"
        try:
            return Path(self.files[index]).relative_to(self.root).as_posix()
        except ValueError:
            return self.files[index]

    def labels(self) -> list[int] | None:
        targets = getattr(self.dataset, "targets", None)
        if targets is None and self.files is not None:
            targets = [entry[1] for entry in (getattr(self.dataset, "imgs", None) or self.dataset.samples)]
        if targets is None:
            return None
        return [int(target) if target is not None else -1 for target in targets]

    def class_index(self) -> dict[str, int]:
        index: dict[str, int] = {}
        mappings = (getattr(self.dataset, "class_to_idx", None), getattr(self.dataset, "wnid_to_idx", None))
        for mapping in mappings:
            for name, value in (mapping or {}).items():
                index[str(name)] = int(value)
                parts = str(name).split("/")
                if str(name).startswith("/") and len(parts) > 2 and len(parts[1]) == 1:
                    index.setdefault("/".join(parts[2:]), int(value))  # Places365: /m/mountain -> mountain
        if not index and isinstance(getattr(self.dataset, "classes", None), list):
            index = {str(name): position for position, name in enumerate(self.dataset.classes)}
        return index


def _takes_download(factory: Any) -> bool:
    try:
        return "download" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def open_dataset(dataset: Dataset | Callable[..., Dataset], download: bool | None) -> Dataset:
    """Build a dataset given as a partial (a missing download becomes a one-line DataError)."""
    if isinstance(dataset, Dataset):
        return dataset
    name = dataset_name(dataset)
    keywords = getattr(dataset, "keywords", {})
    factory = getattr(dataset, "func", dataset)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if download is not None and "download" not in keywords and _takes_download(factory):
                return dataset(download=bool(download))
            return dataset()
    except (RuntimeError, OSError, ValueError) as error:
        root = keywords.get("root", "")
        hint = ("" if keywords.get("download") or download
                else "; with internet, set data.download=true to fetch it (where torchvision can)")
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"torchvision {name} at {root or '(no root)'}: {first}{hint}") from error


class TorchvisionSource(CollectionSource):
    """Photos of a ``torchvision.datasets`` dataset, with the folder source's checks, split and transforms.

    Args:
        dataset: the training dataset, or a partial that builds it (``_partial_: true`` in the config).
        val_dataset: a separate validation dataset (e.g. Places365 ``split: val``); None = hold out
            ``val_fraction`` of ``dataset`` by name hash.
        download: passed to datasets whose node does not set it (None = leave each dataset's default).
        categories: class names to keep; ``landscapes`` stands for Places365's `PLACES365_LANDSCAPES`.
        image_size, val_fraction, max_val_images, split_seed, min_scale, hflip, min_colorfulness:
            see `CollectionSource`.
    """

    def __init__(self, dataset: Dataset | Callable[..., Dataset], image_size: int = 128,
                 val_dataset: Dataset | Callable[..., Dataset] | None = None, download: bool | None = None,
                 categories: Sequence[str] | None = None, val_fraction: float = 0.1,
                 max_val_images: int | None = 256, split_seed: int = 0, min_scale: float = 0.5,
                 hflip: bool = True, min_colorfulness: float = 0.0) -> None:
        super().__init__(image_size, expand_categories(categories), val_fraction, max_val_images, split_seed,
                         min_scale, hflip, min_colorfulness)
        named = [categories] if isinstance(categories, str) else list(categories or [])
        self.optional_categories = [item for name in named for item in CATEGORY_PRESETS.get(str(name), ())]
        if dataset is None:
            raise DataError("data=torchvision needs data.source.dataset: "
                            "{_target_: torchvision.datasets.X, _partial_: true, ...}")
        self.dataset, self.val_dataset, self.download = dataset, val_dataset, download

    def collections(self) -> tuple[PhotoCollection, PhotoCollection | None]:
        train = TorchvisionPhotos(open_dataset(self.dataset, self.download), "train")
        if self.val_dataset is None:
            return train, None
        return train, TorchvisionPhotos(open_dataset(self.val_dataset, self.download), "val")

    def __repr__(self) -> str:
        return f"TorchvisionSource({dataset_name(self.dataset)}, image_size={self.image_size})"

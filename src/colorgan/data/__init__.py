"""Data: sources of uint8 RGB tensors [3,H,W] (photo folders, synthetic landscapes, a prepared cache, a
litdata stream, torchvision and Hugging Face datasets) and the DataModule that batches them.

No color conversion happens here: batches are uint8 RGB; the LightningModule converts on the device.
Build a DataModule from a config with `build_datamodule` (it refuses any ``_target_`` off its allow-list).
"""

from colorgan.data.build import ALLOWED_TARGETS, LOADER_KEYS, build_datamodule, check_targets
from colorgan.data.collection import CollectionDataset, CollectionSource, PhotoCollection
from colorgan.data.colorfulness import LOW_COLORFULNESS, image_colorfulness
from colorgan.data.datamodule import ColorDataModule
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import (
    SKIP_REASONS,
    FolderDataset,
    FolderScan,
    FolderSource,
    scan_folder,
    split_files,
    unusable_reason,
)
from colorgan.data.hf_source import HuggingFaceSource
from colorgan.data.images import IMAGE_EXTENSIONS, find_images, is_grayscale, load_rgb, open_rgb
from colorgan.data.prepared import PreparedCache, PreparedDataset, PreparedSource
from colorgan.data.source import DataSource, LoaderSettings, SourceSplits
from colorgan.data.streaming import StreamingSource, open_streaming
from colorgan.data.synthetic import SyntheticLandscapes, SyntheticSource, render_landscape
from colorgan.data.torchvision_source import PLACES365_LANDSCAPES, TORCHVISION_DATASETS, TorchvisionSource
from colorgan.data.transforms import CenterSquare, RandomSquareCrop

__all__ = [
    "ALLOWED_TARGETS",
    "IMAGE_EXTENSIONS",
    "LOADER_KEYS",
    "LOW_COLORFULNESS",
    "PLACES365_LANDSCAPES",
    "SKIP_REASONS",
    "TORCHVISION_DATASETS",
    "CenterSquare",
    "CollectionDataset",
    "CollectionSource",
    "ColorDataModule",
    "DataError",
    "DataSource",
    "FolderDataset",
    "FolderScan",
    "FolderSource",
    "HuggingFaceSource",
    "ImageError",
    "LoaderSettings",
    "PhotoCollection",
    "PreparedCache",
    "PreparedDataset",
    "PreparedSource",
    "RandomSquareCrop",
    "SourceSplits",
    "StreamingSource",
    "SyntheticLandscapes",
    "SyntheticSource",
    "TorchvisionSource",
    "build_datamodule",
    "check_targets",
    "find_images",
    "image_colorfulness",
    "is_grayscale",
    "load_rgb",
    "open_rgb",
    "open_streaming",
    "render_landscape",
    "scan_folder",
    "split_files",
    "unusable_reason",
]

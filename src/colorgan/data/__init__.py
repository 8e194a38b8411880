"""Data: photo folders and synthetic landscapes as uint8 RGB tensors [3,H,W], and the DataModule.

No color conversion happens here: batches are uint8 RGB; the LightningModule converts on the device.
"""

from colorgan.data.datamodule import SOURCES, ColorDataModule, SourceSplits, register_source
from colorgan.data.errors import DataError, ImageError
from colorgan.data.folder import FolderDataset, FolderScan, scan_folder, split_files
from colorgan.data.images import IMAGE_EXTENSIONS, find_images, is_grayscale, load_rgb, open_rgb
from colorgan.data.prepared import PreparedCache, PreparedDataset
from colorgan.data.streaming import open_streaming
from colorgan.data.synthetic import SyntheticLandscapes, render_landscape
from colorgan.data.transforms import CenterSquare, RandomSquareCrop

__all__ = [
    "IMAGE_EXTENSIONS",
    "SOURCES",
    "CenterSquare",
    "ColorDataModule",
    "DataError",
    "FolderDataset",
    "FolderScan",
    "ImageError",
    "PreparedCache",
    "PreparedDataset",
    "RandomSquareCrop",
    "SourceSplits",
    "SyntheticLandscapes",
    "find_images",
    "is_grayscale",
    "load_rgb",
    "open_rgb",
    "open_streaming",
    "register_source",
    "render_landscape",
    "scan_folder",
    "split_files",
]

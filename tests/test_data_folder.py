"""Photo folders: every kind of file a user may drop in, and what colorgan makes of it."""

from __future__ import annotations

import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.data import (
    CenterSquare,
    DataError,
    FolderDataset,
    ImageError,
    RandomSquareCrop,
    find_images,
    is_grayscale,
    load_rgb,
    scan_folder,
    split_files,
)

SIZE = 24


def color_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, clearly colored picture: red grows to the right, green downward, blue in blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * x / max(width - 1, 1)
    green = 255 * y / max(height - 1, 1)
    blue = 128 + 100 * np.sin(x / 3 + rng.uniform(0, 6)) * np.cos(y / 4)
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255).astype(np.uint8)


def write_png16(path: Path, rgb16: np.ndarray) -> None:
    """Encode a 16-bit-per-channel RGB PNG by hand (PIL cannot write one)."""
    height, width, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


USABLE = {"good1.jpg", "good2.png", "nested/deeper/good3.JPG", "rgba.png", "color16.png", "palette.png",
          "rotated.jpg", "tiny.png", "cmyk.jpg"}
GRAY = {"gray_rgb.jpg", "color_saved_as_L.jpg", "gray16.png"}


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    (root / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(color_photo(48, 64)).save(root / "good1.jpg", quality=92)
    Image.fromarray(color_photo(80, 40, seed=1)).save(root / "good2.png")
    Image.fromarray(color_photo(100, 100, seed=2)).save(root / "nested" / "deeper" / "good3.JPG")
    gray = color_photo(50, 60).mean(axis=-1).astype(np.uint8)
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(root / "gray_rgb.jpg", quality=80)
    Image.fromarray(color_photo(40, 40, seed=3)).convert("L").save(root / "color_saved_as_L.jpg")
    (root / "corrupt.jpg").write_bytes(np.random.default_rng(0).bytes(2000))
    (root / "notes.txt").write_text("not a photo")
    rgba = np.dstack([color_photo(30, 30), np.full((30, 30), 255, np.uint8)])
    rgba[:10, :10, 3] = 0  # a fully transparent corner
    Image.fromarray(rgba, mode="RGBA").save(root / "rgba.png")
    Image.fromarray((np.arange(30 * 40).reshape(30, 40) * 50).astype(np.uint16)).save(root / "gray16.png")
    rgb16 = np.zeros((20, 30, 3), np.uint16)
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 65535, 32896, 2570
    write_png16(root / "color16.png", rgb16)
    Image.fromarray(color_photo(32, 32, seed=4)).quantize(16).save(root / "palette.png")
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (220, 30, 30)  # left half red, right half blue, as stored in the file
    stored[:, 20:] = (30, 30, 220)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    Image.fromarray(stored).save(root / "rotated.jpg", exif=exif, quality=95)
    Image.fromarray(color_photo(7, 5, seed=5)).save(root / "tiny.png")
    Image.fromarray(color_photo(40, 50, seed=6)).convert("CMYK").save(root / "cmyk.jpg")
    Image.fromarray(color_photo(20, 20)).save(root / ".hidden.jpg")
    return root


def names(paths: list[Path], root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in paths}


def test_find_images_is_recursive_sorted_and_skips_hidden_and_text(photo_folder: Path) -> None:
    found = find_images(photo_folder)
    assert found == sorted(found)
    assert names(found, photo_folder) == USABLE | GRAY | {"corrupt.jpg"}


def test_scan_keeps_color_photos_and_counts_every_skip(photo_folder: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="colorgan.data"):
        scan = scan_folder(photo_folder)
    assert names(scan.usable, photo_folder) == USABLE
    assert names(scan.skipped["unreadable"], photo_folder) == {"corrupt.jpg"}
    assert names(scan.skipped["grayscale"], photo_folder) == GRAY
    assert names(scan.skipped["not an image"], photo_folder) == {"notes.txt"}
    summaries = [record.getMessage() for record in caplog.records if record.name.startswith("colorgan.data")]
    assert len(summaries) == 1
    assert "skipped 5 of 14 files" in summaries[0]
    assert "1 unreadable (corrupt.jpg)" in summaries[0] and "notes.txt" in summaries[0]


def test_load_rgb_handles_modes_alpha_16bit_palette_and_exif(photo_folder: Path) -> None:
    rgba = load_rgb(photo_folder / "rgba.png")
    assert rgba.dtype == np.uint8 and rgba.shape == (30, 30, 3)
    assert (rgba[:10, :10] == 255).all()  # transparent -> white
    assert np.array_equal(rgba[20:, 20:], color_photo(30, 30)[20:, 20:])
    color16 = load_rgb(photo_folder / "color16.png")
    assert np.abs(color16[0, 0].astype(int) - [255, 128, 10]).max() <= 1
    gray16 = load_rgb(photo_folder / "gray16.png")
    expected = np.round((np.arange(30 * 40).reshape(30, 40) * 50) / 257.0)
    assert np.abs(gray16[..., 0].astype(int) - expected).max() <= 1  # scaled, not clipped at 255
    assert np.array_equal(gray16[..., 0], gray16[..., 2])
    palette = load_rgb(photo_folder / "palette.png")
    quantized = Image.fromarray(color_photo(32, 32, seed=4)).quantize(16).convert("RGB")
    assert np.array_equal(palette, np.asarray(quantized))
    assert load_rgb(photo_folder / "cmyk.jpg").shape == (40, 50, 3)
    rotated = load_rgb(photo_folder / "rotated.jpg")
    assert rotated.shape == (40, 20, 3)  # stored 40 wide × 20 high, shown upright as 20 × 40
    top, bottom = rotated[:15].mean(axis=(0, 1)), rotated[25:].mean(axis=(0, 1))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # stored left (red) is now on top


def test_load_rgb_raises_image_error_for_garbage(photo_folder: Path) -> None:
    with pytest.raises(ImageError, match=r"corrupt\.jpg"):
        load_rgb(photo_folder / "corrupt.jpg")
    with pytest.raises(DataError):
        load_rgb(photo_folder / "notes.txt")


def test_is_grayscale_separates_gray_from_color() -> None:
    photo = color_photo(32, 32)
    noisy_gray = np.repeat(photo.mean(axis=-1, keepdims=True), 3, axis=-1).astype(np.int16)
    noisy_gray += np.random.default_rng(0).integers(-3, 4, noisy_gray.shape, dtype=np.int16)
    assert is_grayscale(np.clip(noisy_gray, 0, 255).astype(np.uint8))
    assert not is_grayscale(photo)
    mostly_gray = np.repeat(photo.mean(axis=-1, keepdims=True), 3, axis=-1).astype(np.uint8)
    mostly_gray[:8, :8] = (200, 40, 40)  # a red flower: 6 % of the picture is colored
    assert not is_grayscale(mostly_gray)


@pytest.mark.parametrize("train", [True, False])
def test_every_usable_file_gives_a_square_uint8_image(photo_folder: Path, train: bool) -> None:
    dataset = FolderDataset.from_folder(photo_folder, image_size=SIZE, train=train)
    assert len(dataset) == len(USABLE)
    assert sum(len(paths) for paths in dataset.skipped.values()) == 5
    for index in range(len(dataset)):
        image = dataset[index]
        assert image.dtype == torch.uint8 and image.shape == (3, SIZE, SIZE)
    tiny = dataset.files.index(photo_folder / "tiny.png")
    assert dataset[tiny].float().std() > 5  # upscaled, not padded
    assert not dataset.failed


def test_eval_transform_is_deterministic_and_train_transform_varies(photo_folder: Path) -> None:
    files = [photo_folder / "good1.jpg"]
    val = FolderDataset(files, CenterSquare(SIZE))
    assert torch.equal(val[0], val[0])
    train = FolderDataset(files, RandomSquareCrop(SIZE, min_scale=0.3))
    torch.manual_seed(0)
    crops = [train[0] for _ in range(6)]
    assert any(not torch.equal(crops[0], crop) for crop in crops[1:])


def test_file_broken_after_validation_is_replaced_not_fatal(photo_folder: Path, caplog) -> None:
    dataset = FolderDataset.from_folder(photo_folder, image_size=SIZE)
    broken = dataset.files.index(photo_folder / "good2.png")
    (photo_folder / "good2.png").write_bytes(b"gone bad")
    with caplog.at_level(logging.WARNING, logger="colorgan.data"):
        image = dataset[broken]
    assert image.shape == (3, SIZE, SIZE)
    assert dataset.failed == [photo_folder / "good2.png"]
    assert any("good2.png" in record.getMessage() for record in caplog.records)


def test_missing_empty_and_unusable_folders_raise_clear_errors(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    with pytest.raises(DataError, match=r"no_such_folder.*does not exist"):
        scan_folder(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.md").write_text("hi")
    with pytest.raises(DataError, match=r"no images.*empty"):
        scan_folder(empty)
    unusable = tmp_path / "unusable"
    unusable.mkdir()
    (unusable / "bad.png").write_bytes(b"\x89PNG broken")
    Image.fromarray(np.full((20, 20), 90, np.uint8)).save(unusable / "gray.png")
    with pytest.raises(DataError, match=r"no usable color photo.*unusable.*1 unreadable.*1 grayscale"):
        scan_folder(unusable)


def test_split_is_deterministic_disjoint_stable_and_capped(tmp_path: Path) -> None:
    files = [tmp_path / f"album{i % 7}" / f"img_{i:04d}.jpg" for i in range(400)]
    train, val = split_files(files, tmp_path, val_fraction=0.1, split_seed=3)
    assert (train, val) == split_files(list(reversed(files)), tmp_path, val_fraction=0.1, split_seed=3)
    assert not set(train) & set(val) and set(train) | set(val) == set(files)
    assert 20 <= len(val) <= 60
    more = files + [tmp_path / "new" / f"late_{i}.jpg" for i in range(50)]
    train2, val2 = split_files(more, tmp_path, val_fraction=0.1, split_seed=3)
    assert set(val) <= set(val2) and set(train) <= set(train2)  # old photos keep their side
    assert split_files(files, tmp_path, val_fraction=0.1, split_seed=4)[1] != val
    train3, val3 = split_files(files, tmp_path, val_fraction=0.1, split_seed=3, max_val_images=5)
    assert len(val3) == 5 and set(val3) <= set(val) and len(train3) == 395
    with pytest.raises(DataError, match="val_fraction"):
        split_files(files, tmp_path, val_fraction=1.5)


def test_first_readable_substitutes_in_turn_and_reports_each_failure():
    from colorgan.data.errors import ImageError
    from colorgan.data.folder import first_readable

    broken = {1, 2}
    reported: list[int] = []

    def load(position: int) -> str:
        if position in broken:
            raise ImageError(f"photo {position} unreadable")
        return f"photo {position}"

    assert first_readable(1, 4, 8, load, lambda i, error: reported.append(i)) == "photo 3"
    assert reported == [1, 2]
    assert first_readable(3, 4, 8, load, lambda i, error: None) == "photo 3"
    assert first_readable(1, 4, 2, load, lambda i, error: None) is None  # limit reached: the caller says why

"""Colorizer: full resolution with the input's own luminance, every input kind, safe checkpoint loading."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.color import REC601_WEIGHTS, available_colorspaces, get_colorspace
from colorgan.inference import CheckpointError, Colorizer, affine_merge_matrix, resolve_checkpoint
from tests.tiny_runs import photo, random_checkpoint

# Tolerance of the luminance test, in 8-bit levels. The output is merged in YCbCr from the input's own
# full-resolution gray, so before rounding its Rec.601 luma equals the gray exactly wherever no channel
# is clipped; rounding each channel to uint8 moves it by at most 0.5 level, and the weights sum to 1, so
# |Y_out - Y_in| <= 0.5. kornia's YCbCr->RGB coefficients (1.403, 0.714, 0.344, 1.773) are rounded to 3
# decimals, which leaks < 0.0004 of the chroma (< 0.06 level) into Y. Hence 0.5 + 0.06 + float slack.
LUMA_TOLERANCE = 0.6


def rec601(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) @ np.array(REC601_WEIGHTS)


def unclipped(rgb: np.ndarray) -> np.ndarray:
    """Pixels where no channel sits at 0 or 255 (gamut clipping may have moved their luma)."""
    return ((rgb > 0) & (rgb < 255)).all(axis=-1)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    return {space: random_checkpoint(folder / f"{space}.ckpt", space) for space in available_colorspaces()}


@pytest.mark.parametrize("space", ["lab", "yuv", "ycbcr", "luv", "hsv", "rgb"])
def test_full_resolution_output_keeps_size_and_luminance(checkpoints, space):
    colorizer = Colorizer.from_checkpoint(checkpoints[space], device="cpu")
    truth = photo("chelsea")[:299, :451]  # odd sizes, 3:2 aspect; the network runs at 64x96 and 32x48
    out = colorizer.colorize(truth)
    assert out.shape == truth.shape and out.dtype == np.uint8
    gray_in = rec601(truth)
    error = np.abs(rec601(out) - gray_in)
    inside = unclipped(out)
    assert inside.mean() > 0.9, f"only {inside.mean():.2%} of pixels unclipped: test would prove little"
    assert error[inside].max() <= LUMA_TOLERANCE
    assert error.mean() < 0.5
    # sharp: the output has the input's fine detail, not the 32-px working size's blur
    assert np.corrcoef(np.diff(rec601(out), axis=1).ravel(), np.diff(gray_in, axis=1).ravel())[0, 1] > 0.99
    assert np.ptp(out.astype(int) - rec601(out)[..., None]) > 1  # it did add some color


def test_fast_full_resolution_merge_equals_the_reference_colorspace_merge(checkpoints):
    """full_resolution is ycbcr.merge(ycbcr.luma_from_gray(gray), upsampled chroma), only computed faster."""
    colorizer = Colorizer.from_checkpoint(checkpoints["luv"], device="cpu")
    prepared = colorizer.prepare(photo("rocket", 200))
    rgb_small = colorizer.predict([prepared.luma])[0]
    fast = colorizer.full_resolution(prepared.gray, rgb_small).astype(int)
    reference = get_colorspace("ycbcr")
    _, chroma = reference.split(rgb_small[None])
    chroma = torch.nn.functional.interpolate(chroma, size=prepared.gray.shape, mode="bilinear")
    merged = reference.merge(reference.luma_from_gray(prepared.gray[None, None]), chroma)[0]
    slow = (merged * 255).round().permute(1, 2, 0).numpy().astype(int)
    assert np.abs(fast - slow).max() <= 1 and (fast != slow).mean() < 1e-3  # float rounding ties only
    with pytest.raises(ValueError, match="not affine"):
        affine_merge_matrix(get_colorspace("lab"))


def test_gray_photo_keeps_its_exact_gray_levels(checkpoints):
    colorizer = Colorizer.from_checkpoint(checkpoints["lab"], device="cpu")
    gray = Image.fromarray(photo("astronaut", 200)).convert("L")
    out = colorizer.colorize(gray)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == gray.size
    rgb = np.asarray(out)
    inside = unclipped(rgb)
    assert np.abs(rec601(rgb) - np.asarray(gray))[inside].max() <= LUMA_TOLERANCE


def test_input_kinds_and_types(checkpoints, tmp_path):
    colorizer = Colorizer.from_checkpoint(checkpoints["yuv"], device="cpu")
    rgb = photo("coffee", 64)
    height, width = rgb.shape[:2]
    rgba = np.dstack([rgb, np.full((height, width), 255, np.uint8)])
    kinds = {
        "uint8 rgb": rgb,
        "uint8 gray": rgb[..., 0],
        "gray with channel": rgb[..., :1],
        "float rgb": rgb / 255.0,
        "uint16 gray": rgb[..., 1].astype(np.uint16) * 257,
        "rgba": rgba,
    }
    for name, array in kinds.items():
        out = colorizer.colorize(array)
        assert isinstance(out, np.ndarray) and out.shape == (height, width, 3), name
    pil_inputs = [Image.fromarray(rgb).convert("P"), Image.fromarray(rgba, "RGBA"),
                  Image.fromarray(rgb).convert("LA")]
    for image in pil_inputs:
        out = colorizer.colorize(image)
        assert isinstance(out, Image.Image) and out.size == (width, height), image.mode
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    assert colorizer.colorize(path).size == (width, height)
    # a color photo is colorized from its gray: same result as passing the gray itself
    from_color = colorizer.colorize(rgb).astype(int)
    from_gray = colorizer.colorize(rec601(rgb) / 255.0).astype(int)
    assert np.abs(from_color - from_gray).max() <= 1


def test_batch_mixes_sizes_and_matches_single_images(checkpoints):
    colorizer = Colorizer.from_checkpoint(checkpoints["lab"], device="cpu")
    images = [photo("chelsea", 80), photo("astronaut", 40), photo("chelsea", 80)[::-1].copy()]
    batch = colorizer.colorize_batch(images, batch_size=2)
    assert [out.shape for out in batch] == [image.shape for image in images]
    for image, out in zip(images, batch, strict=True):
        assert np.abs(colorizer.colorize(image).astype(int) - out.astype(int)).max() <= 1


def test_short_side_sets_the_working_size(checkpoints):
    colorizer = Colorizer.from_checkpoint(checkpoints["lab"], device="cpu", short_side=40)
    prepared = colorizer.prepare(photo("chelsea")[:300, :450])
    assert tuple(prepared.luma.shape) == (1, 40, 60)
    assert tuple(colorizer.prepare(photo("chelsea")[:300, :450], short_side=16).luma.shape) == (1, 16, 24)
    assert tuple(prepared.gray.shape) == (300, 450)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(np.zeros((4, 4, 5), np.uint8), ValueError), (np.full((4, 4), 2.0), ValueError),
     (np.zeros((4, 4), np.int64), ValueError), (b"not an image", TypeError)],
)
def test_bad_images_give_clear_errors(checkpoints, bad, error):
    colorizer = Colorizer.from_checkpoint(checkpoints["lab"], device="cpu")
    with pytest.raises(error, match=r"array|image|float|colorize"):
        colorizer.colorize(bad)


# ---- checkpoint safety ----------------------------------------------------------------------------------
class Payload:
    """Pickles into a call that creates a file: proof of code execution if it ever runs."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_tampered_checkpoint_with_code_is_refused_without_running_it(checkpoints, tmp_path):
    checkpoint = torch.load(checkpoints["lab"], weights_only=True)
    marker = tmp_path / "code-ran"
    checkpoint["colorgan"]["payload"] = Payload(marker)
    torch.save(checkpoint, tmp_path / "evil.ckpt")
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        Colorizer.from_checkpoint(tmp_path / "evil.ckpt")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("colorgan"), "not a colorgan checkpoint"),
        (lambda c: c["colorgan"].update(format=7), "format 7"),
        (lambda c: c["colorgan"]["generator"].update(_target_="os.system"), "is not colorgan.models"),
        (lambda c: c["colorgan"]["generator"]["encoder"].update(_target_="os.system"), "malformed"),
        (lambda c: c["colorgan"]["generator"].update(decoder_channels=[8, 8, 8, 8, 8]), "do not fit"),
        (lambda c: c["colorgan"]["generator"].update(unknown_option=1), "do not fit"),
        (lambda c: c["state_dict"].clear(), "no generator weights"),
    ],
)
def test_foreign_or_inconsistent_checkpoints_get_clear_errors(checkpoints, tmp_path, change, message):
    checkpoint = torch.load(checkpoints["lab"], weights_only=True)
    change(checkpoint)
    torch.save(checkpoint, tmp_path / "bad.ckpt")
    with pytest.raises(CheckpointError, match=message):
        Colorizer.from_checkpoint(tmp_path / "bad.ckpt")


def test_garbage_and_missing_files(tmp_path):
    (tmp_path / "garbage.ckpt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        Colorizer.from_checkpoint(tmp_path / "garbage.ckpt")
    with pytest.raises(CheckpointError, match="does not exist"):
        Colorizer.from_checkpoint(tmp_path / "missing.ckpt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Colorizer.from_checkpoint(tmp_path)


def test_encoder_weights_are_never_fetched(tmp_path):
    """The stored encoder weights setting (here a missing file) is ignored: the state_dict has the weights."""
    path = random_checkpoint(tmp_path / "a.ckpt", "lab")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["colorgan"]["generator"]["encoder"]["weights"] = "/no/such/weights.pth"
    torch.save(checkpoint, path)
    assert Colorizer.from_checkpoint(path, device="cpu").colorize(photo("chelsea", 32)).shape[-1] == 3


def test_run_dir_resolves_to_newest_best_then_last(tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    last = random_checkpoint(folder / "last.ckpt", "lab")
    assert resolve_checkpoint(tmp_path / "run") == last
    old = random_checkpoint(folder / "best-step000004.ckpt", "lab")
    new = random_checkpoint(folder / "best-step000008.ckpt", "lab")
    os.utime(old, (1, 1))
    assert resolve_checkpoint(tmp_path / "run") == new
    (tmp_path / "two" / "stage2" / "checkpoints").mkdir(parents=True)
    stage2 = random_checkpoint(tmp_path / "two" / "stage2" / "checkpoints" / "last.ckpt", "lab")
    assert resolve_checkpoint(tmp_path / "two") == stage2


def test_bad_device_is_a_clear_error(checkpoints):
    with pytest.raises(ValueError, match="device"):
        Colorizer.from_checkpoint(checkpoints["lab"], device="tpu")

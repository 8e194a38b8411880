"""The app's Hints tab without a browser: its pure helpers and its actions on a tiny hint model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.checkpoints import inference_record, read_checkpoint, save_generator
from colorgan.color import get_colorspace
from colorgan.errors import UserError
from colorgan.hints import read_hints_file
from colorgan.models import UNetColorizer
from colorgan.models.hints import HintSettings
from tests.tiny_runs import TINY_DECODER, TINY_ENCODER, random_checkpoint

pytest.importorskip("gradio")


def hint_checkpoint(path: Path, colorspace: str = "lab", seed: int = 0) -> Path:
    """A random hint-model checkpoint whose hint filters are not zero, so hints change its output."""
    plain = random_checkpoint(path.with_suffix(".plain.ckpt"), colorspace, seed=seed, head_scale=0.3)
    record, weights = read_checkpoint(plain)
    channels = get_colorspace(colorspace).chroma_channels
    model = UNetColorizer(channels, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=True)
    model.load_state_dict(model.adapt_state_dict(weights))
    with torch.no_grad():
        model.decoder.blocks[-1].conv1[0].weight[:, -(channels + 1):].normal_(0, 0.5)
    return save_generator(path, model, inference_record(
        "unet", colorspace, record["generator"], 32, hints=HintSettings(enabled=True).as_dict()))


def test_pure_helpers():
    from colorgan.app.hints_tab import draw_preview, hints_listing, picker_color, preview_size, to_photo

    assert picker_color("#D03020") == picker_color("rgba(208, 48, 32, 1)") == picker_color("rgb(208,48,32)")
    assert picker_color("#abc") == "#aabbcc"
    with pytest.raises(UserError):
        picker_color("red")
    assert preview_size(1000, 500, 640) == (640, 320) and preview_size(30, 60, 640) == (320, 640)
    assert to_photo(0, 0, (640, 320), (1000, 500)) == (0, 0)
    assert to_photo(639, 319, (640, 320), (1000, 500)) == (999, 499)
    assert to_photo(320, 160, (640, 320), (1000, 500)) == (500, 250)
    assert to_photo(5, 5, (640, 640), (32, 32)) == (0, 0)  # an enlarged small photo
    preview = draw_preview(Image.new("RGB", (100, 50), "gray"), [[50, 25, "#ff0000"]], side=200)
    assert preview.size == (200, 100) and preview.getpixel((101, 51)) == (255, 0, 0)
    assert "No hints" in hints_listing([])
    assert "**2 hints**" in hints_listing([[1, 2, "#000000"], [3, 4, "#ffffff"]])


def test_editor_places_recolors_and_saves(tmp_path):
    from colorgan.app.hints_tab import HintEditor, as_hints
    from colorgan.app.study import BlindStudy, load_runs
    from colorgan.app.ui import AppState

    runs = load_runs([hint_checkpoint(tmp_path / "hinted.ckpt"),
                      random_checkpoint(tmp_path / "plain.ckpt", "yuv", head_scale=0.3)], device="cpu")
    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8)).save(photo)
    state = AppState(runs, [photo], BlindStudy(tmp_path / "study", runs, []))
    editor = HintEditor(state)
    session = editor.source(None, "photo.png")
    automatic = editor.render(session, "hinted", 5)
    session, palette = editor.place(session, "hinted", 5, 320, 200, automatic.size)
    assert automatic.size == (640, 427)
    assert session["hints"] == [[30, 18, palette[0]]] and 1 <= len(palette) <= 6
    session["hints"][-1][2] = "#20c040"
    guided = editor.render(session, "hinted", 5)
    assert guided.size == automatic.size and not np.array_equal(np.asarray(guided), np.asarray(automatic))
    saved = editor.save(session, "hinted", 7)
    assert all(Path(path).parent.parent == state.exports for path in saved)
    result = Image.open(saved[0])
    assert result.size == (60, 40)
    hints, size = read_hints_file(saved[1])  # the colorize --hints format
    assert size == 7 and hints == as_hints(session["hints"])
    expected = runs[0].colorizer.colorize(Image.open(photo).convert("RGB"), hints=hints, hint_size=7)
    assert np.array_equal(np.asarray(result), np.asarray(expected))
    with pytest.raises(UserError, match="no color hints"):
        editor.render(session, "plain", 5)
    with pytest.raises(UserError, match="drop a photo"):
        editor.source(None, None)

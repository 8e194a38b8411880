"""User-guided colorization (issue 11): hint input, simulation, the hints file, init_from, the curve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from colorgan.build import build_model
from colorgan.checkpoints import inference_record, read_checkpoint, save_generator
from colorgan.color import get_colorspace
from colorgan.hints import HintError, hint_map, parse_color, parse_hints, read_hints_file, suggest_chroma
from colorgan.inference import Colorizer
from colorgan.models import UNetColorizer
from colorgan.models.hints import (
    HintSettings,
    draw_uniform,
    paint,
    patch_means,
    sample_training_hints,
    simulate_hints,
    truth_hints,
)
from tests.helpers import tiny_config
from tests.tiny_runs import TINY_DECODER, TINY_ENCODER, random_checkpoint

SPACES = ("lab", "yuv", "rgb", "hsv")


def generator(chroma_channels: int, hints: bool, seed: int = 0) -> UNetColorizer:
    torch.manual_seed(seed)
    return UNetColorizer(chroma_channels, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=hints).eval()


# ---- the hint input ------------------------------------------------------------------------------
@pytest.mark.parametrize("space", SPACES)
def test_hint_model_shapes(space):
    channels = get_colorspace(space).chroma_channels
    model = generator(channels, hints=True)
    assert model.takes_hints and model.hint_channels == channels + 1
    assert model.encoder.model.conv_stem.weight.shape[1] == 1 + channels + 1  # the stem: 1 + C + 1
    luma = torch.rand(2, 1, 37, 45) * 2 - 1
    hints = torch.zeros(2, channels + 1, 37, 45)
    assert model(luma, hints).shape == (2, channels, 37, 45)  # any size: padded, cropped back
    with pytest.raises(ValueError, match="hints must have shape"):
        model(luma, torch.zeros(2, channels, 37, 45))
    with pytest.raises(ValueError, match="without hint input"):
        generator(channels, hints=False)(luma, hints)


def test_hint_free_model_is_unchanged():
    plain, hinted = generator(2, hints=False), generator(2, hints=True)
    assert plain.state_dict().keys() == hinted.state_dict().keys()
    hinted_state = hinted.state_dict()
    widened = {key for key, value in plain.state_dict().items() if value.shape != hinted_state[key].shape}
    assert widened == {"encoder.model.conv_stem.weight", "decoder.blocks.4.conv1.0.weight"}
    again = generator(2, hints=False)  # same seed, no hints: the very same weights and outputs as before
    luma = torch.rand(1, 1, 32, 32) * 2 - 1
    assert torch.equal(plain(luma), again(luma))


@pytest.mark.parametrize("space", ["lab", "rgb"])
def test_zero_init_equivalence(space):
    """A hint model started from a hint-free one colorizes exactly like it, whatever hints it is given,
    and a hint model given no hints (all zeros) computes the same as with hints=None whatever its weights."""
    channels = get_colorspace(space).chroma_channels
    plain, hinted = generator(channels, hints=False, seed=1), generator(channels, hints=True, seed=2)
    hinted.load_state_dict(hinted.adapt_state_dict(plain.state_dict()))
    luma = torch.rand(2, 1, 40, 40) * 2 - 1
    hints = simulate_hints(torch.rand(2, channels, 40, 40) * 2 - 1, HintSettings(enabled=True))
    with torch.no_grad():
        expected = plain(luma)
        assert torch.equal(hinted(luma), expected)
        assert torch.equal(hinted(luma, hints), expected)  # the extra filters start at zero
        for parameter in hinted.parameters():  # "trained": every filter non-zero
            parameter.add_(torch.randn_like(parameter) * 0.05)
        assert torch.equal(hinted(luma, torch.zeros_like(hints)), hinted(luma))
        assert not torch.allclose(hinted(luma, hints), hinted(luma))


# ---- simulation ----------------------------------------------------------------------------------
def test_simulation_statistics():
    settings = HintSettings(enabled=True)
    seeded = torch.Generator().manual_seed(0)
    draw = sample_training_hints(20000, 64, 48, settings, torch.device("cpu"), seeded)
    counts = draw.counts.float()
    assert abs(float((counts == 0).float().mean()) - 1 / 8) < 0.01  # no hint 1/8 of the time
    assert abs(float(counts.mean()) - 7.0) < 0.2  # geometric mean (1 - p) / p
    assert abs(float((counts == 3).float().mean()) - (7 / 8) ** 3 / 8) < 0.01
    sizes = draw.sizes[draw.active]
    assert int(sizes.min()) == 1 and int(sizes.max()) == 9
    frequencies = torch.bincount(sizes, minlength=10)[1:].float() / sizes.numel()
    assert float((frequencies - 1 / 9).abs().max()) < 0.01  # uniform 1..9
    tops, lefts = draw.tops[draw.active].float(), draw.lefts[draw.active].float()
    assert ((tops >= 0) & (tops + sizes <= 64)).all() and ((lefts >= 0) & (lefts + sizes <= 48)).all()
    centers = tops + sizes / 2
    assert abs(float(centers.mean()) - 32) < 0.5 and 0.15 * 64 < float(centers.std()) < 0.27 * 64


def test_simulated_values_are_patch_means():
    chroma = torch.rand(3, 2, 24, 20) * 2 - 1
    draw = draw_uniform(3, 24, 20, 5, 4, generator=torch.Generator().manual_seed(1))
    draw.sizes[:, ::2] = 1  # mixed sizes
    values = patch_means(chroma, draw)
    for b in range(3):
        for k in range(5):
            top, left, size = (int(t[b, k]) for t in (draw.tops, draw.lefts, draw.sizes))
            patch = chroma[b, :, top : top + size, left : left + size]
            assert torch.allclose(values[b, k], patch.mean(dim=(1, 2)), atol=1e-6)
    single = type(draw)(torch.tensor([1, 0, 1]), draw.tops, draw.lefts, draw.sizes)
    hints = paint(single, values, 24, 20)
    assert hints.shape == (3, 3, 24, 20)
    top, left, size = int(draw.tops[0, 0]), int(draw.lefts[0, 0]), int(draw.sizes[0, 0])
    assert int(hints[0, 2].sum()) == size * size and hints[1].abs().sum() == 0
    assert torch.allclose(hints[0, :2, top, left], values[0, 0])
    assert torch.equal(hints[0, 2] > 0, hints[0, :2].ne(0).any(0) | (hints[0, 2] > 0))


def test_simulate_and_truth_hints_shapes():
    chroma = torch.rand(4, 3, 16, 16) * 2 - 1
    hints = simulate_hints(chroma, HintSettings(enabled=True))
    assert hints.shape == (4, 4, 16, 16) and set(hints[:, 3].unique().tolist()) <= {0.0, 1.0}
    exact = truth_hints(chroma, 3, 6, torch.Generator().manual_seed(0))
    assert 36 <= int(exact[0, 3].sum()) <= 3 * 36
    assert truth_hints(chroma, 0).abs().sum() == 0
    with pytest.raises(ValueError, match=r"unknown model\.hints"):
        HintSettings.from_config({"enabled": True, "count": 3})
    with pytest.raises(ValueError, match="min_patch"):
        HintSettings(min_patch=4, max_patch=2)


# ---- user hints: colors and the JSON file -----------------------------------------------------------
def test_hint_map_from_points():
    space = get_colorspace("lab")
    gray = torch.full((1, 20, 30), 0.5)
    hints = hint_map([(0, 0, (200, 40, 40)), (59.9, 39.9, (40, 40, 200), 3)], space, gray, (40, 60), 5)
    assert hints.shape == (3, 20, 30)
    assert int(hints[2].sum()) == 25 + 9  # a 5-px square moved inside at the corner + a 3-px one
    assert hints[2, :5, :5].all() and hints[2, -3:, -3:].all()
    assert hints[1, 0, 0] > 0.05 > -0.05 > hints[1, -1, -1]  # red: b* > 0; blue: b* < 0
    assert hints[0, 0, 0] > 0.05  # red: a* > 0


def test_hints_file_errors(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "hints.json"
        path.write_text(text)
        return path

    hints, size = read_hints_file(write('{"size": 4, "hints": [{"x": 1, "y": 2.5, "color": "#F00"}]}'))
    assert hints == [(1.0, 2.5, (255, 0, 0))] and size == 4
    assert parse_hints([{"x": 0, "y": 0, "color": [1, 2, 3], "size": 2}])[0] == [(0.0, 0.0, (1, 2, 3), 2)]
    bad = {
        '{"hints": [': "not valid JSON",
        '{"hint": []}': "expected",
        '{"hints": [{"x": 1, "y": 2}]}': "hint 1: expected",
        '{"hints": [{"x": "a", "y": 2, "color": "#fff"}]}': "x must be a number",
        '{"hints": [{"x": 1, "y": 2, "color": "red"}]}': "not a color",
        '{"hints": [{"x": 1, "y": 2, "color": [300, 0, 0]}]}': "not a color",
        '{"hints": [{"x": 1, "y": 2, "color": "#fff", "size": 0}]}': "size must be",
    }
    for text, message in bad.items():
        with pytest.raises(HintError, match=message):
            read_hints_file(write(text))
    with pytest.raises(HintError, match="cannot read hints file"):
        read_hints_file(tmp_path / "missing.json")
    assert parse_color([0, 128.0, 255]) == (0, 128, 255)


def test_colorizer_hints_and_errors(tmp_path):
    plain = random_checkpoint(tmp_path / "plain.ckpt", "lab", head_scale=0.3)
    record, weights = read_checkpoint(plain)
    model = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=True)
    model.load_state_dict(model.adapt_state_dict(weights))
    with torch.no_grad():
        model.decoder.blocks[-1].conv1[0].weight[:, -3:].normal_(0, 0.5)  # hints now matter
    hinted = save_generator(tmp_path / "hinted.ckpt", model, inference_record(
        "unet", "lab", record["generator"], 32, hints=HintSettings(enabled=True).as_dict()))
    photo = (np.random.default_rng(0).random((30, 50, 3)) * 255).astype(np.uint8)
    colorizer = Colorizer.from_checkpoint(hinted, device="cpu")
    assert colorizer.takes_hints and colorizer.hint_settings["enabled"]
    automatic = colorizer.colorize(photo)
    assert np.array_equal(colorizer.colorize(photo, hints=[]), automatic)
    guided = colorizer.colorize(photo, hints=[(25, 15, (230, 30, 30))], hint_size=9)
    assert guided.shape == photo.shape and not np.array_equal(guided, automatic)
    with pytest.raises(HintError, match="outside the 50x30 px photo"):
        colorizer.colorize(photo, hints=[(50, 3, (0, 0, 0))])
    with pytest.raises(HintError, match="takes no color hints"):
        Colorizer.from_checkpoint(plain, device="cpu").colorize(photo, hints=[(1, 1, (0, 0, 0))])
    colors = colorizer.suggest(photo, 10, 10, k=4)
    assert 1 <= len(colors) <= 4 and all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in colors)


def test_suggest_chroma_is_distinct_and_starts_at_the_point():
    chroma = torch.zeros(2, 16, 16)
    chroma[0, :, 8:] = 0.5
    chroma[1, 8:] = -0.4
    picked = suggest_chroma(chroma, 2, 12, k=5)
    assert torch.allclose(picked[:, 0], chroma[:, 2, 12])
    assert picked.shape[1] == 4  # only four distinct colors exist
    assert torch.cdist(picked.T, picked.T).add(torch.eye(4)).min() > 0.04


def test_colorize_cli_hints(tmp_path, capsys):
    from colorgan.colorize import main

    plain = random_checkpoint(tmp_path / "plain.ckpt", "lab")
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.fromarray((np.random.default_rng(0).random((30, 40, 3)) * 255).astype(np.uint8)).save(photo)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"hints": [{"x": 5, "y": 5, "color": "#ff0000"}]}))
    for path, expected in ((hints, "takes no color hints"), (tmp_path / "nope.json", "cannot read")):
        with pytest.raises(SystemExit) as exit_info:
            main([str(plain), str(photo), "--hints", str(path), "--output", str(tmp_path / "out"), "--quiet"])
        assert exit_info.value.code == 2
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and expected in errors[0]
    assert not (tmp_path / "out" / "photo.png").exists()


# ---- training: both stages, init_from a hint-free run --------------------------------------------
def test_init_from_hint_free_run_and_gan_stage(tmp_path):
    from colorgan.train import train

    plain = random_checkpoint(tmp_path / "plain.ckpt", "lab", image_size=32)
    _, weights = read_checkpoint(plain)
    reference = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER).eval()
    reference.load_state_dict(weights)
    luma = torch.rand(1, 1, 32, 32) * 2 - 1
    for stage in ("unet", "gan"):
        cfg = tiny_config(tmp_path / stage, f"model={stage}", f"model.init_from={plain}",
                          "model.hints.enabled=true")
        model = build_model(cfg).eval()
        assert model.generator.takes_hints
        hints = torch.rand(1, 3, 32, 32)
        with torch.no_grad():
            assert torch.equal(model.generator(luma, hints), reference(luma))  # widened with zero filters
    assert model.discriminator.in_channels == 2 + 3  # D is conditioned on the hints too
    cfg = tiny_config(tmp_path / "gan-run", "model=gan", f"model.init_from={plain}",
                      "model.hints.enabled=true", "data=synthetic", "trainer.max_steps=2")
    train(cfg)
    record, weights = read_checkpoint(tmp_path / "gan-run")
    assert record["stage"] == "gan" and record["hints"]["enabled"] is True
    assert weights["encoder.model.conv_stem.weight"].shape[1] == 4


# ---- the curve ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_hint_run(tmp_path_factory):
    from colorgan.train import train

    run_dir = tmp_path_factory.mktemp("hint-run") / "run"
    cfg = tiny_config(run_dir, "data=synthetic", "model.hints.enabled=true", "data.num_train=64",
                      "data.batch_size=8", "trainer.max_epochs=-1", "trainer.max_steps=60",
                      "model.optimizer.lr=3e-3", "colorspace=lab")
    train(cfg)
    return run_dir


def test_curve_rises_with_hints(trained_hint_run, tmp_path):
    from colorgan.evaluate import evaluate
    from colorgan.samples import config_samples

    colorizer = Colorizer.from_checkpoint(trained_hint_run, device="cpu")
    samples = config_samples("synthetic", ["num_val=8"], colorizer.image_size, None)
    results = evaluate(colorizer, samples, tmp_path / "eval", progress=False, hint_counts=[0, 5, 50])
    curve = results["hints"]["model"]
    assert set(curve) == {"0", "5", "50"} and set(curve["0"]) == set(results["model"])
    assert math.isclose(curve["0"]["psnr"], results["model"]["psnr"], rel_tol=1e-6)  # no hints = automatic
    assert curve["50"]["psnr"] > curve["5"]["psnr"] > curve["0"]["psnr"]
    assert curve["50"]["deltae00"] < curve["0"]["deltae00"]
    assert (tmp_path / "eval" / "hints_curve.png").is_file()
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert saved["hints"]["patch"] == 6 and saved["per_image"][0]["hints"]["50"]["psnr"] > 0


def test_compare_report_hint_section(tmp_path):
    from colorgan.report.hints import hint_section, plot_hint_curves
    from colorgan.report.runs import Run

    scores = {"0": {"psnr": 20.0, "deltae00": 9.0}, "10": {"psnr": 22.5, "deltae00": 7.25}}
    runs = [Run(path=tmp_path / "a", label="a"), Run(path=tmp_path / "b", label="b")]
    runs[0].evaluation = {"hints": {"model": scores}}
    assert hint_section(runs[1:]) is None and plot_hint_curves(runs[1:], tmp_path) == []
    title, _, header, rows = hint_section(runs)
    assert "hints" in title
    assert header == ["run", "N = 0", "N = 10"] and rows == [["a", "20.00 / 9.00", "22.50 / 7.25"]]
    assert plot_hint_curves(runs, tmp_path)[0].is_file()

"""Multi-scale inference: which passes run, how their chroma is averaged, and the options' errors."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest
import torch

from colorgan.color import available_colorspaces, get_colorspace
from colorgan.errors import UserError
from colorgan.inference import Colorizer
from colorgan.models import UNetColorizer
from colorgan.scales import (
    DEFAULT_CAUTION,
    DEFAULT_SCALES,
    PassOptions,
    averaged_over_passes,
    checked_caution,
    checked_saturation,
    parse_scales,
    working_passes,
)
from tests.tiny_runs import TINY_DECODER, TINY_ENCODER, photo, random_checkpoint

REFERENCE = get_colorspace("ycbcr")


# ---- which passes ----------------------------------------------------------------------------------
def test_default_is_twice_the_training_size_averaged_with_the_training_size():
    assert DEFAULT_SCALES == (2.0, 1.0)
    assert working_passes(128, None, None, takes_hints=False) == (256, (0.5,))
    assert working_passes(128, None, None, takes_hints=True) == (128, ())  # hint models: one pass
    assert working_passes(128, 200, None, takes_hints=False) == (200, ())  # a short side: one pass
    assert working_passes(100, None, (1, 3, 1.5), takes_hints=False) == (300, (0.5, 1 / 3))  # sorted
    assert working_passes(128, None, (1,), takes_hints=False) == (128, ())


@pytest.mark.parametrize(("short_side", "scales", "hints", "message"), [
    (200, (2, 1), False, "not both"),
    (None, (2, 1), True, "hint model runs one pass"),
    (None, (), False, "at least one"),
    (None, (2, 0), False, r"must lie in \(0, 16\]"),
    (None, (-1,), False, r"must lie in \(0, 16\]"),
    (None, (2, 2), False, "distinct"),
    (None, (2, 0.1), False, "a 6-px pass: every pass needs a short side of at least 8 px"),
    (4, None, False, "short side of the working size must be >= 8 px, got 4"),
])
def test_bad_pass_choices_are_one_clear_error(short_side, scales, hints, message):
    with pytest.raises(UserError, match=message):
        working_passes(64, short_side, scales, hints)


def test_parse_scales_reads_commas_and_refuses_garbage_as_a_usage_error():
    assert parse_scales("2,1") == (2.0, 1.0) and parse_scales(" 1 , 1.5 ") == (1.5, 1.0)
    for bad, message in (("2,x", "numbers separated by commas"), ("0", "must lie in"), ("", "at least one")):
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse_scales(bad)


# ---- how the passes are averaged --------------------------------------------------------------------
def constant_network(space_name: str, chroma_by_height: dict[int, list[float]]):
    """A fake ``network_rgb``: a flat color per input height, merged in ``space_name``; records the sizes."""
    space = get_colorspace(space_name)
    seen: list[tuple[int, int]] = []

    def network_rgb(luma: torch.Tensor) -> torch.Tensor:
        height, width = luma.shape[-2:]
        seen.append((height, width))
        chroma = torch.tensor(chroma_by_height[height]).view(1, -1, 1, 1).expand(len(luma), -1, height, width)
        return space.merge(luma, chroma)

    return network_rgb, seen


def test_no_extra_pass_returns_the_single_pass_unchanged():
    luma = torch.zeros(2, 1, 16, 24)
    network, seen = constant_network("ycbcr", {16: [0.1, -0.2]})
    assert torch.equal(averaged_over_passes(network, luma, (), REFERENCE), network(luma))
    assert seen == [(16, 24)] * 2


def test_two_passes_average_their_chroma_at_the_working_size():
    luma = torch.zeros(1, 1, 16, 24)  # mid gray in YCbCr's [-1, 1] luma
    network, seen = constant_network("ycbcr", {16: [0.20, -0.10], 8: [-0.10, 0.30]})
    rgb = averaged_over_passes(network, luma, (0.5,), REFERENCE)
    assert seen == [(16, 24), (8, 12)] and rgb.shape == (1, 3, 16, 24)
    _, chroma = REFERENCE.split(rgb)
    assert torch.allclose(chroma, torch.tensor([0.05, 0.10]).view(1, 2, 1, 1).expand_as(chroma), atol=1e-4)


@pytest.mark.parametrize("space", available_colorspaces())
def test_agreeing_passes_keep_their_color_in_every_space(space):
    """Two passes predicting the same color give that color back, whatever the model's space."""
    luma = get_colorspace(space).luma_from_gray(torch.full((1, 1, 20, 20), 0.5))
    color = [0.15, -0.1, 0.05][: get_colorspace(space).chroma_channels]
    network, _ = constant_network(space, {20: color, 10: color})
    single = network(luma)
    assert torch.allclose(averaged_over_passes(network, luma, (0.5,), REFERENCE), single, atol=2e-3)


def test_caution_shrinks_towards_gray_by_the_passes_disagreement():
    luma = torch.zeros(1, 1, 16, 16)
    network, _ = constant_network("ycbcr", {16: [0.2, 0.0], 8: [0.0, 0.0]})
    plain = REFERENCE.split(averaged_over_passes(network, luma, (0.5,), REFERENCE))[1]
    cautious = REFERENCE.split(averaged_over_passes(network, luma, (0.5,), REFERENCE, caution=2.0))[1]
    # mean (0.1, 0), variance 0.01 + 0: factor 0.01 / (0.01 + 2 * 0.01) = 1/3
    assert torch.allclose(plain[:, 0], torch.full_like(plain[:, 0], 0.1), atol=1e-4)
    assert torch.allclose(cautious[:, 0], torch.full_like(cautious[:, 0], 0.1 / 3), atol=1e-4)
    assert cautious[:, 1].abs().max() < 1e-4
    agreeing, _ = constant_network("ycbcr", {16: [0.2, -0.1], 8: [0.2, -0.1]})
    same = REFERENCE.split(averaged_over_passes(agreeing, luma, (0.5,), REFERENCE, caution=50.0))[1]
    assert torch.allclose(same, torch.tensor([0.2, -0.1]).view(1, 2, 1, 1).expand_as(same), atol=1e-4)


def test_mirror_averages_each_pass_with_its_mirrored_view():
    """A network that paints the left half: mirrored back, its view paints the right half; the mean is
    half of each, every pass runs twice, and caution sees the two views disagree."""
    luma = torch.zeros(1, 1, 8, 12)
    seen: list[torch.Tensor] = []

    def left_half_network(image: torch.Tensor) -> torch.Tensor:
        seen.append(image)
        chroma = torch.zeros(len(image), 2, *image.shape[-2:])
        chroma[:, 0, :, : image.shape[-1] // 2] = 0.2
        marker = image[..., 0, 0] - image[..., 0, -1]  # the input's own left-right slope, unmirrored
        chroma[:, 1] = marker.view(-1, 1, 1)
        return REFERENCE.merge(image, chroma)

    luma[..., :, 0] = 0.3  # brighter on the left: a mirrored input is brighter on the right
    plain = REFERENCE.split(averaged_over_passes(left_half_network, luma, (), REFERENCE))[1]
    assert len(seen) == 1 and torch.allclose(plain[0, 0, :, :6], torch.full((8, 6), 0.2), atol=1e-4)
    seen.clear()
    mirrored = REFERENCE.split(averaged_over_passes(left_half_network, luma, (), REFERENCE, mirror=True))[1]
    assert len(seen) == 2 and torch.equal(seen[1], luma.flip(-1))
    assert torch.allclose(mirrored[:, 0], torch.full((1, 8, 12), 0.1), atol=1e-4)  # half of each, everywhere
    assert torch.allclose(mirrored[:, 1], torch.zeros(1, 8, 12), atol=1e-4)  # slopes +0.3 and -0.3 cancel
    seen.clear()
    two = averaged_over_passes(left_half_network, luma, (0.5,), REFERENCE, mirror=True)
    assert [tuple(image.shape[-2:]) for image in seen] == [(8, 12)] * 2 + [(4, 6)] * 2
    assert two.shape == (1, 3, 8, 12)
    cautious = REFERENCE.split(averaged_over_passes(left_half_network, luma, (), REFERENCE, caution=2.0,
                                                    mirror=True))[1]
    assert (cautious[:, 0].abs() < 0.1 - 1e-3).all()  # the views disagree everywhere: shrunk towards gray


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "abc"])
def test_a_bad_caution_is_one_clear_error(bad):
    with pytest.raises(UserError, match="caution must be a number >= 0"):
        checked_caution(bad)


@pytest.mark.parametrize("fractions", [(), (0.5,)])
def test_saturation_multiplies_the_final_chroma_and_zero_gives_gray(fractions):
    luma = torch.full((1, 1, 16, 16), 0.2)
    network, _ = constant_network("ycbcr", {16: [0.2, -0.1], 8: [0.1, -0.1]})
    plain = REFERENCE.split(averaged_over_passes(network, luma, fractions, REFERENCE, caution=2.0))
    vivid = REFERENCE.split(averaged_over_passes(network, luma, fractions, REFERENCE, caution=2.0,
                                                 saturation=1.5))
    gray = REFERENCE.split(averaged_over_passes(network, luma, fractions, REFERENCE, saturation=0.0))
    assert plain[1].abs().min() > 0.01  # a color to scale
    assert torch.allclose(vivid[1], 1.5 * plain[1], atol=1e-4)
    assert torch.allclose(vivid[0], plain[0], atol=1e-4)  # the luma is left alone
    assert gray[1].abs().max() < 1e-4


@pytest.mark.parametrize("bad", [-0.5, 4.5, float("nan"), "vivid"])
def test_a_bad_saturation_is_one_clear_error(bad):
    with pytest.raises(UserError, match=r"saturation must be a number in \[0, 4\]"):
        checked_saturation(bad)


# ---- the colorizer ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("scales") / "lab.ckpt", "lab", image_size=32)


def spy_on_passes(colorizer: Colorizer) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    backend = colorizer.backend

    class Spy:
        name, device, generator = backend.name, backend.device, colorizer.generator

        def __call__(self, luma, hints=None):
            seen.append(tuple(luma.shape[-2:]))
            return backend(luma) if hints is None else backend(luma, hints)

    colorizer.backend = Spy()
    return seen


def test_colorizer_runs_two_passes_by_default_and_one_when_a_size_is_given(checkpoint):
    image = photo("chelsea")[:300, :450]
    colorizer = Colorizer.from_checkpoint(checkpoint, device="cpu")
    assert colorizer.pass_sides == [64, 32]
    seen = spy_on_passes(colorizer)
    default = colorizer.colorize(image)
    assert seen == [(64, 96), (32, 48)] and default.shape == image.shape
    seen.clear()
    colorizer.colorize(image, short_side=40)  # a size per call: one pass at it
    assert seen == [(40, 60)]
    single = Colorizer.from_checkpoint(checkpoint, device="cpu", scales=(1,))
    assert single.pass_sides == [32]
    assert Colorizer.from_checkpoint(checkpoint, device="cpu", short_side=48).pass_sides == [48]
    assert colorizer.caution == DEFAULT_CAUTION > 0
    # caution matters only with several passes; the average differs from either pass alone
    one_pass_cautious = Colorizer.from_checkpoint(checkpoint, device="cpu", scales=(1,), caution=9)
    assert np.array_equal(one_pass_cautious.colorize(image), single.colorize(image))
    plain = Colorizer.from_checkpoint(checkpoint, device="cpu", caution=0).colorize(image)
    assert not np.array_equal(default, plain)
    # saturation: more color around the same gray; 0 leaves the photo's gray
    vivid = Colorizer.from_checkpoint(checkpoint, device="cpu", saturation=2).colorize(image)
    gray = Colorizer.from_checkpoint(checkpoint, device="cpu", saturation=0).colorize(image)
    assert np.abs(gray.astype(int) - gray.mean(axis=2, keepdims=True)).max() <= 2
    def spread(rgb):
        return float(np.abs(rgb.astype(float) - rgb.mean(axis=2, keepdims=True)).mean())
    assert spread(vivid) > 1.5 * spread(default)
    assert np.array_equal(colorizer.colorize(image, saturation=2), vivid)  # per call, the same gain
    assert np.array_equal(colorizer.colorize(image), default)  # and the colorizer's own is unchanged
    assert np.array_equal(colorizer.colorize(image, caution=0), plain)  # caution per call too
    assert np.array_equal(colorizer.colorize_batch([image], caution=0)[0], plain)
    with pytest.raises(UserError, match="caution must be"):
        colorizer.colorize(image, caution=math.inf)
    # mirror: every pass twice (the second on the mirrored photo), per colorizer or per call
    mirrored = Colorizer.from_checkpoint(checkpoint, device="cpu", mirror=True)
    seen = spy_on_passes(mirrored)
    both = mirrored.colorize(image)
    assert seen == [(64, 96), (64, 96), (32, 48), (32, 48)] and not np.array_equal(both, default)
    assert np.array_equal(colorizer.colorize(image, mirror=True), both)
    assert np.array_equal(mirrored.colorize(image, mirror=False), default)
    with pytest.raises(UserError, match="saturation must be"):
        colorizer.colorize(image, saturation=-1)
    larger = Colorizer.from_checkpoint(checkpoint, device="cpu", short_side=64).colorize(image)
    smaller = single.colorize(image)
    assert not np.array_equal(default, larger) and not np.array_equal(default, smaller)


def test_pass_options_are_checked_once_and_overridden_per_call(checkpoint):
    options = PassOptions(scales=[1, 2], caution="3")
    assert options.scales == (2.0, 1.0) and options.caution == 3.0 and options.mirror is False
    call = options.for_call(saturation=0.5, caution=None, mirror=True)
    assert (call.saturation, call.caution, call.mirror, call.scales) == (0.5, 3.0, True, (2.0, 1.0))
    assert options.saturation == 1.0  # the colorizer's own stay as they were
    for bad, message in (({"caution": -1}, "caution must be"), ({"saturation": 9}, "saturation must be"),
                         ({"scales": (1, 1)}, "scales must be distinct")):
        with pytest.raises(UserError, match=message):
            PassOptions(**bad)
    # the loaders take the same fields by name, and refuse a misspelt one
    colorizer = Colorizer.load(checkpoint, device="cpu", scales=(1,), caution=4)
    assert colorizer.options == PassOptions(scales=(1,), caution=4) and colorizer.pass_sides == [32]
    with pytest.raises(TypeError, match="cautoin"):
        Colorizer.from_checkpoint(checkpoint, device="cpu", cautoin=4)


def test_the_app_colorizes_at_the_chosen_saturation_caution_and_mirror(checkpoint, tmp_path):
    pytest.importorskip("gradio")
    from PIL import Image

    from colorgan.app.study import BlindStudy, load_runs
    from colorgan.app.ui import AppState

    runs = load_runs([checkpoint], device="cpu")
    photo_path = tmp_path / "photo.png"
    Image.fromarray(photo("chelsea", 64)).save(photo_path)
    state = AppState(runs, [photo_path], BlindStudy(tmp_path / "study", runs, []))
    name = runs[0].name
    _, (default_file,), _, _ = state.colorize(None, ["photo.png"], [name], 0)
    _, (gray_file,), _, note = state.colorize(None, ["photo.png"], [name], 0, saturation=0)
    default, gray = (np.asarray(Image.open(path)).astype(int) for path in (default_file, gray_file))
    assert "done: photo.png" in note
    assert np.abs(gray - gray.mean(axis=2, keepdims=True)).max() <= 2
    assert np.abs(default - default.mean(axis=2, keepdims=True)).max() > 10
    with pytest.raises(UserError, match="saturation must be a number in"):
        state.colorize(None, ["photo.png"], [name], 0, saturation=7)
    # caution: 0 is the passes' plain average, as a colorizer built with caution 0 gives it
    _, (plain_file,), _, _ = state.colorize(None, ["photo.png"], [name], 0, caution=0)
    plain = np.asarray(Image.open(plain_file)).astype(int)
    expected = Colorizer.from_checkpoint(checkpoint, device="cpu", caution=0).colorize(Image.open(photo_path))
    assert np.array_equal(plain, np.asarray(expected)) and not np.array_equal(plain, default)
    exports = sorted(state.exports.iterdir())
    with pytest.raises(UserError, match="caution must be"):
        state.colorize(None, ["photo.png"], [name], 0, caution=-1)
    assert sorted(state.exports.iterdir()) == exports  # refused before an export folder is made
    _, (mirrored_file,), _, _ = state.colorize(None, ["photo.png"], [name], 0, mirror=True)
    both = Colorizer.from_checkpoint(checkpoint, device="cpu", mirror=True).colorize(Image.open(photo_path))
    assert np.array_equal(np.asarray(Image.open(mirrored_file)), np.asarray(both))


def test_hint_models_run_one_pass_and_refuse_several():
    torch.manual_seed(0)
    model = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=True).eval()
    assert Colorizer(model, "lab", 32, device="cpu").pass_sides == [32]
    with pytest.raises(UserError, match="hint model runs one pass"):
        Colorizer(model, "lab", 32, device="cpu", options=PassOptions(scales=(2, 1)))
    with pytest.raises(UserError, match="hint model runs unmirrored"):
        Colorizer(model, "lab", 32, device="cpu", options=PassOptions(mirror=True))
    hinted = Colorizer(model, "lab", 32, device="cpu")
    for hints in (None, [(5, 5, (200, 30, 30))]):  # with hints or without, never silently unmirrored
        with pytest.raises(UserError, match="hint model runs unmirrored"):
            hinted.colorize(np.zeros((40, 40, 3), np.uint8), hints=hints, mirror=True)


def test_evaluate_records_the_passes_and_the_cli_refuses_bad_choices(checkpoint, tmp_path, capsys):
    from colorgan.evaluate import main as evaluate_main

    folder = tmp_path / "photos"
    folder.mkdir()
    for index, name in enumerate(("chelsea", "astronaut")):
        from PIL import Image

        Image.fromarray(photo(name, 96)).save(folder / f"{index}.png")
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(checkpoint), "--data", str(folder), "--quiet", "-o", str(tmp_path / "a"),
                       "--scales", "1.5,1"])
    assert exit_info.value.code == 0
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["pass_sides"] == [48, 32] and metrics["caution"] == DEFAULT_CAUTION
    assert metrics["saturation"] == 1.0
    vivid_args = [str(checkpoint), "--data", str(folder), "--quiet", "-o", str(tmp_path / "b"),
                        "--saturation", "1.5"]
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main(vivid_args)
    vivid = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert vivid["saturation"] == 1.5 and vivid["mirror"] is False
    assert vivid["model"]["colorfulness"] > metrics["model"]["colorfulness"]
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(checkpoint), "--data", str(folder), "--quiet", "-o", str(tmp_path / "c"),
                       "--mirror", "--scales", "1"])
    assert exit_info.value.code == 0
    mirrored = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert mirrored["mirror"] is True and mirrored["pass_sides"] == [32]
    assert mirrored["caution"] == DEFAULT_CAUTION  # two views: the caution applies
    for bad in (["--scales", "2,zero"], ["--scales", "2", "--short-side", "64"], ["--caution", "-2"],
                ["--saturation", "9"]):
        with pytest.raises(SystemExit) as exit_info:
            evaluate_main([str(checkpoint), "--data", str(folder), *bad])
        assert exit_info.value.code == 2
    errors = capsys.readouterr().err
    assert "numbers separated by commas" in errors and "caution must be a number >= 0" in errors
    assert "saturation must be a number in [0, 4]" in errors


def test_colorize_cli_refuses_short_side_with_scales(checkpoint, tmp_path, capsys):
    from colorgan.colorize import main as colorize_main

    with pytest.raises(SystemExit) as exit_info:
        colorize_main([str(checkpoint), str(tmp_path), "-o", str(tmp_path / "out"), "--scales", "2,1",
                       "--short-side", "64"])
    assert exit_info.value.code == 2 and "not both" in capsys.readouterr().err


def test_the_bench_report_names_the_passes_and_still_reads_older_results():
    from colorgan.bench.report import pass_text

    assert pass_text({"working_short_side": 256}) == "working short side 256 px"  # results before the option
    assert pass_text({"working_short_side": 256, "pass_sides": [256]}) == "working short side 256 px"
    assert "512 + 256 px" in pass_text({"working_short_side": 512, "pass_sides": [512, 256]})

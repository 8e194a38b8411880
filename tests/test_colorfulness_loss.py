"""The colorfulness-matching term (`model.colorfulness_weight`): what it measures, that its gradient makes
dull predictions as colorful as their truth in every color space, and how both stages add it."""

from __future__ import annotations

import re

import pytest
import torch

from colorgan.build import build_model, build_run
from colorgan.color import available_colorspaces, get_colorspace
from colorgan.metrics import colorfulness
from colorgan.models.losses import ColorfulnessLoss
from colorgan.train import fit
from tests.helpers import read_column


def colored_batch(seed: int = 0, size: int = 12) -> torch.Tensor:
    """Smooth random color images [2,3,size,size] in [0.1, 0.9] (no clipping at the gamut's edges)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(2, 3, 3, 3, generator=generator)
    return 0.1 + 0.8 * torch.nn.functional.interpolate(coarse, size=size, mode="bilinear")


def test_the_term_is_zero_for_the_truth_and_the_mean_colorfulness_gap_otherwise():
    rgb = colored_batch()
    loss = ColorfulnessLoss()
    gray = rgb.mean(dim=1, keepdim=True).expand_as(rgb)
    assert loss(rgb, rgb).item() == 0.0
    assert loss(gray, rgb).item() == pytest.approx(colorfulness(rgb).mean().item() / 100, rel=1e-5)
    vivid = (0.5 + 1.5 * (rgb - 0.5)).clamp(0, 1)  # over-saturated: penalized too, by the same gap
    gap = (colorfulness(vivid) - colorfulness(rgb)).abs().mean().item() / 100
    assert gap > 0.05 and loss(vivid, rgb).item() == pytest.approx(gap, rel=1e-5)


@pytest.mark.parametrize("space_name", available_colorspaces())
def test_descending_the_term_alone_makes_a_dull_prediction_as_colorful_as_its_truth(space_name):
    space = get_colorspace(space_name)
    rgb = colored_batch(seed=1)
    luma, chroma = space.split(rgb)
    neutral = space.split(rgb.mean(dim=1, keepdim=True).expand_as(rgb))[1]
    dull = (neutral + 0.3 * (chroma - neutral)).detach().requires_grad_(True)  # 30 % of the way to the truth
    loss = ColorfulnessLoss()
    before = loss(space.merge(luma, dull), rgb).item()
    optimizer = torch.optim.Adam([dull], lr=0.01)
    for _ in range(60):
        optimizer.zero_grad()
        loss(space.merge(luma, dull), rgb).backward()
        optimizer.step()
    after = loss(space.merge(luma, dull), rgb).item()
    assert before > 0.05 and after < 0.2 * before


def test_bad_weights_are_one_clear_message(tiny_config):
    for value in ("-1", "abc", "inf"):
        for stage in ([], ["model=gan"]):
            with pytest.raises(Exception, match=re.escape("model.colorfulness_weight must be a")):
                build_model(tiny_config(*stage, f"model.colorfulness_weight={value}"))


def test_the_module_term_is_the_weighted_loss_of_its_prediction_and_nothing_at_weight_zero(tiny_config):
    model = build_model(tiny_config("model.colorfulness_weight=0.5"))
    rgb = colored_batch(seed=2)
    luma, chroma = model.colorspace.split(rgb)
    predicted = 0.5 * chroma
    expected = 0.5 * ColorfulnessLoss()(model.colorspace.merge(luma, predicted), rgb)
    assert model.colorfulness_term(luma, predicted, rgb).item() == pytest.approx(expected.item())
    assert build_model(tiny_config()).colorfulness_term(luma, predicted, rgb) is None


@pytest.mark.parametrize("stage", ["unet", "bins", "gan"])
def test_training_adds_the_term_and_logs_it_in_both_stages(tmp_path, stage):
    from tests.helpers import tiny_config

    first = tmp_path / "unet"
    loss = ["model.loss=bins"] if stage == "bins" else []  # a bin model decodes its logits for the term
    fit(build_run(tiny_config(first, *loss, "model.colorfulness_weight=0.5")))
    run_dir, key = first, "train/colorfulness_loss"
    if stage == "gan":
        run_dir, key = tmp_path / "gan", "train/g_colorfulness"
        fit(build_run(tiny_config(run_dir, "model=gan", f"model.init_from={first}",
                                  "model.colorfulness_weight=0.5")))
    logged = read_column(run_dir / "csv" / "metrics.csv", key)
    assert logged and all(0 < value < 10 for value in logged)
    if stage != "gan":  # train/loss is the L1 or bin loss plus the term, so never below it
        losses = read_column(run_dir / "csv" / "metrics.csv", "train/loss")
        assert all(loss >= term for loss, term in zip(losses, logged, strict=True))


@pytest.mark.parametrize("setting", ["l1_weight", "adversarial_weight", "r1_gamma", "colorfulness_weight"])
def test_every_gan_loss_weight_is_checked_the_same_way_with_one_line_and_exit_2(tiny_config, setting, capsys):
    from colorgan.cli import run_command

    for value in ("abc", "-1"):
        cfg = tiny_config("model=gan", f"model.{setting}={value}")
        with pytest.raises(SystemExit) as exit_info:
            run_command(lambda cfg=cfg: build_model(cfg), "test")
        assert exit_info.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines[-1].startswith(f"error: model.{setting} must be a ")
        assert "Traceback" not in "".join(lines)


def test_batch_matching_compares_the_batch_means_so_opposite_errors_cancel():
    rgb = colored_batch(seed=3)
    gray = rgb.mean(dim=1, keepdim=True).expand_as(rgb)
    vivid = (0.5 + 1.6 * (rgb[1:] - 0.5)).clamp(0, 1)
    pred = torch.cat([gray[:1], vivid])  # the first image too dull, the second too colorful
    gaps = colorfulness(pred) - colorfulness(rgb)
    assert gaps[0] < 0 < gaps[1]
    per_image, per_batch = ColorfulnessLoss("image")(pred, rgb), ColorfulnessLoss("batch")(pred, rgb)
    assert per_image.item() == pytest.approx(gaps.abs().mean().item() / 100, rel=1e-5)
    assert per_batch.item() == pytest.approx(gaps.mean().abs().item() / 100, rel=1e-5)
    assert per_batch < per_image
    dull = ColorfulnessLoss("batch")(gray, rgb)  # all too dull: no cancelling, the same as per image
    assert dull.item() == pytest.approx(ColorfulnessLoss("image")(gray, rgb).item(), rel=1e-5)


def test_an_unknown_colorfulness_match_is_one_clear_message(tiny_config):
    for stage in ([], ["model=gan"]):
        message = "model.colorfulness_match must be one of image, batch"
        with pytest.raises(Exception, match=re.escape(message)):
            build_model(tiny_config(*stage, "model.colorfulness_weight=1", "model.colorfulness_match=pixel"))


def test_stage_2_matches_the_batch_by_default_and_stage_1_each_image(tiny_config):
    gan = build_model(tiny_config("model=gan"))
    assert gan.colorfulness_loss.match == "batch" and gan.colorfulness_weight == 0.5
    unet = build_model(tiny_config("model.colorfulness_weight=1"))
    assert unet.colorfulness_loss.match == "image"


def test_an_unknown_colorfulness_match_on_the_command_line_is_one_line_and_exit_2(tiny_config, capsys):
    from colorgan.cli import run_command

    cfg = tiny_config("model=gan", "model.colorfulness_match=pixel")
    with pytest.raises(SystemExit) as exit_info:
        run_command(lambda: build_model(cfg), "test")
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "error: model.colorfulness_match must be one of image, batch, got 'pixel'"

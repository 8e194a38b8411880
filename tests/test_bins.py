"""Chroma bins (``model.loss=bins``, Zhang et al. 2016): the grid, the rebalanced loss, the annealed-mean
head, and a bin model through training, stage 2, inference, temperature and export."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from colorgan import evaluate
from colorgan.build import build_model, build_run
from colorgan.checkpoints import bin_temperature, build_generator, read_checkpoint, with_temperature
from colorgan.errors import UserError
from colorgan.inference import Colorizer
from colorgan.models import UNetColorizer
from colorgan.models.bins import BinHead, BinLoss, ChromaGrid, bins_per_channel, head_settings
from colorgan.train import fit
from tests.helpers import photo_folder
from tests.tiny_runs import TINY_DECODER, TINY_ENCODER

BINS = ("model.loss=bins",)


def random_chroma(channels: int, seed: int = 0, size: tuple[int, int] = (6, 7)) -> torch.Tensor:
    return torch.rand(2, channels, *size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# ---- the grid ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("per_channel", "channels"), [(22, 2), (8, 3), (2, 2)])
def test_soft_encoding_weights_sum_to_one_and_average_back_to_the_chroma(per_channel, channels):
    grid = ChromaGrid(per_channel, channels)
    chroma = random_chroma(channels)
    chroma[0, :, 0, 0] = 1.0  # the corners of the cube are representable too
    chroma[0, :, 0, 1] = -1.0
    classes, weights = grid.soft_encode(chroma)
    assert classes.shape == (2, 2**channels, 6, 7) and int(classes.max()) < grid.classes
    assert torch.allclose(weights.sum(1), torch.ones(2, 6, 7))
    assert bool((weights >= 0).all())
    rebuilt = (grid.centers()[classes] * weights[..., None]).sum(1).permute(0, 3, 1, 2)
    assert torch.allclose(rebuilt, chroma, atol=1e-5)


@pytest.mark.parametrize("channels", [2, 3])
def test_nearest_is_the_closest_center(channels):
    grid = ChromaGrid(bins_per_channel("auto", channels), channels)
    chroma = random_chroma(channels, seed=1)
    centers = grid.centers()
    points = chroma.permute(0, 2, 3, 1).reshape(-1, channels)
    expected = torch.cdist(points, centers).argmin(1)
    assert torch.equal(grid.nearest(chroma).reshape(-1), expected)


def test_auto_grid_sizes_and_refused_ones():
    assert bins_per_channel("auto", 2) == 22 and bins_per_channel("auto", 3) == 8
    assert bins_per_channel(10, 3) == 10
    for bad, channels in ((1, 2), ("many", 2), (True, 2), (20, 3)):
        with pytest.raises(ValueError, match="per_channel"):
            bins_per_channel(bad, channels)


def test_smoothing_keeps_the_mass_of_an_inner_peak_and_spreads_it_symmetrically():
    grid = ChromaGrid(11, 2)
    peak = torch.zeros(grid.classes, dtype=torch.float64)
    peak[5 * 11 + 5] = 1.0
    smooth = grid.smooth(peak, 1.0).view(11, 11)
    assert smooth.sum().item() == pytest.approx(1.0, abs=1e-3)
    assert smooth[5, 5] < 1.0 and smooth[5, 5] == smooth.max()
    assert torch.allclose(smooth, smooth.t()) and torch.allclose(smooth, smooth.flip(0))
    assert torch.equal(grid.smooth(peak, 0.0), peak)


# ---- the loss ----------------------------------------------------------------------------------------
def test_rebalancing_weights_rare_colors_up_and_average_one_under_the_prior():
    grid = ChromaGrid(5, 2)
    loss = BinLoss(grid, stride=1, rebalance=0.5, smoothing=0.0)
    assert torch.equal(loss.class_weights(), torch.ones(grid.classes, dtype=torch.float64))  # nothing seen
    common, rare = 12, 3
    loss.count(torch.tensor([common] * 90 + [rare] * 10))
    assert loss.counts.sum().item() == 100
    weights = loss.class_weights()
    prior = loss.counts / loss.counts.sum()
    assert (prior * weights).sum().item() == pytest.approx(1.0)
    assert weights[rare] > weights[common]
    plain = BinLoss(grid, stride=1, rebalance=1.0)
    plain.count(torch.tensor([common] * 90 + [rare] * 10))
    assert torch.allclose(plain.class_weights(), torch.ones(grid.classes, dtype=torch.float64))


def test_the_loss_is_lowest_for_logits_that_predict_the_soft_encoding_and_counts_only_when_asked():
    grid = ChromaGrid(6, 2)
    loss = BinLoss(grid, stride=2, rebalance=1.0)
    chroma = random_chroma(2, size=(8, 8))
    target = loss.target(chroma, (4, 4))
    classes, weights = grid.soft_encode(target)
    ideal = torch.full((2, grid.classes, 4, 4), -30.0).scatter(1, classes, weights.clamp_min(1e-12).log())
    uniform = torch.zeros(2, grid.classes, 4, 4, requires_grad=True)
    assert loss(ideal, chroma) < loss(uniform, chroma)
    assert loss.counts.sum() == 0
    loss(uniform, chroma, update=True).backward()
    assert loss.counts.sum().item() == 2 * 4 * 4  # one count per loss cell (the pooled truth)
    assert uniform.grad is not None and uniform.grad.abs().sum() > 0


def test_bad_loss_settings_are_refused():
    grid = ChromaGrid(4, 2)
    with pytest.raises(ValueError, match="rebalance"):
        BinLoss(grid, rebalance=1.5)
    with pytest.raises(ValueError, match="smoothing"):
        BinLoss(grid, smoothing=-1)


# ---- the head ----------------------------------------------------------------------------------------
def test_annealed_mean_moves_from_the_mean_to_the_mode_as_the_temperature_falls():
    head = BinHead(4, 2, per_channel=5, stride=1)
    centers = head.grid.centers()
    logits = torch.full((1, head.grid.classes, 1, 1), 0.0)
    mode, other = 24, 0  # the (+1, +1) corner is most likely, the (-1, -1) corner second
    logits[0, mode], logits[0, other] = 3.0, 2.0
    decoded = {}
    for temperature in (1.0, 0.38, 0.01):
        head.temperature = temperature
        decoded[temperature] = head.decode(logits)[0, :, 0, 0]
    distance = {t: (value - centers[mode]).norm().item() for t, value in decoded.items()}
    assert distance[1.0] > distance[0.38] > distance[0.01]
    assert distance[0.01] < 1e-3
    assert bool((decoded[1.0].abs() <= 1).all())


@pytest.mark.parametrize("stride", [1, 4])
def test_a_bin_generator_returns_full_size_chroma_and_logits_at_its_stride(stride):
    torch.manual_seed(0)
    generator = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER,
                              head={"kind": "bins", "stride": stride}).eval()
    assert generator.predicts_bins
    luma = torch.rand(2, 1, 45, 70) * 2 - 1  # not multiples of the stride
    chroma = generator(luma)
    again, logits = generator(luma, output="both")
    none, only_logits = generator(luma, output="logits")
    assert chroma.shape == (2, 2, 45, 70) and bool((chroma.abs() <= 1).all())
    assert torch.equal(chroma, again) and none is None and torch.equal(logits, only_logits)
    assert logits.shape == (2, 484, -(-45 // stride), -(-70 // stride))
    with pytest.raises(ValueError, match="output must be"):
        generator(luma, output="probabilities")


def test_a_bin_generator_takes_hints_too():
    torch.manual_seed(0)
    generator = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=True,
                              head={"kind": "bins"}).eval()
    luma = torch.rand(1, 1, 32, 48) * 2 - 1
    hints = torch.zeros(1, 3, 32, 48)
    assert torch.equal(generator(luma), generator(luma, hints))  # no hints = all-zero hints
    hints[:, 0, 10:20, 10:20], hints[:, 2, 10:20, 10:20] = 0.8, 1.0
    with torch.no_grad():  # the hint filters start at zero: give them weight so that hints matter
        generator.decoder.blocks[-1].conv1[0].weight[:, -3:].fill_(0.5)
    assert not torch.equal(generator(luma), generator(luma, hints))


def test_bad_head_settings_are_refused():
    with pytest.raises(ValueError, match="head kind"):
        head_settings({"kind": "mixture"})
    with pytest.raises(ValueError, match="unknown bins head settings"):
        head_settings({"kind": "bins", "temprature": 0.5})
    with pytest.raises(ValueError, match="temperature"):
        BinHead(4, 2, temperature=0)
    with pytest.raises(ValueError, match="stride"):
        BinHead(4, 2, stride=3)
    assert head_settings({"kind": "regression"}) == {} and head_settings(None) == {}


# ---- through training and inference ------------------------------------------------------------------
def test_config_errors_are_one_clear_message(tiny_config):
    with pytest.raises(Exception, match=re.escape("model.loss must be one of l1, huber, bins")):
        build_model(tiny_config("model.loss=ce"))
    with pytest.raises(Exception, match=re.escape("unknown model.bins settings: colors")):
        build_model(tiny_config(*BINS, "+model.bins.colors=3"))
    with pytest.raises(Exception, match=re.escape("model.bins: bins rebalance")):
        build_model(tiny_config(*BINS, "model.bins.rebalance=2"))
    with pytest.raises(Exception, match=re.escape("model.bins: bins per_channel")):
        build_model(tiny_config(*BINS, "model.bins.per_channel=1"))
    with pytest.raises(Exception, match=re.escape("model.bins: bins temperature")):
        build_model(tiny_config(*BINS, "model.bins.temperature=0"))
    with pytest.raises(Exception, match="not a stage-2 loss"):
        build_model(tiny_config("model=gan", "model.loss=bins"))


@pytest.fixture(scope="module")
def bin_run(tmp_path_factory):
    """A tiny bin model trained for 2 epochs (8 steps) in Lab, and its run directory."""
    from tests.helpers import tiny_config

    root = tmp_path_factory.mktemp("bins")
    run = build_run(tiny_config(root / "run", *BINS, "model.bins.temperature=0.5", "trainer.max_epochs=2"))
    fit(run)
    return root / "run", run.model


def test_training_counts_the_colors_it_saw_and_checkpoints_the_prior(bin_run):
    run_dir, model = bin_run
    seen = model.bin_loss.counts.sum().item()
    cells = (model.image_size // model.generator.head.stride) ** 2
    assert seen > 0 and seen % cells == 0  # whole batches of pooled cells, training batches only
    last = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert torch.equal(last["state_dict"]["bin_loss.counts"], model.bin_loss.counts)
    record, weights = read_checkpoint(run_dir)
    assert bin_temperature(record) == 0.5 and record["generator"]["head"]["kind"] == "bins"
    generator = build_generator(record, weights)
    assert generator.predicts_bins and generator.head.temperature == 0.5


def test_temperature_at_inference_changes_the_colors_and_is_refused_where_it_means_nothing(bin_run, tmp_path):
    run_dir, _ = bin_run
    photos = photo_folder(tmp_path / "photos", count=2)
    default = Colorizer.load(run_dir)
    vivid = Colorizer.load(run_dir, temperature=0.05)
    assert default.temperature == 0.5 and vivid.temperature == 0.05
    image = next(photos.iterdir())
    assert (np.asarray(default.colorize(image)) != np.asarray(vivid.colorize(image))).any()
    with pytest.raises(UserError, match="torch backend"):
        Colorizer.load(run_dir, backend="onnxruntime", temperature=0.2)
    with pytest.raises(UserError, match=r"\(0, 10\]"):
        with_temperature(read_checkpoint(run_dir)[0], -1.0)
    regression = {"generator": {"encoder": {}}}
    assert bin_temperature(regression) is None
    with pytest.raises(UserError, match=re.escape("model.loss=bins")):
        with_temperature(regression, 0.3)


def test_evaluate_records_the_temperature_in_its_own_folder(bin_run, tmp_path, capsys):
    run_dir, _ = bin_run
    photos = photo_folder(tmp_path / "photos", count=2)
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main([str(run_dir), "--data", str(photos), "--temperature", "0.2", "--device", "cpu",
                       "--quiet"])
    assert exit_info.value.code == 0
    assert "bins decoded at T=0.2" in capsys.readouterr().out
    metrics = json.loads((run_dir / "eval-t0.2" / "metrics.json").read_text())
    assert metrics["temperature"] == 0.2 and metrics["num_images"] == 2


def test_stage_two_starts_from_a_bin_model_and_keeps_its_head(bin_run, tmp_path):
    from tests.helpers import tiny_config

    run_dir, _ = bin_run
    run = build_run(tiny_config(tmp_path / "gan", "model=gan", f"model.init_from={run_dir}"))
    assert run.model.generator.predicts_bins and run.model.bin_loss is None
    fit(run)
    record, _ = read_checkpoint(tmp_path / "gan")
    assert record["stage"] == "gan" and bin_temperature(record) == 0.5


def test_a_bin_model_exports_to_onnx_at_the_asked_temperature(bin_run, tmp_path):
    pytest.importorskip("onnxruntime")
    from colorgan import export

    run_dir, _ = bin_run
    output = tmp_path / "bins.onnx"
    with pytest.raises(SystemExit) as exit_info:
        export.main([str(run_dir), "-o", str(output), "--temperature", "0.1"])
    assert exit_info.value.code == 0
    onnx_side = Colorizer.load(output)
    torch_side = Colorizer.load(run_dir, temperature=0.1)
    assert onnx_side.temperature == 0.1  # read from the export's record (evaluate reports it)
    luma = torch.rand(2, 1, 37, 53, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert (onnx_side.backend(luma) - torch_side.backend(luma)).abs().max() < 1e-4

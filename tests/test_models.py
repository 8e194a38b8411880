"""Shapes, ranges, freezing, gradients and error messages of colorgan.models (random init, tiny inputs)."""

from __future__ import annotations

import pytest
import timm
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from colorgan.errors import UserError
from colorgan.models import (
    ChromaLoss,
    Encoder,
    PatchDiscriminator,
    UNetColorizer,
    WeightsError,
    resolve_encoder_weights,
)

TINY_ENCODER = {"name": "test_efficientnet", "weights": "none"}


def random_luma(batch: int, height: int, width: int) -> torch.Tensor:
    return torch.rand(batch, 1, height, width) * 2 - 1


def bn_stats(module: nn.Module) -> list[torch.Tensor]:
    return [m.running_mean.clone() for m in module.modules() if isinstance(m, _BatchNorm)]


@pytest.fixture(autouse=True)
def _seed_and_cache(tmp_path, monkeypatch):
    torch.manual_seed(0)
    monkeypatch.setenv("COLORGAN_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("chroma_channels", [2, 3])
@pytest.mark.parametrize("size", [(37, 53), (64, 64), (5, 7)])
def test_colorizer_keeps_input_size_and_range(chroma_channels, size):
    model = UNetColorizer(chroma_channels, TINY_ENCODER)
    chroma = model(random_luma(2, *size))
    assert chroma.shape == (2, chroma_channels, *size)
    assert chroma.dtype == torch.float32
    assert chroma.abs().max() <= 1.0


def test_default_architecture_runs_on_odd_size():
    model = UNetColorizer(2, {"name": "tf_efficientnet_lite0", "weights": "none"}).eval()
    assert model.encoder.channels == [16, 24, 40, 112, 320]
    assert model.encoder.reductions == [2, 4, 8, 16, 32]
    with torch.no_grad():
        assert model(random_luma(1, 37, 53)).shape == (1, 2, 37, 53)


def test_final_activation_identity_is_unbounded():
    model = UNetColorizer(2, TINY_ENCODER, final_activation="identity").eval()
    with torch.no_grad():
        model.head[0].weight.zero_()
        model.head[0].bias.fill_(5.0)
    assert torch.equal(model(random_luma(1, 32, 32)), torch.full((1, 2, 32, 32), 5.0))


@pytest.mark.parametrize("norm", ["instance", "group", "none"])
@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
def test_decoder_variants(norm, upsample):
    model = UNetColorizer(2, TINY_ENCODER, decoder_norm=norm, decoder_upsample=upsample)
    assert model(random_luma(2, 33, 40)).shape == (2, 2, 33, 40)


def test_gradients_reach_every_decoder_and_head_parameter():
    model = UNetColorizer(2, TINY_ENCODER)
    model(random_luma(2, 40, 48)).square().mean().backward()
    for name, parameter in [*model.decoder.named_parameters(), *model.head.named_parameters()]:
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name
    assert model.encoder.model.conv_stem.weight.grad.abs().sum() > 0


def test_frozen_encoder_keeps_weights_and_batchnorm_statistics():
    model = UNetColorizer(2, TINY_ENCODER)
    model.set_encoder_frozen(True)
    model.train()  # a later .train() must not put the frozen encoder's BatchNorm back in train mode
    assert model.training and not model.encoder.training
    assert not any(p.requires_grad for p in model.encoder.parameters())
    assert all(p.requires_grad for p in model.decoder.parameters())

    encoder_before, decoder_before = bn_stats(model.encoder), bn_stats(model.decoder)
    model(random_luma(2, 32, 32)).mean().backward()
    assert all(torch.equal(a, b) for a, b in zip(encoder_before, bn_stats(model.encoder), strict=True))
    assert not any(torch.equal(a, b) for a, b in zip(decoder_before, bn_stats(model.decoder), strict=True))
    assert all(p.grad is None for p in model.encoder.parameters())

    model.set_encoder_frozen(False)
    assert model.encoder.training
    assert all(p.requires_grad for p in model.encoder.parameters())
    encoder_before = bn_stats(model.encoder)
    model(random_luma(2, 32, 32))
    assert not any(torch.equal(a, b) for a, b in zip(encoder_before, bn_stats(model.encoder), strict=True))


def test_frozen_encoder_follows_eval():
    model = UNetColorizer(2, TINY_ENCODER)
    model.set_encoder_frozen(True)
    model.eval()
    assert not model.training and not model.encoder.training and not model.decoder.training


def test_channels_last_and_bf16_autocast():
    model = UNetColorizer(3, TINY_ENCODER).to(memory_format=torch.channels_last)
    luma = random_luma(2, 37, 53).to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        chroma = model(luma)
    assert chroma.shape == (2, 3, 37, 53)
    assert torch.isfinite(chroma.float()).all()
    chroma.float().mean().backward()
    assert model.head[0].weight.grad is not None


def test_colorizer_rejects_rgb_input_and_bad_settings():
    model = UNetColorizer(2, TINY_ENCODER)
    with pytest.raises(ValueError, match=r"\[B, 1, H, W\]"):
        model(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="one entry per encoder stage"):
        UNetColorizer(2, TINY_ENCODER, decoder_channels=(64, 32))
    with pytest.raises(ValueError, match="unknown norm"):
        UNetColorizer(2, TINY_ENCODER, decoder_norm="layer")
    with pytest.raises(ValueError, match="final_activation"):
        UNetColorizer(2, TINY_ENCODER, final_activation="relu")


def test_bad_encoder_name_gives_readable_error():
    with pytest.raises(ValueError, match=r"timm\.list_models") as info:
        Encoder("tf_efficientnet_lite9", weights="none")
    assert "tf_efficientnet_lite0" in str(info.value) or "tf_efficientnet_lite4" in str(info.value)


def test_weights_resolution():
    assert resolve_encoder_weights("test_efficientnet", "none") == {}
    assert resolve_encoder_weights("test_efficientnet", "hub") == {"pretrained": True}
    with pytest.raises(WeightsError, match="not found"):
        resolve_encoder_weights("test_efficientnet", "/no/such/dir/encoder.pth")
    with pytest.raises(WeightsError, match="unknown encoder weights"):
        resolve_encoder_weights("test_efficientnet", "imagenet")
    with pytest.raises(WeightsError, match="only fits"):
        resolve_encoder_weights("resnet18", "efficientnet_lite")
    with pytest.raises(WeightsError, match="no offline weight package"):
        resolve_encoder_weights("tf_efficientnet_lite4", "efficientnet_lite")


def test_missing_weights_file_raises_weights_error(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        Encoder("test_efficientnet", weights=str(tmp_path / "missing.safetensors"))


def test_local_weights_file_loads_with_summed_stem(tmp_path):
    source = timm.create_model("test_efficientnet")
    path = tmp_path / "rgb.pth"
    torch.save(source.state_dict(), path)
    encoder = Encoder("test_efficientnet", weights=str(path))
    expected_stem = source.conv_stem.weight.sum(dim=1, keepdim=True)
    torch.testing.assert_close(encoder.model.conv_stem.weight, expected_stem)
    deep_conv = encoder.model.blocks[-1][0].conv_pwl.weight
    torch.testing.assert_close(deep_conv, source.blocks[-1][0].conv_pwl.weight)


def test_weights_file_of_another_architecture_is_rejected(tmp_path):
    path = tmp_path / "resnet.pth"
    torch.save(timm.create_model("test_resnet").state_dict(), path)
    with pytest.raises(WeightsError, match="into encoder 'test_efficientnet'"):
        Encoder("test_efficientnet", weights=str(path))


def test_hub_failure_is_wrapped(monkeypatch):
    def offline_create_model(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(timm, "create_model", offline_create_model)
    with pytest.raises(WeightsError, match="efficientnet_lite"):
        Encoder("test_efficientnet", weights="hub")


@pytest.mark.parametrize(("num_layers", "expected"), [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_discriminator_receptive_field_matches_gradient_support(num_layers, expected):
    disc = PatchDiscriminator(2, base_channels=8, num_layers=num_layers, norm="none")
    assert disc.receptive_field == expected
    luma = torch.zeros(1, 1, 192, 192)
    color = torch.zeros(1, 2, 192, 192, requires_grad=True)
    logits = disc(luma, color)
    centre = logits.shape[-1] // 2
    logits[0, 0, centre, centre].backward()
    rows = color.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    assert rows.max() - rows.min() + 1 == expected


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_discriminator_output_shape(norm):
    disc = PatchDiscriminator(3, base_channels=8, norm=norm)
    logits = disc(random_luma(2, 64, 64), torch.rand(2, 3, 64, 64) * 2 - 1)
    assert logits.shape == (2, 1, 6, 6)  # 64 / 8 - 2 for the pix2pix layout
    assert disc.receptive_field == 70


def test_spectral_norm_discriminator_runs_and_is_normalized():
    disc = PatchDiscriminator(2, base_channels=8, norm="none", spectral_norm=True)
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(hasattr(conv, "parametrizations") for conv in convs)
    logits = disc(random_luma(2, 48, 40), torch.rand(2, 2, 48, 40))
    assert logits.shape == (2, 1, 4, 3)
    logits.mean().backward()
    assert all(conv.parametrizations.weight.original.grad is not None for conv in convs)


def test_discriminator_rejects_bad_inputs():
    disc = PatchDiscriminator(2, base_channels=8)
    with pytest.raises(ValueError, match="expects color"):
        disc(random_luma(1, 64, 64), torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="differ"):
        disc(random_luma(1, 64, 64), torch.rand(1, 2, 64, 32))
    with pytest.raises(ValueError, match="too small"):
        disc(random_luma(1, 16, 16), torch.rand(1, 2, 16, 16))
    with pytest.raises(ValueError, match="unknown discriminator norm"):
        PatchDiscriminator(2, norm="group")


def test_encoder_maps_luma_to_the_pretrained_normalization():
    encoder = Encoder("test_efficientnet", weights="none").eval()
    config = encoder.model.pretrained_cfg
    mean, std = sum(config["mean"]) / 3, sum(config["std"]) / 3
    assert abs(mean - 0.449) < 1e-3  # ImageNet statistics, not the identity of the [-1, 1] range
    luma = random_luma(1, 32, 32)
    with torch.no_grad():
        expected = encoder.model(((luma + 1) / 2 - mean) / std)
        actual = encoder(luma)
    for got, want in zip(actual, expected, strict=True):
        torch.testing.assert_close(got, want)


def test_four_stage_encoder_uses_the_finest_decoder_widths():
    """ConvNeXt-style encoders (/4 ... /32, four stages) work with the default five decoder widths."""
    encoder = {"name": "test_convnext", "weights": "none"}
    generator = UNetColorizer(2, encoder, decoder_channels=(64, 32, 24, 16, 8))
    assert len(generator.encoder.channels) == 4
    assert generator(torch.zeros(1, 1, 64, 48)).shape == (1, 2, 64, 48)


def test_chroma_loss_l1_and_huber_in_float32():
    pred = torch.zeros(1, 2, 4, 4, dtype=torch.bfloat16)
    target = torch.full((1, 2, 4, 4), 0.02)
    assert ChromaLoss("l1")(pred, target).dtype == torch.float32
    assert ChromaLoss("l1")(pred, target).item() == pytest.approx(0.02)
    # Huber: quadratic below delta (0.5·x²/δ), linear above it (|x| - δ/2)
    assert ChromaLoss("huber", 0.05)(pred, target).item() == pytest.approx(0.5 * 0.02**2 / 0.05)
    assert ChromaLoss("huber", 0.01)(pred, target).item() == pytest.approx(0.02 - 0.005)
    with pytest.raises(UserError, match="l1, huber"):
        ChromaLoss("l2")
    with pytest.raises(UserError, match="huber_delta"):
        ChromaLoss("huber", 0.0)

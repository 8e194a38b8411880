"""Discriminator options: widths, downsampling, the config group, FLOPs, and the single-pass D step."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from colorgan.bench.training import flop_counter
from colorgan.build import build_model
from colorgan.data import build_datamodule
from colorgan.models import PatchDiscriminator
from tests.helpers import compose_config

TINY_GAN = ["debug=tiny", "model=gan"]


def widths(disc: PatchDiscriminator) -> list[int]:
    return [conv.out_channels for conv in disc._convs()]


def forward_flops(disc: PatchDiscriminator, size: int) -> int:
    with flop_counter() as counter:
        disc(torch.zeros(1, 1, size, size), torch.zeros(1, disc.in_channels, size, size))
    return counter.get_total_flops()


def test_pix2pix_and_light_discriminators_share_the_70px_patch_but_not_the_cost():
    pix2pix = PatchDiscriminator(2)  # the constructor's defaults stay pix2pix's D
    light = PatchDiscriminator(2, base_channels=32, max_channels=128)
    assert widths(pix2pix) == [64, 128, 256, 512, 1] and widths(light) == [32, 64, 128, 128, 1]
    assert pix2pix.receptive_field == light.receptive_field == 70
    assert pix2pix.output_size(128) == light.output_size(128) == 14
    assert forward_flops(light, 128) * 5 < forward_flops(pix2pix, 128)
    assert sum(p.numel() for p in light.parameters()) * 6 < sum(p.numel() for p in pix2pix.parameters())


def test_downsample_judges_a_pooled_image():
    full = PatchDiscriminator(2, base_channels=8, norm="none")
    half = PatchDiscriminator(2, base_channels=8, norm="none", downsample=2)
    half.load_state_dict(full.state_dict())
    luma, color = torch.rand(2, 1, 64, 64), torch.rand(2, 2, 64, 64)
    logits = half(luma, color)
    assert logits.shape[-1] == half.output_size(64) == full.output_size(32)
    pooled = torch.nn.functional.avg_pool2d
    assert torch.allclose(logits, full(pooled(luma, 2), pooled(color, 2)))
    assert half.receptive_field == 2 * full.receptive_field
    assert forward_flops(half, 128) * 3 < forward_flops(full, 128)
    with pytest.raises(ValueError, match="downsample"):
        PatchDiscriminator(2, downsample=0)


@pytest.mark.parametrize(("overrides", "expected"), [
    (["model=gan"], (32, 128, True)),
    (["model=gan", "model/discriminator=pix2pix"], (64, 512, True)),
    (["model=gan", "model/discriminator=pix2pix", "model.d_single_pass=false"], (64, 512, False)),
    (["model=gan", "model.discriminator.max_channels=256"], (32, 256, True)),
])
def test_discriminator_config_group(tmp_path, overrides, expected):
    cfg = compose_config(tmp_path, overrides)
    d = cfg.model.discriminator
    assert (d.base_channels, d.max_channels, cfg.model.d_single_pass) == expected
    assert d.num_layers == 3


def test_two_stage_experiment_takes_the_pix2pix_discriminator_too(tmp_path):
    cfg = compose_config(tmp_path, ["experiment=two_stage"])
    assert cfg.two_stage.model.discriminator.base_channels == 32
    cfg = compose_config(tmp_path, ["experiment=two_stage",
                                    "model/discriminator@two_stage.model.discriminator=pix2pix"])
    assert cfg.two_stage.model.discriminator.max_channels == 512


class DiscriminatorCalls(pl.Callback):
    """Batch sizes of every discriminator forward, and whether its parameters were being trained."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool]] = []

    def on_fit_start(self, trainer, module) -> None:
        def record(disc, inputs, output) -> None:
            self.calls.append((inputs[0].shape[0], next(disc.parameters()).requires_grad))

        module.discriminator.register_forward_hook(record)


def fit_one_step(tmp_path, *overrides: str):
    cfg = compose_config(tmp_path, [*TINY_GAN, *overrides])
    pl.seed_everything(0)
    model = build_model(cfg)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    calls = DiscriminatorCalls()
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False, callbacks=[calls],
                          max_steps=1, limit_val_batches=0)
    trainer.fit(model, datamodule=build_datamodule(cfg.data))
    return model, before, calls.calls, cfg.data.batch_size


def moved(model, before, prefix: str) -> bool:
    return any(not torch.equal(p, before[name]) for name, p in model.named_parameters()
               if name.startswith(prefix))


def test_single_pass_d_step_sees_real_and_fake_and_g_still_learns(tmp_path):
    model, before, calls, batch = fit_one_step(tmp_path, "model.d_single_pass=true")
    # one D pass on real+fake stacked (D trained), then one on the fakes for G (D frozen)
    assert calls == [(2 * batch, True), (batch, False)]
    assert moved(model, before, "generator.") and moved(model, before, "discriminator.")
    _, _, calls, batch = fit_one_step(tmp_path / "two", "model.d_single_pass=false")
    assert calls == [(batch, True), (batch, True), (batch, False)]


def test_single_pass_equals_two_passes_without_batch_norm(tmp_path):
    """Without normalization in D, stacking real and fake changes nothing but the kernel count (an instance
    norm would too, but the bias before it gets a pure rounding-noise gradient that Adam blows up)."""
    norm = "model.discriminator.norm=none"
    one, _, _, _ = fit_one_step(tmp_path / "one", "model.d_single_pass=true", norm)
    two, _, _, _ = fit_one_step(tmp_path / "two", "model.d_single_pass=false", norm)
    for (name, a), (_, b) in zip(one.named_parameters(), two.named_parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name


def test_judge_pair_splits_the_logits_back(tmp_path):
    cfg = compose_config(tmp_path, [*TINY_GAN, "model.discriminator.norm=none"])
    model = build_model(cfg)
    luma, real, fake = torch.rand(3, 1, 32, 32), torch.rand(3, 2, 32, 32), torch.rand(3, 2, 32, 32)
    real_logits, fake_logits = model.judge_pair(luma, real, fake)
    assert torch.allclose(real_logits, model.discriminator(luma, real), atol=1e-6)
    assert torch.allclose(fake_logits, model.discriminator(luma, fake), atol=1e-6)


def test_the_bench_splits_a_training_steps_flops_between_g_and_d():
    from colorgan.bench.flops import VARIANTS, bench_flops

    variants = {"stage 1": VARIANTS["stage 1"], "light": ["model=gan"],
                "half": ["model=gan", "model.discriminator.downsample=2"],
                "light, no colorfulness term": ["model=gan", "model.colorfulness_weight=0"]}
    stage1, light, half, plain = bench_flops("tiny", [32], extra=("debug=tiny",), variants=variants)
    assert stage1["discriminator_flops_per_image"] == 0
    assert stage1["generator_flops_per_image"] == stage1["flops_per_image"] > 0
    # stage 2 = the same generator step + the discriminator's passes, nothing else ...
    assert light["generator_flops_per_image"] == stage1["generator_flops_per_image"]
    g, d = light["generator_flops_per_image"], light["discriminator_flops_per_image"]
    assert plain["flops_per_image"] == g + d
    # ... but the default colorfulness term's conversion to RGB, counted in the total only, and small
    assert g + d < light["flops_per_image"] < 1.01 * (g + d)
    assert 0 < half["discriminator_flops_per_image"] * 3 < light["discriminator_flops_per_image"]
    assert 0 < light["discriminator_share"] < 1 and half["receptive_field"] == 2 * light["receptive_field"]

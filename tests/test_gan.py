"""Stage 2: adversarial losses, what the discriminator judges, GAN steps, init from stage 1, two stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate

from colorgan.build import build_model
from colorgan.checkpoints import read_checkpoint, resolve_checkpoint
from colorgan.data import build_datamodule
from colorgan.errors import UserError
from colorgan.inference import Colorizer
from colorgan.models.losses import AdversarialLoss, r1_penalty
from colorgan.modules import GANModule
from colorgan.train import train
from tests.helpers import TINY, compose_config

SPACES = ["lab", "yuv", "ycbcr", "luv", "hsv", "rgb"]
D_SPACES = ["chroma", "rgb", "lab"]
LOSSES = ["vanilla", "lsgan", "hinge"]
# a discriminator small enough for 32 px crops and 2 CPU cores (receptive field 34 px)
TINY_GAN = ["model=gan", "model.discriminator.base_channels=8", "model.discriminator.num_layers=2"]


# ---- losses --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", LOSSES)
def test_losses_reward_the_right_side(kind):
    loss = AdversarialLoss(kind)
    confident = torch.full((2, 1, 4, 4), 3.0)
    d_right = sum(loss.discriminator(confident, -confident))
    d_wrong = sum(loss.discriminator(-confident, confident))
    assert d_right < d_wrong
    assert loss.generator(confident) < loss.generator(-confident)
    acc_real, acc_fake = loss.accuracy(confident, -confident)
    assert acc_real == 1.0 and acc_fake == 1.0


def test_one_sided_label_smoothing_only_touches_real_targets():
    plain, smooth = AdversarialLoss("vanilla"), AdversarialLoss("vanilla", real_label=0.9)
    logits = torch.full((1, 1, 2, 2), 4.0)
    real_plain, fake_plain = plain.discriminator(logits, logits)
    real_smooth, fake_smooth = smooth.discriminator(logits, logits)
    assert real_smooth > real_plain and torch.equal(fake_smooth, fake_plain)
    assert torch.equal(plain.generator(logits), smooth.generator(logits))


def test_bad_loss_settings_are_readable_errors():
    with pytest.raises(ValueError, match="vanilla, lsgan, hinge"):
        AdversarialLoss("wgan")
    with pytest.raises(ValueError, match="hinge"):
        AdversarialLoss("hinge", real_label=0.9)


def test_r1_of_a_linear_critic_is_its_squared_weight_norm():
    weight = torch.randn(1, 3, 4, 4, requires_grad=True)
    inputs = torch.rand(5, 3, 4, 4, requires_grad=True)
    logits = (inputs * weight).flatten(1).sum(1)
    penalty = r1_penalty(logits, inputs)
    assert torch.allclose(penalty, weight.detach().pow(2).sum())
    assert penalty.requires_grad  # part of the graph: D can be trained on it
    with pytest.raises(ValueError, match="require grad"):
        r1_penalty(logits, inputs.detach())


# ---- the module ---------------------------------------------------------------------------------------
def gan_module(space: str, d_space: str = "chroma", **kwargs) -> GANModule:
    return GANModule(
        colorspace=space,
        generator={
            "_target_": "colorgan.models.UNetColorizer",
            "encoder": {"name": "test_efficientnet", "weights": "none"},
            "decoder_channels": [16, 16, 8, 8, 8],
        },
        discriminator={"_target_": "colorgan.models.PatchDiscriminator", "base_channels": 8, "num_layers": 2},
        d_space=d_space,
        **kwargs,
    )


@pytest.mark.parametrize("space", SPACES)
def test_discriminator_gradients_reach_the_generator_output_in_every_d_space(space):
    for d_space in D_SPACES:
        module = gan_module(space, d_space)
        rgb = torch.rand(2, 3, 40, 40)
        rgb[0, :, :4] = 0.0  # black pixels: where Lab/LUV/HSV gradients are fragile
        luma, chroma = module.colorspace.split(rgb)
        chroma = (chroma * 0.8).requires_grad_(True)
        judged = module.judged(luma, chroma)
        logits = module.discriminator(luma, judged)
        module.adversarial.generator(logits).backward()
        assert judged.shape[1] == (module.colorspace.chroma_channels if d_space == "chroma" else 3)
        assert torch.isfinite(chroma.grad).all() and chroma.grad.abs().sum() > 0, (space, d_space)


def test_bad_d_space_is_a_readable_error():
    with pytest.raises(ValueError, match="d_space"):
        gan_module("lab", "xyz")


def test_the_gan_uses_the_shared_chroma_loss_huber_included():
    module = gan_module("lab", loss="huber", huber_delta=0.5)
    pred, truth = torch.zeros(1, 2, 4, 4), torch.full((1, 2, 4, 4), 0.5)
    assert module.chroma_loss.kind == "huber"
    loss = module.reconstruction_loss(pred, None, truth)
    assert loss.item() == pytest.approx(0.25)  # L1 would give 0.5
    with pytest.raises(UserError, match=r"model\.loss"):
        gan_module("lab", loss="l2")


# ---- training ---------------------------------------------------------------------------------------
COMBINATIONS = [
    (space, D_SPACES[i % 3], LOSSES[i % 3]) for i, space in enumerate(SPACES)
]  # every color space, every discriminator space, every loss


@pytest.mark.parametrize(("space", "d_space", "loss"), COMBINATIONS)
def test_fast_dev_run(tiny_config, space, d_space, loss):
    cfg = tiny_config(
        *TINY_GAN,
        f"colorspace={space}",
        f"model.d_space={d_space}",
        f"model.adversarial_loss={loss}",
        "+trainer.fast_dev_run=1",
    )
    final = train(cfg)["final"]
    for key in ("train/g_adv", "train/g_l1", "train/d_real", "train/d_fake", "val/loss", "val/psnr"):
        assert torch.isfinite(torch.tensor(final[key])), key
    assert 0.0 <= final["train/d_acc_real"] <= 1.0 and 0.0 <= final["train/d_acc_fake"] <= 1.0
    assert final["val/colorfulness"] >= 0.0 and final["val/colorfulness_true"] > 0.0


def test_bf16_r1_smoothing_and_clipping(tiny_config):
    cfg = tiny_config(
        *TINY_GAN,
        "trainer.precision=bf16-mixed",
        "model.r1_gamma=1.0",
        "model.real_label=0.9",
        "model.gradient_clip_val=1.0",
        "+trainer.fast_dev_run=1",
    )
    final = train(cfg)["final"]
    assert torch.isfinite(
        torch.tensor([final["train/r1"], final["train/d_loss"], final["train/g_loss"],
                      final["train/g_colorfulness"]])  # the default colorfulness term, in float32 under AMP
    ).all()


class CountBatches(pl.Callback):
    def __init__(self) -> None:
        self.batches = 0

    def on_train_batch_end(self, *args) -> None:
        self.batches += 1


def fit_steps(cfg, steps: int) -> tuple[GANModule, dict, dict]:
    """Fit ``steps`` batches; return the model and its G and D state before training."""
    pl.seed_everything(0)
    model = build_model(cfg)
    g_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    d_before = {k: v.clone() for k, v in model.discriminator.state_dict().items()}
    counter = CountBatches()
    trainer = instantiate(
        cfg.trainer,
        logger=False,
        enable_checkpointing=False,
        callbacks=[counter],
        max_steps=steps,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=build_datamodule(cfg.data))
    assert trainer.global_step == counter.batches == steps  # one batch is one global step
    return model, g_before, d_before


def changed(before: dict, module: torch.nn.Module) -> bool:
    after = module.state_dict()
    return any(not torch.equal(before[key], after[key]) for key in before)


def test_one_step_moves_both_networks(tiny_config):
    model, g_before, d_before = fit_steps(tiny_config(*TINY_GAN), steps=1)
    assert changed(g_before, model.generator) and changed(d_before, model.discriminator)


class RecordFreeze(pl.Callback):
    """Whether the generator's encoder was frozen at each batch and whether its weights moved."""

    def __init__(self) -> None:
        self.frozen: list[bool] = []
        self.moved: list[bool] = []
        self._before: dict = {}

    def on_train_batch_start(self, trainer, module, *args) -> None:
        self._before = {k: v.clone() for k, v in module.generator.encoder.named_parameters()}

    def on_train_batch_end(self, trainer, module, *args) -> None:
        self.frozen.append(module.generator.encoder_frozen)
        after = dict(module.generator.encoder.named_parameters())
        self.moved.append(any(not torch.equal(v, after[k]) for k, v in self._before.items()))


@pytest.mark.parametrize("model", ["unet", "gan"])
def test_both_stages_share_the_encoder_freeze_schedule_kept_by_the_generator(tiny_config, model):
    cfg = tiny_config(*(TINY_GAN if model == "gan" else []), "model.freeze_encoder_steps=1")
    module = build_model(cfg)
    assert not hasattr(module, "encoder_frozen")  # one state: the generator's
    record = RecordFreeze()
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False, callbacks=[record],
                          max_steps=2, limit_val_batches=0)
    trainer.fit(module, datamodule=build_datamodule(cfg.data))
    assert record.frozen == [True, False] and record.moved == [False, True]
    assert trainer.logged_metrics["train/encoder_frozen"] == 0.0  # logged by both stages


def test_discriminator_warmup_keeps_the_generator_frozen(tiny_config):
    model, g_before, d_before = fit_steps(tiny_config(*TINY_GAN, "model.d_warmup_steps=2"), steps=2)
    assert not changed(g_before, model.generator)  # weights and BatchNorm statistics
    assert changed(d_before, model.discriminator)


# ---- stage 2 from stage 1 -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stage1_run(tmp_path_factory) -> Path:
    """A tiny stage-1 (model=unet) YUV run with checkpoints."""
    run_dir = tmp_path_factory.mktemp("stage1") / "run"
    train(
        compose_config(run_dir, [*TINY, "colorspace=yuv", "data.num_train=8", "callbacks.sample_panels=null"])
    )
    return run_dir


def stage2_config(tmp_path: Path, *overrides: str):
    return compose_config(tmp_path / "gan", [*TINY, *TINY_GAN, *overrides])


def test_stage2_starts_with_the_stage1_predictions(stage1_run, tmp_path):
    stage1 = build_model(compose_config(tmp_path / "s1", [*TINY, "colorspace=yuv"]))
    checkpoint = torch.load(resolve_checkpoint(stage1_run), weights_only=True)
    stage1.load_state_dict(checkpoint["state_dict"])
    # neither colorspace nor encoder on the command line: both come from the checkpoint
    overrides = [o for o in TINY if not o.startswith(("encoder=", "model.generator"))]
    cfg = compose_config(tmp_path / "gan", [*overrides, *TINY_GAN, f"model.init_from={stage1_run}"])
    stage2 = build_model(cfg)
    assert stage2.colorspace.name == "yuv"
    luma = stage1.colorspace.luma_from_gray(torch.rand(3, 1, 32, 32))
    stage1.eval()
    stage2.eval()
    assert torch.equal(stage1.predict_rgb(luma), stage2.predict_rgb(luma))
    assert stage2.inference_record()["generator"]["encoder"] == {
        "name": "test_efficientnet",
        "weights": "none",
    }


@pytest.mark.parametrize(
    ("override", "message"),
    [("colorspace=lab", "color space 'yuv'"), ("encoder.name=resnet34", "encoder 'test_efficientnet'")],
)
def test_a_mismatch_with_the_checkpoint_is_a_clear_error(stage1_run, tmp_path, override, message):
    cfg = compose_config(tmp_path / "gan", [*TINY, *TINY_GAN, f"model.init_from={stage1_run}", override])
    with pytest.raises(UserError, match=message):
        build_model(cfg)


def test_gan_checkpoint_holds_g_and_d_and_inference_takes_g_alone(stage1_run, tmp_path):
    train(stage2_config(tmp_path, f"model.init_from={stage1_run}", "colorspace=yuv", "data.num_train=8"))
    path = resolve_checkpoint(tmp_path / "gan")
    checkpoint = torch.load(path, weights_only=True)
    keys = checkpoint["state_dict"].keys()
    assert any(k.startswith("discriminator.") for k in keys) and any(k.startswith("generator.") for k in keys)
    assert checkpoint["hyper_parameters"]["init_from"] == str(resolve_checkpoint(stage1_run).resolve())
    record, weights = read_checkpoint(path)
    assert record["stage"] == "gan" and record["colorspace"] == "yuv"
    assert not any(k.startswith("discriminator") for k in weights)
    colorized = Colorizer.from_checkpoint(tmp_path / "gan", device="cpu").colorize(
        (torch.rand(40, 56) * 255).byte().numpy()
    )
    assert colorized.shape == (40, 56, 3)


def test_two_stage_experiment_writes_both_stages(tmp_path):
    run_dir = tmp_path / "two"
    cfg = compose_config(
        run_dir,
        [
            *TINY,
            "experiment=two_stage",
            "colorspace=ycbcr",
            "data.num_train=8",  # 2 steps per epoch
            "two_stage.model.discriminator.base_channels=8",
            "two_stage.model.discriminator.num_layers=2",
            "two_stage.trainer.max_epochs=2",
        ],
    )
    summary = train(cfg)
    for stage in ("stage1", "stage2"):
        assert list((run_dir / stage / "checkpoints").glob("best-*.ckpt")), stage
        assert list((run_dir / stage / "samples").glob("step*.png")), stage
        assert json.loads((run_dir / stage / "metrics.json").read_text())["global_step"] > 0
    assert summary["stages"]["stage1"]["global_step"] == 2 and summary["global_step"] == 4
    assert json.loads((run_dir / "metrics.json").read_text())["stages"]["stage2"]["global_step"] == 4
    gan = torch.load(resolve_checkpoint(run_dir), weights_only=True)  # a two-stage run gives stage 2's
    assert gan["colorgan"]["stage"] == "gan" and gan["colorgan"]["colorspace"] == "ycbcr"
    assert gan["hyper_parameters"]["init_from"] == summary["stages"]["stage1"]["best_checkpoint"]

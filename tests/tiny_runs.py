"""Tiny trained run directories shared by the inference, evaluate, compare and notebook tests.

Each run is trained once per test session (cached on disk under pytest's session temp dir) with the
real config shrunk by ``TINY``, and gets the ``.hydra/`` files `python -m colorgan.train` would write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf, open_dict
from PIL import Image

from colorgan.checkpoints import GENERATOR_TARGET, inference_record, save_generator
from colorgan.color import get_colorspace
from colorgan.models import UNetColorizer
from colorgan.train import train
from tests.helpers import TINY, compose_config

TINY_ENCODER = {"name": "test_efficientnet", "weights": "none"}
TINY_DECODER = [16, 8, 8, 8, 8]


def tiny_run(root: Path, colorspace: str = "lab") -> Path:
    """A trained tiny run directory for ``colorspace`` (2 epochs of 4 steps), trained once per root."""
    run_dir = root / f"run-{colorspace}"
    if (run_dir / "metrics.json").is_file():
        return run_dir
    shutil.rmtree(run_dir, ignore_errors=True)
    overrides = [f"colorspace={colorspace}", "trainer.max_epochs=2", "trainer.log_every_n_steps=1"]
    cfg = compose_config(run_dir, [*TINY, *overrides])
    train(cfg)
    saved = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    with open_dict(saved):
        del saved["hydra"]
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(saved, run_dir / ".hydra" / "config.yaml")
    OmegaConf.save(OmegaConf.create([*TINY, *overrides]), run_dir / ".hydra" / "overrides.yaml")
    return run_dir


def random_checkpoint(path: Path, colorspace: str, image_size: int = 32, seed: int = 0,
                      head_scale: float = 1.0, **record_changes) -> Path:
    """An untrained, deterministic colorgan checkpoint file (no Lightning) for fast inference tests.

    ``head_scale`` shrinks the output layer so predicted colors stay moderate.
    """
    torch.manual_seed(seed)
    space = get_colorspace(colorspace)
    generator = UNetColorizer(space.chroma_channels, TINY_ENCODER, decoder_channels=TINY_DECODER)
    with torch.no_grad():
        for parameter in generator.head.parameters():
            parameter.mul_(head_scale)
    generator_config = {"_target_": GENERATOR_TARGET, "encoder": dict(TINY_ENCODER),
                        "decoder_channels": TINY_DECODER}
    record = {**inference_record("unet", colorspace, generator_config, image_size), **record_changes}
    return save_generator(path, generator, record)


def photo(name: str = "chelsea", size: int | None = None) -> np.ndarray:
    """A real scikit-image sample photo (H×W×3 uint8), optionally thumbnailed to ``size`` px."""
    import skimage.data

    array = getattr(skimage.data, name)()
    if size is None:
        return array
    image = Image.fromarray(array)
    image.thumbnail((size, size))
    return np.array(image)

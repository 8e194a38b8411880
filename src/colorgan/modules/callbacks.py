"""Small training callbacks."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import OnExceptionCheckpoint


class FinalCheckpoint(OnExceptionCheckpoint):
    """Write `last.ckpt` whenever training stops: at its normal end, on Ctrl-C, or on a crash.

    Periodic checkpoints bound what a killed run loses; this one makes the file match the final state when
    the run ends by itself or is interrupted. Unlike Lightning's `OnExceptionCheckpoint`, it never deletes
    its file at teardown (pointed at `last.ckpt`, that would delete the periodic last checkpoint too).
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.save_checkpoint(self.ckpt_path)

    def teardown(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        return None

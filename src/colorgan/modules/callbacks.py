"""Training callbacks and plugins that keep a run's files safe: what is saved, when, and how.

- `AtomicCheckpointIO`: every checkpoint is written to a temporary file beside its destination, fsynced and
  renamed (never copied) into place; checkpoints are read back with ``weights_only=True``, always.
- `BestCheckpoint`: Lightning's `ModelCheckpoint`, except that a non-finite score or non-finite weights are
  never "best".
- `FinalCheckpoint`: ``last.ckpt`` at the end of training, on Ctrl-C or a crash, but only when this process
  trained at least one step (a failed start or resume never replaces the last good checkpoint).
- `AppendingCSVLogger`: Lightning's `CSVLogger` without deleting ``metrics.csv`` on resume.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.loggers.logger import rank_zero_experiment
from lightning_fabric.plugins import TorchCheckpointIO
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter

from colorgan.checkpoints import CheckpointError, atomic_save, load_safely, non_finite

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Atomic saves in the destination's own folder; loads that never unpickle code."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        try:
            atomic_save(checkpoint, path)
        except OSError as error:
            raise CheckpointError(
                f"cannot write checkpoint {path}: {error.strerror or error} (disk full or not writable?); "
                "the previous checkpoint file is kept"
            ) from error

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict:
        return load_safely(path)  # weights_only=True whatever the caller or the environment asks


def weights_are_finite(module: torch.nn.Module) -> bool:
    """Whether every floating-point parameter and buffer of ``module`` is finite."""
    return not non_finite(dict(module.state_dict()))


#: what ``monitor="auto"`` means for a module without a ``best_metric``
AUTO_FALLBACK = "val/deltae00"


class BestCheckpoint(ModelCheckpoint):
    """`ModelCheckpoint` that never keeps a non-finite score or a model with non-finite weights as best.

    ``monitor="auto"`` (the default config) takes the module's own ``best_metric``: ``val/deltae00`` for
    stage 1, ``val/selection`` for stage 2 (`colorgan.modules.selection`).
    """

    def __init__(self, monitor: str | None = "auto", **kwargs: Any) -> None:
        self.auto_monitor = monitor == "auto"
        super().__init__(monitor=AUTO_FALLBACK if self.auto_monitor else monitor, **kwargs)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.auto_monitor:
            self.monitor = getattr(pl_module, "best_metric", AUTO_FALLBACK)
        super().setup(trainer, pl_module, stage)

    def check_monitor_top_k(self, trainer: pl.Trainer, current: torch.Tensor | None = None) -> bool:
        if current is not None and not math.isfinite(float(current)):
            log.warning("%s is %s at step %d: not a best checkpoint", self.monitor, float(current),
                        trainer.global_step)
            return False
        if current is not None and not weights_are_finite(trainer.lightning_module):
            log.warning("non-finite weights at step %d: not a best checkpoint", trainer.global_step)
            return False
        return super().check_monitor_top_k(trainer, current)


class FinalCheckpoint(pl.Callback):
    """Write `last.ckpt` whenever training stops: at its normal end, on Ctrl-C, or on a crash.

    Only when this process trained at least one step: a failure before that (missing data, a bad resume
    checkpoint, a full disk at start-up) leaves the existing `last.ckpt` exactly as it was. Periodic
    checkpoints bound what a killed run loses; this one makes the file match the final state. Unlike
    Lightning's `OnExceptionCheckpoint`, it never deletes its file at teardown, and Lightning never takes
    it as a hint to resume by itself (resuming is decided by `colorgan.build` alone).
    """

    def __init__(self, dirpath: str | Path, filename: str = "last") -> None:
        self.ckpt_path = str(Path(dirpath).expanduser() / f"{filename}.ckpt")
        self.trained_steps = 0

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        self.trained_steps += 1

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.trained_steps:
            trainer.save_checkpoint(self.ckpt_path, weights_only=False)  # the full state, to resume from

    def on_exception(self, trainer: pl.Trainer, *args: Any, **kwargs: Any) -> None:
        if not self.trained_steps:
            log.info("stopped before any training step: %s left as it was", self.ckpt_path)
            return
        try:
            trainer.save_checkpoint(self.ckpt_path, weights_only=False)  # the full state, to resume from
        except (OSError, CheckpointError) as error:  # e.g. the full disk that stopped training
            log.warning("could not write %s on the way out: %s", self.ckpt_path, error)


class _AppendingWriter(ExperimentWriter):
    """Keeps an existing metrics.csv: new rows are appended (the header widened when new keys appear)."""

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if path.is_file():
            with path.open(newline="") as file:
                header = next(csv.reader(file), [])
            self.metrics_keys = sorted(header)


class AppendingCSVLogger(CSVLogger):
    """`CSVLogger` that continues ``metrics.csv`` on resume instead of deleting it."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingWriter(log_dir=self.log_dir)
        return self._experiment

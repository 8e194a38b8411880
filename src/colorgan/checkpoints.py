"""Read colorgan checkpoints safely: plain data only, and only a whitelisted generator is ever built.

``torch.load(weights_only=True)`` refuses pickled code, so a tampered file fails to load instead of running
anything; the generator is rebuilt as ``colorgan.models.UNetColorizer`` from the plain-data record the
training stored (``checkpoint["colorgan"]``), never from an arbitrary ``_target_`` in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from colorgan.color import ColorSpace
from colorgan.errors import UserError
from colorgan.models import UNetColorizer

CHECKPOINT_FORMAT = 1
GENERATOR_TARGET = "colorgan.models.UNetColorizer"


class CheckpointError(UserError):
    """The file is not a usable colorgan checkpoint (missing, foreign, tampered or inconsistent)."""


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file as given; a run directory -> its newest checkpoints/best-*.ckpt, else last.ckpt;
    a two-stage run directory (stage1/, stage2/) -> the latest stage's."""
    path = Path(path).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(f"checkpoint or run directory {path} does not exist")
    for run_dir in (path, path / "stage2", path / "stage1"):
        folder = run_dir / "checkpoints"
        best = sorted(folder.glob("best-*.ckpt"), key=lambda file: (file.stat().st_mtime, file.name))
        if best:
            return best[-1]
        if (folder / "last.ckpt").is_file():
            return folder / "last.ckpt"
    raise CheckpointError(f"no checkpoint in {path}: expected checkpoints/best-*.ckpt or last.ckpt")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _has_target(value: Any) -> bool:
    if isinstance(value, dict):
        return "_target_" in value or any(_has_target(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_target(item) for item in value)
    return False


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """(inference record, generator state_dict) of a colorgan checkpoint, loaded without executing code."""
    path = resolve_checkpoint(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any failure means "not a safe colorgan checkpoint"
        raise CheckpointError(
            f"{path} cannot be loaded safely as a colorgan checkpoint (corrupt, tampered or foreign file; "
            f"only plain tensors and data are accepted): {_first_line(error)}"
        ) from error
    record = checkpoint.get("colorgan") if isinstance(checkpoint, dict) else None
    if not isinstance(record, dict):
        raise CheckpointError(f"{path} is not a colorgan checkpoint (it has no 'colorgan' record)")
    if record.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: unsupported colorgan checkpoint format {record.get('format')!r} "
            f"(expected {CHECKPOINT_FORMAT}; tampered or from another version?)"
        )
    generator = record.get("generator")
    if not isinstance(generator, dict) or generator.get("_target_") != GENERATOR_TARGET:
        target = generator.get("_target_") if isinstance(generator, dict) else None
        raise CheckpointError(
            f"{path}: generator {target!r} is not {GENERATOR_TARGET}; refusing a tampered or foreign file"
        )
    if _has_target(generator.get("encoder")) or not isinstance(record.get("colorspace"), str):
        raise CheckpointError(f"{path}: malformed colorgan record (tampered?)")
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} has no state_dict")
    weights = {key[len("generator."):]: value for key, value in state.items() if key.startswith("generator.")}
    if not weights:
        raise CheckpointError(f"{path} holds no generator weights")
    return record, weights


def build_generator(record: dict[str, Any], weights: dict[str, Tensor], colorspace: ColorSpace) -> nn.Module:
    """A UNetColorizer from the record's plain config (encoder weights 'none': the state_dict has them)."""
    config = {key: value for key, value in record["generator"].items() if key != "_target_"}
    encoder = config.get("encoder")
    if not isinstance(encoder, dict) or "name" not in encoder:
        raise CheckpointError("malformed generator config in checkpoint: encoder name missing")
    config["encoder"] = {**encoder, "weights": "none"}
    try:
        generator = UNetColorizer(chroma_channels=colorspace.chroma_channels, **config)
        generator.load_state_dict(weights, strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        message = f"weights do not fit the stored generator config (tampered?): {_first_line(error)}"
        raise CheckpointError(message) from error
    return generator.eval()

"""The colorgan checkpoint record: the one place that writes, reads, checks and rebuilds from it.

A checkpoint is a ``torch.save``d dict with the generator weights under ``state_dict["generator.*"]`` and a
plain-data record under ``"colorgan"`` (`inference_record`). Reading is safe by construction:

- ``torch.load(weights_only=True)`` always (whatever ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` says), so a tampered
  file fails to load instead of running anything;
- the generator is rebuilt as ``colorgan.models.UNetColorizer`` from the record, never from an arbitrary
  ``_target_``, and first on the ``meta`` device: the record is checked against the stored tensors' shapes
  before a single weight is allocated;
- non-finite weights (a diverged run) are refused.

Writes are atomic in the destination's own folder (`atomic_save`): a kill leaves the old file or the new one,
never a partial one; leftover temporary files are removed by `colorgan.atomic.remove_stale_temporaries`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from colorgan.atomic import atomic_file
from colorgan.color import get_colorspace
from colorgan.errors import UserError, first_line
from colorgan.models import UNetColorizer
from colorgan.models.bins import DEFAULT_TEMPERATURE, check_temperature

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
GENERATOR_TARGET = "colorgan.models.UNetColorizer"


class CheckpointError(UserError):
    """The file is not a usable colorgan checkpoint (missing, foreign, tampered or inconsistent)."""


# ---- the record ------------------------------------------------------------------------------------
def inference_record(stage: str, colorspace: str, generator_config: dict[str, Any], image_size: int,
                     hints: dict[str, Any] | None = None) -> dict:
    """Plain data that lets inference rebuild the generator from the checkpoint alone; ``hints`` (the
    ``model.hints`` settings, see `colorgan.models.hints`) only for a model with hint input."""
    record = {
        "format": CHECKPOINT_FORMAT,
        "stage": str(stage),
        "colorspace": str(colorspace),
        "generator": generator_config,
        "image_size": int(image_size),
    }
    if hints:
        record["hints"] = dict(hints)
    return record


def save_generator(path: str | Path, generator: nn.Module, record: dict[str, Any]) -> Path:
    """A plain (no Lightning state) checkpoint of ``generator`` with ``record``, written atomically."""
    state = {f"generator.{key}": value for key, value in generator.state_dict().items()}
    return atomic_save({"state_dict": state, "colorgan": record}, path)


# ---- atomic files ----------------------------------------------------------------------------------
def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` ``obj`` to ``path`` atomically (`colorgan.atomic.atomic_file`)."""
    with atomic_file(path, "wb") as handle:
        torch.save(obj, handle)
    return Path(path)


# ---- reading ---------------------------------------------------------------------------------------
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
        best = best_checkpoints(folder)
        if best:
            return best[0]
        if (folder / "last.ckpt").is_file():
            return folder / "last.ckpt"
    raise CheckpointError(f"no checkpoint in {path}: expected checkpoints/best-*.ckpt or last.ckpt")


def best_checkpoints(folder: Path) -> list[Path]:
    """``folder``'s best-*.ckpt files, newest first."""
    files = [file for file in folder.glob("best-*.ckpt") if file.is_file()]
    return sorted(files, key=lambda file: (file.stat().st_mtime, file.name), reverse=True)


def load_safely(path: str | Path, mmap: bool = False) -> dict[str, Any]:
    """A checkpoint file's dict, loaded as plain tensors and data only (never pickled code)."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): a save was cut short")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:  # any failure means "not a safe checkpoint"
        refused = "weights only load failed" in str(error).lower()
        why = ("refused: it holds pickled objects or code, which are never loaded" if refused
               else "corrupt, truncated or not a checkpoint")
        raise CheckpointError(f"{path} cannot be loaded safely ({why}): {first_line(error)}") from error
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path} is not a checkpoint (a {type(checkpoint).__name__}, not a dict)")
    return checkpoint


def _has_target(value: Any) -> bool:
    if isinstance(value, dict):
        return "_target_" in value or any(_has_target(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_target(item) for item in value)
    return False


def check_record(record: Any, path: Path | str) -> dict[str, Any]:
    """``record`` if it is a well-formed colorgan record, else a CheckpointError."""
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
    if record.get("hints") is not None and not isinstance(record["hints"], dict):
        raise CheckpointError(f"{path}: malformed colorgan record: 'hints' is not a mapping (tampered?)")
    return record


def non_finite(tensors: dict[str, Tensor]) -> list[str]:
    """Names of floating-point tensors holding NaN or infinity."""
    return [key for key, value in tensors.items()
            if torch.is_floating_point(value) and not bool(torch.isfinite(value).all())]


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """(inference record, generator state_dict) of a colorgan checkpoint, loaded without executing code."""
    path = resolve_checkpoint(path)
    checkpoint = load_safely(path)
    record = check_record(checkpoint.get("colorgan"), path)
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} has no state_dict")
    weights = {key[len("generator."):]: value for key, value in state.items() if key.startswith("generator.")}
    if not weights:
        raise CheckpointError(f"{path} holds no generator weights")
    bad = non_finite(weights)
    if bad:
        raise CheckpointError(
            f"{path} holds non-finite generator weights ({len(bad)} tensors, e.g. {bad[0]}): the run "
            "diverged; use an earlier checkpoint"
        )
    return record, weights


# ---- rebuilding ------------------------------------------------------------------------------------
def bin_temperature(record: dict[str, Any]) -> float | None:
    """The annealed-mean temperature of a bin model's record (``model.loss=bins``), None for regression."""
    generator = record.get("generator")
    head = generator.get("head") if isinstance(generator, dict) else None
    if not isinstance(head, dict) or head.get("kind") != "bins":
        return None
    return float(head.get("temperature", DEFAULT_TEMPERATURE))


def with_temperature(record: dict[str, Any], temperature: float | None) -> dict[str, Any]:
    """``record`` whose bin head decodes at ``temperature`` (None: unchanged); a UserError for a regression
    model or a temperature outside (0, 10]."""
    if temperature is None:
        return record
    if bin_temperature(record) is None:
        raise UserError("--temperature applies to a model trained with model.loss=bins; this one regresses "
                        "its colors (no temperature to set)")
    try:
        temperature = check_temperature(temperature)
    except ValueError as error:
        raise UserError(f"--temperature: {error}") from error
    head = {**record["generator"]["head"], "temperature": temperature}
    return {**record, "generator": {**record["generator"], "head": head}}


def _generator_arguments(record: dict[str, Any]) -> dict[str, Any]:
    config = {key: value for key, value in record["generator"].items() if key != "_target_"}
    encoder = config.get("encoder")
    if not isinstance(encoder, dict) or "name" not in encoder:
        raise CheckpointError("malformed generator config in checkpoint: encoder name missing")
    config["encoder"] = {**encoder, "weights": "none"}  # the state_dict holds the weights
    config["hints"] = bool((record.get("hints") or {}).get("enabled"))  # a model with hint input
    try:
        config["chroma_channels"] = get_colorspace(record["colorspace"]).chroma_channels
    except (KeyError, ValueError) as error:
        raise CheckpointError(f"unknown color space in checkpoint: {first_line(error)}") from error
    return config


def _shape_mismatches(expected: dict[str, Tensor], weights: dict[str, Tensor]) -> list[str]:
    problems = [f"missing {key}" for key in expected if key not in weights]
    problems += [f"unexpected {key}" for key in weights if key not in expected]
    problems += [
        f"{key}: stored {tuple(weights[key].shape)}, record asks {tuple(value.shape)}"
        for key, value in expected.items()
        if key in weights and tuple(weights[key].shape) != tuple(value.shape)
    ]
    return problems


_FITS = "weights do not fit the stored generator config (tampered?)"


def check_weights_fit(record: dict[str, Any], weights: dict[str, Tensor]) -> dict[str, Any]:
    """The generator's constructor arguments, once the record's architecture (built on the ``meta`` device:
    no memory) has exactly the stored tensors' names and shapes; else a CheckpointError."""
    config = _generator_arguments(record)
    try:
        with torch.device("meta"):
            skeleton = UNetColorizer(**config)
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise CheckpointError(f"{_FITS}: {first_line(error)}") from error
    problems = _shape_mismatches(skeleton.state_dict(), weights)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CheckpointError(f"{_FITS}: {problems[0]}{more}")
    return config


def build_generator(record: dict[str, Any], weights: dict[str, Tensor]) -> nn.Module:
    """A UNetColorizer (eval mode) from a checked record and its weights (`check_weights_fit` first)."""
    config = check_weights_fit(record, weights)
    try:
        generator = UNetColorizer(**config)
        generator.load_state_dict(weights, strict=True)
    except (TypeError, ValueError, RuntimeError, KeyError) as error:
        raise CheckpointError(f"{_FITS}: {first_line(error)}") from error
    return generator.eval()

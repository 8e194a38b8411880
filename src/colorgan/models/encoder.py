"""A timm ``features_only`` backbone that takes one luma channel in [-1, 1] (plus optional extra inputs)."""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import Iterator

import timm
import torch
from torch import Tensor, nn

from .weights import WeightsError, check_checkpoint_fits, resolve_encoder_weights

_DEFAULT_MEAN = (0.485, 0.456, 0.406)
_DEFAULT_STD = (0.229, 0.224, 0.225)


class Encoder(nn.Module):
    """Multi-scale features of a 1-channel image from a timm backbone.

    timm adapts the pretrained RGB stem to one channel by summing it over RGB, so a gray value ``g`` sees
    the response of the RGB image (g, g, g). Inputs are therefore normalized with the pretrained mean/std
    averaged over RGB.

    ``extra_channels`` (e.g. color hints and their mask) are appended to the normalized luma, unscaled; the
    stem's filters for them start at zero, so a pretrained encoder behaves exactly as with luma alone.
    """

    def __init__(
        self,
        name: str = "tf_efficientnet_lite0",
        weights: str = "efficientnet_lite",
        out_indices: tuple[int, ...] | None = None,
        extra_channels: int = 0,
    ) -> None:
        super().__init__()
        _check_model_name(name)
        create_kwargs = resolve_encoder_weights(name, weights)
        self.name = name
        self.weights = weights
        self.model = _create_features_model(name, weights, create_kwargs, out_indices)
        weights_file = create_kwargs.get("pretrained_cfg_overlay", {}).get("file")
        if weights_file is not None:
            check_checkpoint_fits(self.model, weights_file, name)

        self.channels: list[int] = list(self.model.feature_info.channels())
        self.reductions: list[int] = list(self.model.feature_info.reduction())
        config = getattr(self.model, "pretrained_cfg", None) or {}
        mean = sum(config.get("mean") or _DEFAULT_MEAN) / 3
        std = sum(config.get("std") or _DEFAULT_STD) / 3
        # luma in [-1, 1] -> x in [0, 1] -> (x - mean) / std, folded into one scale and shift.
        self.input_scale = 0.5 / std
        self.input_shift = (0.5 - mean) / std
        self.extra_channels = int(extra_channels)
        if self.extra_channels < 0:
            raise ValueError(f"extra_channels must be >= 0, got {extra_channels!r}")
        if self.extra_channels:
            widen_first_conv(self.model, self.extra_channels)

    @property
    def stride(self) -> int:
        """Input sizes must be multiples of this (the coarsest feature's reduction)."""
        return max(self.reductions)

    def forward(self, luma: Tensor, extra: Tensor | None = None) -> list[Tensor]:
        """Features from fine to coarse for ``luma`` [B, 1, H, W] in [-1, 1] and ``extra`` inputs
        [B, extra_channels, H, W] (zeros when None)."""
        x = luma * self.input_scale + self.input_shift
        if self.extra_channels:
            if extra is None:
                extra = x.new_zeros(x.shape[0], self.extra_channels, *x.shape[-2:])
            x = torch.cat([x, extra.to(x.dtype)], dim=1)
        return self.model(x)


def widen_first_conv(model: nn.Module, extra: int) -> str:
    """Append ``extra`` zero input filters to the model's first 1-channel convolution (its stem), in place;
    returns its name. The layer keeps its class (e.g. timm's same-padding convolution) and its key."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            if module.in_channels != 1 or module.groups != 1:
                break
            weight = module.weight.detach()
            zeros = weight.new_zeros(weight.shape[0], extra, *weight.shape[2:])
            module.weight = nn.Parameter(torch.cat([weight, zeros], dim=1))
            module.in_channels += extra
            return name
    raise ValueError("cannot add hint inputs: the encoder's first convolution does not take 1 channel")


def _check_model_name(name: str) -> None:
    if not isinstance(name, str) or not timm.is_model(name):
        close = difflib.get_close_matches(str(name), timm.list_models(), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown timm encoder {name!r}.{hint} List names with "
            "python -c \"import timm; print(timm.list_models('*efficientnet*'))\""
        )


def _create_features_model(
    name: str, weights: str, create_kwargs: dict, out_indices: tuple[int, ...] | None
) -> nn.Module:
    kwargs = dict(create_kwargs, features_only=True, in_chans=1)
    if out_indices is not None:
        kwargs["out_indices"] = tuple(out_indices)
    # Our EfficientNet-Lite cache is a full classifier checkpoint; the feature encoder drops its head.
    quiet = weights.strip().lower() == "efficientnet_lite"
    try:
        with _quiet_timm_loader(quiet):
            return timm.create_model(name, **kwargs)
    except WeightsError:
        raise
    except Exception as exc:
        if weights.strip().lower() == "hub":
            raise WeightsError(
                f"timm could not fetch pretrained weights for {name!r} ({type(exc).__name__}: {exc}). "
                "No internet? Use weights=efficientnet_lite or a local weights file."
            ) from exc
        if create_kwargs.get("pretrained"):
            message = f"could not load weights {weights!r} into encoder {name!r}: {_brief(exc)}"
            raise WeightsError(message) from exc
        raise ValueError(
            f"timm could not build {name!r} as a 1-channel features_only encoder"
            f"{f' with out_indices={out_indices}' if out_indices is not None else ''}: {exc}"
        ) from exc


def _brief(exc: Exception, max_lines: int = 4) -> str:
    """The first lines of an exception's message (torch lists every mismatched tensor)."""
    lines = str(exc).splitlines()
    more = f" ... ({len(lines) - max_lines} more lines)" if len(lines) > max_lines else ""
    return " ".join(line.strip() for line in lines[:max_lines]) + more


@contextlib.contextmanager
def _quiet_timm_loader(enabled: bool) -> Iterator[None]:
    """Hide timm's "Unexpected keys" warning while it loads a checkpoint known to hold a classifier head."""
    logger = logging.getLogger("timm.models._builder")
    previous = logger.level
    if enabled:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)

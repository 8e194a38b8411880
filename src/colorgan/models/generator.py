"""The colorizer: luma (and optional color hints) in, chroma out, via a timm encoder and a U-Net decoder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .bins import BinHead, head_settings
from .decoder import UNetDecoder
from .encoder import Encoder

FINAL_ACTIVATIONS = ("tanh", "identity")
#: what `UNetColorizer.forward` returns: chroma; (chroma, bin logits); (None, bin logits)
OUTPUTS = ("chroma", "both", "logits")


class UNetColorizer(nn.Module):
    """Predict ``chroma_channels`` maps in [-1, 1] from a luma image [B, 1, H, W] in [-1, 1], any H and W.

    With ``hints=True`` it also takes user color hints [B, C + 1, H, W]: the hint chroma (normalized like the
    target, 0 where there is none) and a 0/1 mask. They join the luma at the encoder's stem and at the
    decoder's full-resolution last stage; both layers' filters for them start at zero, so an untrained hint
    model computes exactly what the hint-free one does, and "no hints" (all zeros) always does.

    ``head``: None or ``{kind: regression}`` — a 3x3 convolution and ``final_activation`` regress the chroma;
    ``{kind: bins, per_channel, temperature, stride}`` — a distribution over chroma bins decoded by the
    annealed mean (`colorgan.models.bins`); ``forward(..., output="both")`` also returns its logits.
    """

    def __init__(
        self,
        chroma_channels: int,
        encoder: Mapping[str, Any],
        decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
        decoder_norm: str = "batch",
        final_activation: str = "tanh",
        decoder_upsample: str = "nearest",
        hints: bool = False,
        head: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(chroma_channels, int) or chroma_channels < 1:
            raise ValueError(f"chroma_channels must be a positive int, got {chroma_channels!r}")
        if final_activation not in FINAL_ACTIVATIONS:
            raise ValueError(
                f"unknown final_activation {final_activation!r}: choose one of {', '.join(FINAL_ACTIVATIONS)}"
            )
        self.chroma_channels = chroma_channels
        self.hint_channels = chroma_channels + 1 if hints else 0
        self.encoder = Encoder(**{**dict(encoder), "extra_channels": self.hint_channels})
        self.decoder = UNetDecoder(
            self.encoder.channels,
            decoder_channels,
            input_channels=1 + self.hint_channels,
            norm=decoder_norm,
            upsample=decoder_upsample,
        )
        if self.hint_channels:  # the last block's inputs end with the hint channels: start them at zero
            with torch.no_grad():
                self.decoder.blocks[-1].conv1[0].weight[:, -self.hint_channels :].zero_()
        bins = head_settings(dict(head) if head else None)
        if bins:
            self.head: nn.Module = BinHead(self.decoder.out_channels, chroma_channels, **bins)
            if self.encoder.stride % self.head.stride:
                raise ValueError(f"bins stride {self.head.stride} must divide the encoder's stride "
                                 f"{self.encoder.stride}")
        else:  # the regression head (its state_dict keys head.0.* are those of every earlier checkpoint)
            self.head = nn.Sequential(
                nn.Conv2d(self.decoder.out_channels, chroma_channels, 3, padding=1),
                nn.Tanh() if final_activation == "tanh" else nn.Identity(),
            )
        self.encoder_frozen = False

    @property
    def takes_hints(self) -> bool:
        """Whether the model has the hint input."""
        return self.hint_channels > 0

    @property
    def predicts_bins(self) -> bool:
        """Whether the head predicts chroma bins (`BinHead`) rather than regressing chroma."""
        return isinstance(self.head, BinHead)

    def forward(
        self, luma: Tensor, hints: Tensor | None = None, output: str = "chroma"
    ) -> Tensor | tuple[Tensor | None, Tensor | None]:
        """Chroma [B, C, H, W] for ``luma`` [B, 1, H, W] and, for a hint model, ``hints`` [B, C + 1, H, W]
        (None: no hints); pads to the encoder stride and crops back. ``output``: ``chroma``; ``both``:
        (chroma, the bin head's logits or None for a regression head); ``logits``: (None, logits) — a bin
        model's training step, which needs no decoding."""
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        chroma, logits = self._predict(luma, hints, decode=output != "logits")
        return chroma if output == "chroma" else (chroma, logits)

    def _predict(
        self, luma: Tensor, hints: Tensor | None, decode: bool
    ) -> tuple[Tensor | None, Tensor | None]:
        if luma.ndim != 4 or luma.shape[1] != 1:
            raise ValueError(f"UNetColorizer expects luma of shape [B, 1, H, W], got {tuple(luma.shape)}")
        height, width = luma.shape[-2:]
        padded = _pad_to_multiple(luma, self.encoder.stride)
        if not self.hint_channels:
            if hints is not None:
                raise ValueError("this UNetColorizer was built without hint input (hints=False)")
            return self._head(self.decoder(self.encoder(padded), padded), height, width, decode)
        if hints is None:
            hints = luma.new_zeros(luma.shape[0], self.hint_channels, height, width)
        expected = (luma.shape[0], self.hint_channels, height, width)
        if tuple(hints.shape) != expected:
            raise ValueError(f"hints must have shape {list(expected)}, got {list(hints.shape)}")
        hints = F.pad(hints.to(luma.dtype), (0, padded.shape[-1] - width, 0, padded.shape[-2] - height))
        features = self.encoder(padded, hints)
        return self._head(self.decoder(features, torch.cat([padded, hints], dim=1)), height, width, decode)

    def _head(
        self, maps: Tensor, height: int, width: int, decode: bool
    ) -> tuple[Tensor | None, Tensor | None]:
        """The head on the decoder's (padded) maps, its chroma cropped to the input size; a bin head's logits
        cropped to the cells that hold input pixels (``decode=False``: logits only)."""
        if self.predicts_bins:
            logits = self.head.class_logits(maps)
            chroma = self.head.decode(logits)[..., :height, :width] if decode else None
            stride = self.head.stride
            return chroma, logits[..., : -(-height // stride), : -(-width // stride)]
        return self.head(maps)[..., :height, :width], None

    def adapt_state_dict(self, weights: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """A hint-free generator's ``weights`` made to fit this one: each input layer that lacks the hint
        inputs gets them as zero filters (the hint model then computes what the hint-free one did)."""
        own = self.state_dict()
        adapted = dict(weights)
        for key, value in weights.items():
            target = own.get(key)
            if (target is not None and value.ndim == 4 and target.ndim == 4
                    and value.shape[1] + self.hint_channels == target.shape[1]
                    and (value.shape[0], *value.shape[2:]) == (target.shape[0], *target.shape[2:])):
                zeros = value.new_zeros(value.shape[0], self.hint_channels, *value.shape[2:])
                adapted[key] = torch.cat([value, zeros], dim=1)
        return adapted

    def set_encoder_frozen(self, frozen: bool) -> None:
        """Stop (or resume) training the encoder: no gradients, and its BatchNorm statistics stay fixed."""
        self.encoder_frozen = bool(frozen)
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(not self.encoder_frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> UNetColorizer:
        """Set train/eval mode; a frozen encoder always stays in eval mode."""
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self


def _pad_to_multiple(image: Tensor, multiple: int) -> Tensor:
    """Pad bottom/right to a multiple of ``multiple``: reflect if the image is big enough, else replicate."""
    height, width = image.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return image
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(image, (0, pad_w, 0, pad_h), mode=mode)

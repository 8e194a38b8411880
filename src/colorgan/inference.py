"""Colorize photos of any size with a trained checkpoint, keeping each photo's own full-resolution luminance.

The network runs at a *working size* (by default twice the training size, scaled to the photo's aspect
ratio, averaged with a pass at the training size: `colorgan.scales`; the generator pads to its encoder
stride itself). Its RGB prediction is reduced to YCbCr chroma, upsampled bilinearly to
the photo's resolution and merged with the photo's full-resolution gray, the same way for every color space.
So a 4000×3000 photo comes out 4000×3000, as sharp as it went in, and its Rec.601 luma equals the input's
gray up to uint8 rounding (≤ 0.5 level) wherever the merged color lies inside the sRGB gamut.

Checkpoints are loaded safely (weights only, whitelisted generator): see `colorgan.checkpoints`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from colorgan.backends import Backend, OnnxBackend, TorchBackend, onnx_for_checkpoint
from colorgan.checkpoints import (
    CheckpointError,
    bin_temperature,
    build_generator,
    read_checkpoint,
    resolve_checkpoint,
    with_temperature,
)
from colorgan.color import ColorSpace, get_colorspace
from colorgan.color.affine import affine_merge_matrix
from colorgan.errors import UserError
from colorgan.file_jobs import colorize_jobs, side_by_side
from colorgan.hints import DEFAULT_HINT_SIZE, Hint, HintError, check_points, hint_map, suggest_chroma
from colorgan.photo_input import (
    STRIP_ROWS,
    ImageLike,
    PreparedImage,
    UnsupportedSize,
    auto_device,
    gray_of,
    working_size,
)
from colorgan.scales import PassOptions, averaged_over_passes, fractions_for_call, working_passes

__all__ = ["CheckpointError", "Colorizer", "NonFiniteOutput", "PassOptions", "UnsupportedSize", "auto_device",
           "colorize_jobs", "resolve_checkpoint", "side_by_side"]
#: the color space whose chroma carries the prediction to full resolution (linear, keeps Rec.601 luma)
REFERENCE_SPACE = "ycbcr"


class NonFiniteOutput(UserError):
    """The network produced NaN or infinity: a broken (diverged) model; nothing is written from it."""


class Colorizer:
    """A trained generator ready to colorize PIL images, arrays or files of any size."""

    def __init__(self, generator: nn.Module | Backend, colorspace: str | ColorSpace, image_size: int,
                 device: str | torch.device | None = None, options: PassOptions | None = None) -> None:
        """``generator``: a PyTorch module (run by `TorchBackend` on ``device``) or a ready `Backend`;
        ``options``: how each photo is run (`colorgan.scales.PassOptions`: working size or scales, caution,
        saturation, mirror; ``mirror`` not for hint models, whose hints are placed by position).
        """
        if isinstance(generator, nn.Module):
            generator = TorchBackend(generator, auto_device(str(device) if device is not None else None))
        self.backend: Backend = generator
        self.device = generator.device
        self.generator: nn.Module | None = getattr(generator, "generator", None)
        self.colorspace = colorspace if isinstance(colorspace, ColorSpace) else get_colorspace(colorspace)
        self.reference = get_colorspace(REFERENCE_SPACE)
        self.merge_matrix = affine_merge_matrix(self.reference)
        self.image_size = int(image_size)
        self.options = self._checked(options or PassOptions())
        self.short_side, self.fractions = working_passes(self.image_size, self.options.short_side,
                                                         self.options.scales, self.takes_hints)
        self.checkpoint_path: Path | None = None
        self.hint_settings: dict | None = None  # the model.hints settings of a hint model's checkpoint
        self.temperature: float | None = None  # a bin model's annealed-mean temperature (None: regression)

    def _checked(self, options: PassOptions) -> PassOptions:
        if options.mirror and self.takes_hints:
            raise UserError("a hint model runs unmirrored (its hints are placed by position): drop --mirror")
        return options

    @property
    def caution(self) -> float:
        """The fall-back towards gray where the passes disagree (``options.caution``)."""
        return self.options.caution

    @property
    def saturation(self) -> float:
        """The final chroma's gain (``options.saturation``)."""
        return self.options.saturation

    @property
    def mirror(self) -> bool:
        """Whether every pass also runs on the mirrored photo (``options.mirror``)."""
        return self.options.mirror

    @property
    def pass_sides(self) -> list[int]:
        """The short side of each network pass, in px: the working size first."""
        return [self.short_side, *(max(1, round(self.short_side * f)) for f in self.fractions)]

    @property
    def takes_hints(self) -> bool:
        """Whether the model takes color hints (trained with ``model.hints.enabled=true``; an ONNX export
        of such a model has a hint input)."""
        exported_with_hints = bool(getattr(self.backend, "hint_channels", 0))
        return bool(getattr(self.generator, "takes_hints", False)) or exported_with_hints

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None,
                        temperature: float | None = None, **options: Any) -> Colorizer:
        """Load a checkpoint file or a run directory's best checkpoint (safely: weights only); a bin model
        (``model.loss=bins``) decodes at ``temperature`` if given, else at its trained one. ``options``:
        `colorgan.scales.PassOptions`' fields (``short_side``, ``scales``, ``caution``, ``saturation``,
        ``mirror``)."""
        resolved = resolve_checkpoint(path)
        record, weights = read_checkpoint(resolved)
        record = with_temperature(record, temperature)
        colorspace = get_colorspace(record["colorspace"])
        generator = build_generator(record, weights)
        image_size = int(record.get("image_size") or 128)
        colorizer = cls(generator, colorspace, image_size, device, PassOptions(**options))
        colorizer.checkpoint_path = resolved
        colorizer.hint_settings = record.get("hints")
        colorizer.temperature = bin_temperature(record)
        return colorizer

    @classmethod
    def from_onnx(cls, path: str | Path, device: str | torch.device | None = None,
                  **options: Any) -> Colorizer:
        """Load a ``python -m colorgan.export`` ONNX model, run by onnxruntime (same merge as torch);
        ``options`` as in `from_checkpoint`."""
        backend = OnnxBackend(path, auto_device(str(device) if device is not None else "cpu"))
        meta = backend.metadata
        colorizer = cls(backend, meta["colorspace"], int(meta["image_size"]), options=PassOptions(**options))
        colorizer.checkpoint_path = backend.path
        record = meta.get("record")
        colorizer.temperature = bin_temperature(record) if isinstance(record, dict) else None
        return colorizer

    @classmethod
    def load(cls, model: str | Path, device: str | torch.device | None = None, backend: str = "torch",
             temperature: float | None = None, **options: Any) -> Colorizer:
        """A checkpoint, run directory or .onnx file run by ``backend`` (torch | onnxruntime); an .onnx file
        always runs on onnxruntime, a checkpoint on onnxruntime through its export (`onnx_for_checkpoint`).
        ``temperature``: a bin model's, torch backend only (an export has its own, fixed at export);
        ``options`` as in `from_checkpoint`."""
        onnx = str(model).lower().endswith(".onnx") or backend == "onnxruntime"
        if temperature is not None and onnx:
            raise UserError("--temperature needs the torch backend and a checkpoint: an ONNX export decodes "
                            "at the temperature it was exported with (colorgan-export --temperature T)")
        if str(model).lower().endswith(".onnx"):
            return cls.from_onnx(model, device, **options)
        if backend == "onnxruntime":
            return cls.from_onnx(onnx_for_checkpoint(resolve_checkpoint(model)), device, **options)
        if backend != "torch":
            raise UserError(f"unknown backend {backend!r}: choose torch or onnxruntime")
        return cls.from_checkpoint(model, device, temperature, **options)

    # ---- public API ---------------------------------------------------------------------------
    def colorize(self, image: ImageLike, short_side: int | None = None,
                 hints: Sequence[Hint] | Tensor | None = None, hint_size: int = DEFAULT_HINT_SIZE,
                 saturation: float | None = None, caution: float | None = None,
                 mirror: bool | None = None) -> Image.Image | np.ndarray:
        """Colorize one photo; PIL images and paths give a PIL RGB image, arrays an H×W×3 uint8 array.
        ``saturation``, ``caution``, ``mirror``: this call's (default: the colorizer's).

        ``hints`` (a hint model only): ``[(x, y, (r, g, b)), ...]`` in full-resolution pixels with 0-255
        colors, each a ``hint_size``-px square at the working size (see `colorgan.hints`), or a ready hint
        map [C + 1, h, w] at the working size (as `colorgan.models.hints.truth_hints` makes).
        """
        if hints is None:
            return self.colorize_batch([image], short_side, saturation=saturation, caution=caution,
                                       mirror=mirror)[0]
        prepared = self.prepare(image, short_side)
        hint_input = self.hint_input(prepared, hints, hint_size)
        options = self.call_options(saturation, caution, mirror)
        rgb = self.predict([prepared.luma], hints=[hint_input], options=options)[0]
        array = self.full_resolution(prepared.gray, rgb)
        return Image.fromarray(array) if prepared.as_pil else array

    def hint_input(self, prepared: PreparedImage, hints: Sequence[Hint] | Tensor,
                   hint_size: int = DEFAULT_HINT_SIZE) -> Tensor:
        """The model's hint map [C + 1, h, w] for a prepared photo; a HintError for a hint-free model."""
        if not self.takes_hints:
            raise HintError(f"{self.checkpoint_path or 'this model'} takes no color hints: train one with "
                            "model.hints.enabled=true (see README, Hints)")
        size = tuple(prepared.luma.shape[-2:])
        if isinstance(hints, Tensor):
            expected = (self.colorspace.chroma_channels + 1, *size)
            if tuple(hints.shape) != expected:
                raise HintError(f"a hint map must have shape {list(expected)}, got {list(hints.shape)}")
            return hints.float()
        gray_small = F.interpolate(prepared.gray[None, None], size=size, mode="bicubic", antialias=True)
        return hint_map(hints, self.colorspace, gray_small[0].clamp(0.0, 1.0), tuple(prepared.gray.shape),
                        hint_size)

    @torch.no_grad()
    def suggest(self, image: ImageLike, x: float, y: float, k: int = 5, hints: Sequence[Hint] | None = None,
                hint_size: int = DEFAULT_HINT_SIZE,
                short_side: int | None = None) -> list[tuple[int, int, int]]:
        """Up to ``k`` distinct RGB colors (0-255) the model itself predicts at the pixel (x, y), for a
        palette: its prediction there first, then its colors around the point, then elsewhere in the photo
        (see `colorgan.hints.suggest_chroma`); one network run, with ``hints`` if given. Each color is
        shown at the photo's brightness at (x, y). Works for hint-free models too."""
        prepared = self.prepare(image, short_side)
        height, width = prepared.gray.shape
        check_points([(x, y, (0, 0, 0))], width, height)
        hint_maps = [self.hint_input(prepared, hints, hint_size)] if hints else None
        rgb = self.predict([prepared.luma], hints=hint_maps, fractions=fractions_for_call(short_side))[0]
        rgb = rgb[None].to(self.device)
        chroma = self.colorspace.split(rgb)[1][0]  # [C, h, w]
        small_h, small_w = chroma.shape[-2:]
        row, col = min(int(y * small_h / height), small_h - 1), min(int(x * small_w / width), small_w - 1)
        picked = suggest_chroma(chroma, row, col, k)[None, :, None]  # [1, C, 1, k]
        luma = prepared.luma[None, :, row : row + 1, col : col + 1].to(self.device)
        rgb = self.colorspace.merge(luma.expand(1, 1, 1, picked.shape[-1]), picked)
        return [tuple(color) for color in rgb[0, :, 0].T.mul(255).round().int().tolist()]

    def colorize_batch(self, images: Sequence[ImageLike], short_side: int | None = None, batch_size: int = 8,
                       saturation: float | None = None, caution: float | None = None,
                       mirror: bool | None = None) -> list[Image.Image | np.ndarray]:
        """Colorize several photos, batching the network over photos that share a working size; a
        ``short_side`` given here means one pass at that size."""
        prepared = [self.prepare(image, short_side) for image in images]
        options = self.call_options(saturation, caution, mirror)
        small = self.predict([item.luma for item in prepared], batch_size,
                             fractions=fractions_for_call(short_side), options=options)
        results: list[Image.Image | np.ndarray] = []
        for item, rgb in zip(prepared, small, strict=True):
            array = self.full_resolution(item.gray, rgb)
            results.append(Image.fromarray(array) if item.as_pil else array)
        return results

    def call_options(self, saturation: float | None = None, caution: float | None = None,
                     mirror: bool | None = None) -> PassOptions:
        """The colorizer's options with one call's own values (None: the colorizer's), checked."""
        return self._checked(self.options.for_call(saturation, caution, mirror))

    # ---- the three steps ----------------------------------------------------------------------
    def prepare(self, image: ImageLike, short_side: int | None = None) -> PreparedImage:
        """Full-resolution gray and the model's luma input at the working size."""
        gray, was_color, as_pil = gray_of(image)
        size = working_size(*gray.shape, int(short_side or self.short_side))
        small = F.interpolate(gray[None, None], size=size, mode="bicubic", antialias=True)
        luma = self.colorspace.luma_from_gray(small.clamp_(0.0, 1.0))[0]
        return PreparedImage(gray=gray, luma=luma, was_color=was_color, as_pil=as_pil)

    @torch.no_grad()
    def predict(self, lumas: Sequence[Tensor], batch_size: int = 8, hints: Sequence[Tensor] | None = None,
                fractions: Sequence[float] | None = None, options: PassOptions | None = None) -> list[Tensor]:
        """Colorized RGB [3,h,w] at the working size for each luma [1,h,w] (batched by equal size), with
        each one's hint map [C + 1, h, w] if ``hints`` are given (a hint model only, one pass).

        ``fractions``: extra passes as fractions of the working size, chroma averaged (default: the
        colorizer's own, `colorgan.scales`; ``()`` for one pass); ``options``: this call's caution,
        saturation and mirror (default: the colorizer's; see `call_options`)."""
        extra = () if hints is not None else tuple(self.fractions if fractions is None else fractions)
        options = self.options if options is None else self._checked(options)
        results: list[Tensor | None] = [None] * len(lumas)
        by_size: dict[tuple[int, ...], list[int]] = {}
        for index, luma in enumerate(lumas):
            by_size.setdefault(tuple(luma.shape), []).append(index)
        for indices in by_size.values():
            for start in range(0, len(indices), max(1, batch_size)):
                chunk = indices[start : start + max(1, batch_size)]
                luma = torch.stack([lumas[i] for i in chunk]).to(self.device)
                hint_batch = None if hints is None else torch.stack([hints[i] for i in chunk]).to(self.device)
                network = partial(self.network_rgb, hints=hint_batch)
                rgb = averaged_over_passes(network, luma, extra, self.reference, options.caution,
                                           options.saturation, options.mirror)
                for i, image in zip(chunk, rgb.cpu(), strict=True):
                    results[i] = image
        return [image for image in results if image is not None]

    def network_rgb(self, luma: Tensor, hints: Tensor | None = None) -> Tensor:
        """One network pass merged to RGB [B,3,h,w] in the model's space; `NonFiniteOutput` on NaN/inf."""
        chroma = self.backend(luma) if hints is None else self.backend(luma, hints)
        finite = torch.isfinite(chroma).flatten(1).all(dim=1)
        if not bool(finite.all()):
            raise NonFiniteOutput(
                f"the model's output is not finite (NaN or infinity) for {int((~finite).sum())} of "
                f"{len(luma)} photos: the checkpoint is broken (a diverged run?); nothing is written from it"
            )
        return self.colorspace.merge(luma, chroma)

    @torch.no_grad()
    def full_resolution(self, gray: Tensor, rgb_small: Tensor) -> np.ndarray:
        """Merge the prediction's chroma, upsampled, with the full-resolution gray: H×W×3 uint8.

        Equals ``reference.merge(reference.luma_from_gray(gray), upsampled chroma)`` rounded to uint8, but
        computed as ``gray + upsample(M·chroma)``: the reference merge is ``gray + M·chroma`` (M probed from
        the space) and bilinear upsampling is linear, so the RGB offset is formed at the working size and
        only a few passes touch the full-resolution pixels (in strips of rows).
        """
        height, width = gray.shape
        _, chroma_small = self.reference.split(rgb_small[None].to(self.device))
        offset = torch.einsum("kc,bchw->bkhw", self.merge_matrix.to(self.device) * 255.0, chroma_small)
        offset = offset.add_(0.5).contiguous(memory_format=torch.channels_last)  # +0.5: uint8 cast truncates
        upsampled = F.interpolate(offset, size=(height, width), mode="bilinear", align_corners=False)
        upsampled = upsampled[0].permute(1, 2, 0).contiguous()  # H×W×3 (already so when channels_last)
        output = np.empty((height, width, 3), dtype=np.uint8)
        target = torch.from_numpy(output)
        for top in range(0, height, STRIP_ROWS):
            rows = slice(top, top + STRIP_ROWS)
            strip = upsampled[rows].add_(gray[rows].to(self.device).unsqueeze(-1), alpha=255.0)
            target[rows].copy_(strip.clamp_(0.0, 255.0))  # float -> uint8 in the copy
        return output

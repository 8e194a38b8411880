"""Multi-scale inference: the network runs on a photo at two working sizes and the chroma is averaged.

A model trained on random crops at S px meets whole photos at inference. By default (`DEFAULT_SCALES`) a
photo is colorized at a short side of 2·S, where its colors are placed more finely, and again at S, the
scale it learned from; the second prediction is upsampled and the two chromas are averaged, then shrunk
towards gray where the passes disagree (`DEFAULT_CAUTION`); a saturation gain (default 1: none) scales the
result. On request (``mirror``) every pass also runs on the left-right mirrored photo. On real photos the
two passes beat one pass at S on every test set measured (README, "Multi-scale inference"). The passes are
combined on the YCbCr chroma of each pass's merged RGB, so it is the same operation for every color space
and keeps the working size's own luma.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from colorgan.color import ColorSpace
from colorgan.errors import UserError, checked_number

#: passes as multiples of the training size, largest first: the working size, then its extra passes
DEFAULT_SCALES = (2.0, 1.0)
#: a model that takes color hints runs one pass at its training size (its hints are working-size squares)
HINT_SCALES = (1.0,)
MAX_SCALE = 16.0
MIN_PASS_SIDE = 8
#: how much the averaged chroma falls back towards gray where the passes disagree (0: a plain mean)
DEFAULT_CAUTION = 2.0
#: the final chroma's gain (1: as predicted; above 1 more colorful, below 1 duller, 0 gray)
DEFAULT_SATURATION = 1.0
MAX_SATURATION = 4.0


@dataclass(frozen=True)
class PassOptions:
    """How a colorizer runs its network on a photo. Each value is checked when the options are made; how
    the short side or scales fit a model (its training size, a hint model's single pass) is checked by the
    colorizer that uses them (`working_passes`).

    ``short_side``: one pass at that working size in px; ``scales``: passes at these multiples of the
    training size (default `DEFAULT_SCALES`; not with ``short_side``); ``caution``, ``saturation``,
    ``mirror``: as in `averaged_over_passes`.
    """

    short_side: int | None = None
    scales: tuple[float, ...] | None = None
    caution: float = DEFAULT_CAUTION
    saturation: float = DEFAULT_SATURATION
    mirror: bool = False

    def __post_init__(self) -> None:
        checked = {"short_side": int(self.short_side) if self.short_side else None,
                   "scales": None if self.scales is None else checked_scales(self.scales),
                   "caution": checked_caution(self.caution),
                   "saturation": checked_saturation(self.saturation), "mirror": bool(self.mirror)}
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def for_call(self, saturation: float | None = None, caution: float | None = None,
                 mirror: bool | None = None) -> PassOptions:
        """These options with one call's own values (None: keep these)."""
        given = {"saturation": saturation, "caution": caution, "mirror": mirror}
        return replace(self, **{name: value for name, value in given.items() if value is not None})


def pass_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """`add_pass_arguments`' values as `PassOptions` fields (for ``Colorizer.load(..., **fields)``)."""
    return {"short_side": args.short_side, "scales": args.scales, "caution": args.caution,
            "saturation": args.saturation, "mirror": args.mirror}


def add_pass_arguments(parser: argparse.ArgumentParser) -> None:
    """``--short-side``, ``--scales``, ``--caution``, ``--saturation`` and ``--mirror``, the same for every
    command that colorizes."""
    parser.add_argument("--short-side", type=int, default=None,
                        help="one network pass at this short side in px (default: --scales)")
    parser.add_argument("--scales", type=parse_scales, default=None, metavar="S1,S2",
                        help="network passes at these multiples of the training size, chroma averaged "
                             "(default 2,1; 1 = one pass at the training size; a hint model: 1)")
    parser.add_argument("--caution", type=caution_argument, default=DEFAULT_CAUTION, metavar="K",
                        help="with several passes (or --mirror), fall back towards gray where they "
                             "disagree: the mean chroma m becomes m|m|^2/(|m|^2 + K var) (default "
                             "%(default)g; 0: plain mean)")
    parser.add_argument("--saturation", type=saturation_argument, default=DEFAULT_SATURATION, metavar="G",
                        help="multiply the final chroma by G: above 1 more colorful (at some cost in "
                             "accuracy, README), below 1 duller, 0 gray (default %(default)g)")
    parser.add_argument("--mirror", action="store_true",
                        help="also run every pass on the mirrored photo and average it in (twice the network "
                             "time; a little more accurate, fewer casts on unfamiliar photos: README)")


def check_pass_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A usage error (exit 2) for a too small ``--short-side`` or one given with ``--scales``."""
    if args.short_side is not None and args.short_side < MIN_PASS_SIDE:
        parser.error(f"--short-side must be >= {MIN_PASS_SIDE}")
    if args.short_side is not None and args.scales is not None:
        parser.error("give --short-side (one pass at N px) or --scales, not both")


def parse_scales(text: str) -> tuple[float, ...]:
    """``"2,1"`` -> (2.0, 1.0); an argparse type, so a bad value is one clear usage line."""
    try:
        return checked_scales(float(part) for part in str(text).split(",") if part.strip())
    except ValueError as error:
        if isinstance(error, UserError):
            raise argparse.ArgumentTypeError(str(error)) from None
        raise argparse.ArgumentTypeError(f"numbers separated by commas, e.g. 2,1; got {text!r}") from None


def checked_scales(scales: Iterable[float]) -> tuple[float, ...]:
    """Distinct positive multiples of the training size, largest first; a UserError otherwise."""
    values = tuple(float(scale) for scale in scales)
    if not values:
        raise UserError("scales: give at least one multiple of the training size, e.g. 2,1")
    if any(not 0 < value <= MAX_SCALE for value in values):
        raise UserError(f"scales must lie in (0, {MAX_SCALE:g}] (multiples of the training size), got "
                        f"{list(values)}")
    if len(set(values)) != len(values):
        raise UserError(f"scales must be distinct, got {list(values)}")
    return tuple(sorted(values, reverse=True))


def working_passes(image_size: int, short_side: int | None, scales: Sequence[float] | None,
                   takes_hints: bool) -> tuple[int, tuple[float, ...]]:
    """(short side of the working size in px, extra passes as fractions of it).

    ``short_side``: one pass at that size. ``scales``: passes at these multiples of ``image_size``
    (default `DEFAULT_SCALES`, or `HINT_SCALES` for a hint model). Not both.
    """
    if short_side is not None and scales is not None:
        raise UserError("give a short side (one pass at N px) or scales (passes at multiples of the training "
                        "size), not both")
    if short_side is not None:
        if int(short_side) < MIN_PASS_SIDE:
            raise UserError(f"short side of the working size must be >= {MIN_PASS_SIDE} px, got {short_side}")
        return int(short_side), ()
    chosen = checked_scales(scales if scales is not None else HINT_SCALES if takes_hints else DEFAULT_SCALES)
    if takes_hints and len(chosen) > 1:
        raise UserError(f"a hint model runs one pass (its hints are squares of working-size pixels): give "
                        f"one scale, not {list(chosen)}")
    smallest = round(chosen[-1] * image_size)
    if smallest < MIN_PASS_SIDE:
        raise UserError(f"scale {chosen[-1]:g} of a {image_size}-px model is a {smallest}-px pass: every "
                        f"pass needs a short side of at least {MIN_PASS_SIDE} px")
    largest = chosen[0]
    return round(largest * image_size), tuple(scale / largest for scale in chosen[1:])


def fractions_for_call(short_side: int | None) -> tuple[()] | None:
    """The passes of one call: a short side given per call means one pass at it (``()``); ``None``: the
    colorizer's own passes."""
    return () if short_side else None


def averaged_over_passes(network_rgb: Callable[[Tensor], Tensor], luma: Tensor, fractions: Sequence[float],
                         reference: ColorSpace, caution: float = 0.0, saturation: float = 1.0,
                         mirror: bool = False) -> Tensor:
    """RGB [B,3,h,w] at ``luma``'s size whose chroma (in ``reference``, a linear space) is the mean of the
    pass at ``luma``'s size and one pass per fraction of it (bicubic down, bilinear back up).

    ``network_rgb(luma) -> RGB``: the model run and merged in its own color space, at any size.
    ``mirror``: each pass also runs on the left-right mirrored input, its output mirrored back (twice the
    network runs; the mirrored views count as passes for the mean and the caution).
    ``caution`` k > 0 shrinks the mean m towards gray where the passes disagree, per pixel:
    m · |m|² / (|m|² + k · var), var being the passes' variance summed over the chroma channels.
    ``saturation`` g multiplies the final chroma (one pass too): g > 1 more colorful, 0 gray.
    """
    rgb = network_rgb(luma)
    if not fractions and not mirror and saturation == 1.0:
        return rgb
    height, width = luma.shape[-2:]
    reference_luma, chroma = reference.split(rgb)

    def mirrored_chroma(image: Tensor) -> Tensor:
        return reference.split(network_rgb(image.flip(-1)))[1].flip(-1)

    chromas = [chroma, *([mirrored_chroma(luma)] if mirror else [])]
    for fraction in fractions:
        size = (max(1, round(height * fraction)), max(1, round(width * fraction)))
        small = F.interpolate(luma, size=size, mode="bicubic", antialias=True).clamp_(-1.0, 1.0)
        views = [reference.split(network_rgb(small))[1], *([mirrored_chroma(small)] if mirror else [])]
        chromas += [F.interpolate(view, size=(height, width), mode="bilinear", align_corners=False)
                    for view in views]
    passes = torch.stack(chromas)
    mean = passes.mean(dim=0)
    if caution > 0:
        power = mean.square().sum(dim=1, keepdim=True)
        spread = passes.var(dim=0, correction=0).sum(dim=1, keepdim=True)
        mean = mean * power / (power + caution * spread).clamp_min(1e-12)
    return reference.merge(reference_luma, mean * saturation)


def caution_argument(text: str) -> float:
    """`checked_caution` as an argparse type: a bad value is one clear usage line."""
    return _as_argument(checked_caution, text)


def saturation_argument(text: str) -> float:
    """`checked_saturation` as an argparse type: a bad value is one clear usage line."""
    return _as_argument(checked_saturation, text)


def checked_caution(value: float | str) -> float:
    """A finite number >= 0; a UserError otherwise."""
    return checked_number("caution", value, math.inf)


def checked_saturation(value: float | str) -> float:
    """A number in [0, `MAX_SATURATION`]; a UserError otherwise."""
    return checked_number("saturation", value, MAX_SATURATION)


def _as_argument(check: Callable[[str], float], text: str) -> float:
    try:
        return check(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from None

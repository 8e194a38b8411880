"""How `evaluate` matches the literature: evaluation protocols, colorfulness both ways, color bias, and
per-folder (per-category) results.

Protocols (``evaluate --protocol``), applied to each true photo before anything else (the model then sees
the gray of exactly that image, and every metric compares at that size):
- ``full`` (default): the photo at its own resolution and aspect ratio (longer side capped by --max-side);
- ``center256``: short side resized to 256 px (bicubic), then the central 256×256 crop: the "val5k"
  protocol of CT2 and DDColor (torchvision's Resize(256) + CenterCrop(256));
- ``resize256``: resized to 256×256 px (bicubic), aspect ratio not kept: the "val50k" protocol of
  ColorFormer and DDColor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from colorgan.errors import UserError
from colorgan.metrics.bias import bias_summary, image_entry, lab_summary
from colorgan.metrics.colorfulness import colorfulness, colorfulness_abs
from colorgan.report import scores
from colorgan.samples import Sample

PROTOCOLS: dict[str, str] = {
    "full": "full resolution: each photo at its own size and aspect ratio (longer side capped by --max-side)",
    "center256": "center256: short side resized to 256 px (bicubic), central 256x256 crop "
                 "(the 'val5k' protocol of CT2 and DDColor)",
    "resize256": "resize256: resized to 256x256 px (bicubic), aspect ratio not kept "
                 "(the 'val50k' protocol of ColorFormer and DDColor)",
}
SIZE = 256
#: the group of photos directly in the evaluated folder (not in a sub-folder)
TOP_LEVEL = "(top level)"
#: rows of the printed color table: (key in metrics.json, label)
COLOR_ROWS = (
    ("colorfulness_hs", "CF Hasler-Süsstrunk"), ("delta_colorfulness_hs", "ΔCF Hasler-Süsstrunk"),
    ("colorfulness_abs", "CF abs (CT2/DDColor)"), ("delta_colorfulness_abs", "ΔCF abs (CT2/DDColor)"),
    ("mean_a", "mean a*"), ("mean_b", "mean b*"), ("delta_a", "Δa* (pred - true)"),
    ("delta_b", "Δb* (pred - true)"), ("chroma", "mean chroma C*"), ("saturation_ratio", "saturation ratio"),
    ("hue_overlap", "hue overlap"),
)


def protocol_image(rgb: np.ndarray, protocol: str) -> np.ndarray:
    """The H×W×3 uint8 photo as the protocol scores it (``full``: unchanged)."""
    if protocol == "full":
        return rgb
    image = Image.fromarray(rgb)
    if protocol == "resize256":
        return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    if protocol != "center256":
        raise UserError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    width, height = image.size  # torchvision's Resize(256): the short side to 256, the long one truncated
    short = min(width, height)
    size = (int(SIZE * width / short), int(SIZE * height / short))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = round((size[0] - SIZE) / 2), round((size[1] - SIZE) / 2)
    return np.asarray(image.crop((left, top, left + SIZE, top + SIZE)))


def apply_protocol(samples: Sequence[Sample], protocol: str,
                   max_side: int | None) -> tuple[list[Sample], int | None]:
    """(samples loading the protocol's image, the --max-side that still applies: None unless ``full``)."""
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if protocol == "full":
        return list(samples), max_side
    return [Sample(sample.name, lambda load=sample.load: protocol_image(load(), protocol))
            for sample in samples], None


def color_scores(outputs: dict[str, np.ndarray], truth: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per-image colorfulness (both ways) and Lab summary of each method's output and of the truth."""
    images = {"truth": truth, **{method: outputs[method] for method in scores.METHODS}}
    result = {}
    for name, image in images.items():
        rgb = scores.to_tensor(image)
        result[name] = {"colorfulness_hs": float(colorfulness(rgb)[0]),
                        "colorfulness_abs": float(colorfulness_abs(rgb)[0]),
                        "lab": image_entry(lab_summary(rgb))}
    return result


def color_summary(rows: Sequence[dict[str, Any]], method: str) -> dict[str, float | None]:
    """Colorfulness both ways (and ΔCF = predicted - true, mean over photos) and the bias figures of
    ``method`` over rows carrying `color_scores` under ``"color"``."""
    summary: dict[str, float | None] = {}
    for kind in ("hs", "abs"):
        predicted = float(np.mean([row["color"][method][f"colorfulness_{kind}"] for row in rows]))
        true = float(np.mean([row["color"]["truth"][f"colorfulness_{kind}"] for row in rows]))
        summary |= {f"colorfulness_{kind}": predicted, f"colorfulness_{kind}_true": true,
                    f"delta_colorfulness_{kind}": predicted - true}
    bias = bias_summary([row["color"][method]["lab"] for row in rows],
                        [row["color"]["truth"]["lab"] for row in rows])
    return summary | bias


def group_name(name: str) -> str:
    """The sub-folder (first path part) of a photo's name, or `TOP_LEVEL`."""
    return name.split("/", 1)[0] if "/" in name else TOP_LEVEL


def summarize(rows: Sequence[dict[str, Any]], protocol: str) -> dict[str, Any]:
    """metrics.json's "protocol", "color" (per method) and, when photos sit in sub-folders, "groups"
    (per sub-folder: num_images, model, baselines and color, like the whole set)."""
    extra: dict[str, Any] = {
        "protocol": {"name": protocol, "description": PROTOCOLS[protocol]},
        "color": {method: color_summary(rows, method) for method in scores.METHODS},
    }
    names = sorted({group_name(row["name"]) for row in rows})
    if names != [TOP_LEVEL]:
        extra["groups"] = {}
        for name in names:
            members = [row for row in rows if group_name(row["name"]) == name]
            extra["groups"][name] = {
                "num_images": len(members),
                "model": scores.average(members, "model"),
                "baselines": {method: scores.average(members, method) for method in scores.METHODS[1:]},
                "color": {method: color_summary(members, method) for method in scores.METHODS},
            }
    return extra


def _cell(value: float | None, width: int = 14) -> str:
    return f"{'–':>{width}}" if value is None else f"{value:>{width}.4g}"


def format_color_table(results: dict[str, Any]) -> str:
    """Colorfulness both ways and the bias figures: one line per figure, model vs both baselines."""
    color = results["color"]
    lines = [f"{'color':<24}" + "".join(f"{name:>14}" for name in color) + f"{'truth':>14}"]
    for key, label in COLOR_ROWS:
        truth_key = {"colorfulness_hs": "colorfulness_hs_true", "colorfulness_abs": "colorfulness_abs_true",
                     "mean_a": "mean_a_true", "mean_b": "mean_b_true", "chroma": "chroma_true"}.get(key)
        truth = _cell(color["model"][truth_key]) if truth_key else f"{'':>14}"
        lines.append(f"{label:<24}" + "".join(_cell(values[key]) for values in color.values()) + truth)
    return "\n".join(lines)


def format_group_table(results: dict[str, Any]) -> str:
    """One line per sub-folder: photos, ΔE00 of model / gray / mean chroma, PSNR, ΔCF both ways, bias."""
    header = ["photos", "ΔE00", "gray ΔE00", "mean-ab ΔE00", "PSNR", "ΔCF HS", "ΔCF abs", "Δa*", "Δb*",
              "sat. ratio", "hue overlap"]
    width = max(12, *(len(name) + 2 for name in results["groups"]))
    lines = [f"{'folder':<{width}}" + "".join(f"{title:>13}" for title in header)]
    for name, group in results["groups"].items():
        color = group["color"]["model"]
        values = [group["num_images"], group["model"]["deltae00"], group["baselines"]["gray"]["deltae00"],
                  group["baselines"]["mean_chroma"]["deltae00"], group["model"]["psnr"],
                  color["delta_colorfulness_hs"], color["delta_colorfulness_abs"], color["delta_a"],
                  color["delta_b"], color["saturation_ratio"], color["hue_overlap"]]
        lines.append(f"{name:<{width}}" + "".join(_cell(value, 13) for value in values))
    return "\n".join(lines)


def describe(results: dict[str, Any]) -> str:
    """The printed line naming the protocol (results without one were scored at full resolution)."""
    protocol = results.get("protocol") or {"description": PROTOCOLS["full"]}
    return f"protocol {protocol['description']}"

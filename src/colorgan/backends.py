"""What runs the network inside `colorgan.inference.Colorizer`: luma [B,1,h,w] in, chroma [B,C,h,w] out.

Two backends share one call, ``backend(luma) -> chroma`` (float32, on ``backend.device``), so everything
around the network (the working size, the full-resolution merge) is the same code whatever runs it:

- `TorchBackend`: the generator as a PyTorch module (any device);
- `OnnxBackend`: a generator exported by ``python -m colorgan.export RUN --format onnx`` (`write_onnx`),
  run by onnxruntime. The ONNX graph takes luma [batch, 1, height, width] with height and width multiples of
  its ``input_multiple`` metadata (the encoder stride); the backend pads and crops exactly as the generator
  does itself, so any size works. The color space, training size, value ranges and the colorgan checkpoint
  record travel in the model's ``metadata_props``; a file without them is refused (`OnnxModelError`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from colorgan.checkpoints import build_generator, read_checkpoint
from colorgan.color import get_colorspace
from colorgan.errors import UserError
from colorgan.models.generator import _pad_to_multiple

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnxruntime")
#: version of the metadata layout below (bumped when it changes incompatibly)
ONNX_FORMAT = 1
OPSET = 17
QUANTIZATIONS = ("none", "int8")
_INSTALL = "pip install 'colorgan[onnx]' (onnx and onnxruntime)"


class OnnxModelError(UserError):
    """A missing, broken or foreign .onnx file, or onnxruntime missing."""


class Backend(Protocol):
    """Runs the generator: ``backend(luma [B,1,h,w] in [-1,1]) -> chroma [B,C,h,w]`` float32."""

    name: str
    device: torch.device

    def __call__(self, luma: Tensor, hints: Tensor | None = None) -> Tensor: ...  # hints: a hint model's


class TorchBackend:
    """The generator as a PyTorch module, in eval mode on ``device``."""

    name = "torch"

    def __init__(self, generator: nn.Module, device: torch.device) -> None:
        self.device = device
        self.generator = generator.eval().to(device)

    @torch.no_grad()
    def __call__(self, luma: Tensor, hints: Tensor | None = None) -> Tensor:
        if hints is not None:  # a hint model's hint map [B, C + 1, h, w] (see colorgan.hints)
            return self.generator(luma.to(self.device), hints.to(self.device)).float()
        return self.generator(luma.to(self.device)).float()


# ---- onnxruntime ---------------------------------------------------------------------------------------
def _import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise OnnxModelError(f"the onnxruntime backend needs onnxruntime: {_INSTALL}") from error
    return onnxruntime


def _providers(onnxruntime: Any, device: torch.device) -> list[str]:
    if device.type == "cpu":
        return ["CPUExecutionProvider"]
    wanted = {"cuda": "CUDAExecutionProvider"}.get(device.type)
    if wanted not in onnxruntime.get_available_providers():
        raise OnnxModelError(f"onnxruntime here has no provider for device {device} (it has "
                             f"{', '.join(onnxruntime.get_available_providers())}): use --device cpu")
    return [wanted, "CPUExecutionProvider"]


def read_onnx_metadata(metadata: dict[str, str], path: Path | str) -> dict[str, Any]:
    """The colorgan metadata of an exported model (plain data), or an `OnnxModelError` naming ``path``."""
    if "colorgan" not in metadata:
        raise OnnxModelError(f"{path} is an ONNX model but not a colorgan export (no 'colorgan' metadata): "
                             "make one with python -m colorgan.export RUN --format onnx")
    try:
        meta = json.loads(metadata["colorgan"])
        if meta.get("format") != ONNX_FORMAT:
            raise ValueError(f"unsupported format {meta.get('format')!r} (expected {ONNX_FORMAT})")
        space = get_colorspace(meta["colorspace"])
        if int(meta["chroma_channels"]) != space.chroma_channels or int(meta["input_multiple"]) < 1:
            raise ValueError("its sizes do not match its color space")
        int(meta["image_size"])
    except (ValueError, KeyError, TypeError) as error:
        raise OnnxModelError(f"{path}: malformed colorgan metadata (tampered?): {error}") from error
    return meta


class OnnxBackend:
    """A colorgan ONNX export run by onnxruntime; ``metadata`` holds what `write_onnx` stored."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, device: torch.device | None = None,
                 threads: int | None = None) -> None:
        onnxruntime = _import_onnxruntime()
        self.path = Path(path).expanduser()
        self.device = torch.device("cpu") if device is None else device
        if not self.path.is_file():
            raise OnnxModelError(f"ONNX model {self.path} does not exist")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.path), options, providers=_providers(onnxruntime, self.device))
        except OnnxModelError:
            raise
        except Exception as error:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise OnnxModelError(f"{self.path} is not a usable ONNX model (corrupt, truncated or not ONNX): "
                                 f"{first[:200]}") from error
        self.metadata = read_onnx_metadata(self.session.get_modelmeta().custom_metadata_map, self.path)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        self.hint_channels = int(self.metadata.get("hint_channels", 0))
        if len(inputs) != 1 + bool(self.hint_channels) or len(outputs) != 1 or inputs[0].shape[1] != 1:
            raise OnnxModelError(f"{self.path}: expected a luma input [B,1,H,W] (and hints for a hint model) "
                                 "and one chroma output")
        self.input_names = [item.name for item in inputs]
        self.multiple = int(self.metadata["input_multiple"])

    def __call__(self, luma: Tensor, hints: Tensor | None = None) -> Tensor:
        height, width = luma.shape[-2:]
        padded = _pad_to_multiple(luma.float().cpu(), self.multiple)
        feed = {self.input_names[0]: np.ascontiguousarray(padded.numpy())}
        if hints is not None and not self.hint_channels:
            raise UserError(f"{self.path} was exported from a model without hint input")
        if self.hint_channels:  # as the generator does: no hints = zeros; padded with zeros
            if hints is None:
                hints = luma.new_zeros(luma.shape[0], self.hint_channels, height, width)
            extra = (0, padded.shape[-1] - width, 0, padded.shape[-2] - height)
            feed[self.input_names[1]] = np.ascontiguousarray(F.pad(hints.float().cpu(), extra).numpy())
        (chroma,) = self.session.run(None, feed)
        return torch.from_numpy(chroma[..., :height, :width]).to(self.device)


# ---- export ----------------------------------------------------------------------------------------------
def onnx_metadata(record: dict[str, Any], input_multiple: int, quantize: str,
                  hint_channels: int = 0) -> dict[str, str]:
    """metadata_props of an export: the colorgan record plus what a foreign runtime needs to know."""
    space = get_colorspace(record["colorspace"])
    meta = {
        "hint_channels": int(hint_channels),
        "format": ONNX_FORMAT,
        "colorspace": space.name,
        "chroma_channels": space.chroma_channels,
        "image_size": int(record.get("image_size") or 128),
        "input_multiple": int(input_multiple),
        "quantization": quantize,
        "record": record,
    }
    return {
        "colorgan": json.dumps(meta, sort_keys=True),
        "colorspace": space.name,
        "image_size": str(meta["image_size"]),
        "input": f"luma [batch, 1, height, width] float32 in [-1, 1] (the color space's luma_from_gray of "
                 f"a Rec.601 gray in [0, 1]); height and width multiples of {input_multiple} "
                 "(pad bottom/right by reflection, crop the output back)",
        "output": f"chroma [batch, {space.chroma_channels}, height, width] float32, normalized to [-1, 1] "
                  f"in {space.name} (merged with the luma by colorgan.color.get_colorspace({space.name!r}))",
    }


def _set_metadata(model: Any, metadata: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def write_onnx(generator: nn.Module, record: dict[str, Any], path: str | Path, quantize: str = "none",
               opset: int = OPSET) -> Path:
    """Export ``generator`` (luma -> chroma; dynamic batch, height, width) with its metadata to ``path``.

    ``quantize="int8"``: dynamic 8-bit quantization (onnxruntime.quantization: 8-bit weights per output
    channel, activations quantized at run time; ~1/4 of the file). Written to a
    temporary file beside ``path`` and renamed, so a failed export leaves no partial file.
    """
    if quantize not in QUANTIZATIONS:
        raise UserError(f"unknown quantization {quantize!r}: choose one of {', '.join(QUANTIZATIONS)}")
    try:
        import onnx
    except ImportError as error:
        raise OnnxModelError(f"exporting to ONNX needs onnx: {_INSTALL}") from error
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    multiple = int(getattr(getattr(generator, "encoder", None), "stride", 32))
    side = -(-int(record.get("image_size") or 128) // multiple) * multiple
    hint_channels = int(getattr(generator, "hint_channels", 0) or 0)
    samples = [torch.zeros(1, 1, side, side)]
    if hint_channels:  # a hint model: the hint map is a second input (zeros = no hints)
        samples.append(torch.zeros(1, hint_channels, side, side))
    samples = tuple(samples)
    names = ["luma", "hints"][: len(samples)]
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    quantized = path.with_name(f".{path.name}.{os.getpid()}.int8.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer remarks
            torch.onnx.export(generator.eval().cpu(), samples, str(temporary), dynamo=False,
                              input_names=names, output_names=["chroma"], opset_version=opset,
                              dynamic_axes={name: {0: "batch", 2: "height", 3: "width"}
                                            for name in (*names, "chroma")})
        if quantize == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level, root.level = root.level, logging.ERROR  # its advice to pre-process, on the root logger
            try:
                # uint8 weights per output channel: on x86 CPUs both faster (u8 x u8 ConvInteger kernels) and
                # closer to fp32 than int8 weights (measured: ΔE00 1.7 vs 2.3 from fp32, README)
                quantize_dynamic(str(temporary), str(quantized), weight_type=QuantType.QUInt8,
                                 per_channel=True)
            finally:
                root.setLevel(level)
            os.replace(quantized, temporary)
        model = onnx.load(str(temporary))
        _set_metadata(model, onnx_metadata(record, multiple, quantize, hint_channels))
        model.doc_string = f"colorgan generator ({record['colorspace']}): luma -> chroma"
        onnx.save(model, str(temporary))
        os.replace(temporary, path)
    finally:
        for leftover in (temporary, quantized):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return path


def default_onnx_path(checkpoint: Path, quantize: str = "none") -> Path:
    """Where ``python -m colorgan.export`` puts a checkpoint's export by default: beside it."""
    return checkpoint.with_suffix(".onnx" if quantize == "none" else f".{quantize}.onnx")


def onnx_for_checkpoint(checkpoint: Path) -> Path:
    """The checkpoint's export beside it when it is at least as new, else a fresh one in a temporary folder
    (removed at exit): what ``colorize --backend onnxruntime RUN`` runs."""
    existing = default_onnx_path(checkpoint)
    if existing.is_file() and existing.stat().st_mtime >= checkpoint.stat().st_mtime:
        return existing
    record, weights = read_checkpoint(checkpoint)
    folder = Path(tempfile.mkdtemp(prefix="colorgan-onnx-"))
    atexit.register(shutil.rmtree, folder, True)
    log.info("exporting %s to ONNX for onnxruntime (colorgan.export keeps one beside it)", checkpoint)
    return write_onnx(build_generator(record, weights), record, folder / "model.onnx")

"""`python -m colorgan.export RUN --format onnx [--output FILE] [--quantize int8]`: a deployable generator.

RUN is a run directory (its best checkpoint) or a checkpoint file. The ONNX model maps luma
[batch, 1, height, width] to chroma [batch, C, height, width] (batch, height and width dynamic; height and
width multiples of the encoder stride, see the model's ``input`` metadata) and carries the color space,
the training size, the value ranges and the colorgan checkpoint record in its metadata_props. Run it with
``colorgan-colorize FILE.onnx ...``, ``colorize --backend onnxruntime RUN ...`` or
``Colorizer.from_onnx(FILE)``. Default output: beside the checkpoint, as CHECKPOINT.onnx
(CHECKPOINT.int8.onnx when quantized). After writing, the export is run once by onnxruntime and compared
with PyTorch on the same input; the largest chroma difference is printed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from colorgan.backends import QUANTIZATIONS, OnnxBackend, default_onnx_path, write_onnx
from colorgan.checkpoints import build_generator, read_checkpoint, resolve_checkpoint, with_temperature
from colorgan.cli import run_command
from colorgan.errors import UserError

FORMATS = ("onnx",)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorgan-export", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="run directory or checkpoint file (.ckpt)")
    parser.add_argument("--format", default="onnx", choices=FORMATS, help="export format (default onnx)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="file to write (default: beside the checkpoint, CHECKPOINT.onnx)")
    parser.add_argument("--quantize", default="none", choices=QUANTIZATIONS,
                        help="int8: dynamic 8-bit quantization (a 1/4 smaller file; on CPUs not faster than "
                             "fp32 and colors move by ΔE00 ~1.7: see README)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="a bin model (model.loss=bins): the annealed-mean temperature the export "
                             "decodes at (default: the trained one)")
    return parser.parse_args(argv)


def parity(generator: torch.nn.Module, path: Path, image_size: int) -> float:
    """Largest |Δchroma| between PyTorch and onnxruntime on one random luma of an awkward size."""
    backend = OnnxBackend(path)
    height, width = max(8, image_size - 5), image_size + 19  # not multiples of the stride: padding too
    luma = torch.rand(2, 1, height, width, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = generator.eval()(luma).float()
    return float((backend(luma) - expected).abs().max())


def export(args: argparse.Namespace) -> int:
    """The command's logic: export, check against PyTorch, report."""
    checkpoint = resolve_checkpoint(args.run)
    record, weights = read_checkpoint(checkpoint)
    record = with_temperature(record, args.temperature)  # a bin model's export decodes at this one
    generator = build_generator(record, weights)
    output = (args.output or default_onnx_path(checkpoint, args.quantize)).expanduser()
    if output.is_dir():
        raise UserError(f"--output {output} is a folder: give a file name, e.g. {output / 'model.onnx'}")
    write_onnx(generator, record, output, quantize=args.quantize)
    difference = parity(generator, output, int(record.get("image_size") or 128))
    size_mib = output.stat().st_size / 2**20
    print(f"wrote {output} ({size_mib:.1f} MiB, {record['colorspace']}, {args.quantize} quantization): "
          f"max |Δchroma| vs PyTorch {difference:.2g}")
    if args.quantize == "none" and difference > 1e-3:
        print(f"warning: the export differs from PyTorch by {difference:.2g} in normalized chroma",
              file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = parse_args(argv)
    run_command(lambda: export(args), "export")


if __name__ == "__main__":
    main()

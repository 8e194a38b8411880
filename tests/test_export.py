"""ONNX export and the onnxruntime backend: parity in every color space, metadata, quantization, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from colorgan import colorize, export
from colorgan.backends import OnnxBackend, OnnxModelError, default_onnx_path, write_onnx
from colorgan.checkpoints import build_generator, read_checkpoint
from colorgan.color import available_colorspaces
from colorgan.inference import Colorizer
from colorgan.metrics.image import delta_e00
from tests.tiny_runs import photo, random_checkpoint, tiny_run

#: largest |Δchroma| (normalized to [-1, 1]) allowed between PyTorch and onnxruntime in fp32; measured
#: 6e-8 on the tiny generator in every color space
CHROMA_PARITY = 1e-5


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(checkpoint, its ONNX export) per color space."""
    folder = tmp_path_factory.mktemp("export")
    pairs = {}
    for space in available_colorspaces():
        checkpoint = random_checkpoint(folder / f"{space}.ckpt", space)
        record, weights = read_checkpoint(checkpoint)
        onnx_file = write_onnx(build_generator(record, weights), record, folder / f"{space}-fixture.onnx")
        pairs[space] = checkpoint, onnx_file
    return pairs


@pytest.mark.parametrize("space", sorted(available_colorspaces()))
def test_onnxruntime_matches_torch_in_every_colorspace(exported, space):
    checkpoint, onnx_file = exported[space]
    torch_side = Colorizer.from_checkpoint(checkpoint, device="cpu")
    onnx_side = Colorizer.from_onnx(onnx_file)
    assert onnx_side.backend.name == "onnxruntime" and onnx_side.colorspace.name == space
    image = photo("chelsea")[:299, :451]  # odd sizes: the backend pads to the stride and crops back
    luma = torch.stack([torch_side.prepare(image).luma] * 3)  # a batch of 3 (dynamic batch axis)
    difference = (torch_side.backend(luma) - onnx_side.backend(luma)).abs().max().item()
    assert difference < CHROMA_PARITY
    # the same full-resolution merge: outputs agree to a rounding level
    assert np.abs(torch_side.colorize(image).astype(int) - onnx_side.colorize(image)).max() <= 1


def test_dynamic_height_and_width(exported):
    checkpoint, onnx_file = exported["lab"]
    generator = build_generator(*read_checkpoint(checkpoint))
    backend = OnnxBackend(onnx_file)
    for height, width in ((8, 8), (32, 32), (45, 130), (96, 64)):
        luma = torch.rand(2, 1, height, width) * 2 - 1
        with torch.no_grad():
            expected = generator(luma)
        chroma = backend(luma)
        assert chroma.shape == expected.shape
        assert (chroma - expected).abs().max().item() < CHROMA_PARITY


def test_metadata_carries_the_record_sizes_and_normalization(exported):
    import onnx

    checkpoint, onnx_file = exported["yuv"]
    record, _ = read_checkpoint(checkpoint)
    props = {entry.key: entry.value for entry in onnx.load(str(onnx_file)).metadata_props}
    meta = json.loads(props["colorgan"])
    assert meta["record"] == record
    assert (meta["colorspace"], meta["chroma_channels"], meta["image_size"]) == ("yuv", 2, 32)
    assert meta["input_multiple"] == 32 and meta["quantization"] == "none"
    assert props["colorspace"] == "yuv" and props["image_size"] == "32"
    assert "[-1, 1]" in props["input"] and "[-1, 1]" in props["output"]
    graph = onnx.load(str(onnx_file)).graph
    dims = [[d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
            for value in (graph.input[0], graph.output[0])]
    assert dims == [["batch", 1, "height", "width"], ["batch", 2, "height", "width"]]


def _foreign_onnx(path: Path) -> Path:
    """A valid ONNX model that colorgan did not write (no colorgan metadata)."""
    torch.onnx.export(torch.nn.Conv2d(1, 2, 3, padding=1), (torch.zeros(1, 1, 8, 8),), str(path),
                      dynamo=False, input_names=["x"])
    return path


def _tampered(source: Path, path: Path) -> Path:
    import onnx

    model = onnx.load(str(source))
    for entry in model.metadata_props:
        if entry.key == "colorgan":
            entry.value = json.dumps({**json.loads(entry.value), "colorspace": "cmyk"})
    onnx.save(model, str(path))
    return path


BAD_FILES = {
    "missing": (lambda folder, good: folder / "nope.onnx", "does not exist"),
    "empty": (lambda folder, good: _write(folder / "empty.onnx", b""), "not a usable ONNX model"),
    "garbage": (lambda folder, good: _write(folder / "junk.onnx", b"\x00not onnx" * 50),
                "not a usable ONNX model"),
    "truncated": (lambda folder, good: _write(folder / "cut.onnx", good.read_bytes()[:4000]),
                  "not a usable ONNX model"),
    "foreign": (lambda folder, good: _foreign_onnx(folder / "foreign.onnx"), "not a colorgan export"),
    "tampered": (lambda folder, good: _tampered(good, folder / "tampered.onnx"),
                 "malformed colorgan metadata"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_broken_or_foreign_onnx_file_is_one_clear_line(exported, tmp_path, kind, capsys):
    make, message = BAD_FILES[kind]
    bad = make(tmp_path, exported["lab"][1])
    with pytest.raises(OnnxModelError, match=message) as caught:
        Colorizer.from_onnx(bad)
    assert "\n" not in str(caught.value) and str(bad) in str(caught.value)
    Image.fromarray(photo("chelsea", 64)).save(tmp_path / "in.png")
    with pytest.raises(SystemExit) as exit_code:
        colorize.main([str(bad), str(tmp_path / "in.png"), "--output", str(tmp_path / "out"), "--quiet"])
    assert exit_code.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not (tmp_path / "out" / "in.png").exists()


def test_export_command_then_colorize_with_every_backend(exported, tmp_path, capsys):
    checkpoint, _ = exported["luv"]
    with pytest.raises(SystemExit) as exit_code:
        export.main([str(checkpoint), "--format", "onnx"])
    assert exit_code.value.code == 0
    written = default_onnx_path(checkpoint)
    assert written.is_file() and "max |Δchroma| vs PyTorch" in capsys.readouterr().out
    Image.fromarray(photo("astronaut", 96)).save(tmp_path / "in.png")
    outputs = {}
    for name, arguments in {"torch": [str(checkpoint)], "onnx file": [str(written)],
                            "backend flag": [str(checkpoint), "--backend", "onnxruntime"]}.items():
        out = tmp_path / name.replace(" ", "_")
        with pytest.raises(SystemExit) as exit_code:
            colorize.main([*arguments, str(tmp_path / "in.png"), "--output", str(out), "--quiet"])
        assert exit_code.value.code == 0, name
        outputs[name] = np.asarray(Image.open(out / "in.png")).astype(int)
        assert ("onnxruntime on cpu" in capsys.readouterr().err) == (name != "torch")
    assert np.abs(outputs["torch"] - outputs["onnx file"]).max() <= 1
    assert np.abs(outputs["torch"] - outputs["backend flag"]).max() <= 1


def test_export_command_refuses_a_bad_run_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_code:
        export.main([str(tmp_path / "no-run"), "--output", str(tmp_path / "x.onnx")])
    assert exit_code.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: ")
    assert not (tmp_path / "x.onnx").exists()


def test_onnxruntime_backend_on_a_run_without_export_exports_on_the_fly(exported, tmp_path):
    checkpoint, _ = exported["hsv"]
    colorizer = Colorizer.load(checkpoint, device="cpu", backend="onnxruntime")
    assert colorizer.backend.name == "onnxruntime" and colorizer.colorspace.name == "hsv"
    with pytest.raises(ValueError, match="unknown backend"):
        Colorizer.load(checkpoint, backend="tensorrt")


@pytest.fixture(scope="module")
def trained_lab(tmp_path_factory) -> Path:
    return tiny_run(tmp_path_factory.getbasetemp() / "tiny-runs", "lab")


def test_int8_quantization_keeps_metadata_and_colors_close(trained_lab, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_code:
        export.main([str(trained_lab), "--quantize", "int8", "--output", str(tmp_path / "int8.onnx")])
    assert exit_code.value.code == 0
    capsys.readouterr()
    full = Colorizer.load(trained_lab, device="cpu", backend="onnxruntime")
    quantized = Colorizer.from_onnx(tmp_path / "int8.onnx")
    assert quantized.backend.metadata["quantization"] == "int8"
    truth = photo("coffee", 128)
    to_tensor = lambda rgb: torch.from_numpy(np.asarray(rgb)).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    error_full = delta_e00(to_tensor(full.colorize(truth)), to_tensor(truth)).mean().item()
    error_int8 = delta_e00(to_tensor(quantized.colorize(truth)), to_tensor(truth)).mean().item()
    between = delta_e00(to_tensor(quantized.colorize(truth)), to_tensor(full.colorize(truth))).mean().item()
    print(f"ΔE00 vs truth: fp32 {error_full:.2f}, int8 {error_int8:.2f}; int8 vs fp32 {between:.2f}")
    assert abs(error_int8 - error_full) < 2.0 and between < 3.0


def test_a_hint_model_exports_with_its_hint_input(tmp_path):
    from colorgan.checkpoints import GENERATOR_TARGET, inference_record
    from colorgan.models import UNetColorizer
    from tests.tiny_runs import TINY_DECODER, TINY_ENCODER

    torch.manual_seed(0)
    generator = UNetColorizer(2, TINY_ENCODER, decoder_channels=TINY_DECODER, hints=True).eval()
    with torch.no_grad():  # hint filters start at zero: make them matter
        for parameter in generator.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    config = {"_target_": GENERATOR_TARGET, "encoder": dict(TINY_ENCODER), "decoder_channels": TINY_DECODER,
              "hints": True}
    record = inference_record("unet", "lab", config, 32)
    backend = OnnxBackend(write_onnx(generator, record, tmp_path / "h.onnx"))
    assert backend.hint_channels == 3
    luma, hints = torch.rand(2, 1, 40, 52) * 2 - 1, torch.rand(2, 3, 40, 52) * 2 - 1
    with torch.no_grad():
        for given in (hints, None):
            expected = generator(luma, given)
            assert (backend(luma, given) - expected).abs().max().item() < CHROMA_PARITY
    # through Colorizer, like `colorize --hints` on the export: it takes hints, in one pass, as torch does
    from colorgan.inference import Colorizer

    exported = Colorizer.from_onnx(tmp_path / "h.onnx")
    torch_model = Colorizer(generator, "lab", 32, device="cpu")
    assert exported.takes_hints and exported.pass_sides == torch_model.pass_sides == [32]
    image = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)
    hinted = [(10, 20, (200, 40, 30)), (50, 8, (20, 60, 220))]
    from_onnx, from_torch = exported.colorize(image, hints=hinted), torch_model.colorize(image, hints=hinted)
    assert np.abs(from_onnx.astype(int) - from_torch.astype(int)).max() <= 2
    assert not np.array_equal(from_onnx, exported.colorize(image))  # the hints change the result

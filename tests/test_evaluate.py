"""`colorgan.evaluate`: the wiring from photos to metrics.json (metric values are pinned in test_metrics)."""

from __future__ import annotations

import json

import kornia.color as kc
import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.evaluate import default_output, evaluate, main
from colorgan.inference import Colorizer
from colorgan.metrics import delta_e00, gray_baseline, image_metrics
from colorgan.report.scores import to_tensor, to_uint8
from colorgan.samples import Sample, folder_samples
from tests.tiny_runs import photo, tiny_run

METRICS = {"psnr", "ssim", "deltae00", "ab_auc", "colorfulness", "colorfulness_true", "delta_colorfulness"}


@pytest.fixture(scope="session")
def lab_run(tmp_path_factory):
    return tiny_run(tmp_path_factory.getbasetemp() / "tiny-runs", "lab")


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for name in ("chelsea", "coffee"):
        Image.fromarray(photo(name, 64)).save(folder / f"{name}.png")
    Image.fromarray(photo("astronaut", 64)).save(folder / "more" / "astronaut.jpg", quality=95)
    Image.fromarray(photo("astronaut", 64)).convert("L").save(folder / "gray.png")  # no truth color: skipped
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    return folder


def run_main(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--quiet"])
    return exit_info.value.code


def test_evaluate_a_folder_writes_metrics_for_model_and_both_baselines(lab_run, photos, tmp_path, capsys):
    out = tmp_path / "eval"
    assert run_main(str(lab_run), "--data", str(photos), "-o", str(out)) == 0
    printed = capsys.readouterr().out
    assert "mean_chroma" in printed and "FID skipped" in printed and "1 unreadable, 1 grayscale" in printed
    results = json.loads((out / "metrics.json").read_text())
    assert results["num_images"] == 3
    assert [name.split(":")[0] for name in results["skipped"]["unreadable"]] == ["broken.jpg"]
    assert results["skipped"]["grayscale"] == ["gray.png"]
    for method in (results["model"], *results["baselines"].values()):
        assert set(method) == METRICS
        assert method["colorfulness_true"] == pytest.approx(results["model"]["colorfulness_true"])
    assert results["baselines"]["gray"]["colorfulness"] == pytest.approx(0.0, abs=1e-3)
    assert results["fid"] is None and results["fid_note"].startswith("skipped")
    assert "oracle" in results["mean_chroma_source"]
    names = {row["name"] for row in results["per_image"]}
    assert names == {"chelsea.png", "coffee.png", "more/astronaut.jpg"}
    assert set(results["grid_rows"]) == {"worst", "median", "best"}
    ranked = sorted(results["per_image"], key=lambda row: row["model"]["deltae00"])
    assert results["grid_rows"]["worst"] == ranked[-1]["name"]
    assert results["grid_rows"]["best"] == ranked[0]["name"]
    with Image.open(out / "grid.png") as grid:
        assert grid.height > 3 * 160  # three rows of 160-px tiles plus captions
    # the numbers are the metrics of what the user gets: the full-resolution uint8 output vs the truth
    colorizer = Colorizer.from_checkpoint(lab_run, device="cpu")
    row = next(row for row in results["per_image"] if row["name"] == "coffee.png")
    truth = photo("coffee", 64)
    expected = image_metrics(to_tensor(colorizer.colorize(truth)), to_tensor(truth))
    for key, value in expected.items():
        assert row["model"][key] == pytest.approx(float(value), rel=1e-4, abs=1e-4), key
    gray = to_uint8(gray_baseline(to_tensor(truth)))
    gray_delta_e = float(delta_e00(to_tensor(gray), to_tensor(truth)))
    assert row["gray"]["deltae00"] == pytest.approx(gray_delta_e, rel=1e-4)


def test_a_perfect_colorizer_scores_identity(lab_run, monkeypatch, tmp_path):
    colorizer = Colorizer.from_checkpoint(lab_run, device="cpu")
    monkeypatch.setattr(colorizer, "colorize", lambda image, short_side=None: np.array(image))
    samples = [Sample(name, lambda name=name: photo(name, 48)) for name in ("chelsea", "coffee", "rocket")]
    results = evaluate(colorizer, samples, tmp_path, progress=False)
    model = results["model"]
    assert model["deltae00"] == pytest.approx(0.0, abs=1e-6)
    assert model["psnr"] == pytest.approx(100.0)  # identical images hit the PSNR cap
    assert model["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert model["ab_auc"] == pytest.approx(1.0)
    assert model["delta_colorfulness"] == pytest.approx(0.0, abs=1e-4)
    for baseline in results["baselines"].values():  # the floors are well below a perfect score
        assert baseline["deltae00"] > 1.0 and baseline["psnr"] < 40.0


def test_mean_chroma_constant_from_a_training_folder(lab_run, photos, tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    color = (200, 120, 40)
    Image.new("RGB", (16, 16), color).save(train / "orange.png")
    out = tmp_path / "eval"
    assert run_main(str(lab_run), "--data", str(photos), "--mean-from", str(train), "-o", str(out)) == 0
    results = json.loads((out / "metrics.json").read_text())
    lab = kc.rgb_to_lab(torch.tensor(color, dtype=torch.float32).view(1, 3, 1, 1) / 255)[0, :, 0, 0]
    assert results["mean_chroma_ab"] == pytest.approx(lab[1:].tolist(), abs=1e-3)
    assert str(train) in results["mean_chroma_source"]


def test_data_config_by_name_and_fid_without_weights(lab_run, tmp_path):
    out = tmp_path / "eval"
    status = run_main(str(lab_run), "--data", "synthetic", "--set", "num_val=3", "--fid-weights",
                      str(tmp_path / "missing-inception.pth"), "-o", str(out), "--max-images", "2")
    assert status == 0
    results = json.loads((out / "metrics.json").read_text())
    assert results["num_images"] == 2
    assert [row["name"] for row in results["per_image"]] == ["val_0000", "val_0001"]
    assert results["fid"] is None and results["fid_note"].startswith("skipped")


def test_samples_load_lazily_and_names_are_relative(photos):
    samples = folder_samples(photos)
    assert [sample.name for sample in samples][:2] == ["broken.jpg", "chelsea.png"]
    assert samples[1].load().shape[-1] == 3


def test_default_output_goes_into_the_run(lab_run, tmp_path):
    checkpoint = next((lab_run / "checkpoints").glob("*.ckpt"))
    assert default_output(checkpoint) == lab_run / "eval"
    assert default_output(checkpoint, "onnxruntime") == lab_run / "eval-onnxruntime"
    assert default_output(checkpoint.with_suffix(".int8.onnx")) == lab_run / f"eval-{checkpoint.stem}.int8"
    assert default_output(tmp_path / "model.ckpt").name == "eval-model"


def test_an_onnx_export_is_scored_like_its_checkpoint(lab_run, photos, tmp_path, capsys):
    from colorgan import export

    onnx_file = tmp_path / "model.onnx"
    with pytest.raises(SystemExit) as exit_info:
        export.main([str(lab_run), "--output", str(onnx_file)])
    assert exit_info.value.code == 0
    by_backend = {}
    for name, model, extra in (("torch", lab_run, ()), ("onnx", onnx_file, ()),
                               ("through-export", lab_run, ("--backend", "onnxruntime"))):
        out = tmp_path / name
        assert run_main(str(model), "--data", str(photos), "-o", str(out), "--device", "cpu", *extra) == 0
        by_backend[name] = json.loads((out / "metrics.json").read_text())
    assert "onnxruntime)" in capsys.readouterr().out
    assert by_backend["torch"]["backend"] == "torch"
    assert by_backend["onnx"]["backend"] == by_backend["through-export"]["backend"] == "onnxruntime"
    for name in ("onnx", "through-export"):  # same photos, same numbers up to onnxruntime's rounding
        assert by_backend[name]["num_images"] == by_backend["torch"]["num_images"]
        torch_deltae = by_backend["torch"]["model"]["deltae00"]
        assert by_backend[name]["model"]["deltae00"] == pytest.approx(torch_deltae, abs=0.05)


@pytest.mark.parametrize("data", ["/no/such/folder", "nonexistent_config"])
def test_bad_data_is_a_clear_error(lab_run, capsys, data):
    assert run_main(str(lab_run), "--data", data) == 2
    assert capsys.readouterr().err.startswith("error:")

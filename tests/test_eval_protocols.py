"""Evaluation that matches the literature: `evaluate --protocol`, colorfulness both ways, color-bias
diagnostics, per-sub-folder results, and `compare`'s baseline rows."""

from __future__ import annotations

import json
import math

import kornia.color as kc
import numpy as np
import pytest
import torch
from PIL import Image

from colorgan.compare import main as compare_main
from colorgan.evaluate import evaluate
from colorgan.evaluate import main as evaluate_main
from colorgan.inference import Colorizer
from colorgan.metrics.bias import bias_summary, image_entry, lab_summary
from colorgan.metrics.colorfulness import colorfulness, colorfulness_abs
from colorgan.report.protocols import TOP_LEVEL, apply_protocol, protocol_image
from colorgan.report.render import metrics_rows
from colorgan.report.runs import best_index, read_run
from colorgan.report.scores import to_tensor, to_uint8
from colorgan.samples import Sample, folder_samples
from tests.tiny_runs import photo, random_checkpoint

RED, GREEN = (255, 0, 0), (0, 255, 0)


def banded(height: int, width: int, vertical: bool = False) -> np.ndarray:
    """Green, with red bands over the outer eighth of the left and right (``vertical``: top and bottom)."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[...] = GREEN
    band = (height if vertical else width) // 8
    if vertical:
        image[:band], image[-band:] = RED, RED
    else:
        image[:, :band], image[:, -band:] = RED, RED
    return image


# ---- protocols ---------------------------------------------------------------------------------------
def test_center256_crops_the_middle_and_resize256_keeps_everything():
    landscape = banded(300, 400)  # 4:3: the central crop drops exactly the outer eighth of each side
    cropped, resized = protocol_image(landscape, "center256"), protocol_image(landscape, "resize256")
    assert cropped.shape == resized.shape == (256, 256, 3)
    assert cropped.dtype == resized.dtype == np.uint8
    assert (cropped[:, [4, -5], 1] > 200).all() and (cropped[:, [4, -5], 0] < 50).all()  # the red is gone
    assert (resized[:, [2, -3], 0] > 200).all() and (resized[:, 128, 1] > 200).all()  # squeezed, all there
    portrait = protocol_image(banded(400, 300, vertical=True), "center256")
    assert portrait.shape == (256, 256, 3) and (portrait[[4, -5], :, 1] > 200).all()
    small = protocol_image(banded(40, 80), "center256")  # like torchvision's Resize(256): small ones grow
    assert small.shape == (256, 256, 3)
    assert protocol_image(landscape, "full") is landscape


def test_apply_protocol_keeps_names_and_drops_max_side():
    samples = [Sample("a/one.png", lambda: banded(300, 400)), Sample("two.png", lambda: banded(64, 64))]
    same, max_side = apply_protocol(samples, "full", 1024)
    assert max_side == 1024 and [s.load().shape for s in same] == [(300, 400, 3), (64, 64, 3)]
    for protocol in ("center256", "resize256"):
        changed, max_side = apply_protocol(samples, protocol, 1024)
        assert max_side is None and [s.name for s in changed] == ["a/one.png", "two.png"]
        assert all(s.load().shape == (256, 256, 3) for s in changed)


# ---- colorfulness both ways --------------------------------------------------------------------------
def test_absolute_colorfulness_against_a_hand_computed_example():
    red_green = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]).reshape(1, 3, 1, 2)  # a red, a green pixel
    # Hasler–Süsstrunk: rg = ±255 (σ 255, μ 0), yb = 127.5 both (σ 0, μ 127.5): 255 + 0.3·127.5
    assert float(colorfulness(red_green)) == pytest.approx(255 + 0.3 * 127.5)
    # absolute values: |rg| = 255 both (σ 0), |yb| = 127.5 both (σ 0): 0.3·sqrt(255² + 127.5²)
    assert float(colorfulness_abs(red_green)) == pytest.approx(0.3 * math.hypot(255, 127.5))
    orange = torch.tensor([1.0, 0.5, 0.0]).reshape(1, 3, 1, 1).expand(2, 3, 4, 4)  # one sign: both agree
    assert torch.allclose(colorfulness(orange), colorfulness_abs(orange))
    assert float(colorfulness_abs(torch.full((1, 3, 4, 4), 0.4))) == 0.0


# ---- color bias --------------------------------------------------------------------------------------
def shifted(rgb: np.ndarray, scale: float = 1.0, delta_a: float = 0.0, delta_b: float = 0.0) -> np.ndarray:
    """The photo with its chroma scaled and shifted in Lab (lightness kept), as uint8."""
    lab = kc.rgb_to_lab(to_tensor(rgb))
    lab = torch.cat([lab[:, :1], lab[:, 1:2] * scale + delta_a, lab[:, 2:] * scale + delta_b], dim=1)
    return to_uint8(kc.lab_to_rgb(lab, clip=True))


def bias(pred: list[np.ndarray], truth: list[np.ndarray]) -> dict[str, float | None]:
    def entries(images: list[np.ndarray]) -> list[dict[str, torch.Tensor]]:
        return [image_entry(lab_summary(to_tensor(image))) for image in images]
    return bias_summary(entries(pred), entries(truth))


def test_bias_numbers_on_casts_with_a_known_direction():
    truth = [photo("chelsea", 64), photo("coffee", 64)]
    same = bias(truth, truth)
    assert same["delta_a"] == same["delta_b"] == 0.0
    assert same["saturation_ratio"] == pytest.approx(1.0) and same["hue_overlap"] == pytest.approx(1.0)
    blue = bias([shifted(image, delta_b=-25.0) for image in truth], truth)  # "everything is blue"
    assert blue["delta_b"] < -15.0 and abs(blue["delta_a"]) < 5.0
    assert blue["mean_b"] < blue["mean_b_true"] and blue["hue_overlap"] < 0.6
    sepia = bias([shifted(image, scale=0.0, delta_a=5.0, delta_b=20.0) for image in truth], truth)
    assert sepia["mean_a"] == pytest.approx(5.0, abs=1.0) and sepia["mean_b"] == pytest.approx(20.0, abs=2.0)
    assert sepia["hue_overlap"] < 0.5  # one brown hue for everything
    dull = bias([shifted(image, scale=0.5) for image in truth], truth)
    assert dull["saturation_ratio"] == pytest.approx(0.5, abs=0.05)  # half the chroma, same hues
    assert dull["hue_overlap"] > 0.85
    gray = bias([np.repeat(image.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2) for image in truth],
                truth)
    assert gray["saturation_ratio"] == pytest.approx(0.0, abs=0.01) and gray["hue_overlap"] == 0.0


# ---- evaluate: per-folder results, protocol recorded ---------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.ckpt", "lab", head_scale=0.2)


@pytest.fixture
def folders(tmp_path):
    root = tmp_path / "test"
    for group, names in (("animals", ("chelsea", "coffee")), ("space", ("astronaut",))):
        (root / group).mkdir(parents=True)
        for name in names:
            Image.fromarray(photo(name, 48)).save(root / group / f"{name}.png")
    Image.fromarray(photo("rocket", 48)).save(root / "rocket.png")
    return root


def test_each_sub_folder_is_reported_too(checkpoint, folders, tmp_path):
    colorizer = Colorizer.from_checkpoint(checkpoint, device="cpu")
    results = evaluate(colorizer, folder_samples(folders), tmp_path / "eval", progress=False)
    assert results["protocol"]["name"] == "full"
    groups = results["groups"]
    assert {name: group["num_images"] for name, group in groups.items()} == {
        "animals": 2, "space": 1, TOP_LEVEL: 1}
    for name, group in groups.items():
        members = [row for row in results["per_image"] if (row["name"].split("/")[0] if "/" in row["name"]
                                                            else TOP_LEVEL) == name]
        for method, values in (("model", group["model"]), *group["baselines"].items()):
            expected = np.mean([row[method]["deltae00"] for row in members])
            assert values["deltae00"] == pytest.approx(expected), (name, method)
        assert set(group["color"]) == {"model", "gray", "mean_chroma"}
    color = results["color"]
    assert color["gray"]["saturation_ratio"] == pytest.approx(0.0, abs=1e-3)
    assert color["model"]["colorfulness_hs"] == pytest.approx(results["model"]["colorfulness"])
    assert color["model"]["delta_colorfulness_abs"] == pytest.approx(
        color["model"]["colorfulness_abs"] - color["model"]["colorfulness_abs_true"])
    written = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert written["groups"].keys() == groups.keys() and written["color"] == json.loads(json.dumps(color))
    flat = evaluate(colorizer, folder_samples(folders / "animals"), tmp_path / "flat", progress=False)
    assert "groups" not in flat  # no sub-folders, no per-folder section


def test_protocol_is_named_in_output_and_metrics(checkpoint, folders, tmp_path, capsys):
    out = tmp_path / "eval"
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(checkpoint), "--data", str(folders / "space"), "--protocol", "center256", "-o",
                       str(out), "--device", "cpu", "--quiet"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "protocol center256" in printed and "CF abs (CT2/DDColor)" in printed
    assert "saturation ratio" in printed and "hue overlap" in printed
    results = json.loads((out / "metrics.json").read_text())
    assert results["protocol"]["name"] == "center256" and "val5k" in results["protocol"]["description"]
    assert results["max_side"] is None
    for method in ("model", "gray", "mean_chroma"):
        assert {"delta_a", "delta_b", "saturation_ratio", "hue_overlap"} <= set(results["color"][method])
    with pytest.raises(SystemExit) as exit_info:
        evaluate_main([str(checkpoint), "--data", str(folders), "--protocol", "crop224", "--quiet"])
    assert exit_info.value.code == 2


# ---- compare: baseline rows ---------------------------------------------------------------------------
def fake_run(root, name, checkpoint_seed, photos_dir, gray_val=12.5):
    """A run folder with a checkpoint, a training summary and an evaluation of ``photos_dir``."""
    run = root / name
    path = random_checkpoint(run / "checkpoints" / "last.ckpt", "lab", seed=checkpoint_seed, head_scale=0.2)
    summary = {"best_score": 11.0 + checkpoint_seed, "global_step": 8,
               "final": {"val/deltae00": 11.0 + checkpoint_seed, "val/psnr": 22.0,
                         "val/baseline_gray/deltae00": gray_val, "val/baseline_gray/psnr": 21.0}}
    (run / "metrics.json").write_text(json.dumps(summary))
    colorizer = Colorizer.from_checkpoint(path, device="cpu")
    evaluate(colorizer, folder_samples(photos_dir), run / "eval", progress=False, protocol="resize256")
    return run


def test_compare_shows_gray_and_mean_chroma_rows_beside_the_runs(folders, tmp_path):
    runs = [fake_run(tmp_path / "runs", f"run{seed}", seed, folders / "animals") for seed in (0, 1)]
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        compare_main([*map(str, runs), "-o", str(out), "--images", str(folders / "animals"),
                      "--device", "cpu"])
    assert exit_info.value.code == 0
    evaluation = json.loads((runs[0] / "eval" / "metrics.json").read_text())
    html, markdown = (out / "report.html").read_text(), (out / "report.md").read_text()
    gray_eval = f"{evaluation['baselines']['gray']['deltae00']:.4g}"
    mean_eval = f"{evaluation['baselines']['mean_chroma']['deltae00']:.4g}"
    for text in (html, markdown):
        assert text.count("baseline: gray (do nothing)") == 1  # same photos: one row for both runs
        assert text.count("baseline: mean chroma") == 1
        assert gray_eval in text and mean_eval in text and "12.5" in text
        assert "eval saturation ratio" in text and "eval hue overlap" in text
        assert "protocol resize256" in text
    header, rows = metrics_rows([read_run(run) for run in runs])
    gray_row = next(row for row in rows if row[0][0].startswith("baseline: gray"))
    cells = dict(zip(header, (text for text, _ in gray_row), strict=True))
    assert cells["val ΔE00"] == "12.5" and cells["gray ΔE00"] == "12.5" and cells["eval ΔE00"] == gray_eval
    assert cells["eval saturation ratio"] == "0" or float(cells["eval saturation ratio"]) < 1e-3
    assert not any(best for row in rows[2:] for _, best in row)  # a baseline is never "best"


def test_runs_scored_on_different_photos_get_their_own_baseline_rows(folders, tmp_path):
    runs = [fake_run(tmp_path / "runs", "a", 0, folders / "animals"),
            fake_run(tmp_path / "runs", "b", 1, folders / "space", gray_val=14.0)]
    _, rows = metrics_rows([read_run(run) for run in runs])
    labels = [row[0][0] for row in rows]
    assert labels[:2] == ["a", "b"]
    assert labels[2:] == ["baseline: gray (do nothing), a", "baseline: gray (do nothing), b",
                          "baseline: mean chroma, a", "baseline: mean chroma, b"]


def test_saturation_ratio_best_is_the_one_closest_to_one():
    assert best_index([0.5, 1.3, 0.9], "one") == 2

"""`colorgan.compare`: one report of several runs: config differences, metrics, curves and images."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from PIL import Image

from colorgan.compare import main
from colorgan.evaluate import evaluate
from colorgan.inference import Colorizer
from colorgan.report.runs import best_index, differing_keys, find_run_dirs, read_run
from colorgan.samples import folder_samples
from tests.tiny_runs import photo, tiny_run


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "tiny-runs"
    return [tiny_run(root, "lab"), tiny_run(root, "yuv")]


def run_main(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code


def test_report_of_two_runs_has_both_metrics_curves_and_images(two_runs, tmp_path):
    out = tmp_path / "report"
    assert run_main(*map(str, two_runs), "--output", str(out), "--num-images", "3", "--device", "cpu") == 0
    html = (out / "report.html").read_text()
    markdown = (out / "report.md").read_text()
    for run in two_runs:
        summary = json.loads((run / "metrics.json").read_text())
        best = f"{summary['best_score']:.4g}"
        psnr = f"{summary['final']['val/psnr']:.4g}"
        for text in (html, markdown):
            assert best in text and psnr in text, run.name
    for space in ("lab", "yuv"):
        assert f"colorspace={space}" in html and f"colorspace={space}" in markdown  # labelled by what differs
    assert "<code>colorspace.name</code>" in html
    assert html.count("class='best'") >= 2  # best value per column marked
    # self-contained: every image inlined, nothing refers to a file next to it
    assert not re.search(r"<img src='(?!data:image/png;base64,)", html)
    curves = sorted(path.name for path in out.glob("curve_*.png"))
    assert "curve_val_deltae00.png" in curves and "curve_train_loss.png" in curves
    assert html.count("data:image/png;base64,") == len(curves) + 1  # curves + the comparison grid
    with Image.open(out / "grid.png") as grid:  # gray | lab | yuv | truth, 3 photos of 128-px tiles
        assert grid.width == 4 * 128 + 3 * 3 and grid.height == 16 + 3 * (128 + 3)
    for name in [*curves, "grid.png"]:
        assert f"]({name})" in markdown


def test_sweep_dir_and_own_images(two_runs, tmp_path):
    sweep = tmp_path / "multirun"
    for index, run in enumerate(two_runs):
        shutil.copytree(run, sweep / f"{index}_colorspace={run.name.split('-')[-1]}")
    images = tmp_path / "images"
    images.mkdir()
    for name in ("chelsea", "coffee"):
        Image.fromarray(photo(name, 80)).save(images / f"{name}.png")
    run_dirs = find_run_dirs([sweep])
    assert [path.name for path in run_dirs] == ["0_colorspace=lab", "1_colorspace=yuv"]
    samples = folder_samples(images)
    scores = [evaluate(Colorizer.from_checkpoint(run, device="cpu"), samples, run / "eval", progress=False)
              for run in run_dirs]  # evaluated runs get eval columns
    out = tmp_path / "report"
    assert run_main(str(sweep), "-o", str(out), "--images", str(images), "--device", "cpu") == 0
    with Image.open(out / "grid.png") as grid:
        assert grid.height == 16 + 2 * (128 + 3)  # the two given photos
    markdown = (out / "report.md").read_text()
    assert "| eval ΔE00 |" in markdown
    for result in scores:
        assert f"{result['model']['deltae00']:.4g}" in markdown


def test_differing_keys_ignore_run_paths(two_runs):
    runs = [read_run(path) for path in two_runs]
    keys = differing_keys(runs)
    assert keys[0] == "colorspace.name"
    assert not any(key.startswith(("paths.", "hydra.")) for key in keys)
    assert not any("output_dir" in key or "dirpath" in key for key in keys)


def test_best_index_follows_each_metric_goal():
    assert best_index([3.0, 1.0, None], "min") == 1
    assert best_index([3.0, 1.0, None], "max") == 0
    assert best_index([-5.0, 2.0], "zero") == 1
    assert best_index([1.0, 2.0], None) is None
    assert best_index([1.0, None], "min") is None  # no contest with one value


def test_not_a_run_dir_is_a_clear_error(tmp_path, capsys):
    assert run_main(str(tmp_path), "-o", str(tmp_path / "report")) == 2
    assert "neither a run directory nor a sweep" in capsys.readouterr().err

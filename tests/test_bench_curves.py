"""The cost-curves section in quick mode: rows at every size, finite positive figures, fitted exponents and a
PNG figure beside the report (no timing asserted)."""

from __future__ import annotations

import json
import math

import pytest

from colorgan.bench import main, parse_args
from colorgan.bench.curves import QUICK_PHOTO_SIZES, QUICK_TRAIN_SIZES, fit_slope, slopes


def test_quick_curves_write_tables_exponents_and_a_figure(tmp_path):
    report_path, raw_path = tmp_path / "RESULTS.md", tmp_path / "results.json"
    main(["--quick", "--only", "curves", "--output", str(report_path), "--json", str(raw_path),
          "--work-dir", str(tmp_path / "work")])
    curves = json.loads(raw_path.read_text())["curves"]
    assert {(row["stage"], row["image_size"]) for row in curves["training"]} == {
        (stage, size) for stage in ("unet", "gan") for size in QUICK_TRAIN_SIZES}
    for row in curves["training"]:
        for key in ("images_per_s", "step_s", "flops_per_image"):
            assert math.isfinite(row[key]) and row[key] > 0
    rows = curves["inference"]["rows"]
    assert {"torch", "onnxruntime"} >= {row["backend"] for row in rows} >= {"torch"}
    for backend in {row["backend"] for row in rows}:
        sizes = [(row["width"], row["height"]) for row in rows if row["backend"] == backend]
        assert sizes == sorted(QUICK_PHOTO_SIZES, key=lambda size: size[0] * size[1])
    for row in rows:
        assert row["output_matches"]
        assert math.isclose(row["megapixels"], row["width"] * row["height"] / 1e6)
        for key in ("seconds", "peak_rss_mib"):
            assert math.isfinite(row[key]) and row[key] > 0
    fits = curves["fits"]
    for group in ("images_per_s", "seconds", "peak_rss"):
        assert fits[group] and all(math.isfinite(fit["exponent"]) for fit in fits[group].values())
    assert all(1.0 < exponent < 5.0 for exponent in fits["flops"].values())  # counted: about px², not timed
    plot = tmp_path / "cost_curves.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and curves["plot_link"] == "cost_curves.png"
    report = report_path.read_text()
    assert "## Cost curves" in report and "![cost curves](cost_curves.png)" in report
    assert "training images/s ∝ px^" in report and "inference seconds ∝ MP^" in report


def test_slope_is_the_log_log_exponent():
    assert math.isclose(fit_slope([64, 128, 256], [40.0, 10.0, 2.5]), -2.0)
    assert math.isclose(fit_slope([0.5, 2.0, 8.0], [1.0, 4.0, 16.0]), 1.0)
    assert fit_slope([1.0], [1.0]) is None and fit_slope([2.0, 2.0], [1.0, 3.0]) is None
    fit = slopes([1, 2, 4, 8], [1.0, 1.0, 2.0, 4.0])  # a fixed cost, then linear growth
    assert fit["exponent"] < fit["tail_exponent"] and math.isclose(fit["tail_exponent"], 1.0)


def test_curve_options(capsys):
    args = parse_args(["--only", "curves", "--curve-sizes", "64,128", "--curve-photos", "640x480,4000x3000"])
    assert args.only == {"curves"} and args.curve_sizes == [64, 128]
    assert args.curve_photos == [(640, 480), (4000, 3000)] and args.curves_plot is None
    with pytest.raises(SystemExit):
        parse_args(["--curve-repeats", "0"])
    assert "--curve-repeats" in capsys.readouterr().err

"""The benchmark command in quick mode: every section runs and lands in the report (no timing asserted)."""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch

from colorgan.bench import QUICK_OVERRIDES, json_from_process, main, parse_args
from colorgan.bench.machine import bf16_peak_tflops
from colorgan.bench.report import achieved_share
from colorgan.bench.training import flop_counter
from tests.helpers import TINY


def test_quick_benchmark_writes_every_section(tmp_path):
    report_path, raw_path = tmp_path / "RESULTS.md", tmp_path / "results.json"
    main(["--quick", "--output", str(report_path), "--json", str(raw_path), "--work-dir", str(tmp_path)])
    report = report_path.read_text()
    headings = ("## Machine", "## Targets", "## Data loading", "## Training", "## Inference on cpu")
    for heading in headings:
        assert heading in report
    assert "python -m colorgan.bench --quick" in report
    results = json.loads(raw_path.read_text())
    assert results["machine"]["cores"] >= 1 and results["machine"]["torch"]
    sources = {(row["source"], row["image_size"]) for row in results["loaders"]["rows"]}
    assert sources == {("folder (JPEG decode)", 32), ("prepared cache", 32)}
    assert all(row["images_per_s"] > 0 for row in results["loaders"]["rows"])
    stages = {(row["stage"], row["device"]) for row in results["training"]}
    assert {("unet", "cpu"), ("gan", "cpu")} <= stages
    for row in results["training"]:
        assert row["images_per_s"] > 0 and row["flops_per_image"] > 0
    gan, unet = (next(r for r in results["training"] if r["stage"] == s and r["device"] == "cpu")
                 for s in ("gan", "unet"))
    assert gan["flops_per_image"] > unet["flops_per_image"]  # the discriminator's passes are counted
    photos = {(row["width"], row["height"]): row for row in results["inference"]["rows"]}
    assert set(photos) == {(64, 64), (400, 300)}
    assert all(row["output_matches"] and row["peak_rss_mib"] > 0 for row in photos.values())


def test_quick_networks_are_the_tests_debug_config():
    assert list(QUICK_OVERRIDES) == TINY == ["debug=tiny"]


def test_share_of_the_gpu_peak():
    assert bf16_peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert bf16_peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert bf16_peak_tflops("NVIDIA A100-SXM4-40GB") == 312.0
    assert bf16_peak_tflops("Tesla T4") is None
    row = {"flops_per_image": 2e9, "images_per_s": 5000.0, "device": "cuda"}
    tflops, share = achieved_share(row, 989.0)
    assert math.isclose(tflops, 10.0) and math.isclose(share, 10.0 / 989.0)
    assert achieved_share({**row, "device": "cpu"}, 989.0) == (10.0, None)


@pytest.mark.parametrize("groups", [1, 16])
def test_training_flops_are_three_forwards_also_for_depthwise_convolutions(groups):
    conv = torch.nn.Conv2d(16, 16, 3, padding=1, groups=groups)
    images = torch.randn(2, 16, 12, 12, requires_grad=True)
    with flop_counter() as forward:
        conv(images)
    with flop_counter() as training:
        conv(images).sum().backward()
    assert training.get_total_flops() == 3 * forward.get_total_flops() > 0


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--only", "loaders,nonsense"])
    assert "nonsense" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--photo-size", "big"])


def test_a_measurement_process_gives_its_last_json_line_or_one_clear_error():
    printing = "print('log line'); print('{\"a\": 1}'); print('{\"a\": 2}')"
    assert json_from_process([sys.executable, "-c", printing], "probe") == {"a": 2}
    failing = "import sys; print('{\"a\": 1}'); sys.stderr.write('first\\nwhat went wrong\\n'); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"^probe failed \(exit 3\): what went wrong$"):
        json_from_process([sys.executable, "-c", failing], "probe")
    with pytest.raises(RuntimeError, match=r"failed \(exit 0\): no output"):
        json_from_process([sys.executable, "-c", "pass"], "probe")

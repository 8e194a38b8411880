"""benchmarks/pix2pix_side_by_side.py without pix2pix's code: errors, size rules, rounds, the report.

With COLORGAN_PIX2PIX_DIR pointing at a pix2pix checkout, one tiny real pix2pix measurement runs too.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "pix2pix_side_by_side.py"
_spec = importlib.util.spec_from_file_location("pix2pix_side_by_side", SCRIPT)
assert _spec and _spec.loader
side = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(side)


def fake_checkout(folder: Path) -> Path:
    for name in side.PIX2PIX_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    return folder


def test_a_folder_without_pix2pix_is_one_error_line(tmp_path, capsys):
    assert side.main(["--pix2pix-dir", str(tmp_path), "--output", str(tmp_path / "out.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "does not hold pix2pix's code" in err and "models/colorization_model.py" in err
    assert not (tmp_path / "out.md").exists()
    fake_checkout(tmp_path)
    (tmp_path / "options/train_options.py").unlink()
    assert side.main(["--pix2pix-dir", str(tmp_path)]) == 2
    assert "options/train_options.py" in capsys.readouterr().err


@pytest.mark.parametrize(("size", "net"), [(128, "unet_128"), (256, "unet_256"), (384, "unet_128"),
                                           (512, "unet_256")])
def test_pix2pix_unet_fits_the_size(size, net):
    assert side.pix2pix_netg(size) == net


def test_a_size_pix2pix_cannot_take_is_refused_before_any_measurement(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(side, "measure_in_subprocess", lambda *a: pytest.fail("must not measure"))
    assert side.main(["--pix2pix-dir", str(fake_checkout(tmp_path)), "--sizes", "128,96"]) == 2
    assert "96 px" in capsys.readouterr().err


def fake_results(rates: dict[str, list[float]]) -> dict[str, list[dict[str, Any]]]:
    params = {"pix2pix": 44.6, "pix2pix-kept": 44.6, "stage1": 3.8, "stage1-frozen": 3.8, "stage2": 4.3}
    return {kind: [{"images_per_s": rate, "parameters_m": params[kind], "net": "unet_128 + basic D",
                    "threads": 2} for rate in values] for kind, values in rates.items()}


def test_kinds_alternate_round_by_round():
    calls: list[tuple[str, int]] = []

    def measure(kind: str, size: int) -> dict[str, Any]:
        calls.append((kind, size))
        return {"images_per_s": float(len(calls))}

    args = side.parse_args(["--pix2pix-dir", ".", "--sizes", "128,256", "--rounds", "2"])
    results = side.run_rounds(args, measure)
    assert calls == [(kind, size) for size in (128, 256) for _ in range(2) for kind in side.KINDS]
    assert [run["images_per_s"] for run in results[256]["stage1"]] == [13.0, 18.0]


def test_report_shows_medians_ratios_and_targets():
    results = {128: fake_results({"pix2pix": [10.0, 12.0, 11.0], "pix2pix-kept": [15.0, 16.5, 14.0],
                                  "stage1": [36.0, 30.0, 33.0],
                                  "stage1-frozen": [50.0, 55.0, 60.0], "stage2": [20.0, 22.0, 21.0]}),
               256: fake_results({"pix2pix": [3.0, 3.0, 3.0], "pix2pix-kept": [4.0, 4.0, 4.0],
                                  "stage1": [6.0, 6.0, 6.0],
                                  "stage1-frozen": [9.0, 9.0, 9.0], "stage2": [2.0, 2.0, 2.0]})}
    info = {"command": "python benchmarks/pix2pix_side_by_side.py --pix2pix-dir X",
            "date": "2026-01-01 00:00", "elapsed_s": 1.0, "cpu": "Test CPU", "cores": 2,
            "threads": "2", "load_before": [0.1, 0.2, 0.3], "load_after": [0.2, 0.2, 0.3],
            "torch": "2.x", "pix2pix": "abc1234", "batch_size": 16, "repeats": 5, "warmup": 2}
    report = side.render(results, info)
    assert ("| 128 | 11.00 | 15.00 (2.20×) | 33.00 (3.00×) | 55.00 (5.00×) | 21.00 (1.91×, 0.64×) | "
            "44.6 / 3.8 / 4.3 (unet_128 + basic D) |") in report
    assert "| stage 1 ≥ 3× pix2pix, encoder frozen, 256 px | 3.00× | met |" in report
    assert "| stage 1 ≥ 3× pix2pix, 128 px | 3.00× | met |" in report
    assert "| stage 2 ≥ 2× pix2pix, 128 px | 1.91× | **not met** |" in report
    assert "| stage 2 ≥ 0.5× stage 1, 256 px | 0.33× | **not met** |" in report
    assert "| 128 | colorgan stage 1 | 36.00 | 30.00 | 33.00 |" in report
    assert "| 256 | pix2pix, malloc keeping freed memory | 4.00 | 4.00 | 4.00 |" in report
    assert info["command"] in report and "Test CPU" in report
    assert "[0.1, 0.2, 0.3] → [0.2, 0.2, 0.3]" in report


@pytest.mark.skipif(not os.environ.get("COLORGAN_PIX2PIX_DIR"),
                    reason="set COLORGAN_PIX2PIX_DIR to a pix2pix checkout to run its model once")
def test_one_real_pix2pix_step():
    done = subprocess.run([sys.executable, str(SCRIPT), "--one", "pix2pix", "128", "--pix2pix-dir",
                           os.environ["COLORGAN_PIX2PIX_DIR"], "--batch-size", "1", "--repeats", "1",
                           "--warmup", "0"], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["net"] == "unet_128 + basic D" and result["images_per_s"] > 0
    assert round(result["parameters_m"], 1) == 44.6  # its unet_128 G + 70×70 PatchGAN D, 1 -> 2 channels

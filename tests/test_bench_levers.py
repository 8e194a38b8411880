"""The bench's stage-1 levers section: every lever becomes a row, a failing lever a row with its error."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch

from colorgan.bench import levers as levers_module
from colorgan.bench import main
from colorgan.bench.levers import BASELINE, bench_levers, levers, quick_skip
from colorgan.bench.report import levers_section


def test_quick_levers_section_runs_and_is_reported(tmp_path):
    report_path, raw_path = tmp_path / "RESULTS.md", tmp_path / "results.json"
    main(["--quick", "--only", "levers", "--output", str(report_path), "--json", str(raw_path),
          "--work-dir", str(tmp_path)])
    rows = json.loads(raw_path.read_text())["levers"]
    assert [row["variant"] for row in rows] == [lever.name for lever in levers()]
    measured = [row for row in rows if row["variant"] not in quick_skip()]
    for row in measured:
        assert row["error"] is None, row
        assert math.isfinite(row["images_per_s"]) and row["images_per_s"] > 0
        assert math.isfinite(row["vs_baseline"]) and row["parameters_m"] > 0
    assert rows[0]["variant"] == BASELINE and rows[0]["vs_baseline"] == 1.0
    by_name = {row["variant"]: row for row in rows}
    assert by_name["wider decoder"]["parameters_m"] > by_name["narrower decoder"]["parameters_m"]
    assert by_name["torch.compile"]["images_per_s"] is None
    assert by_name["torch.compile"]["error"].startswith("not run")
    report = report_path.read_text()
    assert "## Stage-1 levers on the CPU" in report
    assert "| wider decoder | 32 |" in report and "not run: --quick" in report


def test_levers_pass_their_settings_and_a_failing_lever_becomes_a_row(monkeypatch):
    monkeypatch.setattr(levers_module, "native_bf16", lambda: False)
    threads = torch.get_num_threads()
    calls: list[dict[str, Any]] = []

    def fake_measure(encoder: str, stage: str, size: int, batch: int, warmup: int, repeats: int,
                     cuda: bool, extra: tuple[str, ...] = (), **options: Any) -> dict[str, Any]:
        calls.append({"extra": extra, "threads": torch.get_num_threads(), "steps": (warmup, repeats),
                      **options})
        assert stage == "unet" and not cuda
        if options.get("compiled"):
            raise RuntimeError("inductor failed\nlong traceback text")
        rate = 10.0 if options.get("precision") != "bf16-mixed" else 5.0
        return {"images_per_s": rate, "parameters_m": 1.0 + len(extra)}

    rows = bench_levers("efficientnet_lite0", [64], 2, 2, 3, extra=("debug=tiny",), measure=fake_measure)
    assert torch.get_num_threads() == threads  # the 1-thread lever restored the setting
    by_name = {row["variant"]: row for row in rows}
    assert by_name["torch.compile"]["error"] == "RuntimeError: inductor failed"
    assert by_name["torch.compile"]["images_per_s"] is None
    assert by_name["torch.compile"]["vs_baseline"] is None
    # emulated bf16 gets one timed step and no warm-up; every other lever the steps asked for
    assert {call["steps"] for call in calls if call.get("precision")} == {(0, 1)}
    assert {call["steps"] for call in calls if not call.get("precision")} == {(2, 3)}
    assert by_name["bf16-mixed"]["vs_baseline"] == pytest.approx(0.5)
    assert by_name["channels_last"]["vs_baseline"] == pytest.approx(1.0)
    one_thread = next(call for call in calls if call["threads"] == 1)
    assert one_thread["extra"] == ("debug=tiny",) and "precision" not in one_thread
    # every lever but the channels_last ones runs in the baseline's NCHW, whatever the config's default
    layouts = [call["channels_last"] for call in calls]
    assert layouts.count(True) == 2 and layouts.count(False) == len(calls) - 2
    second = [call["extra"][-1] for call in calls if len(call["extra"]) == 2]
    assert second == ["model.generator.decoder_channels=[64,32,24,16,8]",
                      "model.generator.decoder_channels=[256,128,64,32,16]",
                      "model.freeze_encoder_steps=-1", "model.freeze_encoder_steps=-1", "model.loss=bins"]
    frozen_calls = [call for call in calls if "model.freeze_encoder_steps=-1" in call["extra"]]
    assert [call["channels_last"] for call in frozen_calls] == [False, True]
    section = "\n".join(levers_section(rows, {"repeats": 3, "warmup": 2}))
    assert "RuntimeError: inductor failed" in section and "| bf16-mixed | 64 | 5.00 | 0.50× |" in section


def test_a_failing_baseline_is_not_hidden():
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        bench_levers("efficientnet_lite0", [64], 2, 0, 1, measure=broken)

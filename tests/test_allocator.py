"""`keep_freed_memory`: the setting, its effect on a process's memory, training's use of it, its benchmark."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from colorgan import allocator
from colorgan.train import train

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "allocator.py"
_spec = importlib.util.spec_from_file_location("allocator_bench", SCRIPT)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

# allocate and touch 256 MiB, free it, and report the resident memory before, at the peak and after
PROBE = """
import json, sys, torch
from colorgan import allocator
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
applied = allocator.keep_freed_memory() if sys.argv[1] == "on" else False
before = rss_mib()
big = torch.ones(64 * 2**20)
peak = rss_mib()
del big
print(json.dumps({"applied": applied, "before": before, "peak": peak, "after": rss_mib()}))
"""


@pytest.mark.parametrize(("setting", "device", "expected"), [
    ("auto", "cpu", True), ("auto", "cuda", False), (True, "cuda", True), (False, "cpu", False),
])
def test_the_setting_means_what_the_config_says(setting, device, expected):
    assert allocator.wanted(setting, device) is expected


def test_a_bad_setting_is_refused_before_training(tiny_config):
    with pytest.raises(ValueError, match="keep_freed_memory must be true, false or auto"):
        allocator.wanted("sometimes", "cpu")
    with pytest.raises(Exception, match="keep_freed_memory must be true, false or auto"):
        train(tiny_config("keep_freed_memory=sometimes", "+trainer.fast_dev_run=1"))


@pytest.mark.skipif(not allocator.is_supported(), reason="glibc only")
def test_freed_memory_stays_in_the_process_only_when_switched_on():
    runs = {}
    for setting in ("off", "on"):
        done = subprocess.run([sys.executable, "-c", PROBE, setting], capture_output=True, text=True,
                              check=True)
        runs[setting] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["on"]["applied"] is True
    for run in runs.values():
        assert run["peak"] - run["before"] > 200  # the tensor was resident
    assert runs["off"]["peak"] - runs["off"]["after"] > 200  # munmap gave it back at once
    assert runs["on"]["peak"] - runs["on"]["after"] < 50  # kept for the next allocation


@pytest.mark.parametrize(("setting", "calls"), [("auto", 1), ("false", 0)])
def test_cpu_training_switches_it_on_by_default(tiny_config, monkeypatch, setting, calls):
    made: list[bool] = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: made.append(True) or True)
    train(tiny_config(f"keep_freed_memory={setting}", "+trainer.fast_dev_run=1"))
    assert len(made) == calls


def test_the_benchmark_alternates_off_and_on_and_reports_medians(capsys, monkeypatch):
    calls: list[tuple[str, int, str]] = []

    def fake(stage: str, size: int, setting: str, args: Any) -> dict[str, Any]:
        calls.append((stage, size, setting))
        on = setting == "true"
        return {"images_per_s": (13.0 if on else 10.0) + len(calls) / 100, "system_s": 2.0 if on else 9.0,
                "user_s": 30.0, "peak_rss_mib": 1200.0 if on else 1000.0}

    monkeypatch.setattr(bench, "measure_in_subprocess", fake)
    assert bench.main(["--sizes", "64", "--rounds", "3"]) == 0
    assert calls[:4] == [("unet", 64, "false"), ("unet", 64, "true"), ("gan", 64, "false"),
                         ("gan", 64, "true")]
    assert len(calls) == 12
    table = capsys.readouterr().out
    row = "| stage 1 | 64 | 10.01, 10.05, 10.09 | 13.02, 13.06, 13.10 | 1.30× | 9.0 → 2.0 | 1,000 → 1,200 |"
    assert row in table


def test_one_benchmark_measurement_reports_speed_cpu_time_and_memory():
    done = subprocess.run([sys.executable, str(SCRIPT), "--one", "unet", "32", "true", "--batch-size", "2",
                           "--warmup", "0", "--repeats", "1"], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["images_per_s"] > 0 and result["system_s"] >= 0 and result["peak_rss_mib"] > 100

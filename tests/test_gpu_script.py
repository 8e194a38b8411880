"""benchmarks/gpu/device_run.sh: the prepared GPU session's time budget (no GPU or Python run here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu" / "device_run.sh"
STEPS = ("environment", "smoke_gpu", "stage1_long", "stage1_long_eval", "bench", "stage2_long",
         "stage2_long_eval", "ddp_one_gpu", "bench_compile", "stage1_300", "stage1_300_eval")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run_script(tmp_path: Path, budget: int, python: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BUDGET_S": str(budget), "PY": python,
           "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work"), "PHOTOS": str(tmp_path / "photos")}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def test_the_script_parses():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0


def test_steps_that_do_not_fit_the_budget_are_skipped_and_named(tmp_path):
    result = run_script(tmp_path, 0, sys.executable)
    assert result.returncode == 0, result.stderr
    for step in STEPS:
        assert f"=== {step}: skipped" in result.stdout
    assert "=== done" in result.stdout


def test_a_failed_smoke_run_stops_the_session_and_keeps_its_log(tmp_path):
    """A Python that cannot run colorgan: the environment and smoke steps fail, nothing after them runs."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'no torch here' >&2\nexit 3\n")
    fake.chmod(0o755)
    result = run_script(tmp_path, 600, str(fake))
    assert result.returncode == 1
    assert "=== smoke_gpu: rc=3" in result.stdout and "stopping here" in result.stdout
    assert "stage1_long" not in result.stdout
    assert "no torch here" in (tmp_path / "work" / "logs" / "smoke_gpu.log").read_text()
    assert (tmp_path / "out" / "results.tar.gz").stat().st_size > 0

"""`python -m colorgan.train` as a user runs it: run dirs, sweeps, resume, wandb offline, bad input."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.helpers import TINY, default_sigint


def run_train(
    log_dir: Path, *overrides: str, wandb_mode: str = "disabled", timeout: int = 300, tiny: bool = True
) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": wandb_mode, "WANDB_SILENT": "true"}
    shrink = TINY if tiny else []
    flags = [o for o in overrides if o.startswith("-")]  # Hydra flags (-m) go before the overrides
    overrides = tuple(o for o in overrides if not o.startswith("-"))
    command = [sys.executable, "-m", "colorgan.train", *flags, *shrink, f"paths.log_dir={log_dir}"]
    command += overrides
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def printed_run_dir(stdout: str) -> Path:
    match = re.search(r"^run dir: (.+)$", stdout, re.MULTILINE)
    assert match, stdout
    return Path(match.group(1))


def test_cli_trains_and_writes_an_offline_wandb_run(tmp_path):
    result = run_train(tmp_path, "logger=[csv,wandb]", wandb_mode="offline")
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = printed_run_dir(result.stdout)
    assert run_dir.parent == tmp_path / "train" / "runs"
    assert "best val/deltae00" in result.stdout and "gray baseline" in result.stdout
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "wandb").glob("offline-run-*")), "wandb offline run missing"


def test_multirun_sweeps_color_spaces(tmp_path):
    result = run_train(tmp_path, "-m", "colorspace=lab,hsv", "trainer.max_steps=2")
    assert result.returncode == 0, result.stderr[-3000:]
    sweep = next((tmp_path / "train" / "multiruns").iterdir())
    runs = sorted(p.name for p in sweep.iterdir() if (p / "metrics.json").is_file())
    assert runs == ["0_colorspace=lab", "1_colorspace=hsv"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data=folder", "encoder=tiny"], "data.root"),
        (["data=folder", "encoder=tiny", "data.root=/no/such/folder"], "/no/such/folder"),
        ([*TINY, "colorspace.name=cmyk"], "lab"),
        ([*TINY, "encoder.name=no_such_net"], "no_such_net"),
        (["resume=/no/such/run"], "/no/such/run"),
        ([*TINY, "model.ema_decay=1.5"], "model.ema_decay must be in (0, 1)"),
        ([*TINY, "keep_freed_memory=sometimes"], "keep_freed_memory must be true, false or auto"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, overrides, message):
    result = run_train(tmp_path, *overrides, timeout=120, tiny=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert message in result.stderr


@pytest.mark.slow
def test_ctrl_c_then_resume_continues_the_run(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled"}
    command = [
        sys.executable, "-m", "colorgan.train", *TINY, f"paths.log_dir={tmp_path}",
        "trainer.max_epochs=1000", "callbacks.last_checkpoint.every_n_train_steps=2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               preexec_fn=default_sigint)
    runs = tmp_path / "train" / "runs"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not list(runs.glob("*/checkpoints/last.ckpt")):
            time.sleep(0.5)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
    finally:  # a run that outlives the test must not keep training (max_epochs=1000) after it
        if process.poll() is None:
            process.kill()
            process.communicate()
    run_dir = next(runs.iterdir())
    interrupted_step = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert interrupted_step >= 2

    target = interrupted_step + 4
    result = run_train(tmp_path, f"resume={run_dir}", f"trainer.max_steps={target}", tiny=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert printed_run_dir(result.stdout) == run_dir
    resumed = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == target
    assert (run_dir / ".hydra" / "config.yaml").is_file()  # the original config is kept
    assert list((run_dir / ".hydra").glob("resume-*/config.yaml"))

"""Fault injection for training (issue 8): nothing lost, nothing executed, one clear line.

A failed or hostile resume never replaces ``last.ckpt``; resume keeps the CSV log and the best score;
saves are atomic in the checkpoint's own folder; non-finite scores or weights are never "best";
checkpoints are loaded weights-only whatever the environment says; a record is checked against its
tensors before anything is allocated; command-line mistakes end in one line.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from colorgan import atomic, checkpoints
from colorgan.build import check_config, resume_checkpoint
from colorgan.checkpoints import CheckpointError, atomic_save, build_generator, read_checkpoint
from colorgan.errors import UserError
from colorgan.modules.callbacks import AtomicCheckpointIO, BestCheckpoint
from colorgan.train import train
from tests.helpers import TINY, compose_config, default_sigint, photo_folder
from tests.tiny_runs import random_checkpoint

ENV = {**os.environ, "WANDB_MODE": "disabled", "WANDB_SILENT": "true", "HYDRA_FULL_ERROR": "1"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_run(run_dir: Path, *overrides: str):
    """Train a tiny synthetic run in-process (2 epochs of 4 steps)."""
    cfg = compose_config(run_dir, [*TINY, "trainer.max_epochs=2", *overrides])
    return train(cfg)


def resume(run_dir: Path, *overrides: str):
    return train(compose_config(run_dir, [*TINY, "trainer.max_epochs=2", f"resume={run_dir}", *overrides]))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny run (kept read-only by the tests: each copies it)."""
    run_dir = tmp_path_factory.mktemp("faults") / "run"
    tiny_run(run_dir, "callbacks.sample_panels=null")
    return run_dir


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text.strip(), text
    return text


# ---- 1. a failed resume never replaces last.ckpt ---------------------------------------------------------
def test_resume_failing_before_training_keeps_last_checkpoint(run_copy, monkeypatch):
    last = run_copy / "checkpoints" / "last.ckpt"
    before = digest(last)

    def broken_setup(self, stage=None):
        raise UserError("data folder /photos is missing")

    from colorgan.data import ColorDataModule

    monkeypatch.setattr(ColorDataModule, "setup", broken_setup)
    with pytest.raises(UserError, match="missing"):
        resume(run_copy, "trainer.max_epochs=4")
    assert digest(last) == before


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_resume_from_a_damaged_last_checkpoint_falls_back_to_best(run_copy, damage, caplog):
    last = run_copy / "checkpoints" / "last.ckpt"
    data = last.read_bytes()
    last.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x00junk" * 99}[damage])
    best = checkpoints.best_checkpoints(run_copy / "checkpoints")[0]
    assert resume_checkpoint(run_copy)[0] == best
    assert any("cannot be loaded" in r.message or "empty" in r.message for r in caplog.records)
    summary = resume(run_copy, "trainer.max_epochs=3")
    assert summary["global_step"] == 12  # trained on from the best checkpoint (step 8)
    assert torch.load(last, weights_only=True)["global_step"] == 12


def test_resume_with_no_usable_checkpoint_is_one_line_and_changes_nothing(run_copy):
    last = run_copy / "checkpoints" / "last.ckpt"
    for best in checkpoints.best_checkpoints(run_copy / "checkpoints"):
        best.unlink()
    last.write_bytes(last.read_bytes()[:1000])
    before = digest(last)
    with pytest.raises(CheckpointError, match=r"no checkpoint .* can be used") as caught:
        resume(run_copy, "trainer.max_epochs=4")
    one_line(caught.value)
    assert digest(last) == before


# ---- 2. resume keeps the CSV log and the best score ------------------------------------------------------
def test_resume_appends_to_the_csv_log_and_keeps_the_best(run_copy):
    csv_file = run_copy / "csv" / "metrics.csv"
    rows = csv_file.read_text().splitlines()
    earlier = json.loads((run_copy / "metrics.json").read_text())
    assert earlier["best_score"] is not None
    resume(run_copy, "trainer.max_epochs=3")
    after = csv_file.read_text().splitlines()
    assert after[: len(rows)][1:] == rows[1:] and len(after) > len(rows)
    # a finished run resumed again: nothing trained, metrics.json left exactly as it was
    text = (run_copy / "metrics.json").read_text()
    resume(run_copy, "trainer.max_epochs=3")
    assert (run_copy / "metrics.json").read_text() == text
    assert json.loads(text)["best_score"] is not None


# ---- 3. atomic saves in the destination's own folder -----------------------------------------------------
def test_saves_never_use_the_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))  # e.g. a full or other-fs /tmp
    tiny_run(tmp_path / "run", "trainer.max_epochs=1", "callbacks.sample_panels=null")
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4


def test_a_save_cut_short_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = atomic_save({"step": 1}, tmp_path / "last.ckpt")

    def killed(obj, file):
        file.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.torch, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"step": 2}, target)
    assert torch.load(target, weights_only=True) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_a_save_that_ctrl_c_cut_short_ends_the_run_as_interrupted(tmp_path, monkeypatch):
    saved = checkpoints.torch.save
    cut = []

    def cut_short_once(obj, file):  # what torch.save does when Ctrl-C lands inside it: it fails on closing
        if cut:
            return saved(obj, file)
        cut.append(True)
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("[enforce fail at inline_container.cc] unexpected pos 51456") from None

    monkeypatch.setattr(checkpoints.torch, "save", cut_short_once)
    with pytest.raises(KeyboardInterrupt):  # not the RuntimeError: `colorgan.cli` then says "interrupted"
        tiny_run(tmp_path / "run", "callbacks.last_checkpoint.every_n_train_steps=2",
                 "callbacks.sample_panels=null")
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["interrupted"] is True and summary["global_step"] == 2
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2


def test_leftover_temporary_files_of_killed_saves_are_removed(run_copy):
    folder = run_copy / "checkpoints"
    stale = folder / ".last.ckpt.999999999.deadbeef.tmp"
    stale.write_bytes(b"half a checkpoint")
    live = folder / f".last.ckpt.{os.getppid()}.cafe0000.tmp"  # a live save in progress is left alone
    live.write_bytes(b"busy")
    resume_checkpoint(run_copy)
    assert not stale.exists() and live.exists()


def test_disk_full_is_one_line_and_keeps_last_checkpoint(run_copy, monkeypatch):
    last = run_copy / "checkpoints" / "last.ckpt"
    before = digest(last)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(UserError, match="No space left on device") as caught:
        resume(run_copy, "trainer.max_epochs=3", "callbacks.last_checkpoint.every_n_train_steps=1")
    one_line(caught.value)
    assert digest(last) == before
    assert not list((run_copy / "checkpoints").glob(".*.tmp"))


# ---- 5. non-finite is never best --------------------------------------------------------------------------
def test_a_non_finite_score_or_weights_is_never_best(tmp_path):
    callback = BestCheckpoint(dirpath=tmp_path, monitor="val/deltae00", mode="min", save_top_k=1)
    module = torch.nn.Linear(2, 2)
    trainer = SimpleNamespace(lightning_module=module, global_step=3)
    assert not callback.check_monitor_top_k(trainer, torch.tensor(float("nan")))
    assert not callback.check_monitor_top_k(trainer, torch.tensor(float("inf")))
    assert callback.check_monitor_top_k(trainer, torch.tensor(1.0))
    with torch.no_grad():
        module.weight[0, 0] = float("nan")
    assert not callback.check_monitor_top_k(trainer, torch.tensor(1.0))


def test_a_checkpoint_with_non_finite_weights_is_refused(tmp_path):
    path = random_checkpoint(tmp_path / "nan.ckpt", "lab")
    checkpoint = torch.load(path, weights_only=True)
    key = next(k for k in checkpoint["state_dict"] if k.endswith("weight"))
    checkpoint["state_dict"][key][...] = float("nan")
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="non-finite") as caught:
        read_checkpoint(path)
    one_line(caught.value)


# ---- 7. weights-only loading, whatever the environment ----------------------------------------------------
class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_resume_never_unpickles_code(run_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    last = run_copy / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last, weights_only=True)
    marker = tmp_path / "code-ran"
    checkpoint["payload"] = Payload(marker)
    torch.save(checkpoint, last)
    for best in checkpoints.best_checkpoints(run_copy / "checkpoints"):
        best.unlink()
    before = digest(last)
    with pytest.raises(CheckpointError, match="refused: it holds pickled objects") as caught:
        resume(run_copy, "trainer.max_epochs=3")
    one_line(caught.value)
    with pytest.raises(CheckpointError, match="refused"):
        AtomicCheckpointIO().load_checkpoint(last, weights_only=False)
    assert not marker.exists() and digest(last) == before


# ---- 8. the record is checked against the tensors before allocating --------------------------------------
def test_a_huge_record_is_refused_before_anything_is_allocated(tmp_path, monkeypatch):
    path = random_checkpoint(tmp_path / "a.ckpt", "lab")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["colorgan"]["generator"]["decoder_channels"] = [8192] * 5  # ~20 GiB if built
    torch.save(checkpoint, path)
    real = checkpoints.UNetColorizer

    def only_on_meta(*args, **kwargs):
        if torch.empty(0).device.type != "meta":
            raise MemoryError("a real generator was built from an unchecked record")
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "UNetColorizer", only_on_meta)
    record, weights = read_checkpoint(path)
    with pytest.raises(CheckpointError, match="do not fit") as caught:
        build_generator(record, weights)
    one_line(caught.value)


# ---- 12. command-line mistakes: one line, no traceback -----------------------------------------------------
def test_config_checks_name_the_problem(tmp_path):
    check_config(compose_config(tmp_path, TINY))
    mistakes = [("trainer.max_epochs=0", "trains nothing"), ("model.optimizer.lr=abc", "number"),
                ("trainer.max_steps=0", "trains nothing")]
    for override, message in mistakes:
        with pytest.raises(UserError, match=message):
            check_config(compose_config(tmp_path, [*TINY, override]))


def run_cli(tmp_path: Path, *overrides: str, timeout: int = 180) -> subprocess.CompletedProcess:
    (tmp_path / "a-file").write_text("not a folder")
    overrides = tuple(o.replace("FILE", str(tmp_path / "a-file")) for o in overrides)
    log_dir = [] if any(o.startswith("paths.log_dir=") for o in overrides) else [f"paths.log_dir={tmp_path}"]
    command = [sys.executable, "-m", "colorgan.train", *TINY, *log_dir, *overrides]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=timeout)


def cases() -> list:
    found = [
        (["model.optimizer.lr=abc"], "model.optimizer.lr must be a number", 2),
        (["trainer.max_epochs=0"], "trains nothing", 2),
        (["model=gan", "encoder.name=no_such_net"], "no_such_net", 2),
        (["paths.log_dir=FILE/runs"], "cannot write the run directory", 2),
        (["colorspace=nope"], "Available options in 'colorspace': hsv, lab", 2),
    ]
    if not torch.cuda.is_available():
        found.append((["trainer=gpu"], "no CUDA GPU", 2))
    return found


@pytest.mark.parametrize(("overrides", "message", "status"), cases(), ids=lambda c: str(c)[:40])
def test_cli_mistakes_are_one_line(tmp_path, overrides, message, status):
    result = run_cli(tmp_path, *overrides)
    assert result.returncode == status, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
    assert not list(tmp_path.rglob("*.ckpt"))


@pytest.mark.slow
def test_cli_resume_with_the_photos_missing_loses_nothing(tmp_path):
    photos = photo_folder(tmp_path / "photos")
    folder = ["data=folder", f"data.root={photos}", "data.val_fraction=0.25"]
    result = run_cli(tmp_path, *folder, "trainer.max_epochs=2", "callbacks.sample_panels=null")
    assert result.returncode == 0, result.stderr[-2000:]
    run_dir = next((tmp_path / "train" / "runs").iterdir())
    last, csv_file = run_dir / "checkpoints" / "last.ckpt", run_dir / "csv" / "metrics.csv"
    before, rows = digest(last), csv_file.read_text().splitlines()
    step = torch.load(last, weights_only=True)["global_step"]

    photos.rename(tmp_path / "away")
    failed = run_cli(tmp_path, f"resume={run_dir}", "trainer.max_epochs=4")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr, failed.stderr[-2000:]
    assert [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert digest(last) == before and csv_file.read_text().splitlines() == rows

    (tmp_path / "away").rename(photos)
    resumed = run_cli(tmp_path, f"resume={run_dir}", "trainer.max_epochs=3")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = csv_file.read_text().splitlines()
    assert len(after) > len(rows) and set(rows[1:]) <= set(after[1:])
    assert torch.load(last, weights_only=True)["global_step"] > step
    assert json.loads((run_dir / "metrics.json").read_text())["best_score"] is not None


@pytest.mark.slow
def test_ctrl_c_exits_130_and_records_the_interruption(tmp_path):
    command = [sys.executable, "-m", "colorgan.train", *TINY, f"paths.log_dir={tmp_path}",
               "trainer.max_epochs=1000", "callbacks.sample_panels=null"]
    log = (tmp_path / "out.txt").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.PIPE, text=True, env=ENV,
                               preexec_fn=default_sigint)
    runs = tmp_path / "train" / "runs"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(runs.glob("*/csv/metrics.csv")):
        time.sleep(0.5)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "interrupted" in stderr.splitlines()[-1]
    run_dir = next(runs.iterdir())
    assert json.loads((run_dir / "metrics.json").read_text())["interrupted"] is True
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] > 0

"""Faults a hostile but fair user meets in the commands (issue 8): nothing lost, nothing run, one clear line.

The failure policy itself (`colorgan.cli.run_command`), colorize's files (temporaries, existing outputs,
paths outside --output), broken models, thin and tiny photos, untrusted data configs, Ctrl-C.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image

from colorgan import colorize, compare, evaluate
from colorgan.cli import run_command
from colorgan.errors import UserError
from colorgan.inference import Colorizer, NonFiniteOutput
from colorgan.photo_input import MAX_ASPECT, MAX_WORK_PIXELS, UnsupportedSize, working_size
from tests.helpers import default_sigint
from tests.tiny_runs import photo, random_checkpoint, tiny_run


@pytest.fixture(scope="session")
def lab_run(tmp_path_factory):
    return tiny_run(tmp_path_factory.getbasetemp() / "tiny-runs", "lab")


@pytest.fixture
def checkpoint(tmp_path):
    return random_checkpoint(tmp_path / "model.ckpt", "lab")


def exit_status(main, *argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return exit_info.value.code


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def tree(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---- the failure policy ---------------------------------------------------------------------------------
class Refuses:
    """A config object whose constructor refuses its value, as colorgan's classes do."""

    def __init__(self, value: int) -> None:
        raise UserError(f"value {value} is not allowed here")


def test_user_error_nested_in_instantiate_is_one_line_even_with_hydra_full_error(monkeypatch, capsys):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    config = {"_target_": "builtins.dict", "inner": {"_target_": "builtins.dict",
                                                     "deep": {"_target_": f"{__name__}.Refuses", "value": 7}}}
    with pytest.raises(SystemExit) as exit_info:
        run_command(lambda: instantiate(config), "test")
    assert exit_info.value.code == 2
    assert one_line(capsys.readouterr().err) == "error: value 7 is not allowed here"


def test_missing_value_and_bad_config_are_one_line(capsys):
    def missing():
        return OmegaConf.create({"data": {"root": "???"}}).data.root

    with pytest.raises(SystemExit) as exit_info:
        run_command(missing, "test")
    assert exit_info.value.code == 2
    expected = "error: data.root must be set, e.g. data.root=VALUE on the command line"
    assert one_line(capsys.readouterr().err) == expected
    with pytest.raises(SystemExit) as exit_info:
        run_command(lambda: instantiate({"_target_": "no.such.module.Thing"}), "test")
    assert exit_info.value.code == 2
    assert "no.such.module.Thing" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(("override", "message"), [
    ("data.batch_size=[1", "error: cannot parse the override 'data.batch_size=[1': "),
    ("data=nope", "error: In 'train': Could not find 'data/nope' Available options in 'data': folder, "),
])
def test_config_composition_errors_are_one_line(override, message, monkeypatch, capsys):
    from hydra import compose, initialize_config_dir

    from colorgan.config import CONFIG_NAME, config_dir

    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")

    def task():
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            compose(CONFIG_NAME, overrides=[override])

    with pytest.raises(SystemExit) as exit_info:
        run_command(task, "test")
    assert exit_info.value.code == 2
    assert one_line(capsys.readouterr().err).startswith(message)


def test_ctrl_c_is_130_and_one_line(capsys):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_info:
        run_command(interrupted, "test", interrupted="what is kept")
    assert exit_info.value.code == 130
    assert one_line(capsys.readouterr().err) == "interrupted: what is kept"


def test_an_error_caused_by_ctrl_c_is_still_an_interrupt(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORGAN_TRACEBACK_DIR", str(tmp_path / "tracebacks"))

    def write_cut_short():  # e.g. torch.save failing on closing the file Ctrl-C interrupted
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("unexpected pos 51456 vs 51352") from None

    with pytest.raises(SystemExit) as exit_info:
        run_command(write_cut_short, "test", interrupted="what is kept")
    assert exit_info.value.code == 130
    assert one_line(capsys.readouterr().err) == "interrupted: what is kept"
    assert not (tmp_path / "tracebacks").exists()


def test_ctrl_c_while_a_command_is_still_starting_is_one_line(tmp_path):
    env = {**os.environ, "WANDB_MODE": "disabled"}
    command = [sys.executable, "-m", "colorgan.train", "debug=tiny", f"paths.log_dir={tmp_path}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               preexec_fn=default_sigint)
    try:
        time.sleep(0.5)  # torch alone takes longer to import: the command is still starting
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted (while starting: nothing was written)"
    assert process.returncode in (130, -signal.SIGINT)  # Python ends as killed by SIGINT, as shells expect
    assert not (tmp_path / "train").exists()


def test_unexpected_error_is_one_line_and_a_traceback_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORGAN_TRACEBACK_DIR", str(tmp_path / "tracebacks"))

    def bug():
        raise RuntimeError("index out of range\nmore detail")

    with pytest.raises(SystemExit) as exit_info:
        run_command(bug, "test")
    assert exit_info.value.code == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("error: RuntimeError: index out of range (full traceback: ")
    (saved,) = (tmp_path / "tracebacks").iterdir()
    assert str(saved) in line
    assert "Traceback" in saved.read_text() and "def bug" not in line


def test_train_errors_ignore_hydra_full_error(tmp_path):
    env = {**os.environ, "HYDRA_FULL_ERROR": "1", "WANDB_MODE": "disabled"}
    command = [sys.executable, "-m", "colorgan.train", "encoder=tiny", "encoder.name=no_such_net",
               "logger=csv", f"paths.log_dir={tmp_path}"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "no_such_net" in result.stderr


# ---- colorize: files ------------------------------------------------------------------------------------
def test_existing_outputs_are_kept_unless_overwrite(checkpoint, tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    Image.fromarray(photo("coffee", 40)).save(inputs / "p.png")
    Image.fromarray(photo("chelsea", 40)).save(inputs / "q.png")
    (out / "p.png").write_bytes(b"an unrelated file of the user's")
    assert exit_status(colorize.main, str(checkpoint), str(inputs), "-o", str(out), "--quiet") == 0
    printed = capsys.readouterr().out
    assert "colorized 1 of 2" in printed and "1 skipped" in printed and "--overwrite" in printed
    assert (out / "p.png").read_bytes() == b"an unrelated file of the user's"
    assert Image.open(out / "q.png").size == Image.open(inputs / "q.png").size
    argv = [str(checkpoint), str(inputs), "-o", str(out), "--quiet"]
    assert exit_status(colorize.main, *argv, "--overwrite") == 0
    assert Image.open(out / "p.png").size == Image.open(inputs / "p.png").size


def write_partial(target) -> None:
    """Half an image, into a path or an open file (what a save interrupted midway leaves)."""
    if hasattr(target, "write"):
        target.write(b"partial")
    else:
        Path(target).write_bytes(b"partial")


def test_stale_temporaries_are_removed_by_a_rerun_and_none_left_on_errors(checkpoint, tmp_path, monkeypatch,
                                                                            capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    Image.fromarray(photo("coffee", 40)).save(inputs / "p.png")
    stale = out / f".p.png.{dead_pid()}.0badf00d.tmp"  # left by a killed run
    stale.write_bytes(b"half a png")
    others = out / ".notes.tmp"  # not ours: kept
    others.write_text("keep me")
    original_save = Image.Image.save

    def fail_midway(self, fp, *args, **kwargs):
        write_partial(fp)
        raise OSError("No space left on device")

    monkeypatch.setattr(Image.Image, "save", fail_midway)
    assert exit_status(colorize.main, str(checkpoint), str(inputs), "-o", str(out), "--quiet") == 1
    assert "No space left" in capsys.readouterr().err
    assert tree(out) == {".notes.tmp"}  # the stale one removed, no new one left, nothing half-written

    def interrupt_midway(self, fp, *args, **kwargs):
        write_partial(fp)
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupt_midway)
    assert exit_status(colorize.main, str(checkpoint), str(inputs), "-o", str(out), "--quiet") == 130
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err
    assert tree(out) == {".notes.tmp"}
    monkeypatch.setattr(Image.Image, "save", original_save)
    assert exit_status(colorize.main, str(checkpoint), str(inputs), "-o", str(out), "--quiet") == 0
    assert tree(out) == {".notes.tmp", "p.png"}


def test_outputs_never_escape_the_output_folder(checkpoint, tmp_path, capsys):
    (tmp_path / "in" / "a").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    Image.fromarray(photo("coffee", 40)).save(tmp_path / "in" / "a" / "p.jpg")
    Image.fromarray(photo("chelsea", 40)).save(tmp_path / "secret" / "s.jpg")
    before = tree(tmp_path)
    out = tmp_path / "work" / "out"
    argv = [str(checkpoint), str(tmp_path / "in" / "a" / "p.jpg"), "-o", str(out), "--quiet"]
    assert exit_status(colorize.main, *argv, "--suffix", "/../../escaped") == 2
    assert "--suffix" in one_line(capsys.readouterr().err)
    pattern = str(tmp_path / "in" / "*" / ".." / ".." / "secret" / "*.jpg")
    assert exit_status(colorize.main, str(checkpoint), pattern, "-o", str(out), "--quiet") == 2
    assert "'..' after a wildcard" in one_line(capsys.readouterr().err)
    assert tree(tmp_path) == before  # nothing written anywhere


# ---- colorize: models and photos ------------------------------------------------------------------------
class NaNGenerator(torch.nn.Module):
    def forward(self, luma):
        return torch.full((luma.shape[0], 2, *luma.shape[2:]), float("nan"))


def test_a_model_that_outputs_nan_writes_nothing(tmp_path, monkeypatch, capsys):
    broken = Colorizer(NaNGenerator(), "lab", 32, device="cpu")
    with pytest.raises(NonFiniteOutput, match="not finite"):
        broken.colorize(photo("coffee", 32))
    monkeypatch.setattr(Colorizer, "from_checkpoint", classmethod(lambda cls, *args, **kwargs: broken))
    Image.fromarray(photo("coffee", 40)).save(tmp_path / "p.png")
    out = tmp_path / "out"
    assert exit_status(colorize.main, "any.ckpt", str(tmp_path / "p.png"), "-o", str(out), "--quiet") == 2
    assert "not finite" in capsys.readouterr().err.splitlines()[-1]
    assert not out.exists() or tree(out) == set()


def test_thin_photos_are_skipped_and_the_batch_goes_on(checkpoint, tmp_path, capsys):
    with pytest.raises(UnsupportedSize, match="aspect ratio"):
        working_size(1, 2000, 128)
    height, width = working_size(300, 300 * MAX_ASPECT, 4096)
    assert height * width <= MAX_WORK_PIXELS * 1.01
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.full((1, 2000), 128, np.uint8)).save(inputs / "a_thin.png")
    Image.fromarray(photo("coffee", 40)).save(inputs / "b_ok.png")
    out = tmp_path / "out"
    status = exit_status(colorize.main, str(checkpoint), str(inputs), "-o", str(out), "--batch-size", "2",
                         "--quiet")
    assert status == 1  # a photo not colorized is a failure, reported; the rest is done
    assert "a_thin.png: extreme aspect ratio 2000x1" in capsys.readouterr().err
    assert tree(out) == {"b_ok.png"}


def test_ctrl_c_and_bugs_in_colorize_are_one_line(checkpoint, tmp_path, monkeypatch, capsys):
    Image.fromarray(photo("coffee", 40)).save(tmp_path / "p.png")
    argv = [str(checkpoint), str(tmp_path / "p.png"), "-o", str(tmp_path / "out"), "--quiet"]

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Colorizer, "predict", interrupt)
    assert exit_status(colorize.main, *argv) == 130
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("interrupted: ") and "Traceback" not in err

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setenv("COLORGAN_TRACEBACK_DIR", str(tmp_path / "tracebacks"))
    monkeypatch.setattr(Colorizer, "predict", bug)
    assert exit_status(colorize.main, *argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: ZeroDivisionError: division by zero (full traceback: ")
    assert "Traceback" not in err and len(list((tmp_path / "tracebacks").iterdir())) == 1


# ---- evaluate and compare -------------------------------------------------------------------------------
def test_evaluate_counts_tiny_photos_instead_of_aborting(checkpoint, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photo("coffee", 48)).save(folder / "ok.png")
    Image.fromarray(photo("chelsea", 8)).save(folder / "tiny.png")  # 8x5 px
    Image.fromarray(photo("astronaut")).resize((300, 20)).save(folder / "strip.png")  # 100x7 at max-side 100
    out = tmp_path / "eval"
    status = exit_status(evaluate.main, str(checkpoint), "--data", str(folder), "--max-side", "100", "-o",
                         str(out), "--quiet")
    assert status == 0
    assert "2 too small" in capsys.readouterr().out
    results = json.loads((out / "metrics.json").read_text())
    assert results["num_images"] == 1
    assert sorted(name.split(":")[0] for name in results["skipped"]["too_small"]) == ["strip.png", "tiny.png"]


def test_compare_images_skips_unreadable_photos(lab_run, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(photo("coffee", 64)).save(images / "a.png")
    (images / "b.jpg").write_bytes(b"not a jpeg at all")
    Image.fromarray(photo("chelsea", 64)).save(images / "c.png")
    out = tmp_path / "report"
    argv = [str(lab_run), "--images", str(images), "-o", str(out), "--device", "cpu"]
    assert exit_status(compare.main, *argv) == 0
    assert "1 photos skipped" in capsys.readouterr().out
    with Image.open(out / "grid.png") as grid:
        assert grid.height == 16 + 2 * (128 + 3)
    assert "b.jpg" in (out / "report.md").read_text()


def hostile_config(path: Path, marker: Path, base: dict) -> Path:
    """``base`` (a run config) with a file-writing target nested deep in its data node."""
    config = OmegaConf.create(base)
    evil = {"_target_": "pathlib.Path.write_text", "data": "code ran",
            "self": {"_target_": "pathlib.Path", "_args_": [str(marker)]}}
    node = config.data.source if OmegaConf.is_dict(config.data.get("source")) else config.data
    node.extra = {"deeper": evil}
    OmegaConf.save(config, path)
    return path


def test_untrusted_data_configs_never_run_code(lab_run, checkpoint, tmp_path, capsys):
    marker = tmp_path / "pwned.txt"
    run_config = OmegaConf.to_container(OmegaConf.load(lab_run / ".hydra" / "config.yaml"))
    evil_yaml = hostile_config(tmp_path / "evil.yaml", marker, run_config)
    status = exit_status(evaluate.main, str(checkpoint), "--data", str(evil_yaml), "-o", str(tmp_path / "e"),
                         "--quiet")
    assert status == 2 and not marker.exists()
    assert "pathlib.Path" in one_line(capsys.readouterr().err)
    copied = tmp_path / "run"
    shutil.copytree(lab_run, copied)
    hostile_config(copied / ".hydra" / "config.yaml", marker, run_config)
    assert exit_status(compare.main, str(copied), "-o", str(tmp_path / "report"), "--device", "cpu") == 2
    assert not marker.exists()
    assert "pathlib.Path" in one_line(capsys.readouterr().err)


def test_a_run_config_cannot_copy_environment_variables_into_a_report(monkeypatch):
    from colorgan.report.runs import flatten_config

    monkeypatch.setenv("COLORGAN_TEST_SECRET", "hunter2")
    config = OmegaConf.create({"note": "${oc.env:COLORGAN_TEST_SECRET}", "copy": "${note}", "size": 3,
                               "double": "${size}"})
    flat = flatten_config(config)
    assert "hunter2" not in str(flat)
    assert flat["double"] == 3  # other interpolations still resolve

"""`python -m colorgan.colorize` on good and bad files: outputs, counts, exit codes, inputs left intact."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorgan.colorize import main
from tests.tiny_runs import photo, tiny_run


@pytest.fixture(scope="session")
def lab_run(tmp_path_factory):
    return tiny_run(tmp_path_factory.getbasetemp() / "tiny-runs", "lab")


def make_inputs(folder: Path) -> dict[str, tuple[int, int]]:
    """Good photos of every awkward kind, bad files; returns {good relative path: upright (width, height)}."""
    rgb = photo("chelsea", 72)  # 72x48
    height, width = rgb.shape[:2]
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(rgb).save(folder / "chelsea.jpg", quality=90)
    Image.fromarray(rgb).convert("L").save(folder / "sub" / "gray.png")
    alpha = np.where(np.arange(width) < width // 2, 0, 255).astype(np.uint8)[None].repeat(height, 0)
    rgba = np.dstack([rgb, alpha])
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "palette.png")
    Image.fromarray(rgb[..., 1].astype(np.uint16) * 257).save(folder / "deep.png")  # 16-bit gray
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, displayed rotated 90 degrees
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif)
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg" * 8)
    png = (folder / "palette.png").read_bytes()
    (folder / "sub" / "truncated.png").write_bytes(png[: len(png) // 3])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not a photo, not even tried")
    good = ["chelsea.jpg", "sub/gray.png", "rgba.png", "palette.png", "deep.png", "cmyk.jpg"]
    sizes = {name: (width, height) for name in good}
    sizes["rotated.jpg"] = (height, width)
    return sizes


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def run_main(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--quiet"])
    return exit_info.value.code


def test_cli_on_a_folder_of_good_and_bad_files(lab_run, tmp_path):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    sizes = make_inputs(inputs)
    before = digests(inputs)
    result = subprocess.run(
        [sys.executable, "-m", "colorgan.colorize", str(lab_run), str(inputs), "--output", str(outputs)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "colorized 7 of 10 inputs" in result.stdout
    assert "3 failed" in result.stderr
    for bad in ("corrupt.jpg", "truncated.png", "empty.png"):
        assert bad in result.stderr
    assert "converted to gray" in result.stderr  # said once for color inputs
    assert result.stderr.count("converted to gray") == 1
    written = {path.relative_to(outputs).as_posix(): path for path in outputs.rglob("*") if path.is_file()}
    expected = {name if name.endswith(".jpg") else str(Path(name).with_suffix(".png")) for name in sizes}
    assert set(written) == expected  # names and sub-folders kept, no temporary files left behind
    for name, size in sizes.items():
        output = written[name if name.endswith(".jpg") else str(Path(name).with_suffix(".png"))]
        with Image.open(output) as image:
            assert image.size == size and image.mode == "RGB", name
    assert digests(inputs) == before  # inputs untouched, nothing added next to them


def test_output_dir_equal_to_input_dir_needs_a_suffix(lab_run, tmp_path):
    Image.fromarray(photo("coffee", 48)).save(tmp_path / "coffee.png")
    before = digests(tmp_path)
    assert run_main(str(lab_run), str(tmp_path), "--output", str(tmp_path)) == 2
    assert digests(tmp_path) == before
    assert run_main(str(lab_run), str(tmp_path), "--output", str(tmp_path), "--suffix", "_color") == 0
    assert (tmp_path / "coffee_color.png").is_file()
    assert digests(tmp_path)["coffee.png"] == before["coffee.png"]
    # running again does not colorize its own outputs (no coffee_color_color.png)
    assert run_main(str(lab_run), str(tmp_path), "--output", str(tmp_path), "--suffix", "_color") == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["coffee.png", "coffee_color.png"]


def test_output_that_would_replace_an_input_is_refused(lab_run, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(photo("coffee", 48)).save(inputs / "a.png")
    Image.fromarray(photo("chelsea", 48)).save(inputs / "a_c.png")
    before = digests(inputs)
    status = run_main(str(lab_run), str(inputs / "a.png"), str(inputs / "a_c.png"),
                      "-o", str(inputs), "--suffix", "_c")
    assert status == 1  # a.png -> a_c.png would overwrite an input: refused and counted
    assert digests(inputs)["a_c.png"] == before["a_c.png"]
    assert (inputs / "a_c_c.png").is_file()


def test_globs_jpeg_output_and_side_by_side(lab_run, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee", "chelsea"):
        Image.fromarray(photo(name, 64)).save(folder / f"{name}.png")
    pattern = str(folder / "c*.png")
    status = run_main(str(lab_run), pattern, "-o", str(tmp_path / "out"), "--format", "jpg",
                      "--quality", "80", "--side-by-side", "--batch-size", "2", "--short-side", "16",
                      "--device", "cpu")
    assert status == 0
    assert "colorized 2 of 2" in capsys.readouterr().out
    for name in ("coffee", "chelsea"):
        with Image.open(tmp_path / "out" / f"{name}.jpg") as image:
            assert image.format == "JPEG"
            assert image.size == (2 * photo(name, 64).shape[1], photo(name, 64).shape[0])


def test_missing_inputs_are_counted_and_the_rest_is_done(lab_run, tmp_path, capsys):
    Image.fromarray(photo("coffee", 48)).save(tmp_path / "ok.png")
    status = run_main(str(lab_run), str(tmp_path / "ok.png"), str(tmp_path / "nope.png"),
                      str(tmp_path / "*.gif"), "-o", str(tmp_path / "out"))
    assert status == 1
    captured = capsys.readouterr()
    assert "nope.png: no such file" in captured.err and "no file matches" in captured.err
    assert (tmp_path / "out" / "ok.png").is_file()


@pytest.mark.parametrize("checkpoint", ["missing.ckpt", "garbage.ckpt"])
def test_bad_checkpoint_is_a_clear_error(tmp_path, capsys, checkpoint):
    (tmp_path / "garbage.ckpt").write_bytes(b"garbage")
    Image.fromarray(photo("coffee", 32)).save(tmp_path / "ok.png")
    assert run_main(str(tmp_path / checkpoint), str(tmp_path / "ok.png"), "-o", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and checkpoint in err

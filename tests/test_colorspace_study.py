"""benchmarks/colorspaces/: the study's commands, resuming, and its summary table from fake evaluations."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

STUDY_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "colorspaces"
sys.path.insert(0, str(STUDY_DIR))
import study  # noqa: E402
import summary  # noqa: E402


def photoset(root: Path) -> Path:
    for split in ("train", "test"):
        (root / split).mkdir(parents=True)
    return root


def fake_metrics(deltae: float, cf: float, groups: bool = True) -> dict:
    model = {"deltae00": deltae, "psnr": 22.0, "ssim": 0.9, "ab_auc": 0.88}
    color = {"colorfulness_hs": cf, "colorfulness_hs_true": 48.0, "delta_colorfulness_hs": cf - 48.0,
             "delta_colorfulness_abs": cf - 44.0, "delta_a": 1.0, "delta_b": -2.0, "saturation_ratio": 0.6,
             "hue_overlap": 0.7}
    gray = {"deltae00": 13.0, "psnr": 21.0, "ssim": 0.91, "ab_auc": 0.86}
    gray_color = {**color, "colorfulness_hs": 0.0, "delta_colorfulness_hs": -48.0, "saturation_ratio": 0.0}
    metrics = {"num_images": 3, "model": model, "baselines": {"gray": gray, "mean_chroma": gray},
               "color": {"model": color, "gray": gray_color, "mean_chroma": gray_color}}
    if groups:
        metrics["groups"] = {"other": {**metrics, "num_images": 2}}
    return metrics


def test_commands_train_stage2_from_stage1_with_the_same_settings(tmp_path: Path):
    args = study.parse_args(["--photos", str(photoset(tmp_path / "p")), "--work", str(tmp_path / "w"),
                             "--stage1-steps", "7", "--stage2-steps", "3", "--set", "model.loss=huber"])
    run = tmp_path / "w" / "hsv-seed1"
    first = study.train_command(args, "hsv", 1, run, "stage1")
    second = study.train_command(args, "hsv", 1, run, "stage2")
    assert "trainer.max_steps=7" in first and "trainer.max_steps=3" in second
    assert f"model.init_from={run / 'stage1'}" in second and "model=gan" in second
    assert not any(part.startswith("model.init_from") for part in first)
    for command, stage in ((first, "stage1"), (second, "stage2")):
        expected = {"colorspace=hsv", "seed=1", "model.loss=huber", f"hydra.run.dir={run / stage}"}
        assert expected <= set(command)
    assert "--mean-from" in study.evaluate_command(args, run / "stage1")


def test_bad_spaces_and_a_missing_photo_set_are_usage_errors(tmp_path: Path):
    with pytest.raises(SystemExit):
        study.parse_args(["--photos", str(tmp_path), "--work", str(tmp_path / "w")])  # no train/ test/
    with pytest.raises(SystemExit):
        study.parse_args(["--photos", str(photoset(tmp_path / "p")), "--spaces", "lab,cmyk"])


def test_finished_steps_are_skipped(tmp_path: Path, monkeypatch):
    args = study.parse_args(["--photos", str(photoset(tmp_path / "p")), "--work", str(tmp_path / "w")])
    stage = tmp_path / "w" / "lab-seed0" / "stage1"
    (stage / "eval_test").mkdir(parents=True)
    (stage / "metrics.json").write_text("{}")
    (stage / "eval_test" / "metrics.json").write_text("{}")
    monkeypatch.setattr(study, "run_logged", lambda *a: pytest.fail("a finished step ran again"))
    assert "already done" in study.one_run(args, "lab", 0, "stage1", threads=1)


def test_summary_table_shows_mean_and_half_range_beside_the_baselines(tmp_path: Path):
    for seed, (deltae, cf) in enumerate([(10.0, 30.0), (11.0, 34.0)]):
        folder = tmp_path / f"lab-seed{seed}" / "stage1" / "eval_test"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(fake_metrics(deltae, cf)))
    found = summary.load_metrics(tmp_path, ["lab", "rgb"], [0, 1])
    assert list(found) == [("lab", "stage1")] and len(found[("lab", "stage1")]) == 2
    lines = summary.table(found)
    lab = next(line for line in lines if line.startswith("| lab |"))
    assert "10.50 ± 0.50" in lab  # ΔE00 over two seeds
    assert "16.0 ± 2.0" in lab  # |ΔCF| = |32 - 48| on average, seeds 18 and 14
    assert "0.808 ± 0.038" in lab  # × gray: 10.5 / 13
    gray = next(line for line in lines if line.startswith("| gray"))
    assert "13.00" in gray and "±" not in gray
    assert any(line.startswith("| lab |") for line in summary.table(found, "other"))

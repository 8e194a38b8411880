"""The default training length fits the data (conf/train.yaml's min_steps, `build.fit_length`)."""

from __future__ import annotations

from pathlib import Path

from colorgan.build import fit_length
from colorgan.data import build_datamodule
from tests.helpers import TINY, compose_config, photo_folder


def fitted(tmp_path: Path, *overrides: str):
    root = photo_folder(tmp_path / "photos", 20)  # 18 train photos (val 0.1) -> 4 steps of 4 per epoch
    cfg = compose_config(tmp_path / "run", [*TINY, "data=folder", f"data.root={root}", "data.batch_size=4",
                                            *overrides])
    return cfg, fit_length(cfg, build_datamodule(cfg.data))


def test_the_shipped_default_is_on() -> None:
    cfg = compose_config(Path("unused"), [])
    assert cfg.min_steps > 0 and cfg.trainer.max_steps == -1 and cfg.trainer.max_epochs > 0


def test_few_photos_get_more_epochs_until_min_steps(tmp_path: Path) -> None:
    cfg, result = fitted(tmp_path, "min_steps=30", "trainer.max_epochs=2")
    assert result.trainer.max_epochs == 8  # ceil(30 / 4)
    assert result.trainer.check_val_every_n_epoch == 4  # still 2 validations, as the 2 epochs asked for
    assert cfg.trainer.max_epochs == 2  # the given config is not changed in place


def test_enough_epochs_are_left_as_given(tmp_path: Path) -> None:
    _, result = fitted(tmp_path, "min_steps=30", "trainer.max_epochs=12")
    assert result.trainer.max_epochs == 12


def test_a_step_count_or_min_steps_zero_is_the_users_choice(tmp_path: Path) -> None:
    _, with_steps = fitted(tmp_path, "min_steps=30", "trainer.max_epochs=2", "trainer.max_steps=5")
    _, off = fitted(tmp_path, "min_steps=0", "trainer.max_epochs=2")
    _, endless = fitted(tmp_path, "min_steps=30", "trainer.max_epochs=-1", "trainer.max_steps=7")
    assert with_steps.trainer.max_epochs == 2 and off.trainer.max_epochs == 2
    assert endless.trainer.max_epochs == -1


def test_a_short_run_really_trains_min_steps(tmp_path: Path) -> None:
    from colorgan.train import train

    root = photo_folder(tmp_path / "photos", 20)
    cfg = compose_config(tmp_path / "run", [*TINY, "data=folder", f"data.root={root}", "data.batch_size=4",
                                            "min_steps=6", "trainer.max_epochs=1",
                                            "callbacks.sample_panels=null"])
    summary = train(cfg)
    assert summary["global_step"] == 8  # 2 epochs of 4 steps: the first epoch count reaching 6

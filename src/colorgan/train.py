"""`python -m colorgan.train [group=option ...] [key=value ...]`: train a colorizer (Hydra entry point).

`train(cfg)` is the task: `colorgan.build.build_run` builds the run, Lightning fits it, ``metrics.json``
sums it up. ``experiment=two_stage`` trains RUN_DIR/stage1 (``model``) then RUN_DIR/stage2
(``two_stage.model``, initialized from stage 1's best checkpoint). ``resume=RUN_DIR`` continues a run with
its saved config (plus key=value overrides given now). Every failure is one line (`colorgan.cli`).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import logging
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from colorgan.atomic import write_json
from colorgan.build import Run, build_run
from colorgan.cli import caused_by_interrupt, hydra_one_line, run_command
from colorgan.config import CONFIG_GROUPS, CONFIG_NAME, config_dir, override_key
from colorgan.errors import UserError
from colorgan.report.runs import finite_float

log = logging.getLogger(__name__)
# by design: batches are split into luma/chroma in the module's on_after_batch_transfer, not the datamodule
warnings.filterwarnings("ignore", message=".*overridden `on_after_batch_transfer`.*")
_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


# ---- resume ------------------------------------------------------------------------------------------
def resumed_config(cfg: DictConfig, overrides: list[str] | None = None) -> DictConfig:
    """The interrupted run's own config, plus key=value ``overrides`` given now (e.g. a longer schedule).

    ``overrides`` defaults to this Hydra job's command-line overrides.
    """
    run_dir = Path(cfg.resume).expanduser().resolve()
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise UserError(f"resume={cfg.resume}: {saved} not found; pass the directory of a colorgan run")
    if overrides is None:
        overrides = list(HydraConfig.get().overrides.task)
    extra = [o for o in overrides if override_key(o) != "resume"]
    groups = [o for o in extra if override_key(o) in CONFIG_GROUPS]
    if groups:
        raise UserError(f"resume keeps the run's config; config groups can't change: {' '.join(groups)}")
    resumed = OmegaConf.load(saved)
    with open_dict(resumed):
        for override in OverridesParser.create().parse_overrides(extra):
            if override.is_delete():
                parent, _, leaf = override.key_or_group.rpartition(".")
                node = OmegaConf.select(resumed, parent) if parent else resumed
                if isinstance(node, DictConfig) and leaf in node:
                    del node[leaf]
            else:
                OmegaConf.update(resumed, override.key_or_group, override.value(), merge=True, force_add=True)
        resumed.resume = str(run_dir)
        resumed.paths.output_dir = str(run_dir)
    return resumed


# ---- metrics.json --------------------------------------------------------------------------------------
def summarize(run: Run, elapsed_s: float) -> dict[str, Any]:
    """Final and best metrics of a fit, as plain JSON data (never NaN: non-finite values are left out)."""
    trainer = run.trainer
    best = trainer.checkpoint_callback
    metrics = {key: finite_float(value) for key, value in trainer.callback_metrics.items()}
    score = finite_float(best.best_model_score) if best and best.best_model_score is not None else None
    path = str(best.best_model_path) if best and best.best_model_path and score is not None else None
    return {
        "global_step": trainer.global_step,
        "epochs": trainer.current_epoch,
        "elapsed_s": round(elapsed_s, 1),
        "interrupted": bool(trainer.interrupted),
        "best_checkpoint": path,
        "best_score": score,
        "monitor": best.monitor if best else None,
        "final": {key: value for key, value in sorted(metrics.items()) if value is not None},
    }


def _keep_earlier_best(summary: dict[str, Any], path: Path) -> dict[str, Any]:
    """On resume, an earlier metrics.json's best stays best unless this fit found a (finite) one."""
    with contextlib.suppress(OSError, ValueError):
        earlier = json.loads(path.read_text())
        if summary["best_score"] is None and finite_float(earlier.get("best_score")) is not None:
            kept = ("best_checkpoint", "best_score", "monitor")
            summary = {**summary, **{key: earlier[key] for key in kept}}
    return summary


def finish_loggers(loggers: list[Any]) -> None:
    """Close wandb runs so each run of a multirun sweep is its own wandb run."""
    for logger in loggers:
        if type(logger).__name__ == "WandbLogger":
            import wandb

            wandb.finish()


# ---- the task ------------------------------------------------------------------------------------------
def _disk_error(error: OSError, run_dir: Path) -> UserError:
    where = error.filename or run_dir
    return UserError(f"cannot write {where}: {error.strerror or error}; free space or choose another "
                     f"paths.log_dir (checkpoints/last.ckpt keeps the last complete save)")


def fit(run: Run) -> dict[str, Any]:
    """Fit one built run and write its metrics.json; Ctrl-C writes it too (``interrupted: true``)."""
    trainer = run.trainer
    if run.ckpt_path:
        log.info("resuming from %s (step %s)", run.ckpt_path, run.resumed_step)
    started = time.perf_counter()
    try:
        trainer.fit(run.model, datamodule=run.datamodule, ckpt_path=run.ckpt_path, weights_only=True)
    except SystemExit:  # Lightning turns Ctrl-C into exit(1) after its on-exception checkpoint
        if not trainer.interrupted:
            raise
        _write_summary(run, summarize(run, time.perf_counter() - started))
        raise KeyboardInterrupt from None
    except Exception as error:
        if caused_by_interrupt(error):  # e.g. a periodic checkpoint write that Ctrl-C cut short (atomic: the
            _write_summary(run, summarize(run, time.perf_counter() - started))  # old file is intact)
            raise KeyboardInterrupt from None
        if isinstance(error, OSError) and error.errno in _DISK_ERRORS:
            raise _disk_error(error, run.run_dir) from error
        raise
    finally:
        finish_loggers(run.loggers)
    if run.ckpt_path is not None and trainer.global_step == run.resumed_step:
        log.warning("nothing to train: the run is already at step %d; raise trainer.max_steps or "
                    "trainer.max_epochs to continue it (metrics.json is left as it was)", trainer.global_step)
        with contextlib.suppress(OSError, ValueError):
            return json.loads((run.run_dir / "metrics.json").read_text())
    summary = summarize(run, time.perf_counter() - started)
    _write_summary(run, summary)
    return summary


def _write_summary(run: Run, summary: dict[str, Any]) -> None:
    if not run.trainer.is_global_zero:
        return
    path = run.run_dir / "metrics.json"
    if run.ckpt_path is not None:
        summary.update(_keep_earlier_best(summary, path))
    write_json(path, summary)


def stage_config(
    cfg: DictConfig, stage_dir: Path, model: DictConfig, trainer: DictConfig | None
) -> DictConfig:
    """One stage's plain config: its own output dir, model and (non-null) trainer changes; no `two_stage`."""
    stage = copy.deepcopy(cfg)
    with open_dict(stage):
        stage.run_name = f"{cfg.run_name}-{stage_dir.name}"
        stage.paths.output_dir = str(stage_dir)
        stage.model = model
        changes = {key: value for key, value in (trainer or {}).items() if value is not None}
        stage.trainer = OmegaConf.merge(stage.trainer, changes)
        del stage["two_stage"]
    if rank_zero_only.rank == 0:  # `resume=RUN_DIR/stageN` resumes one stage with this config
        saved = {key: value for key, value in stage.items() if key != "hydra"}
        (stage_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(saved), stage_dir / ".hydra" / "config.yaml")
    return stage


def train_two_stage(cfg: DictConfig) -> dict[str, Any]:
    """Stage 1 into RUN_DIR/stage1, then stage 2 from its best checkpoint into RUN_DIR/stage2."""
    if cfg.get("resume"):
        raise UserError(
            "a two-stage run resumes stage by stage: resume=RUN_DIR/stage1 or resume=RUN_DIR/stage2"
        )
    run_dir = Path(cfg.paths.output_dir)
    first = train(stage_config(cfg, run_dir / "stage1", cfg.model, None))
    init_from = first["best_checkpoint"] or str(run_dir / "stage1" / "checkpoints" / "last.ckpt")
    second_model = copy.deepcopy(cfg.two_stage.model)
    with open_dict(second_model):
        second_model.init_from = init_from
    second = train(stage_config(cfg, run_dir / "stage2", second_model, cfg.two_stage.get("trainer")))
    summary = {**second, "stages": {"stage1": first, "stage2": second}}
    if rank_zero_only.rank == 0:
        write_json(run_dir / "metrics.json", summary)
    return summary


def train(cfg: DictConfig) -> dict[str, Any]:
    """Build the run (`colorgan.build`), fit it, write metrics.json, return the summary."""
    if cfg.get("two_stage"):
        return train_two_stage(cfg)
    return fit(build_run(cfg))


def report(cfg: DictConfig, summary: dict[str, Any]) -> None:
    """Print the run directory and the best validation metric."""
    print(f"run dir: {cfg.paths.output_dir}")
    if summary["best_score"] is not None:
        gray = summary["final"].get("val/baseline_gray/deltae00")
        by_deltae = summary["monitor"] == "val/deltae00"
        gray_text = f" (gray baseline {gray:.3f})" if gray is not None and by_deltae else ""
        print(f"best {summary['monitor']}: {summary['best_score']:.3f}{gray_text}")
        print(f"best checkpoint: {summary['best_checkpoint']}")
    else:
        validated = any(key.startswith("val/") for key in summary["final"])
        why = "was never finite" if validated else "was never computed (no validation ran)"
        print(f"no best checkpoint: {summary['monitor']} {why}; see metrics.json")


# ---- the command ---------------------------------------------------------------------------------------
def _fail(error: BaseException, interrupted: str = "") -> NoReturn:
    """Exit through the one failure policy (`colorgan.cli.run_command`) for ``error``."""

    def task() -> None:
        raise error

    run_command(task, "train", interrupted=interrupted)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name=CONFIG_NAME)
def hydra_main(cfg: DictConfig) -> float | None:
    """One Hydra job (one run of a sweep): train, report; a failure exits with one line."""
    run_dir = cfg.get("resume") or HydraConfig.get().runtime.output_dir
    try:
        if cfg.get("resume"):
            cfg = resumed_config(cfg)
        summary = train(cfg)
    except (Exception, KeyboardInterrupt) as error:
        _fail(error, f"checkpoints/last.ckpt is kept; continue with resume={run_dir}")
    report(cfg, summary)
    return summary["best_score"]


@contextlib.contextmanager
def _hydra_errors_raised() -> Iterator[None]:
    """Let errors Hydra meets before the job (e.g. creating the run directory) reach `run_command`."""
    before = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = before


def _run_hydra() -> None:
    try:
        with _hydra_errors_raised():
            hydra_main()
    except HydraException as error:  # composing the config (job errors end inside the job)
        raise UserError(hydra_one_line(str(error))) from error
    except OSError as error:  # Hydra creating the run directory
        raise UserError(f"cannot write the run directory ({error.filename or '?'}): "
                        f"{error.strerror or error}; choose a writable paths.log_dir") from error


def main() -> None:
    """`python -m colorgan.train`: Hydra parses the command line; every failure is one line."""
    run_command(_run_hydra, "train")


if __name__ == "__main__":
    main()

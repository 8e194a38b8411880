"""`python -m colorgan.train [group=option ...] [key=value ...]`: train a colorizer (Hydra entry point)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import MissingMandatoryValue

from colorgan.config import CONFIG_GROUPS, CONFIG_NAME, config_dir, register_resolvers
from colorgan.errors import UserError

register_resolvers()


def resumed_config(cfg: DictConfig) -> DictConfig:
    """The interrupted run's own config, plus any key=value overrides given now (e.g. a longer schedule)."""
    run_dir = Path(cfg.resume).expanduser().resolve()
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise UserError(f"resume={cfg.resume}: {saved} not found; pass the directory of a colorgan run")
    if not (run_dir / "checkpoints" / "last.ckpt").is_file():
        raise UserError(f"resume={cfg.resume}: no checkpoints/last.ckpt yet, nothing to resume from")
    resumed = OmegaConf.load(saved)
    extra = [o for o in HydraConfig.get().overrides.task if not o.startswith("resume=")]
    groups = [o for o in extra if o.split("=", 1)[0].lstrip("+~") in CONFIG_GROUPS]
    if groups:
        raise UserError(f"resume keeps the run's config; config groups can't change: {' '.join(groups)}")
    resumed = OmegaConf.merge(resumed, OmegaConf.from_dotlist(extra))
    with open_dict(resumed):
        resumed.resume = str(run_dir)
    return resumed


@hydra.main(version_base="1.3", config_path=config_dir(), config_name=CONFIG_NAME)
def main(cfg: DictConfig) -> float | None:
    """Train; print the run directory and the best validation metric."""
    from colorgan.training import train

    try:
        if cfg.get("resume"):
            cfg = resumed_config(cfg)
        summary = train(cfg)
    except InstantiationException as error:
        cause = error.__cause__
        if not isinstance(cause, ValueError):  # a bug, not a configuration problem: keep the traceback
            raise
        print(f"error: {cause}", file=sys.stderr)
        sys.exit(2)
    except MissingMandatoryValue as error:
        key = error.full_key
        print(f"error: {key} must be set, e.g. {key}=VALUE on the command line", file=sys.stderr)
        sys.exit(2)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    run_dir = cfg.paths.output_dir
    print(f"run dir: {run_dir}")
    if summary["best_score"] is not None:
        gray = summary["final"].get("val/baseline_gray/deltae00")
        gray_text = f" (gray baseline {gray:.3f})" if gray is not None else ""
        print(f"best {summary['monitor']}: {summary['best_score']:.3f}{gray_text}")
        print(f"best checkpoint: {summary['best_checkpoint']}")
    return summary["best_score"]


if __name__ == "__main__":
    main()

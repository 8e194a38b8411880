"""Where the Hydra configs live, and the small resolvers they use."""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

CONFIG_NAME = "train"
CONFIG_GROUPS = (
    "paths", "colorspace", "data", "encoder", "model", "trainer", "logger", "callbacks", "hydra",
    "experiment",
)


def config_dir() -> str:
    """The `conf/` directory: shipped inside the wheel, or the checkout's top-level one."""
    packaged = Path(__file__).resolve().parent / "conf"
    if packaged.is_dir():
        return str(packaged)
    checkout = Path(__file__).resolve().parents[2] / "conf"
    if checkout.is_dir():
        return str(checkout)
    raise FileNotFoundError(f"colorgan configs not found in {packaged} or {checkout}")


def _run_dir(resume: str | None, fresh: str) -> str:
    """A resumed run writes into its own directory; a new run gets a fresh one."""
    return str(Path(resume).expanduser().resolve()) if resume else fresh


def _hydra_subdir(resume: str | None) -> str:
    """Keep a resumed run's original `.hydra/` intact: its resume configs go in a subfolder."""
    if not resume:
        return ".hydra"
    return os.path.join(".hydra", "resume-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))


def _group() -> str | None:
    """Runs of one multirun sweep share a wandb group (the sweep directory's name)."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
    except (ImportError, ValueError):
        return None
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return "sweep-" + Path(hydra_cfg.sweep.dir).name
    return None


_SWEEP_MARKERS = ("range(", "choice(", "interval(", "glob(", "tag(")


def _swept_keys(argv: list[str]) -> list[str]:
    """Keys a multirun command line sweeps: `key=a,b` (a top-level comma) or a sweep function."""
    keys = []
    for arg in argv:
        if "=" not in arg or arg.startswith("-"):
            continue
        key, value = arg.split("=", 1)
        depth, top_level_comma = 0, False
        for char in value:
            depth += char in "[({"
            depth -= char in "])}"
            top_level_comma |= char == "," and depth == 0
        if top_level_comma or value.startswith(_SWEEP_MARKERS):
            keys.append(key.lstrip("+~"))
    return keys


def _sweep_subdir(job_num: int, task_overrides: list[str]) -> str:
    """`<n>_<swept key=value,...>`: only what the sweep varies, so directory names stay short."""
    swept = set(_swept_keys(sys.argv[1:]))
    parts = [o.lstrip("+~") for o in task_overrides if o.split("=", 1)[0].lstrip("+~") in swept]
    name = ",".join(parts).replace("/", "_")[:120]
    return f"{job_num}_{name}" if name else str(job_num)


def _run_id(output_dir: str) -> str:
    """A stable wandb run id per run directory, so a resumed run continues the same wandb run."""
    digest = hashlib.sha1(str(Path(output_dir).resolve()).encode()).hexdigest()[:12]
    return f"colorgan-{digest}"


def register_resolvers() -> None:
    """Register colorgan's OmegaConf resolvers (idempotent)."""
    resolvers = {
        "colorgan_run_dir": _run_dir,
        "colorgan_hydra_subdir": _hydra_subdir,
        "colorgan_group": _group,
        "colorgan_run_id": _run_id,
        "colorgan_sweep_subdir": _sweep_subdir,
    }
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)

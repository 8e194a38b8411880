"""Where the Hydra configs live, the small resolvers they use, and reading command-line overrides.

Importing this module registers the resolvers (``${colorgan_run_dir:...}`` and friends).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import OmegaConf

from colorgan.errors import UserError

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

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


@functools.cache
def _parser() -> OverridesParser:
    return OverridesParser.create()


def _parse(text: str) -> Override:
    try:
        return _parser().parse_override(text)
    except HydraException as error:
        raise UserError(f"cannot parse the override {text!r}: {str(error).splitlines()[0]}") from error


def override_key(text: str) -> str:
    """The key (or config group) a command-line override sets: ``+data.batch_size=8`` -> ``data.batch_size``,
    ``~logger`` -> ``logger``, ``data=folder`` -> ``data`` (parsed by Hydra; UserError when unparseable)."""
    return _parse(text).key_or_group


def swept_keys(argv: Sequence[str]) -> list[str]:
    """Keys a multirun command line sweeps (``key=a,b``, ``range(...)``, ``choice(...)``, ``glob(...)``).

    Flags (``-m``, ``--config-name X``) and arguments Hydra cannot parse are ignored.
    """
    keys = []
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        try:
            override = _parse(arg)
        except UserError:
            continue
        if override.is_sweep_override():
            keys.append(override.key_or_group)
    return keys


def _sweep_subdir(job_num: int, task_overrides: list[str]) -> str:
    """`<n>_<swept key=value,...>`: only what the sweep varies, so directory names stay short."""
    swept = set(swept_keys(sys.argv[1:]))
    parts = [o.lstrip("+~") for o in task_overrides if _key_or_none(o) in swept]
    name = ",".join(parts).replace("/", "_")[:120]
    return f"{job_num}_{name}" if name else str(job_num)


def _key_or_none(text: str) -> str | None:
    try:
        return override_key(text)
    except UserError:
        return None


def _run_id(output_dir: str) -> str:
    """A stable wandb run id per run directory, so a resumed run continues the same wandb run."""
    digest = hashlib.sha1(str(Path(output_dir).resolve()).encode()).hexdigest()[:12]
    return f"colorgan-{digest}"


def register_resolvers() -> None:
    """Register colorgan's OmegaConf resolvers (idempotent; done when this module is imported)."""
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


register_resolvers()

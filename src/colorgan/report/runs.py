"""Read training run directories: config, overrides, metrics, evaluation and training curves."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

import colorgan.config  # noqa: F401  (registers the resolvers run configs interpolate)
from colorgan.errors import UserError
from colorgan.metrics import METRIC_GOALS

#: config keys that always differ between runs or say nothing about the experiment
IGNORED_PREFIXES = ("paths.", "hydra.", "logger.", "resume")
#: training curves drawn in the report (when logged)
CURVE_KEYS = ("train/loss", "val/loss", "val/deltae00", "val/psnr", "val/colorfulness")
#: summary columns of the metrics table: (column title, where to read it, goal)
TRAINING_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("best val ΔE00", "best_score", "min"),
    ("val ΔE00", "final.val/deltae00", "min"),
    ("val PSNR", "final.val/psnr", "max"),
    ("val colorfulness", "final.val/colorfulness", None),
    ("true colorfulness", "final.val/colorfulness_true", None),
    ("gray ΔE00", "final.val/baseline_gray/deltae00", None),
    ("steps", "global_step", None),
    ("minutes", "elapsed_min", None),
)
EVAL_LABELS = {"psnr": "PSNR", "ssim": "SSIM", "deltae00": "ΔE00", "ab_auc": "AuC ab",
               "colorfulness": "CF HS", "delta_colorfulness": "ΔCF HS"}  # Hasler–Süsstrunk M3


@dataclass
class Run:
    """One training run directory, read."""

    path: Path
    label: str
    config: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] | None = None
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    derived: set[str] = field(default_factory=set)  # config keys that interpolate others (${...})


def is_run_dir(path: Path) -> bool:
    return (path / ".hydra" / "config.yaml").is_file() or (path / "metrics.json").is_file()


def _sweep_order(path: Path) -> tuple[int, str]:
    match = re.match(r"(\d+)_", path.name)
    return (int(match.group(1)) if match else 1 << 30, path.name)


def find_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Run directories among ``paths``; a folder that is not a run dir contributes its run subfolders."""
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.is_dir():
            raise UserError(f"{path} is not a folder")
        if is_run_dir(path):
            found.append(path)
            continue
        children = sorted((child for child in path.iterdir() if child.is_dir() and is_run_dir(child)),
                          key=_sweep_order)
        if not children:
            raise UserError(f"{path} is neither a run directory nor a sweep directory of runs "
                            "(no .hydra/config.yaml or metrics.json)")
        found.extend(children)
    return found


def _literal_env(node: Any) -> Any:
    """``node`` with every ``${oc.env:...}`` escaped (kept as written): a run folder is not trusted, and its
    report must not carry this machine's environment variables."""
    if isinstance(node, dict):
        return {key: _literal_env(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_literal_env(value) for value in node]
    if isinstance(node, str) and "oc.env" in node:
        return node.replace("${", "\\${")
    return node


def flatten_config(config: DictConfig) -> dict[str, Any]:
    """Dotted leaf keys -> values, interpolations resolved where possible (else kept as written; environment
    variables are never read).

    Keys whose written value is an interpolation are listed under the extra key ``"_derived_"``.
    """
    config = OmegaConf.create(_literal_env(OmegaConf.to_container(config, resolve=False)))
    flat: dict[str, Any] = {}
    derived: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
            return
        key = prefix[:-1]
        if isinstance(node, str) and "${" in node:
            derived.append(key)
        try:
            value = OmegaConf.select(config, key)
            value = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        except (OmegaConfBaseException, ValueError, KeyError):
            value = node
        flat[key] = value

    walk(OmegaConf.to_container(config, resolve=False), "")
    flat["_derived_"] = derived
    return flat


def finite_float(value: Any) -> float | None:
    """``value`` as a finite float, else None (missing, text, NaN or infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_curves(csv_path: Path) -> dict[str, list[tuple[int, float]]]:
    """(step, value) series of the curve keys logged in a Lightning CSV log."""
    curves: dict[str, list[tuple[int, float]]] = {}
    if not csv_path.is_file():
        return curves
    with csv_path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            step = finite_float(row.get("step"))
            for key in CURVE_KEYS:
                value = finite_float(row.get(key))
                if step is not None and value is not None:
                    curves.setdefault(key, []).append((int(step), value))
    return curves


def read_run(path: Path) -> Run:
    """Everything the report needs from one run directory (missing parts stay empty)."""
    run = Run(path=path, label=path.name)
    config_path = path / ".hydra" / "config.yaml"
    if config_path.is_file():
        run.config = flatten_config(OmegaConf.load(config_path))
        run.derived = set(run.config.pop("_derived_"))
    overrides_path = path / ".hydra" / "overrides.yaml"
    if overrides_path.is_file():
        run.overrides = [str(item) for item in OmegaConf.to_container(OmegaConf.load(overrides_path)) or []]
    for name, target in (("metrics.json", "summary"), ("eval/metrics.json", "evaluation")):
        file = path / name
        if file.is_file():
            try:
                setattr(run, target, json.loads(file.read_text()))
            except json.JSONDecodeError as error:
                raise UserError(f"{file} is not valid JSON: {error}") from error
    if run.summary.get("elapsed_s") is not None:
        run.summary["elapsed_min"] = run.summary["elapsed_s"] / 60.0
    run.curves = read_curves(path / "csv" / "metrics.csv")
    return run


def label_runs(runs: list[Run], keys: list[str]) -> None:
    """Readable, unique labels: the differing config values (e.g. 'colorspace.name=lab'), else dir names."""
    for run in runs:
        parts = [f"{key.removesuffix('.name')}={run.config.get(key)}" for key in keys[:3]]
        run.label = ", ".join(parts) if parts else run.path.name
    if len({run.label for run in runs}) < len(runs):
        for run in runs:
            run.label = f"{run.path.name}: {run.label}" if keys else run.path.name


def differing_keys(runs: list[Run]) -> list[str]:
    """Config keys whose values differ between the runs; run-specific paths and keys that merely
    interpolate other keys (e.g. run_name: ${colorspace.name}-...) are left out."""
    keys = sorted({key for run in runs for key in run.config})
    differing = []
    for key in keys:
        if key.startswith(IGNORED_PREFIXES) or all(key in run.derived for run in runs):
            continue
        values = [run.config.get(key, "<missing>") for run in runs]
        pairs = zip(runs, values, strict=True)
        if any(isinstance(value, str) and str(run.path) in value for run, value in pairs):
            continue
        if len({json.dumps(value, sort_keys=True, default=str) for value in values}) > 1:
            differing.append(key)
    # a group choice changes many keys; show the group's name key first
    return sorted(differing, key=lambda key: (not key.endswith(".name"), key))


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    head, _, rest = dotted.partition(".")
    value = data.get(dotted, data.get(head))
    return value.get(rest) if isinstance(value, dict) and rest else value


def metric_columns(runs: list[Run]) -> list[tuple[str, list[float | None], str | None]]:
    """(title, value per run, goal) for every column at least one run has; eval columns when evaluated."""
    columns = []
    for title, source, goal in TRAINING_COLUMNS:
        values = [finite_float(_lookup(run.summary, source)) for run in runs]
        if any(value is not None for value in values):
            columns.append((title, values, goal))
    for key, label in EVAL_LABELS.items():
        values = [finite_float((run.evaluation or {}).get("model", {}).get(key)) for run in runs]
        if any(value is not None for value in values):
            columns.append((f"eval {label}", values, METRIC_GOALS.get(key)))
    return columns


def best_index(values: list[float | None], goal: str | None) -> int | None:
    """Index of the best value for the goal ('min', 'max', 'zero', 'one': closest to 1); None without a
    goal or a contest."""
    present = [(index, value) for index, value in enumerate(values) if value is not None]
    if goal is None or len(present) < 2:
        return None
    score = {"min": lambda v: v, "max": lambda v: -v, "zero": abs, "one": lambda v: abs(v - 1.0)}[goal]
    return min(present, key=lambda item: score(item[1]))[0]

"""FID between colorized photos and their truth, only with local Inception weights (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

FID_SKIPPED = "skipped: FID needs local Inception weights (--fid-weights FILE); nothing is downloaded"


class FidScore:
    """FID between outputs and truth with local Inception weights (torchmetrics + torch-fidelity)."""

    def __init__(self, weights: Path) -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance

        if not Path(weights).is_file():
            raise FileNotFoundError(f"Inception weights {weights} not found")
        self.metric = FrechetInceptionDistance(feature_extractor_weights_path=str(weights))

    def update(self, pred: np.ndarray, truth: np.ndarray) -> None:
        self.metric.update(torch.from_numpy(truth).permute(2, 0, 1)[None], real=True)
        self.metric.update(torch.from_numpy(pred).permute(2, 0, 1)[None], real=False)

    def compute(self) -> float:
        return float(self.metric.compute())


def start_fid(weights: str | Path | None) -> tuple[FidScore | None, str]:
    """(FID accumulator, note): None and the reason when FID is skipped."""
    if not weights:
        return None, FID_SKIPPED
    try:
        return FidScore(Path(weights)), "computed"
    except (ImportError, ModuleNotFoundError, OSError, RuntimeError, ValueError) as error:
        return None, f"skipped: {str(error).splitlines()[0]}"


def finish_fid(fid: FidScore | None, note: str, count: int) -> dict[str, Any]:
    """{"fid": value or None, "fid_note": how it was computed or why not}."""
    if fid is None:
        return {"fid": None, "fid_note": note}
    if count < 2:
        return {"fid": None, "fid_note": "skipped: FID needs at least 2 images"}
    try:
        return {"fid": fid.compute(), "fid_note": f"computed on {count} images (unreliable below ~1000)"}
    except (RuntimeError, ValueError) as error:
        return {"fid": None, "fid_note": f"skipped: {str(error).splitlines()[0]}"}

"""Colorize a list of file jobs with a loaded `Colorizer` and write each result atomically."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from torch import Tensor
from tqdm import tqdm

from colorgan.data import DataError
from colorgan.files import Job, save_image_atomic
from colorgan.grids import tile
from colorgan.hints import DEFAULT_HINT_SIZE, Hint
from colorgan.photo_input import PreparedImage

if TYPE_CHECKING:
    from colorgan.inference import Colorizer

COLOR_NOTE = "note: color photos are converted to gray (Rec.601 luma) first, then colorized"


def colorize_jobs(colorizer: Colorizer, jobs: list[Job], batch_size: int = 4, quality: int = 95,
                  panels: bool = False, quiet: bool = False, overwrite: bool = True,
                  hints: Sequence[Hint] | None = None,
                  hint_size: int = DEFAULT_HINT_SIZE) -> tuple[int, list[tuple[Path, str]]]:
    """Colorize and write every job; returns (number written, [(input, reason)] failures).

    A photo that cannot be read or has an extreme shape is a failure; the others of its batch go on. Each
    file is written atomically; without ``overwrite`` an existing file is never replaced (a failure too).
    A non-finite network output stops everything (`NonFiniteOutput`).
    """
    failures: list[tuple[Path, str]] = []
    written = 0
    noted = False
    with tqdm(total=len(jobs), unit="photo", disable=True if quiet else None, file=sys.stderr) as bar:
        for start in range(0, len(jobs), batch_size):
            ready: list[tuple[Job, PreparedImage]] = []
            for job in jobs[start : start + batch_size]:
                try:
                    ready.append((job, colorizer.prepare(job.source.path)))
                except (DataError, ValueError, OSError) as error:
                    failures.append((job.source.path, str(error)))
                    bar.update()
            if not ready:
                continue
            if not noted and any(prepared.was_color for _, prepared in ready):
                tqdm.write(COLOR_NOTE, file=sys.stderr)
                noted = True
            maps = None if hints is None else [colorizer.hint_input(p, hints, hint_size) for _, p in ready]
            predicted = colorizer.predict([prepared.luma for _, prepared in ready], batch_size, hints=maps)
            for (job, prepared), rgb in zip(ready, predicted, strict=True):
                try:
                    image = colorizer.full_resolution(prepared.gray, rgb)
                    if panels:
                        image = side_by_side(prepared.gray, image)
                    save_image_atomic(image, job.output, quality, overwrite=overwrite)
                    written += 1
                except FileExistsError:
                    reason = f"{job.output} appeared meanwhile; kept (no --overwrite)"
                    failures.append((job.source.path, reason))
                except (OSError, ValueError) as error:
                    failures.append((job.source.path, f"cannot write {job.output}: {error}"))
                bar.update()
    return written, failures


def side_by_side(gray: Tensor | np.ndarray, colorized: np.ndarray, gap: int = 0) -> np.ndarray:
    """gray | colorized as one H×(2W+gap)×3 uint8 panel."""
    return tile([[gray, colorized]], gap=gap)

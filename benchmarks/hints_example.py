"""The README's before/after picture of user-guided colorization (docs/hints_example.png).

    python benchmarks/hints_example.py RUN_DIR --output docs/hints_example.png

Rows: unseen synthetic landscapes at 128 px. Columns: the gray input | the model alone | the hints (dots
on the gray photo) | the model with those hints | the truth. Each hint is a point of the photo with the
true color there (the mean of a 5x5 px square), as a user could pick it; the same points for every photo.
With ``--pick-from N`` the rows are the photos (of N) where the hints gain the most PSNR: a showcase, not
an average (`python -m colorgan.evaluate --hints` measures the average).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from colorgan.data.synthetic.dataset import SyntheticLandscapes
from colorgan.grids import tile
from colorgan.inference import Colorizer
from colorgan.metrics import psnr
from colorgan.report.scores import to_tensor

POINTS = ((0.2, 0.25), (0.7, 0.2), (0.5, 0.55), (0.25, 0.8), (0.8, 0.8))
TITLES = ("gray input", "automatic", "hints", "with hints", "truth")


def user_hints(truth: np.ndarray) -> list[tuple[float, float, tuple[int, int, int]]]:
    """The true color around each of `POINTS`, as (x, y, (r, g, b)) hints."""
    height, width = truth.shape[:2]
    hints = []
    for fx, fy in POINTS:
        x, y = int(fx * width), int(fy * height)
        patch = truth[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3].reshape(-1, 3).mean(axis=0)
        hints.append((float(x), float(y), tuple(int(np.rint(c)) for c in patch)))
    return hints


def marked(gray: np.ndarray, hints: list) -> np.ndarray:
    """The gray photo with a dot of each hint's color, outlined."""
    canvas = Image.fromarray(np.repeat(gray[..., None], 3, axis=2))
    draw = ImageDraw.Draw(canvas)
    for x, y, color in hints:
        draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=color, outline=(255, 255, 255), width=2)
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a hint model's run directory or checkpoint")
    parser.add_argument("--output", type=Path, default=Path("docs/hints_example.png"))
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--first", type=int, default=100, help="first synthetic image (unseen in training)")
    parser.add_argument("--pick-from", type=int, default=0,
                        help="show the photos, of this many, that the hints improve most")
    args = parser.parse_args()
    colorizer = Colorizer.from_checkpoint(args.run, device="cpu")
    photos = SyntheticLandscapes(max(args.photos, args.pick_from), 128, seed=1, first_index=args.first)
    rows, gains = [], []
    for index in range(len(photos)):
        truth = photos.render(index).transpose(1, 2, 0).copy()
        gray = np.asarray(Image.fromarray(truth).convert("L"))
        hints = user_hints(truth)
        automatic = colorizer.colorize(truth)
        guided = colorizer.colorize(truth, hints=hints, hint_size=5)
        rows.append([gray, automatic, marked(gray, hints), guided, truth])
        reference = to_tensor(truth)
        gains.append(float(psnr(to_tensor(guided), reference) - psnr(to_tensor(automatic), reference)))
    order = sorted(range(len(rows)), key=lambda i: -gains[i]) if args.pick_from else range(len(rows))
    rows = [rows[i] for i in list(order)[: args.photos]]
    canvas = Image.fromarray(tile(rows, gap=4, top=16))
    draw = ImageDraw.Draw(canvas)
    for column, title in enumerate(TITLES):
        draw.text((column * 132 + 4, 2), title, fill=(0, 0, 0))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""The Hints tab: click a point of a photo, pick its color, see the photo re-colorized by a hint model.

A session holds the photo's path and its hints ``[x, y, "#rrggbb"]`` in full-resolution pixels. The page
shows a preview (the result scaled to `PREVIEW_SIDE`, with a dot per hint) whose clicks are mapped back to
the photo; "Save" writes the full-resolution result and the hints as a `colorize --hints` JSON file into
the study's exports folder, the only place downloads are served from (as in the Colorize tab).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from PIL import Image, ImageDraw

from colorgan.app.study import AppRun, open_photo, safe_name
from colorgan.errors import UserError
from colorgan.hints import DEFAULT_HINT_SIZE, Hint, parse_color

if TYPE_CHECKING:
    from colorgan.app.ui import AppState

log = logging.getLogger(__name__)

#: longest side of the clickable preview (small photos are enlarged to it, large ones shrunk)
PREVIEW_SIDE = 640
#: the palette's size: the model's own colors at the clicked point (`Colorizer.suggest`)
PALETTE_SIZE = 6
MAX_HINTS = 64
NO_HINTS = ("takes no color hints: train a hint model with model.hints.enabled=true "
            "(README, Steer the colors: hints)")
Session = dict[str, Any]


# ---- pure helpers (tested without a browser) ------------------------------------------------------
def picker_color(value: str | None) -> str:
    """A color picker's value (``#rrggbb``, ``#rgb``, ``rgb(r, g, b)`` or ``rgba(...)``) as ``#rrggbb``."""
    text = (value or "").strip()
    match = re.fullmatch(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*[\d.]+\s*)?\)", text)
    color = parse_color([float(part) for part in match.groups()] if match else text, "color")
    return "#{:02x}{:02x}{:02x}".format(*color)


def preview_size(width: int, height: int, side: int = PREVIEW_SIDE) -> tuple[int, int]:
    """The preview's (width, height): the photo scaled so its longest side is ``side``."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_photo(x: float, y: float, preview: tuple[int, int], photo: tuple[int, int]) -> tuple[int, int]:
    """A clicked preview pixel (x, y) as the pixel of the full-resolution ``photo`` (width, height)."""
    column = int((x + 0.5) * photo[0] / preview[0])
    row = int((y + 0.5) * photo[1] / preview[1])
    return min(max(column, 0), photo[0] - 1), min(max(row, 0), photo[1] - 1)


def as_hints(points: list[list]) -> list[Hint]:
    """The session's ``[x, y, "#rrggbb"]`` points as `Colorizer.colorize` hints."""
    return [(x, y, parse_color(color)) for x, y, color in points]


def draw_preview(result: Image.Image, points: list[list], side: int = PREVIEW_SIDE) -> Image.Image:
    """``result`` scaled to the preview size with a ringed dot of its color on each hint, numbered order."""
    preview = result.resize(preview_size(*result.size, side), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(preview)
    radius = max(4, side // 90)
    for x, y, color in points:
        cx, cy = (x + 0.5) * preview.width / result.width, (y + 0.5) * preview.height / result.height
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        draw.ellipse(box, fill=color, outline="white", width=2)
        draw.ellipse((box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2), outline="black", width=1)
    return preview


def hints_listing(points: list[list]) -> str:
    """Markdown: how many hints, each with its point and color."""
    if not points:
        return "**No hints yet**: click the image to place one."
    lines = [f"{index}. ({x}, {y}) `{color}`" for index, (x, y, color) in enumerate(points, 1)]
    return f"**{len(points)} hint{'s' if len(points) > 1 else ''}**\n\n" + "\n".join(lines)


def hints_document(points: list[list], size: int) -> dict:
    """The hints as a `python -m colorgan.colorize RUN photo --hints FILE` document."""
    return {"size": size, "hints": [{"x": x, "y": y, "color": color} for x, y, color in points]}


def swatches(colors: list[str]) -> str:
    """HTML: the palette as colored squares (their codes as tooltips)."""
    style = "display:inline-block;width:36px;height:36px;margin-right:6px;border:1px solid #888"
    cells = "".join(f'<span title="{escape(c)}" style="{style};background:{escape(c)}"></span>'
                    for c in colors)
    return f'<div id="hints-swatches-strip">{cells}</div>'


# ---- what the handlers do ---------------------------------------------------------------------------
class HintEditor:
    """The tab's actions on an `AppState` (its runs, photos, limits and exports folder)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def run(self, name: str | None) -> AppRun:
        run = self.state.runs.get(name or "")
        if run is None:
            raise UserError("choose a run")
        if not run.colorizer.takes_hints:
            raise UserError(f"{run.name} {NO_HINTS}")
        return run

    def photo(self, session: Session) -> Image.Image:
        if not session.get("path"):
            raise UserError("drop a photo or pick one from the list first")
        return open_photo(session["path"], self.state.max_pixels, self.state.max_mb)

    def source(self, file: str | None, picked: str | None) -> Session:
        """A new session for the uploaded file, else the picked --photos photo."""
        if file:
            return {"path": str(file), "hints": []}
        if picked in self.state.photos:
            return {"path": str(self.state.photos[picked]), "hints": []}
        raise UserError("drop a photo or pick one from the list first")

    def render(self, session: Session, run_name: str | None, size: float | None) -> Image.Image:
        """The photo colorized with every hint of the session, as the preview with its dots."""
        image = self.photo(session)
        run = self.run(run_name)
        points = session["hints"]
        result = run.colorizer.colorize(image, hints=as_hints(points) or None, hint_size=int(size or 0)
                                        or DEFAULT_HINT_SIZE)
        return draw_preview(result, points)

    def place(self, session: Session, run_name: str | None, size: float | None, x: float, y: float,
              preview: tuple[int, int]) -> tuple[Session, list[str]]:
        """Add a hint at the clicked preview pixel in the color the model suggests: (session, palette)."""
        if len(session.get("hints", [])) >= MAX_HINTS:
            raise UserError(f"at most {MAX_HINTS} hints: remove some first")
        image = self.photo(session)
        run = self.run(run_name)
        column, row = to_photo(x, y, preview, image.size)
        hint_size = int(size or 0) or DEFAULT_HINT_SIZE
        colors = run.colorizer.suggest(image, column, row, k=PALETTE_SIZE,
                                       hints=as_hints(session["hints"]) or None, hint_size=hint_size)
        palette = ["#{:02x}{:02x}{:02x}".format(*color) for color in colors]
        return {**session, "hints": [*session["hints"], [column, row, palette[0]]]}, palette

    def save(self, session: Session, run_name: str | None, size: float | None) -> list[str]:
        """Write the full-resolution result and the hints JSON into a new exports folder: their paths."""
        image = self.photo(session)
        run = self.run(run_name)
        hint_size = int(size or 0) or DEFAULT_HINT_SIZE
        result = run.colorizer.colorize(image, hints=as_hints(session["hints"]) or None, hint_size=hint_size)
        folder = self.state.exports / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{safe_name(Path(session['path']).stem)[:60]}_{run.name}"
        image_path, hints_path = folder / f"{stem}_hints.png", folder / f"{stem}_hints.json"
        result.save(image_path)
        hints_path.write_text(json.dumps(hints_document(session["hints"], hint_size), indent=1) + "\n",
                              encoding="utf-8")
        log.info("saved %s with %d hints", image_path, len(session["hints"]))
        return [str(image_path), str(hints_path)]


# ---- the tab ----------------------------------------------------------------------------------------
def _refused(error: UserError) -> str:
    return f"**refused**: {error}"


def hints_tab(state: AppState) -> None:
    """The Hints tab's components and events (inside a ``gr.Tab``)."""
    editor = HintEditor(state)
    choices = [(name if run.colorizer.takes_hints else f"{name} (no hint input)", name)
               for name, run in state.runs.items()]
    usable = [name for name, run in state.runs.items() if run.colorizer.takes_hints]
    intro = ("Click the image to place a hint, then pick its color (the model's own suggestions first); "
             "the photo is re-colorized with every hint.")
    if not usable:
        intro += f"\n\n**None of the loaded runs {NO_HINTS}.**"
    gr.Markdown(intro, elem_id="hints-intro")
    session = gr.State({"path": None, "hints": []})
    with gr.Row():
        with gr.Column(scale=1):
            file = gr.File(label="Photo", file_types=["image"], type="filepath", elem_id="hints-file")
            picked = gr.Dropdown(sorted(state.photos), value=None, label="…or pick from --photos")
            run_box = gr.Dropdown(choices, value=(usable or list(state.runs) or [None])[0], label="Run",
                                  elem_id="hints-run")
            size = gr.Slider(1, 15, value=DEFAULT_HINT_SIZE, step=1, elem_id="hints-size",
                             label="Hint size (px at the working size)")
            picker = gr.ColorPicker("#808080", label="Color of the last hint", elem_id="hints-color")
            palette = gr.Radio([], label="The model's suggestions for the last point",
                               elem_id="hints-palette")
            strip = gr.HTML(swatches([]))
            with gr.Row():
                undo = gr.Button("Remove last", elem_id="hints-undo")
                clear = gr.Button("Clear all", elem_id="hints-clear")
            listing = gr.Markdown(hints_listing([]), elem_id="hints-list")
            status = gr.Markdown(elem_id="hints-status")
        with gr.Column(scale=2):
            image = gr.Image(label="Click to place a hint", type="pil", format="png", interactive=False,
                             height=520, elem_id="hints-image")
            save = gr.Button("Save full resolution", variant="primary", elem_id="hints-save")
            downloads = gr.File(label="Full-resolution result and hints.json (for colorize --hints)",
                                file_count="multiple", interactive=False, elem_id="hints-downloads")

    def show(current: Session, run_name, hint_size, note: str = "", blank_on_error: bool = False):
        try:
            preview = editor.render(current, run_name, hint_size)
        except UserError as error:
            shown = None if blank_on_error else gr.skip()
            return shown, {**current, "preview": None}, hints_listing(current["hints"]), _refused(error)
        return preview, {**current, "preview": preview.size}, hints_listing(current["hints"]), note
    views = [image, session, listing, status]

    def load(file_in, picked_in, run_name, hint_size):
        try:
            current = editor.source(file_in, picked_in)
        except UserError as error:
            return None, {"path": None, "hints": []}, hints_listing([]), _refused(error)
        return show(current, run_name, hint_size, f"{Path(current['path']).name}: no hints yet", True)

    file.upload(load, [file, picked, run_box, size], views)
    picked.input(lambda picked_in, run_name, hint_size: load(None, picked_in, run_name, hint_size),
                 [picked, run_box, size], views)
    for control in (run_box, size):
        control.input(show, [session, run_box, size], views)

    def place(current: Session, run_name, hint_size, event: gr.SelectData):
        if not current.get("preview") or not isinstance(event.index, list | tuple):
            return gr.skip(), current, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            current, colors = editor.place(current, run_name, hint_size, *event.index[:2], current["preview"])
        except UserError as error:
            return gr.skip(), current, gr.skip(), _refused(error), gr.skip(), gr.skip(), gr.skip()
        return (*show(current, run_name, hint_size, "hint placed: pick its color"), colors[0],
                gr.Radio(choices=colors, value=colors[0]), swatches(colors))

    image.select(place, [session, run_box, size], [*views, picker, palette, strip])

    def recolor(current: Session, run_name, hint_size, color):
        """The picker changed (by hand, from the palette or by `place`): recolor the last hint."""
        try:
            color = picker_color(color)
        except UserError as error:
            return gr.skip(), current, gr.skip(), _refused(error)
        if not current["hints"] or current["hints"][-1][2] == color:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()  # nothing to recolor, or already that color
        current = {**current, "hints": [*current["hints"][:-1], [*current["hints"][-1][:2], color]]}
        return show(current, run_name, hint_size, f"hint {len(current['hints'])}: {color}")

    # .change, not .input: Gradio's picker reports typed codes and drags as changes
    picker.change(recolor, [session, run_box, size, picker], views, trigger_mode="always_last")
    palette.input(lambda color: color, palette, picker)
    undo.click(lambda current, *rest: show({**current, "hints": current["hints"][:-1]}, *rest,
                                           "last hint removed"), [session, run_box, size], views)
    clear.click(lambda current, *rest: show({**current, "hints": []}, *rest, "all hints removed"),
                [session, run_box, size], views)

    def write(current: Session, run_name, hint_size):
        try:
            return editor.save(current, run_name, hint_size), "saved at full resolution"
        except UserError as error:
            return None, _refused(error)

    save.click(write, [session, run_box, size], [downloads, status])

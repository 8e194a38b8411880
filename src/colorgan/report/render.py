"""Write the comparison as one self-contained HTML page (images inlined) and a Markdown summary."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from colorgan.report.baselines import baseline_rows, color_columns
from colorgan.report.runs import Run, best_index, metric_columns

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.best { background: #d9f2d9; font-weight: bold; }
img { max-width: 100%; image-rendering: auto; }
.curves img { width: 48%; min-width: 360px; }
code { background: #f4f4f4; padding: 1px 4px; }
"""


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _inline(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:image/png;base64,{data}"


def metrics_rows(runs: Sequence[Run]) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """(header, rows of (cell text, is best in its column)) for the metrics table."""
    columns = metric_columns(list(runs)) + color_columns(list(runs))
    header = ["run", *[title for title, _, _ in columns]]
    best = [best_index(values, goal) for _, values, goal in columns]
    rows = []
    for index, run in enumerate(runs):
        cells = [(run.label, False)]
        cells += [(_number(values[index]), best[c] == index) for c, (_, values, _) in enumerate(columns)]
        rows.append(cells)
    for label, values in baseline_rows(runs, columns):  # the floors, never marked best
        rows.append([(label, False), *[(_number(value), False) for value in values]])
    return header, rows


# ---- extra table sections (e.g. the app's blind-test results, `compare --study DIR`) ---------------
#: (title, explanation, header, rows of cell texts)
Section = tuple[str, str, list[str], list[list[str]]]


def _sections_html(sections: Sequence[Section]) -> list[str]:
    esc, parts = html.escape, []
    for title, text, header, rows in sections:
        parts.append(f"<h2>{esc(title)}</h2><p>{esc(text)}</p><table><tr>")
        parts += [f"<th>{esc(cell)}</th>" for cell in header]
        parts.append("</tr>")
        parts += ["<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in rows]
        parts.append("</table>" if rows else "</table><p>No votes yet.</p>")
    return parts


def _sections_markdown(sections: Sequence[Section]) -> list[str]:
    lines: list[str] = []
    for title, text, header, rows in sections:
        lines += [f"## {title}", "", text, "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    return lines


def render_html(runs: Sequence[Run], keys: list[str], curves: list[Path], grid: Path | None,
                notes: list[str], sections: Sequence[Section] = ()) -> str:
    """The full HTML page; every image is inlined, so the file alone is the report."""
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>colorgan comparison</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>colorgan: {len(runs)} runs compared</h1>"]
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>directory</th><th>overrides</th></tr>")
    for run in runs:
        overrides = " ".join(run.overrides) or "–"
        parts.append(f"<tr><td>{esc(run.label)}</td><td><code>{esc(str(run.path))}</code></td>"
                     f"<td><code>{esc(overrides)}</code></td></tr>")
    parts.append("</table>")
    if keys:
        parts.append("<h2>Config keys that differ</h2><table><tr><th>key</th>")
        parts += [f"<th>{esc(run.label)}</th>" for run in runs]
        parts.append("</tr>")
        for key in keys:
            cells = "".join(f"<td>{esc(_value(run.config.get(key, '–')))}</td>" for run in runs)
            parts.append(f"<tr><td><code>{esc(key)}</code></td>{cells}</tr>")
        parts.append("</table>")
    header, rows = metrics_rows(runs)
    parts.append("<h2>Metrics</h2><p>Best per column highlighted (ΔE00 lower, PSNR/SSIM/AuC higher, "
                 "ΔCF, Δa*, Δb* closest to 0, saturation ratio closest to 1, hue overlap higher). "
                 "Gray ΔE00 is the do-nothing floor every run must beat: "
                 "the baseline rows show it, and the mean-chroma floor, beside the runs.</p><table><tr>")
    parts += [f"<th>{esc(title)}</th>" for title in header]
    parts.append("</tr>")
    for row in rows:
        cells = "".join(f"<td class='best'>{esc(text)}</td>" if best else f"<td>{esc(text)}</td>"
                        for text, best in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table>")
    if curves:
        parts.append("<h2>Training curves</h2><div class='curves'>")
        parts += [f"<img src='{_inline(path)}' alt='{esc(path.stem)}'>" for path in curves]
        parts.append("</div>")
    if grid is not None:
        parts.append("<h2>The same photos, colorized by each run</h2>")
        parts.append(f"<img src='{_inline(grid)}' alt='comparison grid'>")
    parts += _sections_html(sections)
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(note)}</li>" for note in notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(runs: Sequence[Run], keys: list[str], curves: list[Path], grid: Path | None,
                    notes: list[str], sections: Sequence[Section] = ()) -> str:
    """A Markdown summary: differing keys, the metrics table (best in bold), links to the figures."""
    lines = [f"# colorgan: {len(runs)} runs compared", ""]
    if keys:
        lines += ["## Config keys that differ", "", "| key | " + " | ".join(run.label for run in runs) + " |",
                  "|---" * (len(runs) + 1) + "|"]
        lines += [f"| `{key}` | " + " | ".join(_value(run.config.get(key, "–")) for run in runs) + " |"
                  for key in keys]
        lines.append("")
    header, rows = metrics_rows(runs)
    lines += ["## Metrics", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(f"**{text}**" if best else text for text, best in row) + " |" for row in rows]
    lines.append("")
    if curves:
        lines += ["## Training curves", "", *[f"![{path.stem}]({path.name})" for path in curves], ""]
    if grid is not None:
        lines += ["## The same photos, colorized by each run", "", f"![comparison grid]({grid.name})", ""]
    lines += _sections_markdown(sections)
    if notes:
        lines += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)

"""`python -m colorgan.app RUN [RUN ...] [--photos DIR] [--study DIR]`: the local web app.

    python -m colorgan.app outputs/train/runs/2026-11-26_08-15-02 --photos ~/photos --study study/
    python -m colorgan.app results study/ [--csv] [--by-photo]

Without RUN it opens the newest run under outputs/train/ (the one `make train` made). It serves on
127.0.0.1 (this machine only) unless --host says otherwise, never through a public share link.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from colorgan.app.stats import format_table, summarize, to_csv
from colorgan.app.store import DB_NAME, open_study
from colorgan.app.study import MAX_PIXELS, MAX_UPLOAD_MB
from colorgan.cli import run_command
from colorgan.errors import UserError

log = logging.getLogger(__name__)
DEFAULT_STUDY = Path("outputs/study")


def newest_run(log_dir: str | Path | None = None) -> Path:
    """The most recently written run directory with a checkpoint under LOG_DIR/train/."""
    root = Path(log_dir or os.environ.get("COLORGAN_LOG_DIR", "outputs")) / "train"
    checkpoints = [path for path in root.glob("**/checkpoints/*.ckpt") if path.is_file()]
    if not checkpoints:
        raise UserError(f"no trained run under {root}: train one (`make train`) or pass RUN directories")
    newest = max(checkpoints, key=lambda path: path.stat().st_mtime).parent.parent
    return newest.parent if newest.name in ("stage1", "stage2") else newest


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="colorgan-app", description="Colorize, compare and blind-test runs in a local web page.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path,
                        help="run directories or checkpoint files (default: the newest run in outputs/train)")
    parser.add_argument("--photos", type=Path, default=None,
                        help="folder of color photos: the blind tests' photos and the pick list")
    parser.add_argument("--study", type=Path, default=DEFAULT_STUDY,
                        help=f"study folder: votes ({DB_NAME}), cached images, exports "
                             f"(default {DEFAULT_STUDY})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--max-megapixels", type=float, default=MAX_PIXELS / 1e6,
                        help=f"largest photo accepted, in megapixels (default {MAX_PIXELS / 1e6:g})")
    parser.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_MB,
                        help=f"largest upload in MB (default {MAX_UPLOAD_MB})")
    return parser.parse_args(argv)


def parse_results_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="colorgan-app results",
                                     description="Print a study's blind-test results (Wilson 95% intervals).")
    parser.add_argument("study", type=Path, help="the study folder given to the app with --study")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    parser.add_argument("--by-photo", action="store_true", help="one line per run (or pair) and photo")
    return parser.parse_args(argv)


def results(args: argparse.Namespace) -> int:
    """Print the results table (or CSV) of a study folder."""
    rows = summarize(open_study(args.study).votes(), by_photo=args.by_photo)
    print(to_csv(rows) if args.csv else format_table(rows), end="" if args.csv else "\n")
    return 0


def configure_gradio(study: Path) -> None:
    """Keep Gradio's uploads and cache inside the study folder and its telemetry off (before importing it)."""
    os.environ["GRADIO_TEMP_DIR"] = str(study / ".gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("GRADIO_SSR_MODE", "False")


def serve(args: argparse.Namespace) -> int:
    """Load the runs, prepare the blind tests, serve the page until interrupted."""
    study_dir = args.study.expanduser().resolve()
    configure_gradio(study_dir)
    from colorgan.app.study import BlindStudy, list_photos, load_runs
    from colorgan.app.ui import AppState, build_app

    paths = list(args.runs) or [newest_run()]
    runs = load_runs(paths, args.device)
    photos = list_photos(args.photos)
    study = BlindStudy(study_dir, runs, photos)
    state = AppState(runs, photos, study, int(args.max_megapixels * 1e6), args.max_upload_mb)
    demo = build_app(state)
    db = study.store.path
    log.info("study %s: %d photos for the blind tests, %d votes so far", study_dir, len(study.photos),
             len(study.store.votes()))
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: anyone who can reach this machine can use the page and vote", args.host)
    try:
        demo.queue(default_concurrency_limit=2).launch(
            server_name=args.host, server_port=args.port, share=False, inbrowser=False, ssr_mode=False,
            max_file_size=f"{int(args.max_upload_mb * 1e6)}b", enable_monitoring=False, show_error=False,
            allowed_paths=[str(study.images), str(state.exports)],
            blocked_paths=[str(db), f"{db}-wal", f"{db}-shm"])
    except OSError as error:  # the port is taken, the address is not this machine's
        raise UserError(f"cannot serve on {args.host}:{args.port} ({error}); try another --port") from error
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (`colorgan-app`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["results"]:
        args = parse_results_args(argv[1:])
        run_command(lambda: results(args), "app results")
    args = parse_args(argv)
    run_command(lambda: serve(args), "app")


if __name__ == "__main__":
    main()

"""benchmarks/channels_last.py: NCHW and NHWC alternate within each round; the table shows the ratio."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from colorgan.bench import training

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "channels_last.py"
_spec = importlib.util.spec_from_file_location("channels_last_bench", SCRIPT)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_layouts_alternate_and_the_ratio_is_of_medians(monkeypatch, capsys):
    calls: list[tuple[str, int, bool]] = []

    def fake(encoder: str, stage: str, size: int, batch: int, warmup: int, repeats: int, cuda: bool,
             channels_last: bool | None = None, **kwargs: Any) -> dict[str, Any]:
        calls.append((stage, size, channels_last))
        assert not cuda and batch == 16
        return {"images_per_s": (12.0 if channels_last else 10.0) + len(calls) / 100}

    monkeypatch.setattr(training, "train_throughput", fake)
    assert bench.main(["--sizes", "64", "--rounds", "2"]) == 0
    assert calls[:4] == [("unet", 64, False), ("unet", 64, True), ("gan", 64, False), ("gan", 64, True)]
    assert len(calls) == 8  # two rounds
    table = capsys.readouterr().out
    assert "| unet | 64 | 10.01, 10.05 | 12.02, 12.06 | 1.20× |" in table
    assert "| gan | 64 |" in table
    assert logging.root.manager.disable == logging.NOTSET  # the caller's logging is left as it was

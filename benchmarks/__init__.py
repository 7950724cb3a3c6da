"""Benchmarks: commands that print figures (recorded in BENCHMARKS.md). They run from a source checkout,
beside `tests/` (fake platform servers, test pages) and `../shared/data` (CLEF, perennial sources); they
are not part of the installed `bot` package.

    python -m benchmarks retrieval [...]      (or, the same: python -m bot bench retrieval [...])
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the source checkout
SHARED = ROOT.parent / "shared" / "data"
CLEF = SHARED / "clef2020-checkthat-task2"
VAR = ROOT / "var"

BENCHES = {"retrieval": "retrieval", "scale": "scale", "links": "links_bench", "telegram": "telegram_load",
           "discord": "discord_load", "train": "train", "finetune": "finetune", "multilingual": "multilingual",
           "decisions": "decisions", "fleet": "fleet",
           "images": "images", "quantize": "quantize"}


class DataMissing(Exception):
    """A benchmark's input is not on this machine; the message says which and where it was looked for."""


def require(path: Path, what: str) -> Path:
    """`path`, or DataMissing naming what it is and where it was looked for."""
    if not path.exists():
        raise DataMissing(f"{what} not found at {path} (benchmarks read ../shared/data beside the source checkout)")
    return path

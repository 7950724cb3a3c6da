"""Ranking metrics (TREC conventions) and the TREC run/qrels file formats."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def average_precision(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    """AP truncated at k, normalised by the number of relevant documents (trec_eval's map_cut)."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for i, doc in enumerate(ranking[:k], 1):
        if doc in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant)


def reciprocal_rank(ranking: Sequence[str], relevant: set[str], k: int | None = None) -> float:
    for i, doc in enumerate(ranking[:k] if k else ranking, 1):
        if doc in relevant:
            return 1.0 / i
    return 0.0


def recall(ranking: Sequence[str], relevant: set[str], k: int) -> float:
    return len(set(ranking[:k]) & relevant) / len(relevant) if relevant else 0.0


def evaluate(run: Mapping[str, Sequence[str]], qrels: Mapping[str, set[str]]) -> dict[str, float]:
    """Mean metrics over every query in qrels (a query missing from the run scores 0)."""
    qids = sorted(qrels)
    n = len(qids) or 1
    out = {}
    for name, fn in (("MAP@1", lambda r, q: average_precision(r, q, 1)), ("MAP@5", lambda r, q: average_precision(r, q, 5)),
                     ("MRR", lambda r, q: reciprocal_rank(r, q)), ("Recall@5", lambda r, q: recall(r, q, 5)),
                     ("Recall@10", lambda r, q: recall(r, q, 10))):
        out[name] = sum(fn(list(run.get(q, [])), qrels[q]) for q in qids) / n
    return out


def read_qrels(path: str | Path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] != "0":
            qrels.setdefault(parts[0], set()).add(parts[2])
    return qrels


def format_run(run: Mapping[str, Sequence[tuple[str, float]]], tag: str, k: int = 5) -> Iterable[str]:
    """TREC run lines `qid Q0 docid rank score tag`, ranks 1..k per query, scores non-increasing."""
    for qid in sorted(run):
        for rank, (doc, score) in enumerate(run[qid][:k], 1):
            yield f"{qid} Q0 {doc} {rank} {score:.6f} {tag}"


def read_run(path: str | Path) -> dict[str, list[str]]:
    run: dict[str, list[tuple[int, str]]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        qid, _q0, doc, rank, _score, _tag = line.split()
        run.setdefault(qid, []).append((int(rank), doc))
    return {q: [d for _, d in sorted(v)] for q, v in run.items()}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, p in 0..100 (0.0 for no values): the one definition every benchmark uses."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]

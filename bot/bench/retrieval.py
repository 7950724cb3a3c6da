"""`python -m bot bench retrieval`: claim-retrieval quality on CLEF CheckThat!-format data.

Indexes the verified claims (vclaim + title) through the same engine code the bot uses, ranks the top 5
claims for every query, and prints MAP@1, MAP@5, MRR, Recall@5/@10, per-query latency, and the precision
and recall of the `match` decision; with --negatives, the false-match rate on ordinary messages.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bot.bench.metrics import evaluate, format_run, read_qrels
from bot.config import DEFAULT_VAR_DIR, PROJECT_ROOT
from bot.engine.knowledge import Knowledge
from bot.engine.matcher import FusionModel, Matcher
from bot.engine.store import write_database

CLEF = PROJECT_ROOT.parent / "shared" / "data" / "clef2020-checkthat-task2"
csv.field_size_limit(10_000_000)


def read_tsv(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def clef_claims(path: str | Path) -> list[dict[str, Any]]:
    """CLEF verified claims as claim records (statement = vclaim, phrasing = the article title)."""
    out = []
    for row in read_tsv(path):
        cid = row.get("vclaim_id") or row.get("") or ""
        out.append({"id": cid.strip(), "statement": row["vclaim"].strip(), "phrasings": [row.get("title", "").strip()],
                    "status": "fact-checked", "status_note": "Verified by Snopes (CLEF CheckThat! 2020).",
                    "language": "en", "entities": [], "related": [], "source": "clef"})
    return out


def clef_queries(path: str | Path) -> list[tuple[str, str]]:
    return [((r.get("tweet_id") or r.get("") or "").strip(), r["tweet_content"]) for r in read_tsv(path)]


def cached_db(claims_path: str | Path, claims: list[dict[str, Any]] | None = None) -> Path:
    """Build (once) a database of the claims file; reused while the file and the engine code are unchanged."""
    src = Path(claims_path)
    code = "".join((PROJECT_ROOT / "bot" / "engine" / f).read_text() for f in ("store.py", "normalize.py", "postings.py"))
    key = hashlib.sha1(src.read_bytes() + code.encode()).hexdigest()[:12]
    db = DEFAULT_VAR_DIR / "bench" / f"{src.stem}-{key}.db"
    if not db.exists():
        write_database(db, Knowledge(), version=key, extra_claims=claims if claims is not None else clef_claims(src))
    return db


def run_queries(matcher: Matcher, queries: list[tuple[str, str]], k: int = 5) -> tuple[dict, dict, list[float]]:
    run: dict[str, list[tuple[str, float]]] = {}
    decisions: dict[str, str] = {}
    latencies = []
    for qid, text in queries:
        t0 = time.perf_counter()
        d = matcher.decide(text, limit=k)
        latencies.append((time.perf_counter() - t0) * 1000)
        run[qid] = [(s.id, s.score) for s in d.ranked[:k]]
        decisions[qid] = d.decision
    return run, decisions, latencies


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def decision_quality(run: dict, decisions: dict, qrels: dict[str, set[str]]) -> dict[str, float]:
    said_match = [q for q in qrels if decisions.get(q) == "match"]
    correct = [q for q in said_match if run.get(q) and run[q][0][0] in qrels[q]]
    return {"match_precision": len(correct) / len(said_match) if said_match else 1.0,
            "match_recall": len(correct) / len(qrels) if qrels else 0.0, "matches": len(said_match)}


def false_match_rate(matcher: Matcher, path: str | Path) -> dict[str, Any]:
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    hits = [ln for ln in lines if matcher.decide(ln).decision == "match"]
    return {"messages": len(lines), "false_matches": len(hits), "false_match_rate": len(hits) / len(lines), "examples": hits[:10]}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bot bench retrieval")
    p.add_argument("--claims", default=str(CLEF / "verified_claims.docs.tsv"))
    p.add_argument("--queries", default=str(CLEF / "dev" / "tweets.queries.tsv"))
    p.add_argument("--qrels", default=str(CLEF / "dev" / "tweet-vclaim-pairs.qrels"))
    p.add_argument("--negatives", default=str(PROJECT_ROOT / "tests" / "data" / "negatives.txt"),
                   help="ordinary messages that must never be a match ('' to skip)")
    p.add_argument("--run-out", help="write the top-5 ranking in TREC run format")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--tag", default="claim-context")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    db = cached_db(args.claims)
    build_s = time.perf_counter() - t0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    matcher = Matcher(conn, FusionModel.load())
    queries = clef_queries(args.queries)
    qrels = read_qrels(args.qrels)
    run_, decisions, latencies = run_queries(matcher, queries)
    figures: dict[str, Any] = {k: round(v, 4) for k, v in evaluate({q: [d for d, _ in r] for q, r in run_.items()}, qrels).items()}
    figures.update({k: round(v, 4) if isinstance(v, float) else v for k, v in decision_quality(run_, decisions, qrels).items()})
    figures.update({"queries": len(queries), "claims": conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0],
                    "latency_ms_p50": round(statistics.median(latencies), 3), "latency_ms_p99": round(percentile(latencies, 99), 3),
                    "index_build_s": round(build_s, 2)})
    if args.negatives:
        figures["negatives"] = false_match_rate(matcher, args.negatives)
    if args.run_out:
        Path(args.run_out).write_text("\n".join(format_run(run_, args.tag)) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>18}: {v}")
    return figures


if __name__ == "__main__":  # pragma: no cover
    run(sys.argv[1:])

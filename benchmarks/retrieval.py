"""`python -m benchmarks retrieval`: claim-retrieval quality on CLEF CheckThat!-format data.

Indexes the verified claims (vclaim + title) through the same engine code the bot uses, ranks the top 5
claims for every query, and prints MAP@1, MAP@5, MRR, Recall@5/@10, per-query latency, and the precision
and recall of the `match` decision; with --negatives, the false-match rate on ordinary messages. One run
reports the default install (the semantic tier, bot/engine/semantic.py) beside the lexical-only path
(CLAIM_CONTEXT_SEMANTIC=0); --lexical-only skips the tier.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.metrics import evaluate, format_run, percentile, read_qrels
from benchmarks import CLEF, ROOT, VAR, require
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.knowledge import Knowledge, load_knowledge
from bot.engine.matcher import FusionModel, Matcher
from bot.engine.store import write_database

csv.field_size_limit(10_000_000)


def read_tsv(path: str | Path) -> list[dict[str, str]]:
    require(Path(path), "CLEF data file")
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


def bench_knowledge() -> Knowledge:
    """What a benchmark database holds besides the benchmark's claims: the shipped gazetteer (as in the
    bot's own database, where it names the actors of messages and of imported claims), no curated claims."""
    return Knowledge(gazetteer=load_knowledge(DEFAULT_KNOWLEDGE_DIR).gazetteer)


def cached_db(claims_path: str | Path, claims: list[dict[str, Any]] | None = None) -> Path:
    """Build (once) a database of the claims file; reused while the file, the gazetteer and the engine
    code are unchanged."""
    src = Path(claims_path)
    code = "".join((ROOT / "bot" / "engine" / f).read_text()
                   for f in ("store.py", "normalize.py", "postings.py", "actors.py", "actor_roles.py", "language.py",
                             "knowledge.py"))  # everything the build stores (roles, stems, languages)
    gazetteer = (DEFAULT_KNOWLEDGE_DIR / "entities.yaml").read_bytes()
    key = hashlib.sha1(src.read_bytes() + code.encode() + gazetteer).hexdigest()[:12]
    db = VAR / "bench" / f"{src.stem}-{key}.db"
    if not db.exists():
        write_database(db, bench_knowledge(), version=key, extra_claims=claims if claims is not None else clef_claims(src))
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


def decision_quality(run: dict, decisions: dict, qrels: dict[str, set[str]]) -> dict[str, float]:
    said_match = [q for q in qrels if decisions.get(q) == "match"]
    correct = [q for q in said_match if run.get(q) and run[q][0][0] in qrels[q]]
    return {"match_precision": len(correct) / len(said_match) if said_match else 1.0,
            "match_recall": len(correct) / len(qrels) if qrels else 0.0, "matches": len(said_match)}


def false_match_rate(matcher: Matcher, path: str | Path) -> dict[str, Any]:
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    hits = [ln for ln in lines if matcher.decide(ln).decision == "match"]
    return {"messages": len(lines), "false_matches": len(hits), "false_match_rate": len(hits) / len(lines), "examples": hits[:10]}


def measure(matcher: Matcher, queries: list[tuple[str, str]], qrels: dict[str, set[str]]) -> tuple[dict[str, Any], dict]:
    """Ranking metrics, match-decision quality and latency of one matcher over the queries (and its run)."""
    run_, decisions, latencies = run_queries(matcher, queries, k=10)  # 10 for Recall@10; the run file keeps 5
    figures: dict[str, Any] = {k: round(v, 4) for k, v in evaluate({q: [d for d, _ in r] for q, r in run_.items()}, qrels).items()}
    figures.update({k: round(v, 4) if isinstance(v, float) else v for k, v in decision_quality(run_, decisions, qrels).items()})
    figures.update({"queries": len(queries), "claims": matcher.conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0],
                    "latency_ms_p50": round(statistics.median(latencies), 3), "latency_ms_p99": round(percentile(latencies, 99), 3)})
    return figures, run_


def semantic_db(db: Path, model_path: Path | None, model: Any = None) -> tuple[Path, float, int]:
    """A copy of the lexical database with claim vectors of one semantic model (one copy per model, so
    that comparing models never rebuilds vectors): (path, seconds spent embedding, claims embedded).
    `model`: that model already loaded, if the caller has it."""
    from bot.engine import semantic as sem

    name = sem.model_name(model_path)
    sem_db = db.with_name(f"{db.stem}.vectors-{hashlib.sha1(name.encode()).hexdigest()[:10]}.db")
    if not sem_db.exists():
        shutil.copyfile(db, sem_db)
    t0 = time.perf_counter()
    added = 0 if sem.has_vectors(sem_db, name) else sem.build_vectors(sem_db, model=model or sem.load_model(model_path), name=name)
    return sem_db, time.perf_counter() - t0, added


def time_embeddings(index: Any) -> list[float]:
    """Wrap a semantic index's query_vector so that each message the cascade sends through the model appends
    the model's thread CPU time (ms) to the returned list: its length is how many were embedded."""
    real, times = index.query_vector, []

    def timed(text: str, max_tokens: int = 256) -> Any:
        c = time.thread_time()
        vector = real(text, max_tokens)
        times.append((time.thread_time() - c) * 1000)
        return vector
    index.query_vector = timed
    return times


def semantic_figures(db: Path, model_path: Path | None, queries: list[tuple[str, str]], qrels: dict[str, set[str]],
                     negatives: str) -> tuple[dict[str, Any], dict]:
    """The same queries through the semantic tier (bot/engine/semantic.py, the optional extra) with the
    packaged model, or the local model directory `model_path` (e.g. made by `bench finetune`)."""
    from bot.engine import semantic as sem

    model_path = model_path or sem.model_dir()  # the configured model: $CLAIM_CONTEXT_SEMANTIC_MODEL or the packaged one
    model = sem.load_model(model_path)  # one load serves the vector build and the queries
    db, vector_build_s, added = semantic_db(db, model_path, model)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t0 = time.perf_counter()
    index = sem.SemanticIndex(conn, model=model, path=model_path)
    load_s = time.perf_counter() - t0
    embedded = time_embeddings(index)  # the messages the cascade sent through the model
    matcher = Matcher(conn, semantic=index)  # the model's own fusion.json, else fusion-semantic.json
    figures, run_ = measure(matcher, queries, qrels)
    figures["embedded_share"] = round(len(embedded) / max(len(queries), 1), 3)
    vec_bytes = conn.execute("SELECT COALESCE(SUM(LENGTH(vec)), 0) FROM claim_vectors").fetchone()[0]
    n_vectors = conn.execute("SELECT COUNT(*) FROM claim_vectors").fetchone()[0]
    figures.update({"model": sem.model_name(model_path), "vectors": n_vectors, "vectors_built_now": added,
                    "vector_build_s": round(vector_build_s, 2), "vectors_mb": round(vec_bytes / 2**20, 2),
                    "db_mb": round(db.stat().st_size / 2**20, 2), "index_load_s": round(load_s, 2)})
    if negatives:
        figures["negatives"] = false_match_rate(matcher, negatives)
    return figures, run_


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks retrieval")
    p.add_argument("--claims", default=str(CLEF / "verified_claims.docs.tsv"))
    p.add_argument("--queries", default=str(CLEF / "dev" / "tweets.queries.tsv"))
    p.add_argument("--qrels", default=str(CLEF / "dev" / "tweet-vclaim-pairs.qrels"))
    p.add_argument("--negatives", default=str(ROOT / "tests" / "data" / "negatives.txt"),
                   help="ordinary messages that must never be a match ('' to skip)")
    p.add_argument("--run-out", help="write the top-5 ranking in TREC run format")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--tag", default="claim-context")
    p.add_argument("--lexical-only", action="store_true",
                   help="only the lexical path (CLAIM_CONTEXT_SEMANTIC=0), not the default install's semantic tier beside it")
    p.add_argument("--semantic", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old commands
    p.add_argument("--semantic-model", action="append", default=[], metavar="DIR",
                   help="also run the semantic tier with this local model directory (e.g. from `bench finetune`); repeatable")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    db = cached_db(args.claims)
    build_s = time.perf_counter() - t0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    matcher = Matcher(conn, FusionModel.load())
    queries = clef_queries(args.queries)
    qrels = read_qrels(args.qrels)
    figures, run_ = measure(matcher, queries, qrels)
    figures["index_build_s"] = round(build_s, 2)
    if args.negatives:
        figures["negatives"] = false_match_rate(matcher, args.negatives)
    if args.run_out:
        Path(args.run_out).write_text("\n".join(format_run(run_, args.tag)) + "\n", encoding="utf-8")
    tiers = ([("semantic", None)] if not args.lexical_only else []) + [
        (f"semantic:{Path(d).name}", Path(d)) for d in args.semantic_model]
    for label, model_path in tiers:
        figures[label], sem_run = semantic_figures(db, model_path, queries, qrels, args.negatives)
        if args.run_out:
            Path(f"{args.run_out}.{label.replace(':', '-')}").write_text(
                "\n".join(format_run(sem_run, f"{args.tag}-{label.replace(':', '-')}")) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(figures))
    elif tiers:
        print_side_by_side(figures, [label for label, _ in tiers])
    else:
        for k, v in figures.items():
            print(f"{k:>18}: {v}")
    return figures


def print_side_by_side(figures: dict[str, Any], tiers: list[str]) -> None:
    """Lexical default and each semantic tier in columns; figures only some of them have, below."""
    cols = [figures] + [figures[t] for t in tiers]
    names = ["lexical only" if t == "lexical" else "default (semantic tier)" if t == "semantic" else t for t in ["lexical", *tiers]]
    print(f"{'':>18}  " + "  ".join(f"{name[-24:]:>24}" for name in names))
    for k, v in figures.items():
        if all(k in c for c in cols[1:]) and k != "negatives":
            print(f"{k:>18}  " + "  ".join(f"{c[k]!s:>24}" for c in cols))
    if "negatives" in figures:
        print(f"{'false_matches':>18}  " + "  ".join(f"{c['negatives']['false_matches']:>24}" for c in cols)
              + f"   (of {figures['negatives']['messages']} negatives)")
    for name, c in zip(["lexical", *tiers], cols):
        for k, v in c.items():
            if k not in tiers and k != "negatives" and not all(k in other for other in cols):
                print(f"{k:>18}: {v} ({name})")


if __name__ == "__main__":  # pragma: no cover
    run(sys.argv[1:])

"""`python -m benchmarks multilingual`: the shipped knowledge plus the 10,375 CLEF claims, against headlines,
chat and actor-swapped hard negatives in nine languages (tests/data/multilingual/messages.jsonl).

Per language: recall@1 (the labelled claim ranked first), `match` recall (ranked first AND decided `match`),
false `match` on chat (any match) and on actor swaps (a match to any claim but the labelled one, which is
usually none), and latency. The set is for development; a held-out set is checked elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import CLEF, ROOT, VAR, require
from benchmarks.metrics import percentile
from benchmarks.retrieval import clef_claims
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.knowledge import load_knowledge
from bot.engine.service import Engine
from bot.engine.store import write_database

DATA = ROOT / "tests" / "data" / "multilingual" / "messages.jsonl"


def knowledge_and_clef_db() -> Path:
    """The shipped knowledge with the CLEF claims imported beside it (built once per knowledge and code)."""
    claims = require(CLEF / "verified_claims.docs.tsv", "CLEF data file")
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    engine_code = "".join(p.read_text() for p in sorted((ROOT / "bot" / "engine").glob("*.py")))
    key = hashlib.sha1(b"".join(p.read_bytes() for p in sorted(kb.files)) + engine_code.encode() + claims.read_bytes()).hexdigest()[:12]
    db = VAR / "bench" / f"knowledge-clef-{key}.db"
    if not db.exists():
        write_database(db, kb, version=key, extra_claims=clef_claims(claims))
    return db


def evaluate(engine: Engine, rows: list[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    latencies: list[float] = []
    misses: list[dict[str, Any]] = []
    for r in rows:
        t0 = time.perf_counter()
        result = engine.check(r["text"])
        latencies.append((time.perf_counter() - t0) * 1000)
        top = result.matches[0].id if result.matches else None
        f = per[r["lang"]]
        if r["category"] == "headline":
            f["recall1"].append(top == r["claim"])
            f["match"].append(top == r["claim"] and result.decision == "match")
            if top != r["claim"]:
                misses.append({"lang": r["lang"], "text": r["text"], "want": r["claim"], "got": top,
                               "decision": result.decision})
        elif r["category"] == "chat":
            f["chat_false"].append(result.decision == "match")
        else:  # actor_swap: right when it is the labelled claim (often none) or not a match at all
            f["swap_false"].append(result.decision == "match" and top != r["claim"])
    table = {}
    for lang, f in sorted(per.items()):
        table[lang] = {"headlines": len(f["recall1"]), "recall@1": round(sum(f["recall1"]) / max(len(f["recall1"]), 1), 3),
                       "match_recall": round(sum(f["match"]) / max(len(f["match"]), 1), 3),
                       "false_match_chat": sum(f["chat_false"]), "chat": len(f["chat_false"]),
                       "false_match_swaps": sum(f["swap_false"]), "swaps": len(f["swap_false"])}
    return {"languages": table, "latency_ms_p50": round(statistics.median(latencies), 2),
            "latency_ms_p99": round(percentile(latencies, 99), 2), "misses": misses}


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks multilingual")
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--json", action="store_true")
    p.add_argument("--misses", action="store_true", help="list every headline whose claim was not ranked first")
    args = p.parse_args(argv)
    rows = [json.loads(line) for line in require(Path(args.data), "multilingual set").read_text(encoding="utf-8").splitlines() if line.strip()]
    engine = Engine(knowledge_and_clef_db())
    out = evaluate(engine, rows)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return out
    print("| language | headlines | recall@1 | match recall | false match: chat | false match: actor swaps |")
    print("|---|---|---|---|---|---|")
    for lang, f in out["languages"].items():
        print(f"| {lang} | {f['headlines']} | {f['recall@1']:.3f} | {f['match_recall']:.3f} | "
              f"{f['false_match_chat']} of {f['chat']} | {f['false_match_swaps']} of {f['swaps']} |")
    print(f"latency per message: p50 {out['latency_ms_p50']} ms, p99 {out['latency_ms_p99']} ms")
    if args.misses:
        for m in out["misses"]:
            print(json.dumps(m, ensure_ascii=False))
    return out

"""`python -m benchmarks decisions`: the right card or none on imported fact-checks (issue 15).

Builds the CLEF database (the 10,375 verified claims and the shipped gazetteer, as `bench retrieval` does),
imports the evaluation feed into it with `knowledge import` semantics (importers.parse_file then
store.import_claims), and decides every labelled message. Per category it prints:

- recall@1: the labelled claim ranked first (messages with a claim); a CLEF claim listed in
  duplicates.json as stating the same thing counts as that claim;
- `match` recall: ranked first and decided `match`;
- false `match`: on actor_swap a match to any claim other than the labelled one (most have none), on
  topic_chat and chat any match; on the other categories a match to a wrong claim.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import CLEF, ROOT, require
from benchmarks.retrieval import cached_db, semantic_db
from bot.engine.importers import parse_file
from bot.engine.matcher import FusionModel, Matcher
from bot.engine.store import import_claims

DATA = ROOT / "tests" / "data" / "decisions"
CATEGORIES = ("paraphrase", "metonym", "evasion", "actor_swap", "topic_chat", "chat")
HARD_NEGATIVES = ("actor_swap", "topic_chat")


def feed_db(clef_db: Path, feed: Path, vectors: bool = False) -> tuple[Path, dict[str, str]]:
    """A copy of the CLEF database with the feed imported (built once per CLEF database and feed), and the
    imported claim id of every feed url. `vectors`: the CLEF database has the semantic tier's claim vectors
    and the imported claims get theirs too, as `knowledge import` does."""
    report = parse_file(feed)
    if report.skipped:
        print(f"feed: {len(report.skipped)} item(s) skipped, e.g. {report.skipped[0]}", file=sys.stderr)
    ids = {c["fact_checks"][0].get("url", ""): c["id"] for c in report.claims}
    key = hashlib.sha1(clef_db.name.encode() + feed.read_bytes()).hexdigest()[:12]
    db = clef_db.with_name(f"decisions-{key}.db")
    if not db.exists():
        tmp = db.with_name(f".{db.name}.tmp")
        shutil.copyfile(clef_db, tmp)
        import_claims(tmp, report.claims, vectors=vectors)
        tmp.replace(db)
    return db, ids


def gold_ids(url: str | None, ids: dict[str, str], duplicates: dict[str, Any]) -> set[str]:
    if not url:
        return set()
    return {ids[url], *duplicates.get(url, {}).get("clef", {})}


def evaluate(matcher: Matcher, messages: list[dict[str, Any]], ids: dict[str, str],
             duplicates: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Figures per category (and 'overall'), and the lines that missed or matched wrongly."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses = []
    for m in messages:
        d = matcher.decide(m["text"])
        gold = gold_ids(m.get("claim"), ids, duplicates) | {a.removeprefix("clef:") for a in m.get("also", [])}
        top = d.ranked[0].id if d.ranked else ""
        first = top in gold
        matched = d.decision == "match"
        wrong_match = matched and not first
        for cat in (m["category"], "overall"):
            c = counts[cat]
            c["messages"] += 1
            if gold:
                c["labelled"] += 1
                c["first"] += first
                c["match"] += matched and first
            c["false_match"] += wrong_match
        if (gold and not (first and matched)) or wrong_match:
            misses.append({"category": m["category"], "text": m["text"], "decision": d.decision, "reason": d.reason,
                           "top": d.ranked[0].statement if d.ranked else "", "first": first,
                           "gold": m.get("claim")})
    figures = {}
    for cat, c in counts.items():
        f: dict[str, Any] = {"messages": c["messages"]}
        if c["labelled"]:
            f.update({"labelled": c["labelled"], "recall@1": round(c["first"] / c["labelled"], 3),
                      "match_recall": round(c["match"] / c["labelled"], 3)})
        f.update({"false_matches": c["false_match"], "false_match_rate": round(c["false_match"] / c["messages"], 4)})
        figures[cat] = f
    hard = [m for m in messages if m["category"] in HARD_NEGATIVES]
    hard_false = sum(counts[c]["false_match"] for c in HARD_NEGATIVES)
    figures["hard_negatives"] = {"messages": len(hard), "false_matches": hard_false,
                                 "false_match_rate": round(hard_false / max(len(hard), 1), 4)}
    return figures, misses


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks decisions")
    p.add_argument("--data", default=str(DATA), help="directory with feed.json, messages.jsonl, duplicates.json")
    p.add_argument("--claims", default=str(CLEF / "verified_claims.docs.tsv"), help="CLEF verified claims")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--show", type=int, default=0, metavar="N", help="also print up to N lines that missed or matched wrongly")
    p.add_argument("--lexical-only", action="store_true",
                   help="only the lexical path (CLAIM_CONTEXT_SEMANTIC=0), not the default install's semantic tier beside it")
    args = p.parse_args(argv)

    data = Path(args.data)
    feed = require(data / "feed.json", "decisions feed")
    lines = require(data / "messages.jsonl", "decisions messages").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(ln) for ln in lines if ln.strip()]
    dup_path = data / "duplicates.json"
    duplicates = json.loads(dup_path.read_text(encoding="utf-8")) if dup_path.exists() else {}
    clef_db = cached_db(args.claims)
    paths = {"lexical": feed_db(clef_db, feed)}
    if not args.lexical_only:  # the default install: the same database with the tier's vectors
        from bot.engine import semantic as sem

        paths["semantic"] = feed_db(semantic_db(clef_db, None)[0], feed, vectors=True)
    results: dict[str, Any] = {}
    for tier, (db, ids) in paths.items():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        matcher = (Matcher(conn, FusionModel.load()) if tier == "lexical"
                   else Matcher(conn, semantic=sem.SemanticIndex(conn)))
        figures, misses = evaluate(matcher, messages, ids, duplicates)
        figures["claims"] = conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
        results[tier] = figures
        if not args.json:
            label = "lexical only" if tier == "lexical" else "default install (semantic tier)"
            print(f"{label}: {figures['claims']} claims (CLEF + {len(ids)} imported); {len(messages)} messages")
            print(f"{'category':>14} {'messages':>8} {'recall@1':>9} {'match rec':>9} {'false match':>12}")
            for cat in (*CATEGORIES, "hard_negatives", "overall"):
                f = figures.get(cat)
                if f:
                    print(f"{cat:>14} {f['messages']:>8} {f.get('recall@1', ''):>9} {f.get('match_recall', ''):>9} "
                          f"{f['false_matches']:>5} ({f['false_match_rate']:.1%})")
            for m in misses[:args.show]:
                print(json.dumps(m, ensure_ascii=False))
    if args.json:
        print(json.dumps(results))
    return results


if __name__ == "__main__":  # pragma: no cover
    run(sys.argv[1:])

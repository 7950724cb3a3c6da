"""`python -m bot bench train`: fit the fusion model (bot/engine/fusion.json) on CLEF *train*.

Logistic regression (Newton/IRLS with an L2 penalty, no extra dependency) over the re-ranking features of
the top candidates of every training query; label 1 for the gold claim. The match threshold is the lowest
score whose top-1 precision on train stays at or above --precision. Dev is never read here.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from bot.bench.metrics import read_qrels
from bot.bench.retrieval import CLEF, cached_db, clef_queries
from bot.engine.matcher import CANDIDATES, FEATURES, FUSION_PATH, FusionModel, Matcher, features_for_training


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here are 10x10)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col and m[col][col]:
                f = m[r][col] / m[col][col]
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    return [m[i][n] / m[i][i] if m[i][i] else 0.0 for i in range(n)]


def fit_logistic(x: list[list[float]], y: list[int], l2: float = 1.0, iterations: int = 25) -> list[float]:
    d = len(x[0])
    w = [0.0] * d
    for _ in range(iterations):
        grad = [l2 * wi for wi in w]
        hess = [[l2 if i == j else 0.0 for j in range(d)] for i in range(d)]
        for xi, yi in zip(x, y):
            z = sum(a * b for a, b in zip(w, xi))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g, h = p - yi, p * (1 - p)
            for i in range(d):
                grad[i] += g * xi[i]
                hi = h * xi[i]
                row = hess[i]
                for j in range(i, d):
                    row[j] += hi * xi[j]
        for i in range(d):
            for j in range(i):
                hess[i][j] = hess[j][i]
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return w


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bot bench train")
    p.add_argument("--claims", default=str(CLEF / "verified_claims.docs.tsv"))
    p.add_argument("--queries", default=str(CLEF / "train" / "tweets.queries.tsv"))
    p.add_argument("--qrels", default=str(CLEF / "train" / "tweet-vclaim-pairs.qrels"))
    p.add_argument("--precision", type=float, default=0.99, help="top-1 precision the match threshold must keep on train")
    p.add_argument("--related", type=float, default=0.15, help="related threshold (lowest score worth showing)")
    p.add_argument("--out", default=str(FUSION_PATH))
    args = p.parse_args(argv)

    conn = sqlite3.connect(f"file:{cached_db(args.claims)}?mode=ro", uri=True)
    matcher = Matcher(conn, FusionModel({k: 0.0 for k in FEATURES}, 1.0, 0.0))
    qrels = read_qrels(args.qrels)
    x, y, per_query = [], [], []
    for qid, text in clef_queries(args.queries):
        rows = features_for_training(matcher, text, CANDIDATES)
        gold = qrels.get(qid, set())
        per_query.append((gold, rows))
        for cid, feats in rows:
            x.append([feats[k] for k in FEATURES])
            y.append(int(cid in gold))
    w = fit_logistic(x, y)
    model = FusionModel(dict(zip(FEATURES, w)), 1.0, args.related)
    # Calibrate: top-1 score vs correctness on train; lowest threshold keeping the precision target.
    tops = []
    for gold, rows in per_query:
        scored = sorted(((model.score(f), cid) for cid, f in rows), reverse=True)
        if scored:
            tops.append((scored[0][0], scored[0][1] in gold))
    tops.sort(reverse=True)
    threshold, correct = 1.0, 0
    for i, (score, ok) in enumerate(tops, 1):
        correct += ok
        if correct / i >= args.precision:
            threshold = score
    out = {"weights": {k: round(v, 6) for k, v in zip(FEATURES, w)}, "match_threshold": round(threshold, 4),
           "related_threshold": args.related, "trained_on": f"{Path(args.queries).parent.name} ({len(per_query)} queries, {len(x)} rows)",
           "precision_target": args.precision}
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    return out

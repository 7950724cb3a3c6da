"""`python -m benchmarks finetune`: fine-tune the semantic tier's model on CLEF *train* (optional extra).

The off-the-shelf all-MiniLM-L6-v2 has never seen tweets paired with the fact-checked claims they repeat;
a short contrastive fine-tune on the 800 training pairs teaches it that pairing (dev MAP@5 of the cosine
alone: 0.78 before, 0.86 after; BENCHMARKS.md). The loss is the in-batch softmax of sentence-BERT's
MultipleNegativesRankingLoss, written out here in a few lines of torch, with one hard negative per pair:
the best lexical candidate that is not a gold claim.

The fusion weights of the fine-tuned tier must not be fitted on cosines of queries the model was trained
on (they would be near 1 for every gold pair and the fusion would trust them blindly), so they are
cross-fitted: the training queries are split into --folds folds, a model is fine-tuned on the others, and
each fold's candidate features come from the model that never saw it. The model kept is then fine-tuned
on all the training queries. Dev is never read here.

The result is a local model directory (default var/models/minilm-clef-train) with its own fusion.json and
a card naming it; use it with CLAIM_CONTEXT_SEMANTIC_MODEL=DIR (bot) or --semantic-model DIR (bench).
It is derived from the CLEF data, whose licence is research use, so it stays on this machine and is
never shipped.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.metrics import read_qrels
from benchmarks.retrieval import CLEF, cached_db, clef_queries
from benchmarks.train import blank_model, candidate_rows, fit_fusion
from benchmarks import VAR
from bot.engine.matcher import CANDIDATES, FEATURES, FusionModel, Matcher

DEFAULT_OUT = VAR / "models" / "minilm-clef-train"
CROSSFIT_ROWS = "crossfit-rows.json"  # the held-out candidate features, kept so the fusion can be refitted
Triplet = tuple[str, str, str]  # query, gold claim text, hard negative claim text


def claim_texts(conn: sqlite3.Connection) -> dict[str, str]:
    """Claim id -> the text the semantic tier embeds for it."""
    from bot.engine.semantic import claim_text

    return {cid: claim_text(st, data or "{}") for cid, st, data in conn.execute("SELECT id, statement, data FROM claims")}


def triplets(matcher: Matcher, texts: dict[str, str], query: str, gold: set[str], rng: random.Random) -> list[Triplet]:
    """One (query, gold, hard negative) per gold claim; the negative is the best non-gold lexical candidate."""
    ranked, _ = matcher.rank(query, limit=CANDIDATES, k=CANDIDATES)
    negatives = [s.id for s in ranked if s.id not in gold] or [rng.choice(sorted(texts))]
    return [(query, texts[g], texts[negatives[0]]) for g in sorted(gold) if g in texts]


def fine_tune(pairs: list[Triplet], epochs: int, batch: int, lr: float, seed: int, scale: float = 20.0) -> Any:
    """A fresh copy of the packaged model, fine-tuned with in-batch negatives plus the hard negatives."""
    import torch

    from bot.engine.semantic import load_model

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = load_model()
    model.max_seq_length = 128  # tweets and claims are short; longer inputs only cost time
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    normalize = torch.nn.functional.normalize

    prepare = getattr(model, "preprocess", None) or model.tokenize  # renamed in sentence-transformers 5.x

    def encode(texts: list[str]) -> Any:
        return normalize(model(prepare(texts))["sentence_embedding"], dim=-1)

    order = list(pairs)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            chunk = order[i:i + batch]
            q = encode([t[0] for t in chunk])
            d = encode([t[1] for t in chunk] + [t[2] for t in chunk])  # golds, then hard negatives
            loss = torch.nn.functional.cross_entropy(q @ d.T * scale, torch.arange(len(chunk)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def write_fusion(out: Path, fusion: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(fusion, indent=1)
    (out / "fusion.json").write_text(text + "\n", encoding="utf-8")
    print(text)
    return fusion


def run(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m benchmarks finetune")
    p.add_argument("--claims", default=str(CLEF / "verified_claims.docs.tsv"))
    p.add_argument("--queries", default=str(CLEF / "train" / "tweets.queries.tsv"))
    p.add_argument("--qrels", default=str(CLEF / "train" / "tweet-vclaim-pairs.qrels"))
    p.add_argument("--out", default=str(DEFAULT_OUT), help="model directory to write")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--folds", type=int, default=4, help="cross-fitting folds for the fusion weights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", type=float, default=0.99, help="top-1 precision the match threshold must keep on train")
    p.add_argument("--related", type=float, default=0.15)
    p.add_argument("--refit", action="store_true",
                   help="only refit OUT/fusion.json from the cross-fitted rows a previous run saved (no training)")
    args = p.parse_args(argv)
    out = Path(args.out)
    features = FEATURES + ("semantic",)
    if args.refit:
        saved = json.loads((out / CROSSFIT_ROWS).read_text(encoding="utf-8"))
        per_query = [(set(gold), [(cid, feats) for cid, feats in rows]) for gold, rows in saved["rows"]]
        return write_fusion(out, fit_fusion(per_query, features, args.precision, args.related, saved["trained_on"],
                                                 pairwise=True))
    from bot.engine import semantic as sem  # the optional extra

    t_start = time.perf_counter()
    db = cached_db(args.claims)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    lexical = Matcher(conn, FusionModel.load())
    texts = claim_texts(conn)
    queries = dict(clef_queries(args.queries))
    qrels = {q: g for q, g in read_qrels(args.qrels).items() if q in queries}
    qids = sorted(qrels)
    rng = random.Random(args.seed)
    rng.shuffle(qids)
    pairs = {q: triplets(lexical, texts, queries[q], qrels[q], rng) for q in qids}

    per_query = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(args.folds):
            held_out = qids[f::args.folds]
            seen = [t for q in qids if q not in set(held_out) for t in pairs[q]]
            model = fine_tune(seen, args.epochs, args.batch, args.lr, args.seed + f)
            fold_db = Path(tmp) / f"fold{f}.db"
            shutil.copyfile(db, fold_db)
            name = f"fold {f} of {args.folds}"
            sem.build_vectors(fold_db, model=model, name=name)
            fold_conn = sqlite3.connect(fold_db)
            matcher = Matcher(fold_conn, blank_model(features), semantic=sem.SemanticIndex(fold_conn, model=model, name=name))
            per_query += [(qrels[q], candidate_rows(matcher, queries[q])) for q in held_out]
            fold_conn.close()
            print(f"fold {f + 1}/{args.folds}: {len(seen)} training pairs, {len(held_out)} held-out queries "
                  f"({time.perf_counter() - t_start:.0f} s)", flush=True)
    trained_on = f"{Path(args.queries).parent.name}, cross-fitted over {args.folds} folds"
    out.mkdir(parents=True, exist_ok=True)
    (out / CROSSFIT_ROWS).write_text(json.dumps({"trained_on": trained_on, "rows": [
        [sorted(gold), rows] for gold, rows in per_query]}), encoding="utf-8")
    write_fusion(out, fit_fusion(per_query, features, args.precision, args.related, trained_on, pairwise=True))
    model = fine_tune([t for q in qids for t in pairs[q]], args.epochs, args.batch, args.lr, args.seed)
    model.save(str(out))
    card = {"name": f"{sem.MODEL_NAME} fine-tuned on CLEF 2020 {Path(args.queries).parent.name} "
                    f"(epochs {args.epochs}, batch {args.batch}, lr {args.lr}, seed {args.seed}, {time.strftime('%Y-%m-%d %H:%M:%S')})",
            "base": sem.MODEL_NAME, "training_pairs": sum(map(len, pairs.values())), "licence_note":
            "derived from CLEF CheckThat! 2020 data (research use): keep local, do not ship",
            "seconds": round(time.perf_counter() - t_start)}
    (out / sem.MODEL_CARD).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=1))
    return card

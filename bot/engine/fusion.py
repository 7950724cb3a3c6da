"""The fusion models: logistic models over the re-ranker's features that rank a message's candidates and
estimate whether the best one is the claim the message states (fitted on CLEF *train* by
`python -m benchmarks train`; bot/engine/fusion*.json).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.matcher import Scored

FUSION_PATH = Path(__file__).with_name("fusion.json")
FEATURES = ("bm25_rel", "bm25_top", "cov_query", "cov_claim", "cov_claim_field", "bigram", "fuzzy_set", "rank_inv", "bias",
            "cov_query_statement", "cov_query_phrasing", "rare_hits", "number_hits")


@dataclass(frozen=True)
class FusionModel:
    """Two logistic models: `weights` rank candidates; `match_weights` estimate whether the best
    candidate is the claim the message states (the confidence the match threshold applies to)."""

    weights: dict[str, float]
    match_threshold: float
    related_threshold: float
    match_weights: dict[str, float] | None = None

    @classmethod
    def load(cls, path: Path = FUSION_PATH) -> "FusionModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["weights"], data["match_threshold"], data["related_threshold"], data.get("match_weights"))

    @staticmethod
    def _sigmoid(weights: dict[str, float], feats: dict[str, float]) -> float:
        z = sum([weights.get(k, 0.0) * v for k, v in feats.items()])
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def score(self, feats: dict[str, float]) -> float:
        return self._sigmoid(self.weights, feats)

    def confidence(self, ranked: list["Scored"]) -> float:
        if not ranked:
            return 0.0
        if not self.match_weights:
            return ranked[0].score
        return self._sigmoid(self.match_weights, match_features(ranked))


MATCH_FEATURES = ("top_score", "margin", "cov_claim_field", "cov_claim", "cov_query", "bigram", "fuzzy_set", "bias",
                  "semantic")  # the last only from the semantic tier (always 0 in the lexical model)


def match_features(ranked: list["Scored"]) -> dict[str, float]:
    """Features of the best candidate against the runner-up, for the match confidence."""
    top = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    f = top.features
    return {"top_score": top.score, "margin": top.score - second, "cov_claim_field": f.get("cov_claim_field", 0.0),
            "cov_claim": f.get("cov_claim", 0.0), "cov_query": f.get("cov_query", 0.0), "bigram": f.get("bigram", 0.0),
            "fuzzy_set": f.get("fuzzy_set", 0.0), "bias": 1.0, "semantic": f.get("semantic", 0.0)}


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class CascadeModel:
    """The fusion of the default install: candidates the semantic tier scored (their features hold
    "semantic") go through `semantic`, the others (the cascade kept the lexical answer) through `lexical`.

    Its confidences share the lexical match threshold: the semantic confidence is shifted on the logit
    scale so that its own threshold (fitted on train like the lexical one) lands on the lexical one, which
    leaves every decision of either model unchanged. A best candidate the first stage did not rank in its
    top CANDIDATES (found by its cosine alone) stays below the threshold: `related` at most."""

    lexical: FusionModel
    semantic: FusionModel

    @property
    def match_threshold(self) -> float:
        return self.lexical.match_threshold

    @property
    def related_threshold(self) -> float:
        return self.lexical.related_threshold

    def score(self, feats: dict[str, float]) -> float:
        return (self.semantic if "semantic" in feats else self.lexical).score(feats)

    def confidence(self, ranked: list["Scored"]) -> float:
        if not ranked or "semantic" not in ranked[0].features:
            return self.lexical.confidence(ranked)
        shift = _logit(self.lexical.match_threshold) - _logit(self.semantic.match_threshold)
        conf = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, _logit(self.semantic.confidence(ranked)) + shift))))
        if not ranked[0].features.get("lexical_hit", 1.0):
            conf = min(conf, math.nextafter(self.match_threshold, 0.0))
        return conf

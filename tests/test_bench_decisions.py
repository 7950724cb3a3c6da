"""`python -m benchmarks decisions`: the figures it computes, on a feed small enough to build here."""

import json
import sqlite3

from benchmarks.decisions import evaluate, gold_ids
from bot.engine.importers import parse_document
from bot.engine.matcher import Matcher
from bot.engine.store import import_claims

CLAIMS = ["Iran paid the Taliban bounties to kill US troops in Afghanistan",
          "Russia's GRU paid Taliban-linked militants bounties to kill American soldiers",
          "Carrots help you see in the dark", "Bats are blind", "Ivermectin cures COVID-19",
          "Sharks cannot get cancer", "The Moon landing was staged in a film studio", "Vikings wore horned helmets"]


def review(claim: str, n: int) -> dict:
    return {"@type": "ClaimReview", "claimReviewed": claim, "url": f"https://check.example/{n}",
            "author": {"@type": "Organization", "name": "Example Check"},
            "reviewRating": {"@type": "Rating", "alternateName": "False"}}


def test_figures_per_category(tmp_path):
    db = tmp_path / "feed.db"
    report = parse_document({"@type": "DataFeed", "dataFeedElement": [{"item": [review(c, n)]} for n, c in enumerate(CLAIMS)]})
    import_claims(db, report.claims)
    ids = {c["fact_checks"][0]["url"]: c["id"] for c in report.claims}
    messages = [
        {"text": "eating carrots helps you see at night", "category": "paraphrase", "claim": "https://check.example/2"},
        {"text": "NYT says the Kremlin put a bounty on US troops", "category": "metonym", "claim": "https://check.example/1"},
        {"text": "Ivermectin cures cancer", "category": "actor_swap", "claim": None},
        {"text": "anyone tried the carrot cake at the new place?", "category": "topic_chat", "claim": None},
        {"text": "good luck today!", "category": "chat", "claim": None},
    ]
    figures, misses = evaluate(Matcher(sqlite3.connect(db)), messages, ids, {})
    assert figures["paraphrase"] == {"messages": 1, "labelled": 1, "recall@1": 1.0, "match_recall": 1.0,
                                     "false_matches": 0, "false_match_rate": 0.0}
    assert figures["metonym"]["recall@1"] == 1.0
    assert figures["hard_negatives"] == {"messages": 2, "false_matches": 0, "false_match_rate": 0.0}
    assert figures["overall"]["messages"] == 5 and figures["overall"]["labelled"] == 2
    assert all(m["category"] != "paraphrase" for m in misses)
    json.dumps(figures)  # printable with --json


def test_a_clef_duplicate_counts_as_the_labelled_claim():
    ids = {"https://check.example/1": "import-abc"}
    dups = {"https://check.example/1": {"clef": {"7525": "Pope Francis endorsed Donald Trump for president."}}}
    assert gold_ids("https://check.example/1", ids, dups) == {"import-abc", "7525"}
    assert gold_ids(None, ids, dups) == set()

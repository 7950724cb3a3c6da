"""Integrity of the decisions evaluation set (tests/data/decisions): the data, not the engine."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.importers import parse_document

DATA = Path(__file__).resolve().parent / "data" / "decisions"
MINIMUMS = {"paraphrase": 120, "metonym": 40, "evasion": 40, "actor_swap": 60, "topic_chat": 80, "chat": 80}
STATES_A_CLAIM = {"paraphrase", "metonym", "evasion"}
NEVER_A_CLAIM = {"topic_chat", "chat"}


@pytest.fixture(scope="module")
def feed() -> dict[str, Any]:
    return json.loads((DATA / "feed.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reviews(feed: dict[str, Any]) -> list[dict[str, Any]]:
    return [review for element in feed["dataFeedElement"] for review in element["item"]]


@pytest.fixture(scope="module")
def urls(reviews: list[dict[str, Any]]) -> set[str]:
    return {r["url"] for r in reviews}


@pytest.fixture(scope="module")
def messages() -> list[dict[str, Any]]:
    lines = (DATA / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_feed_imports_every_item(feed: dict[str, Any], reviews: list[dict[str, Any]]) -> None:
    report = parse_document(feed, "feed.json")
    assert report.skipped == []
    assert len(report.claims) == len(reviews) >= 170


def test_feed_urls_unique_and_publishers_varied(reviews: list[dict[str, Any]], urls: set[str]) -> None:
    assert len(urls) == len(reviews)
    assert all(re.match(r"https://[a-z0-9.-]+\.[a-z]+/", u) for u in urls)
    publishers = Counter(r["author"]["name"] for r in reviews)
    assert len(publishers) >= 10
    assert len({r["reviewRating"]["alternateName"] for r in reviews}) >= 12


def test_feed_has_short_claims(reviews: list[dict[str, Any]]) -> None:
    short = [r for r in reviews if 5 <= len(r["claimReviewed"].split()) <= 8]
    assert len(short) >= 20


def test_message_claims_point_into_the_feed(messages: list[dict[str, Any]], urls: set[str]) -> None:
    for m in messages:
        assert set(m) >= {"text", "category", "claim"}, m
        assert m["claim"] is None or m["claim"] in urls, m
        if m["category"] in STATES_A_CLAIM:
            assert m["claim"] is not None, m
        if m["category"] in NEVER_A_CLAIM:
            assert m["claim"] is None, m
        near = m.get("near")
        assert near is None or near in urls or re.fullmatch(r"clef:\d+", near), m
        assert all(re.fullmatch(r"clef:\d+", a) for a in m.get("also", [])), m


def test_category_minimums_and_unique_texts(messages: list[dict[str, Any]]) -> None:
    counts = Counter(m["category"] for m in messages)
    assert set(counts) == set(MINIMUMS)
    for category, minimum in MINIMUMS.items():
        assert counts[category] >= minimum, category
    texts = [m["text"] for m in messages]
    assert len(set(texts)) == len(texts)
    assert all(t.strip() for t in texts)


def test_evasions_are_disguised(messages: list[dict[str, Any]]) -> None:
    # every evasion differs from a plain lower-case ASCII sentence in some visible or invisible way
    for m in (m for m in messages if m["category"] == "evasion"):
        t = m["text"]
        assert (not t.isascii() or t.isupper() or "#" in t or re.search(r"\w[.\d]\w|\b\w \w \w\b", t)), t


def test_duplicates_refer_to_feed_and_curated_claims(urls: set[str]) -> None:
    duplicates = json.loads((DATA / "duplicates.json").read_text(encoding="utf-8"))
    curated = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in (DEFAULT_KNOWLEDGE_DIR / "claims").glob("*.yaml")}
    for url, same in duplicates.items():
        assert url in urls
        assert set(same) <= {"clef", "curated"} and same
        assert all(re.fullmatch(r"\d+", i) for i in same.get("clef", {}))
        assert set(same.get("curated", [])) <= curated

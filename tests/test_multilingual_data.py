"""The multilingual development benchmark set (issue 20) is well formed.

These checks guard the data file itself, not the engine: every line parses, names a known
language and an existing claim (or none), the minimum counts per language and category hold,
and no text appears twice.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.config import DEFAULT_KNOWLEDGE_DIR

MESSAGES = Path(__file__).resolve().parent / "data" / "multilingual" / "messages.jsonl"
LANGS = ("en", "ru", "uk", "ar", "fa", "es", "tr", "fr", "de")
CATEGORIES = ("headline", "chat", "actor_swap")
# The minimums: 32 headlines per non-English language (25 for English),
# 6 hard negatives plus the two bounty cards, 12 ordinary chat messages.
MIN_HEADLINES = {lang: (25 if lang == "en" else 32) for lang in LANGS}
MIN_ACTOR_SWAP = 6 + 2
MIN_CHAT = 12
BOUNTY_CLAIMS = ("russia-gru-taliban-bounties-2020", "iran-taliban-bounties-2020")


def load_rows() -> list[dict]:
    rows = []
    for number, line in enumerate(MESSAGES.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is empty"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not an object"
        row["_line"] = number
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return load_rows()


@pytest.fixture(scope="module")
def claim_ids() -> set[str]:
    return {path.stem for path in (DEFAULT_KNOWLEDGE_DIR / "claims").glob("*.yaml")}


def test_every_line_has_exactly_the_four_fields(rows: list[dict]) -> None:
    for row in rows:
        keys = set(row) - {"_line"}
        assert keys == {"lang", "text", "claim", "category"}, row["_line"]
        assert isinstance(row["text"], str) and row["text"].strip() == row["text"] != "", row["_line"]


def test_languages_and_categories_are_known(rows: list[dict]) -> None:
    for row in rows:
        assert row["lang"] in LANGS, row["_line"]
        assert row["category"] in CATEGORIES, row["_line"]


def test_claims_are_existing_files_or_null(rows: list[dict], claim_ids: set[str]) -> None:
    assert len(claim_ids) >= 30  # the shipped knowledge is where we think it is
    for row in rows:
        claim = row["claim"]
        assert claim is None or claim in claim_ids, (row["_line"], claim)


def test_headlines_name_a_claim_and_chat_names_none(rows: list[dict]) -> None:
    for row in rows:
        if row["category"] == "headline":
            assert row["claim"] is not None, row["_line"]
        if row["category"] == "chat":
            assert row["claim"] is None, row["_line"]


def test_actor_swaps_are_null_except_the_two_bounty_cards(rows: list[dict]) -> None:
    for row in rows:
        if row["category"] == "actor_swap":
            assert row["claim"] in (None, *BOUNTY_CLAIMS), row["_line"]


@pytest.mark.parametrize("lang", LANGS)
def test_minimum_counts_per_language(rows: list[dict], lang: str) -> None:
    counts = Counter(row["category"] for row in rows if row["lang"] == lang)
    assert counts["headline"] >= MIN_HEADLINES[lang]
    assert counts["actor_swap"] >= MIN_ACTOR_SWAP
    assert counts["chat"] >= MIN_CHAT
    swaps = [row["claim"] for row in rows if row["lang"] == lang and row["category"] == "actor_swap"]
    assert swaps.count(None) >= 6
    for claim in BOUNTY_CLAIMS:
        assert claim in swaps, (lang, claim)


@pytest.mark.parametrize("lang", LANGS)
def test_headlines_spread_over_many_claims(rows: list[dict], lang: str) -> None:
    claims = {row["claim"] for row in rows if row["lang"] == lang and row["category"] == "headline"}
    assert len(claims) >= MIN_HEADLINES[lang]


def test_no_duplicate_texts(rows: list[dict]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = " ".join(row["text"].casefold().split())
        assert key not in seen, (row["_line"], seen.get(key), row["text"])
        seen[key] = row["_line"]


def test_rows_are_written_in_their_languages_script(rows: list[dict]) -> None:
    # A cheap guard against a row filed under the wrong language: Cyrillic and Arabic-script
    # languages need letters of their own script.
    scripts = {
        "ru": ("\u0400", "\u04ff"),
        "uk": ("\u0400", "\u04ff"),
        "ar": ("\u0600", "\u06ff"),
        "fa": ("\u0600", "\u06ff"),
    }
    for row in rows:
        span = scripts.get(row["lang"])
        if span is None:
            continue
        low, high = span
        assert any(low <= ch <= high for ch in row["text"]), (row["_line"], row["text"])


def test_persian_and_arabic_use_their_own_letters(rows: list[dict]) -> None:
    # Persian is written with Farsi yeh and keheh (and has pe, che, zhe, gaf); Arabic uses
    # Arabic yeh and kaf. Mixing them is a common encoding slip that would blur the two.
    persian_only = set("\u06cc\u06a9\u067e\u0686\u0698\u06af")
    arabic_yeh_kaf = set("\u064a\u0643")
    for row in rows:
        letters = set(row["text"])
        if row["lang"] == "ar":
            assert not letters & persian_only, (row["_line"], row["text"])
        if row["lang"] == "fa":
            assert not letters & arabic_yeh_kaf, (row["_line"], row["text"])


def test_ukrainian_rows_have_ukrainian_letters(rows: list[dict]) -> None:
    # Ukrainian and Russian share most of Cyrillic; і, ї, є, ґ are Ukrainian's own.
    for row in rows:
        if row["lang"] == "uk":
            assert set(row["text"].casefold()) & set("іїєґ"), (row["_line"], row["text"])

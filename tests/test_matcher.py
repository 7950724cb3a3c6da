"""Decision tiers on the shipped knowledge: match / related / none."""

import pytest

IRAN, RUSSIA = "iran-taliban-bounties-2020", "russia-gru-taliban-bounties-2020"


def test_iran_headline_is_the_iran_claim(engine):
    r = engine.check("US intelligence claims Iran paid Taliban to kill American troops")
    assert (r.decision, r.matches[0].id) == ("match", IRAN)
    assert r.card.claim_id == IRAN and r.card.decision == "match"


def test_russia_headline_is_the_russia_claim(engine):
    r = engine.check("Russia paid Taliban-linked militants to kill American soldiers")
    assert (r.decision, r.matches[0].id) == ("match", RUSSIA)


@pytest.mark.parametrize("text", [
    "China paid the Taliban bounties to kill US troops",
    "Pakistan paid the Taliban bounties to kill American troops",
    "Someone paid Taliban-linked militants bounties to kill American soldiers",  # no actor named at all
])
def test_other_or_missing_actor_is_never_a_match(engine, text):
    r = engine.check(text)
    assert r.decision != "match"
    assert r.decision == "related"  # same topic: worth a "related" card, never an auto-reply


def test_contradicting_actor_is_named_in_the_reason(engine):
    r = engine.check("China paid the Taliban bounties to kill US troops")
    assert "China" in r.reason


@pytest.mark.parametrize("text", ["Iran", "ok", "vaccines", "Taliban bounties", "lol 😂", "", "   "])
def test_short_or_generic_messages_are_never_a_match(engine, text):
    assert engine.check(text).decision != "match"


@pytest.mark.parametrize("text", [
    "US intel claims 1r4n p4id T4liban to k1ll American tr00ps",
    "US intelligence claims \u0406r\u0430n paid T\u0430liban to kill American troops",
    "US intelligence claims Ir\u200ban paid Tali\u200bban to kill American troops",
    "ＵＳ ｉｎｔｅｌｌｉｇｅｎｃｅ claims IRAN PAID TALIBAN to kill American troops",
    "#Iran paid #Taliban to kill American troops, US intelligence claims https://example.com/x",
    "US intelligence claims #iranpaidtaliban to kill American troops",  # a run-together hashtag
])
def test_evasive_spellings_still_match(engine, text):
    r = engine.check(text)
    assert (r.decision, r.matches[0].id) == ("match", IRAN)


def test_unrelated_message_is_none(engine):
    r = engine.check("Anyone up for pizza after the football tonight?")
    assert r.decision == "none" and r.card is None


def test_scores_are_probabilities_best_first(engine):
    r = engine.check("Russia paid Taliban-linked militants to kill American soldiers")
    scores = [m.score for m in r.matches]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)


def test_hostile_long_message_is_cut_not_crashing(engine):
    r = engine.check(("<b>&amp;</b> \u202e" * 3000) + " Iran paid Taliban")
    assert r.decision in {"none", "related", "match"}


def test_no_false_matches_on_negative_set(engine):
    from pathlib import Path

    lines = (Path(__file__).parent / "data" / "negatives.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 500
    false = [ln for ln in lines if engine.check(ln).decision == "match"]
    assert false == []


def test_search_lists_several_claims(engine):
    r = engine.search("Taliban bounties", limit=10)
    ids = [m.id for m in r.matches]
    assert IRAN in ids and RUSSIA in ids

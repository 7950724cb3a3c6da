"""The right card or none on imported fact-checks (issue 15): actors by role, predicates, swaps, short claims.

A small ClaimReview feed written for these tests is imported into a fresh database, as `knowledge import` does.
"""

import pytest

from bot.engine.importers import parse_document
from bot.engine.service import Engine
from bot.engine.store import import_claims

CLAIMS = [
    "Iran paid the Taliban's Haqqani network bounties to kill US troops in Afghanistan",
    "Russia's GRU military intelligence paid Taliban-linked militants bounties to kill American soldiers in Afghanistan",
    "Pope Francis endorsed Donald Trump for president",
    "Joe Rogan endorsed Joe Biden for president",
    "Barack Obama was born in Kenya, not in Hawaii",
    "Ivermectin cures COVID-19",
    "Morgan Freeman has died",
    "Carrots help you see in the dark",
    "Bats are blind",
    "The 1969 Moon landing was staged in a film studio",
    "5G networks spread the coronavirus",
    "Drinking hot water every 15 minutes kills the coronavirus",
    "Bill Gates is buying up American farmland to control the food supply",
    "The UK sends the EU 350 million pounds a week",
    "Wind turbines kill more birds than anything else",
    "Sharks cannot get cancer",
    "Vikings wore horned helmets in battle",
    "Lightning never strikes the same place twice",
    "A study proved black cats bring bad luck",
    "Paying federal income tax is voluntary",
    "Walmart is closing all of its stores across the country",
    "Starbucks gives its profits to a foreign army",
    "The White House is banning gas stoves",
    "North Korea fired a ballistic missile over Japan",
    "Pakistan's ISI spy agency paid the Taliban a bounty for every US soldier killed",
    "Ukraine shot down Yevgeny Prigozhin's plane",
    "Nikki Haley is ineligible to be president because her parents were not citizens when she was born",
    "E-mail details actor Denzel Washington's TV appearance with Katie Couric.",
]


def review(claim: str, n: int) -> dict:
    return {"@context": "https://schema.org", "@type": "ClaimReview", "claimReviewed": claim,
            "url": f"https://factcheck.example/{n}", "datePublished": "2024-01-02",
            "author": {"@type": "Organization", "name": "Example Check"},
            "reviewRating": {"@type": "Rating", "alternateName": "False"},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "Social media"}}}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    db = tmp_path_factory.mktemp("imported") / "feed.db"
    feed = {"@context": "https://schema.org", "@type": "DataFeed",
            "dataFeedElement": [{"@type": "DataFeedItem", "item": [review(c, n)]} for n, c in enumerate(CLAIMS)]}
    import_claims(db, parse_document(feed).claims)
    return Engine(db)


def top(engine, text):
    r = engine.check(text)
    return r, (r.matches[0].claim if r.matches else "")


def test_the_doer_decides_between_same_predicate_claims(engine):
    r, first = top(engine, "NYT says the Kremlin put a bounty on US troops")
    assert first.startswith("Russia's GRU") and r.actors["message"]["doer"] == ["Russia"]
    r, first = top(engine, "Bountygate 2.0: US Intelligence Claims Iran Paid Taliban to Kill American Troops in Afghanistan")
    assert first.startswith("Iran paid") and r.decision == "match"


def test_another_doer_is_never_a_match(engine):
    for text in ("China paid the Taliban bounties to kill US troops", "The Taliban paid Iran bounties to attack American soldiers",
                 "Pope Francis endorsed Joe Biden", "Michelle Obama was born in Kenya"):
        r, first = top(engine, text)
        assert r.decision != "match", (text, first, r.reason)


def test_topic_is_not_assertion(engine):
    for text in ("morgan freeman doing the voiceover in that ad is so soothing", "we drink hot water with lemon every morning",
                 "the wind turbines on the hill look so calm at sunset", "the White House gas stoves are on sale tonight"):
        r, first = top(engine, text)
        assert r.decision != "match", (text, first, r.reason)


def test_a_swapped_object_states_another_claim(engine):
    assert top(engine, "Ivermectin cures cancer")[0].decision != "match"
    r, first = top(engine, "ivermectin cures covid")
    assert (r.decision, first) == ("match", "Ivermectin cures COVID-19")


@pytest.mark.parametrize("text, claim", [
    ("eating carrots helps you see at night", "Carrots help you see in the dark"),
    ("the moon landing was faked in a studio", "The 1969 Moon landing was staged in a film studio"),
    ("Morgan Freeman is dead", "Morgan Freeman has died"),
    ("5G spreads the coronavirus", "5G networks spread the coronavirus"),
])
def test_short_claims_restated_are_found(engine, text, claim):
    r, first = top(engine, text)
    assert first == claim and r.decision == "match", (text, first, r.reason)


def test_a_message_naming_actors_the_claim_does_not_states_another_claim(engine):
    # another doer (a leader's agents count as the leader), another victim, a place the claim never names,
    # a verb a description claim does not have
    for text, near in (("Putin's spies paid the taliban to kill our soldiers", "Pakistan's ISI"),
                       ("Ukraine shot down the Azerbaijan Airlines plane", "Ukraine shot down"),
                       ("Nikki Haley was born in India", "Nikki Haley"),
                       ("denzel washington endorsed hillary clinton in 2016", "E-mail details")):
        r, first = top(engine, text)
        assert first.startswith(near), (text, first)  # the near claim is found, so the rule is what refuses it
        assert r.decision != "match", (text, first, r.reason)


def test_leaders_set_aside_names_and_flags_add_no_actor(engine):
    for text, claim in (("the Biden administration is banning gas stoves", "The White House is banning gas stoves"),
                        ("forget russia, iran paid the haqqanis for attacks on american troops",
                         "Iran paid the Taliban's Haqqani network bounties to kill US troops in Afghanistan"),
                        ("North Korea fired a ballistic missile over Japan 🇺🇸", "North Korea fired a ballistic missile over Japan")):
        r, first = top(engine, text)
        assert (first, r.decision) == (claim, "match"), (text, first, r.reason)

"""Hostile import files (issue 16): every bad item is reported and skipped, the rest imported; no traceback."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.engine import importers
from bot.engine.importers import parse_document, parse_file, parse_files
from bot.engine.service import Engine

from tests.test_import import review


def google(text: str, reviews) -> dict:
    return {"text": text, "claimant": "Someone", "claimDate": "2021-01-02T00:00:00Z", "claimReview": reviews}


GOOD_REVIEW = {"publisher": {"name": "Check"}, "url": "https://check.example/1", "textualRating": "False",
               "reviewDate": "2021-01-03", "languageCode": "en"}


@pytest.mark.parametrize("doc, reason", [
    ({"@type": "DataFeed", "dataFeedElement": 5}, "dataFeedElement is not a list"),
    ({"claims": [google("Bad one", 5)]}, "claimReview is not a list"),
    ({"claims": [google("Bad one", ["a string"])]}, "no claimReview"),
    ({"claims": [google("Bad one", [GOOD_REVIEW | {"languageCode": {"x": 1}}]), 7]}, "claim is not an object"),
    ([{"@type": [{"x": 1}]}], "not a ClaimReview"),
    ([review("Bad date item", datePublished=5, inLanguage=["en"])], None),
])
def test_a_bad_item_is_reported_and_the_others_kept(doc, reason):
    good = review("Windmills cause cancer in nearby towns")
    if isinstance(doc, dict) and "claims" in doc:
        doc["claims"].append(google("Windmills cause cancer in nearby towns", [GOOD_REVIEW]))
    elif isinstance(doc, dict):
        doc = [doc, good]
    else:
        doc = [*doc, good]
    report = parse_document(doc, "feed.json")
    assert any(c["statement"] == "Windmills cause cancer in nearby towns" for c in report.claims)
    if reason:
        assert any(reason in line for line in report.skipped), report.skipped


def test_deep_json_is_a_reported_file_not_a_recursion_error(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    report = parse_file(f)
    assert report.claims == [] and "nested too deeply" in report.skipped[0]
    # deep but within json's own limit: refused by the importer's depth bound, not its recursion
    doc = [review("Windmills cause cancer in nearby towns")]
    for _ in range(500):
        doc = [doc]
    report = parse_document(doc, "x.json")
    assert report.claims == [] and "nested deeper than" in report.skipped[0]


def test_the_same_item_in_two_files_is_imported_once(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for f in (a, b):
        f.write_text(json.dumps([review("Windmills cause cancer in nearby towns")]))
    db = tmp_path / "imported.db"
    assert main(["knowledge", "import", str(a), str(b), "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "imported 1 claim(s)" in out.out and "duplicate of the same item in" in out.err
    assert Engine(db).about()["claims"] == 1


LONE = "\udc80"  # a lone surrogate: JSON's \\u escapes can spell it, UTF-8 (and so SQLite) cannot store it


@pytest.mark.parametrize("bad, field", [
    (review(f"Windmills cause cancer in towns {LONE}"), "claimReviewed"),
    (review("Windmills cause cancer in towns", rating=f"Fa{LONE}lse"), "fact_checks[0].rating"),
    (review("Windmills cause cancer in towns", author={"name": f"Check{LONE}"}), "fact_checks[0].publisher"),
    (review("Windmills cause cancer in towns", name=f"Headline {LONE}"), "fact_checks[0].headline"),
    (review("Windmills cause cancer in towns",
            itemReviewed={"author": {"name": f"Claimant{LONE}"}}), "first_report.outlet"),
])
def test_text_that_cannot_be_stored_skips_its_item_by_field_and_keeps_the_rest(tmp_path, capsys, bad, field):
    """One item with a lone surrogate in any text it keeps is skipped with the field named; the good item
    beside it is imported (it used to abort the whole import with a UnicodeEncodeError from SQLite)."""
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([bad, review("A perfectly good claim about vaccines")]))  # json escapes it
    db = tmp_path / "imported.db"
    assert main(["knowledge", "import", str(feed), "--db", str(db)]) == 0
    err = capsys.readouterr().err
    assert f"item 1: {field} is not valid Unicode" in err
    engine = Engine(db)
    assert engine.about()["claims"] == 1
    assert engine.check("A perfectly good claim about vaccines").matches[0].claim.startswith("A perfectly good")


def test_store_refuses_nothing_when_a_batch_repeats_an_id(tmp_path):
    from bot.engine.store import import_claims

    claims = parse_document([review("Windmills cause cancer in nearby towns")]).claims * 2
    assert import_claims(tmp_path / "x.db", claims) == (1, 1)


def test_over_long_statement_is_skipped_and_long_fields_cut():
    huge = "word " * 2_000_000
    doc = [review(huge), review("Windmills cause cancer in nearby towns", name="h" * 50_000,
                                reviewRating={"alternateName": "False " * 10_000})]
    report = parse_document(doc, "feed.json")
    assert len(report.claims) == 1 and "longer than" in report.skipped[0]
    fc = report.claims[0]["fact_checks"][0]
    assert len(fc["headline"]) <= importers.MAX_FIELD_CHARS and len(fc["rating"]) <= importers.MAX_FIELD_CHARS
    assert len(report.claims[0]["status_note"]) < 2 * importers.MAX_FIELD_CHARS


@pytest.mark.parametrize("url", ["http://", "https://[::1", "http://x\x00y.com/", "http://x.com/\x7f",
                                 "https://x.com/\u202etxt", "http://:80/", "https:///p", "http://a..b/",
                                 "javascript:alert(1)", 42])
def test_an_invalid_url_is_dropped_and_the_review_kept(url):
    claimreview = parse_document([review("Windmills cause cancer in nearby towns", url=url)]).claims
    assert len(claimreview) == 1 and "url" not in claimreview[0]["fact_checks"][0]
    tools = parse_document({"claims": [google("Windmills cause cancer", [GOOD_REVIEW | {"url": url}])]}).claims
    assert len(tools) == 1 and "url" not in tools[0]["fact_checks"][0]


def test_a_valid_url_is_kept():
    claims = parse_document([review("Windmills cause cancer in nearby towns", url="https://check.example/a?b=1")]).claims
    assert claims[0]["fact_checks"][0]["url"] == "https://check.example/a?b=1"


def test_impossible_review_dates_are_dropped():
    claims = parse_document([review("Windmills cause cancer in nearby towns", datePublished="2021-02-30")]).claims
    assert claims[0]["fact_checks"][0]["date"] == ""


@pytest.mark.parametrize("written, kept", [("2021-02-28garbage", ""), ("20215", ""), ("2021-02-28T10:00:00Z", "2021-02-28"),
                                           ("2021-02-28 10:00", "2021-02-28"), ("2021-03", "2021-03"), ("2021", "2021")])
def test_a_date_with_trailing_junk_is_no_date(written, kept):
    """"20215" was read as 2021 and "2021-02-28garbage" as 2021-02-28: no date rather than a guessed one."""
    (claim,) = parse_document([review("Windmills cause cancer in nearby towns", datePublished=written)]).claims
    assert claim["fact_checks"][0]["date"] == kept


@pytest.mark.parametrize("tag, code", [("zz-bogus", "en"), ("pt-BR", "pt"), ("es_ES", "es"), ("RU", "ru"), ("fil", "en")])
def test_a_language_tag_gives_an_iso_639_1_code_or_english(tag, code):
    (claim,) = parse_document([review("Windmills cause cancer in nearby towns", inLanguage=tag)]).claims
    assert claim["language"] == code


@pytest.mark.parametrize("statement", ["\u200b\u200b", "!!! ???", "\u202e\u202d", "\x00\x1b", "   \u2026  "])
def test_a_statement_without_letters_or_digits_is_skipped(statement):
    report = parse_document([review(statement), review("Windmills cause cancer in nearby towns")], "feed.json")
    assert [c["statement"] for c in report.claims] == ["Windmills cause cancer in nearby towns"]
    assert report.skipped == ["feed.json: item 1: claimReviewed has no letters or digits"]


@given(st.text(max_size=30), st.sampled_from(["\x00", "\x07", "\x1b", "\x85", "\x9b", "\u202d", "\u202e"]),
       st.integers(0, 30))
@settings(max_examples=200, deadline=None)
def test_control_characters_are_cleaned_out_of_imported_text_and_the_item_kept(text, control, at):
    """A feed's stray control or bidi override character becomes a space (or goes) instead of reaching a
    card; the knowledge validator refuses the same characters in curated files (bot/engine/characters.py)."""
    from bot.engine.characters import unprintable

    words = "Windmills cause cancer " + text[:at] + control + text[at:]  # st.text gives no lone surrogate
    (claim,) = parse_document([review(words, rating="Fa" + control + "lse", name=control + "Headline")]).claims
    kept = [claim["statement"], claim["fact_checks"][0]["rating"], claim["fact_checks"][0]["headline"]]
    assert all(unprintable(t) is None for t in kept), kept
    assert claim["statement"].startswith("Windmills cause cancer")

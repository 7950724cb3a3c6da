"""Page metadata extraction from the HTML fixtures in tests/pages (pure, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.links import ClaimReviewInfo, PageInfo, extract_page
from bot.links.extract import decode_html, iso_date
from bot.links.titles import headline_candidates, site_names, strip_site_affix

PAGES = Path(__file__).resolve().parent / "pages"


def page(name: str, url: str = "https://news.example/article") -> PageInfo:
    return extract_page((PAGES / name).read_bytes(), url)


def test_cnn_like_article_prefers_jsonld_headline_and_strips_section_suffix() -> None:
    p = page("cnn_iran_bounties.html", "https://edition.cnn.com/2020/12/31/politics/iran-bounties/index.html?utm_source=tw")
    assert p.headline == "Iran paid bounties to Taliban fighters for targeting US troops, intelligence suggests"
    assert p.title.endswith("| CNN Politics")
    assert p.site_name == "CNN"
    assert p.canonical_url == "https://www.cnn.com/2020/12/31/politics/iran-bounties-taliban-us-troops/index.html"
    assert p.published == "2020-12-31T15:04:11+00:00"
    assert p.description.startswith("US intelligence suggests Iran offered bounties")
    # headline, og:title and suffix-stripped title are the same text: one candidate.
    assert p.headline_candidates() == [p.headline]
    assert p.claim_reviews == []


def test_sputnik_suffix_is_stripped_from_title_and_og_title() -> None:
    p = page("sputnik_article.html", "https://sputnikglobe.com/20220310/pentagon-leak-1093740381.html")
    assert p.og_title.endswith(" - Sputnik International")
    assert p.headline == ""
    assert p.headline_candidates() == ["Pentagon Leak Shows US Knew About Bioweapon Labs in Ukraine, Moscow Claims"]
    # Relative canonical resolved against the page URL; compact ISO date normalised.
    assert p.canonical_url == "https://sputnikglobe.com/20220310/pentagon-leak-bioweapon-labs-ukraine-1093740381.html"
    assert p.published == "2022-03-10T15:44:00+00:00"


def test_bbc_en_dash_suffix_and_distinct_headlines_kept_in_order() -> None:
    p = page("bbc_like.html", "https://www.bbc.com/news/world-europe-62624186")
    assert p.title.endswith("– BBC News")
    assert p.headline_candidates() == [
        "Zaporizhzhia nuclear plant shelled again, says IAEA",  # JSON-LD headline first
        "Ukraine war: Zaporizhzhia nuclear plant shelled again, says IAEA",  # og:title == stripped title
    ]


def test_reuters_site_name_comes_from_jsonld_publisher_despite_trailing_comma() -> None:
    p = page("reuters_like.html", "https://www.reuters.com/world/europe/wagner-prisons-2022-09-15/")
    assert p.site_name == "Reuters"  # no og:site_name; JSON-LD has a trailing comma, still read
    assert p.headline_candidates() == ["Exclusive: Wagner fighters recruited in Russian prisons, sources say"]
    assert p.published == "2022-09-15T11:04:00+00:00"


def test_title_only_page() -> None:
    p = page("title_only.html", "https://example.org/belarus")
    assert p.title == "Russia denies plan to annex Belarus & says talks continue"
    assert p.og_title == p.headline == p.canonical_url == ""
    assert p.headline_candidates() == ["Russia denies plan to annex Belarus & says talks continue"]


def test_windows_1251_page_is_decoded_from_meta_charset() -> None:
    raw = (PAGES / "rt_cp1251.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    p = extract_page(raw, "https://russian.rt.com/world/news/1")
    assert p.site_name == "RT на русском"
    assert p.headline_candidates() == ["Захарова назвала ложью сообщения о выплатах Ирана талибам"]
    assert decode_html(raw, "windows-1251") == decode_html(raw)


def test_claimreview_in_graph_with_id_references() -> None:
    p = page("factcheck_graph.html", "https://factcheckhub.example/fact-check/ukraine-weapons-hamas/")
    assert p.site_name == "FactCheckHub"
    assert p.headline_candidates() == ["Fact Check: No, Ukraine did not sell Western weapons to Hamas"]
    assert p.claim_reviews == [
        ClaimReviewInfo(
            claim_reviewed="Ukraine sold weapons supplied by Western countries to Hamas",
            rating="False",
            publisher="FactCheckHub",  # author given as {"@id": ...#organization}
            url="https://factcheckhub.example/fact-check/ukraine-weapons-hamas/",
            date="2023-10-13",
            claimant='Telegram channel "Rybar"',
        ),
        ClaimReviewInfo(
            claim_reviewed="A BBC video reported that Bellingcat found Ukrainian weapons with Hamas",
            rating="Fabricated",
            publisher="FactCheckHub",
            url="https://factcheckhub.example/fact-check/ukraine-weapons-hamas/#video",  # relative url resolved
            date="2023-10-13",
            claimant="Anonymous X user",  # author given as a list
        ),
    ]


def test_claimreview_in_top_level_list_and_nested_in_article() -> None:
    p = page("factcheck_list.html", "https://www.politifact.example/factchecks/2021/jan/05/")
    by_claim = {r.claim_reviewed: r for r in p.claim_reviews}
    assert len(p.claim_reviews) == 2
    listed = by_claim["Iran paid bounties to the Taliban for attacks on U.S. troops."]
    assert (listed.rating, listed.publisher, listed.claimant, listed.date) == ("Half True", "PolitiFact", "Unnamed U.S. officials", "2021-01-05")
    nested = by_claim["The Pentagon confirmed the Iran bounty payments."]  # "@type": "schema:ClaimReview" under mainEntity
    assert (nested.rating, nested.publisher, nested.claimant) == ("Mostly False", "PolitiFact", "A viral Facebook post")
    assert p.headline_candidates() == ["Did Iran pay the Taliban to attack US troops?"]  # "PolitiFact | " prefix stripped
    assert json.loads(json.dumps(p.to_dict()))["claim_reviews"][0]["rating"] in {"Half True", "Mostly False"}


def test_single_object_claimreview_with_numeric_rating_only() -> None:
    html = """<html><head><title>Check</title><script type="application/ld+json">
    {"@context":"https://schema.org","@type":"ClaimReview","claimReviewed":"5G spreads viruses",
     "reviewRating":{"@type":"Rating","ratingValue":"1","bestRating":"5"},
     "publisher":{"@type":"Organization","name":"AFP Fact Check"},"datePublished":"Thu, 02 Apr 2020 10:00:00 GMT"}
    </script></head></html>"""
    [review] = extract_page(html, "https://factcheck.afp.example/5g").claim_reviews
    assert (review.claim_reviewed, review.rating, review.publisher) == ("5G spreads viruses", "1/5", "AFP Fact Check")
    assert review.url == "https://factcheck.afp.example/5g"  # no url in the review: the page itself
    assert review.date == "2020-04-02T10:00:00+00:00"


def test_malformed_page_gives_what_can_be_read() -> None:
    p = page("malformed.html", "https://daily.example/memo")
    assert p.title == "Broken page | Daily Example"
    assert p.headline_candidates() == ["Broken page"]  # suffix matches the host name
    # The only usable ClaimReview is the one with a rating; junk values never raise.
    assert [(r.rating, r.claim_reviewed) for r in p.claim_reviews] == [("False", "42")]


@pytest.mark.parametrize(
    "junk",
    [b"", b"\x00\xff\xfe", "<", "<?xml version='1.0' encoding='utf-8'?><html><title>x</title></html>",
     b"<script type='application/ld+json'>" + b"[" * 200_000 + b"</script>",
     "<script type='application/ld+json'>{\"@graph\": " + "[" * 5000 + "]" * 5000 + "}</script>",
     b"\xef\xbb\xbf<title>BOM \xc3\xa9</title>"],
)
def test_junk_never_raises(junk: str | bytes) -> None:
    p = extract_page(junk, "not even a url")
    assert isinstance(p, PageInfo)
    assert isinstance(p.to_dict()["headline_candidates"], list)


def test_bom_decoding() -> None:
    assert extract_page(b"\xef\xbb\xbf<title>Caf\xc3\xa9 news</title>", "https://x.example/").title == "Café news"


@pytest.mark.parametrize(
    ("title", "site", "url", "expected"),
    [
        ("Exclusive: Wagner recruits convicts | Reuters", "", "https://www.reuters.com/x", "Exclusive: Wagner recruits convicts"),
        ("Foo – BBC News", "BBC News", "https://www.bbc.co.uk/news/1", "Foo"),
        ("BBC News - Foo bar", "", "https://www.bbc.co.uk/news/1", "Foo bar"),
        ("Moscow says X - Sputnik International", "Sputnik International", "https://sputnikglobe.com/1", "Moscow says X"),
        ("Headline | Politics | CNN", "CNN", "https://cnn.com/1", "Headline | Politics"),
        ("Fact check: a well-known claim - is it true?", "Snopes", "https://www.snopes.com/1", "Fact check: a well-known claim - is it true?"),
        ("Russia - Ukraine talks stall", "", "https://www.aljazeera.com/1", "Russia - Ukraine talks stall"),
        ("CNN", "CNN", "https://cnn.com/1", "CNN"),
    ],
)
def test_strip_site_affix(title: str, site: str, url: str, expected: str) -> None:
    assert strip_site_affix(title, site_names(site, url)) == expected


def test_headline_candidates_drop_unknown_suffix_when_another_candidate_is_the_bare_headline() -> None:
    names = site_names("", "https://news.example/a")
    assert headline_candidates(["", "Iran denies report", "Iran denies report :: The Daily Planet"], names) == ["Iran denies report"]


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("2020-12-31", "2020-12-31"), ("20220310T1544+0000", "2022-03-10T15:44:00+00:00"), ("yesterday", "")],
)
def test_iso_date(raw: str, iso: str) -> None:
    assert iso_date(raw) == iso

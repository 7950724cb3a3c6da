"""Property-based tests (Hypothesis) turning issue 16's attack into CI: the importers take any JSON and
return a report, the knowledge loader takes any YAML in a claim file and returns a claim or names the
file, every listed evasion of every matching shipped phrasing still matches, and the URL check is total.
Example counts are moderate so the suite stays fast."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine import importers
from bot.engine.importers import parse_document, parse_file
from bot.engine.knowledge import KnowledgeError, load_knowledge
from bot.engine.urlcheck import url_problem, valid_http_url

from tests.test_evasions import EVASIONS
from tests.test_knowledge import GOOD

# -- the importers -----------------------------------------------------------------------------------------
# Keys and values of the two formats, so generated documents reach deep into the converters instead of
# being rejected at the top.
KEYS = ["@type", "@graph", "@context", "claims", "claimReview", "dataFeedElement", "item", "claimReviewed",
        "reviewRating", "alternateName", "name", "url", "text", "textualRating", "publisher", "author",
        "itemReviewed", "datePublished", "reviewDate", "claimDate", "claimant", "languageCode", "inLanguage",
        "title", "headline", "site"]
WORDS = ["ClaimReview", "DataFeed", "Claim", "False", "Mostly true", "https://check.example/a", "http://",
         "https://[::1", "2021-02-30", "2021-03-04", "en", "Windmills cause cancer in nearby towns", ""]
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.sampled_from(WORDS) | st.text(max_size=30)
json_docs = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_docs)
def test_any_json_document_gives_a_report_never_an_exception(doc):
    report = parse_document(doc, "fuzz.json")
    for claim in report.claims:
        assert 0 < len(claim["statement"]) <= importers.MAX_STATEMENT_CHARS
        for review in claim["fact_checks"]:
            assert "url" not in review or valid_http_url(review["url"])
            assert all(len(v) <= importers.MAX_FIELD_CHARS for v in review.values())
    assert all(line.startswith("fuzz.json") for line in report.skipped)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | json_docs.map(lambda d: json.dumps(d).encode()))
def test_any_file_gives_a_report_never_an_exception(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.json"
        path.write_bytes(data)
        report = parse_file(path)
    assert isinstance(report.claims, list) and isinstance(report.skipped, list)


def test_the_json_strategy_reaches_valid_claims():
    """The properties above are only worth something if generated documents sometimes import."""
    doc = {"claims": [{"text": "Windmills cause cancer in nearby towns", "claimReview": [{"textualRating": "False"}]}]}
    assert parse_document(doc).claims


# -- the knowledge loader ----------------------------------------------------------------------------------
GOOD_CLAIM = GOOD.format(id="fuzzed-claim")
LINES = GOOD_CLAIM.splitlines()
YAML_BITS = ["&a [x]", "*a", "!!python/object:os.system", "!!binary aGVsbG8=", "2021-02-30", "'2021-13-01'",
             "[" * 60 + "]" * 60, "{a: " * 30 + "1" + "}" * 30, "- - - - - x", ": :", "? x", "|", ">-", "\t",
             "null", "~", "true", "0x1F", "1e309", ".nan", "'unterminated", "\"\\u0000\"", "\"\\ud800\"",
             "http://", "https://[::1", "\u202e", "x" * 5000]


@st.composite
def claim_texts(draw):
    if draw(st.booleans()):
        return draw(st.text(max_size=200))
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        key, _, _ = lines[i].partition(":")
        bit = draw(st.sampled_from(YAML_BITS) | st.text(max_size=20))
        lines[i] = draw(st.sampled_from([f"{key}: {bit}", bit, f"{lines[i]} {bit}", f"  {bit}"]))
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_texts())
def test_any_yaml_in_a_claim_file_gives_a_claim_or_an_error_naming_the_file(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims" / "fuzzed-claim.yaml"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            kb = load_knowledge(tmp)
        except KnowledgeError as exc:
            assert exc.problems and all(p.startswith(str(path)) for p in exc.problems), exc.problems
            assert sum(len(p) for p in exc.problems) < 100_000
        else:
            assert [c["id"] for c in kb.claims] == ["fuzzed-claim"]


def test_the_yaml_strategy_reaches_valid_claims():
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "claims").mkdir()
        (Path(tmp) / "claims" / "fuzzed-claim.yaml").write_text(GOOD_CLAIM)
        assert load_knowledge(tmp).claims


# -- the normaliser ----------------------------------------------------------------------------------------
def _matching_phrasings() -> list[str]:
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    return sorted(p for c in kb.claims for p in c["phrasings"])


PHRASINGS = _matching_phrasings()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phrasing=st.sampled_from(PHRASINGS), evasion=st.sampled_from(sorted(EVASIONS)))
def test_every_listed_evasion_of_a_matching_headline_still_matches(engine, phrasing, evasion):
    plain = engine.check(phrasing)
    if plain.decision != "match":
        return  # a phrasing that is not a match on its own (a short or actor-less one) has nothing to hide
    evaded = engine.check(EVASIONS[evasion](phrasing))
    assert (evaded.decision, evaded.matches[0].id if evaded.matches else None) == ("match", plain.matches[0].id)


# -- the URL check -----------------------------------------------------------------------------------------
url_like = st.builds(lambda scheme, host, rest: f"{scheme}{host}{rest}",
                     st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:/", "", "https:///"]),
                     st.text(max_size=20) | st.sampled_from(["example.com", "[::1]", "[::1", "a..b", ":80", "1.2.3.4"]),
                     st.text(max_size=20) | st.sampled_from(["/", "/p?q=1#f", ":8080/x", ""]))


@settings(max_examples=400, deadline=None)
@given(url_like | st.text(max_size=60))
def test_url_check_is_total_and_what_it_accepts_parses(url):
    problem = url_problem(url)
    if problem is None:
        parsed = httpx.URL(url)
        assert parsed.scheme in ("http", "https") and parsed.host
        assert not any(ch.isspace() or ord(ch) < 0x20 or ch in "\x7f\u202e\u200b" for ch in url)

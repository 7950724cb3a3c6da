import json
from pathlib import Path

from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.audit import audit_report, date_floor, review_is_stale, stale_reviews
from bot.engine.knowledge import load_knowledge

CLAIM = """\
id: example-claim
statement: Exampleland paid bounties, as one minister put it, "for every soldier".
phrasings: [Exampleland paid bounties]
status: unproven
status_note: Only anonymous sources.
language: en
first_report:
  outlet: Example Times
  date: 2020-08-17
  headline: Exampleland Paid Bounties, Officials Say
  url: https://example.com/first
  author: A. Reporter
  sourcing: anonymous-officials
  sourcing_detail: two unnamed officials
denials:
  - who: Exampleland foreign ministry
    date: 2020-08-18
    summary: Called the report false.
    outlet: Example Wire
    headline: Exampleland denies bounty report
  - who: Example militia
    date: 2020-08
    summary: Denied taking money.
fact_checks:
  - publisher: Example Check
    rating: Unproven
    date: 2020-09-01
    headline: No public evidence for bounty claim
    url: https://check.example.org/bounty
developments:
  - date: 2020-07-01
    summary: A memo stressed gaps in the evidence.
    outlet: Example Times
    headline: "[memo described by three officials; no headline]"
  - date: {last_development}
    summary: A later official assessment.
    outlet: Example Post
    headline: Officials have low confidence in bounty reports
    url: https://post.example.net/assessment
entities:
  - name: Exampleland
    role: actor
last_reviewed: {last_reviewed}
"""


def knowledge_dir(root: Path, last_development: str = "2021-04-15", last_reviewed: str = "2026-12-01") -> Path:
    (root / "claims").mkdir(parents=True)
    (root / "claims" / "example-claim.yaml").write_text(
        CLAIM.format(last_development=last_development, last_reviewed=last_reviewed), encoding="utf-8")
    return root


def test_report_lists_every_source_of_a_claim(tmp_path):
    report = audit_report(load_knowledge(knowledge_dir(tmp_path)))
    (claim,) = report["claims"]
    kinds = [(s["kind"], s["date"]) for s in claim["sources"]]
    assert kinds == [("first-report", "2020-08-17"), ("denial", "2020-08-18"), ("denial", "2020-08"),
                     ("fact-check", "2020-09-01"), ("development", "2020-07-01"), ("development", "2021-04-15")]
    first, denial, _, check, _, later = claim["sources"]
    assert (first["outlet"], first["author"], first["url"]) == ("Example Times", "A. Reporter", "https://example.com/first")
    assert (denial["by"], denial["outlet"], denial["headline"]) == (
        "Exampleland foreign ministry", "Example Wire", "Exampleland denies bounty report")
    assert (check["by"], check["rating"]) == ("Example Check", "Unproven")
    assert later["outlet"] == "Example Post"
    # The bracketed note stands where a source has no headline: it is not a quoted headline to check.
    assert claim["quoted_headlines"] == ["Exampleland Paid Bounties, Officials Say", "Exampleland denies bounty report",
                                         "No public evidence for bounty claim", "Officials have low confidence in bounty reports"]
    assert claim["urls"] == ["https://example.com/first", "https://check.example.org/bounty",
                             "https://post.example.net/assessment"]
    assert claim["quotations"] == [{"field": "statement", "quote": "for every soldier"}]
    assert report["totals"]["sources"] == 6 and report["totals"]["stale_reviews"] == 0


def test_text_report_shows_each_source_once(tmp_path, capsys):
    assert main(["knowledge", "audit", str(knowledge_dir(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.count("\n  development ") == 2 and out.count("\n  denial ") == 2
    assert "\u201cExampleland denies bounty report\u201d" in out
    assert "(no headline: [memo described by three officials; no headline])" in out
    assert "https://check.example.org/bounty" in out


def test_json_shape(tmp_path, capsys):
    assert main(["knowledge", "audit", str(knowledge_dir(tmp_path)), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"claims", "outlet_notes", "totals"}
    claim = data["claims"][0]
    assert set(claim) == {"id", "file", "status", "last_reviewed", "newest_entry", "review_stale", "sources",
                          "quoted_headlines", "urls", "quotations"}
    assert claim["file"] == "claims/example-claim.yaml" and claim["newest_entry"] == "2021-04-15"
    for source in claim["sources"]:
        assert set(source) == {"kind", "by", "outlet", "date", "headline", "url", "author", "rating", "summary"}
        assert all(isinstance(v, str) for v in source.values())
    assert data["totals"]["claims"] == 1


def test_audit_of_invalid_knowledge_fails(tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "broken.yaml").write_text("id: broken\n", encoding="utf-8")
    assert main(["knowledge", "audit", str(tmp_path)]) == 1
    assert "required field missing" in capsys.readouterr().err


def test_a_source_newer_than_the_review_is_reported(tmp_path):
    kb = load_knowledge(knowledge_dir(tmp_path, last_development="2026-12-02", last_reviewed="2026-12-01"))
    assert stale_reviews(kb) == [("example-claim", "2026-12-01", "2026-12-02")]
    assert audit_report(kb)["claims"][0]["review_stale"] is True


def test_partial_dates_count_from_their_first_day():
    assert date_floor("2021") == "2021-01-01" and date_floor("2020-12") == "2020-12-01"
    claim = {"last_reviewed": "2020-12-01", "developments": [{"date": "2020-12", "summary": "x"}]}
    assert not review_is_stale(claim)  # December 2020 may be the 1st: not provably after the review
    claim["developments"].append({"date": "2021", "summary": "y"})
    assert review_is_stale(claim)


def test_shipped_claims_were_reviewed_after_their_newest_entry():
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert stale_reviews(kb) == []
    report = audit_report(kb)
    assert report["totals"]["claims"] == len(kb.claims)
    assert all(c["sources"] and c["sources"][0]["kind"] == "first-report" for c in report["claims"])

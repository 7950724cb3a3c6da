import json

import pytest

from bot.engine.outlets import clean_wikitext, host_suffixes, rsp_entries
from tests.conftest import SHARED


def test_clean_wikitext():
    raw = "''Sputnik'' is [[WP:DEPS|deprecated]]<ref name=x>{{cite news|title=T}}</ref> like {{pslink|Daily Mail}}."
    assert clean_wikitext(raw) == "Sputnik is deprecated like Daily Mail."


def test_host_suffixes():
    assert host_suffixes("https://de.rt.com/a/b?x=1") == (["de.rt.com", "rt.com"], "/a/b")
    assert host_suffixes("http://[::1") == ([], "")


@pytest.mark.skipif(not (SHARED / "wikipedia-rsp").exists(), reason="shared data not present")
def test_every_rspuses_domain_is_kept():
    entries = rsp_entries(SHARED / "wikipedia-rsp" / "sources.jsonl")
    sputnik = next(e for e in entries if e["name"].startswith("Sputnik"))
    assert "sputnikglobe.com" in sputnik["domains"] and "sputniknews.com" in sputnik["domains"]
    assert all("<ref" not in e["summary"] and "[[" not in e["summary"] for e in entries)
    assert sum(len(e["domains"]) for e in entries) >= 800


@pytest.mark.parametrize("url", ["https://www.sputniknews.com/news/1", "https://de.sputniknews.com/x", "http://m.sputniknews.com",
                                 "sputniknews.com/a", "HTTPS://WWW.SPUTNIKNEWS.COM./x"])
def test_outlet_lookup_by_subdomain(engine, url):
    note = engine.outlet_for_url(url)
    assert note is not None and note.domain == "sputniknews.com" and note.rsp_label == "Deprecated"
    assert note.rsp_link.startswith("https://en.wikipedia.org/wiki/")


def test_outlet_lookup_with_path_prefix(engine):
    note = engine.outlet_for_url("https://www.pressreader.com/uk/daily-mail/20200101/1")
    assert note is not None and note.domain == "pressreader.com/uk/daily-mail"


def test_unknown_outlet(engine):
    assert engine.outlet_for_url("https://no-such-outlet.example/") is None


def test_link_in_text_gets_outlet_note_even_without_match(engine):
    r = engine.check("look at this https://www.sputniknews.com/news/123-something/")
    assert r.outlet is not None and r.outlet.name
    assert json.dumps(r.to_dict())  # serialisable


def test_ownership_note_for_state_media(engine):
    note = engine.outlet_for_url("https://de.rt.com/international/123")
    assert note is not None and note.domain == "rt.com"
    assert note.ownership.startswith("state-") and note.ownership_citation

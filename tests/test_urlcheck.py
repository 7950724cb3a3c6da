"""bot/engine/urlcheck.py: the one URL check shared by importers, the validator and the renderers."""

import pytest

from bot.engine.urlcheck import MAX_URL_LENGTH, url_problem, valid_http_url


@pytest.mark.parametrize("url", [
    "http://", "https://[::1", "http://x\x00y.com/", "http://x.com/\x7f", "https://x.com/\u202etxt",
    "http://:80/", "https:///p", "http://a..b/", "https://e.com/a b", "https://e.com/\u200b", "ftp://e.com/",
    "javascript:alert(1)", "//e.com/p", "e.com", "http:e.com", "https://e.com:99999/", "http://e.com:0/",
    "https://[nothex]/", "http://-e.com/", "http://e-.com/", "http://999.1/", "https://e.com\\@evil.com/",
    'https://e.com/"onmouseover="x', "https://e.com/<b>", "https://e.com/" + "a" * MAX_URL_LENGTH,
    "https://\ud800.com/", "", None, 42,
])
def test_malformed_urls_are_refused_with_a_reason(url):
    assert not valid_http_url(url)
    assert url_problem(url)


@pytest.mark.parametrize("url", [
    "https://example.com", "http://example.com/a/b?c=d&e=f#g", "https://www.rt.com/news/1-x/",
    "https://ru.wikipedia.org/wiki/Москва", "https://münchen.de/", "http://[::1]:8080/x", "http://1.2.3.4/",
    "https://my_site.example.com/", "https://e.com/%E2%80%AE", "HTTPS://EXAMPLE.COM/", "https://example.com./",
])
def test_ordinary_urls_pass(url):
    assert url_problem(url) is None

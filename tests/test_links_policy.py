"""Pure parts of link lookups: address policy, IP-literal parsing, URL checks and normalisation, the cache."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.links import find_urls, normalize_url, strip_urls
from bot.links.addresses import BadHost, classify, connect_address, parse_ip_host, refusal_for
from bot.links.cache import TTLCache
from bot.links.fetch import check_url


@pytest.mark.parametrize(
    ("addr", "category"),
    [
        ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"), ("100.64.0.1", "shared (CGNAT)"), ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
        ("192.0.2.10", "reserved"), ("198.18.0.1", "reserved"),
        ("::1", "loopback"), ("::", "unspecified"), ("fc00::1", "private"), ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"), ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "loopback (IPv4-mapped)"),
        ("::ffff:169.254.169.254", "link-local (IPv4-mapped)"), ("64:ff9b::10.0.0.1", "private (NAT64)"),
        ("64:ff9b::a9fe:a9fe", "link-local (NAT64)"), ("2002:7f00:1::", "loopback (6to4)"), ("2002:c0a8:101::1", "private (6to4)"),
        ("::127.0.0.1", "reserved"), ("2001:db8::1", "reserved"), ("64:ff9b:1::1", "reserved"),
        # found by the second attack: IPv4-translated (SIIT) addresses and the IETF dummy address passed is_global
        ("::ffff:0:7f00:1", "reserved (IPv4-translated, loopback)"), ("::ffff:0:a9fe:a9fe", "reserved (IPv4-translated, link-local)"),
        ("::ffff:0:808:808", "reserved (IPv4-translated)"), ("192.0.0.8", "reserved"), ("192.0.0.170", "reserved"),
        # public
        ("93.184.216.34", ""), ("8.8.8.8", ""), ("2606:4700:4700::1111", ""), ("64:ff9b::8.8.8.8", ""),
        ("::ffff:8.8.8.8", ""), ("2002:0808:0808::1", ""),
    ],
)
def test_classify(addr: str, category: str) -> None:
    assert classify(ip_address(addr)) == category


def test_allow_private_opens_loopback_and_private_only() -> None:
    for addr in ("127.0.0.1", "10.0.0.1", "::1", "fd00::1", "::ffff:127.0.0.1"):
        assert refusal_for(ip_address(addr)).startswith("refused: address")
        assert refusal_for(ip_address(addr), allow_private=True) == ""
    for addr in ("169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::", "::ffff:169.254.169.254", "240.0.0.1",
                 "::ffff:0:7f00:1", "::ffff:0:a00:1"):
        assert refusal_for(ip_address(addr), allow_private=True).startswith("refused: address"), addr
    assert refusal_for(ip_address("10.0.0.1")) == "refused: address 10.0.0.1 is private"
    assert refusal_for(ip_address("8.8.8.8")) == ""


@pytest.mark.parametrize(
    ("host", "addr"),
    [
        ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
        ("0", "0.0.0.0"), ("10.0.0.1.", "10.0.0.1"), ("0xa9fea9fe", "169.254.169.254"), ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"), ("017700000001", "127.0.0.1"),
    ],
)
def test_parse_ip_host_decodes_every_numeric_form(host: str, addr: str) -> None:
    assert parse_ip_host(host) == ip_address(addr)


@pytest.mark.parametrize("host", ["example.com", "xn--bcher-kva.de", "1.example", "localhost", "0x7f.example"])
def test_parse_ip_host_names(host: str) -> None:
    assert parse_ip_host(host) is None


@pytest.mark.parametrize("host", ["256.0.0.1", "1.2.3.4.5", "0x1.0x1ffffff1", "08.0.0.1", "example.123", "fe80::1%eth0", "::zz"])
def test_parse_ip_host_rejects_bad_numeric_hosts(host: str) -> None:
    with pytest.raises(BadHost):
        parse_ip_host(host)


def test_mapped_addresses_are_dialled_as_ipv4() -> None:
    assert connect_address(ip_address("::ffff:127.0.0.1")) == "127.0.0.1"
    assert connect_address(ip_address("2606:4700::1")) == "2606:4700::1"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/file", "refused: scheme ftp: not allowed"),
        ("file:///etc/passwd", "refused: scheme file: not allowed"),
        ("javascript:alert(1)", "refused: scheme javascript: not allowed"),
        ("data:text/html,<title>x</title>", "refused: scheme data: not allowed"),
        ("gopher://127.0.0.1:6379/_INFO", "refused: scheme gopher: not allowed"),
        ("http://user:secret@example.com/", "refused: credentials in URL"),
        ("https://token@example.com/", "refused: credentials in URL"),
        ("http:///nohost", "refused: no host"),
        ("https://example.com/ok", ""),
    ],
)
def test_check_url(url: str, reason: str) -> None:
    assert check_url(url) == reason


def test_normalize_url_drops_tracking_and_keeps_meaning() -> None:
    base = "https://www.cnn.com/2020/12/31/politics/iran-bounties/index.html"
    variants = [
        base,
        base + "?utm_source=twitter&utm_medium=social",
        base + "?fbclid=IwAR0abc#comments",
        "HTTPS://WWW.CNN.COM:443/2020/12/31/politics/iran-bounties/index.html?gclid=1&utm_campaign=x",
    ]
    assert {normalize_url(v) for v in variants} == {base}
    assert normalize_url("https://x.example/a?b=2&a=1") == "https://x.example/a?a=1&b=2"
    assert normalize_url("https://x.example/a?id=1") != normalize_url("https://x.example/a?id=2")
    assert normalize_url("http://[::1]:8080/a") == "http://[::1]:8080/a"
    assert normalize_url("http://x.example:99999/") == "http://x.example:99999/"  # never raises
    assert normalize_url("http://[::1/broken") == "http://[::1/broken"


def test_find_and_strip_urls() -> None:
    text = "Read https://en.wikipedia.org/wiki/Foo_(bar). Also (https://x.com/a?utm_source=t), www.bbc.co.uk/news!"
    assert find_urls(text) == ["https://en.wikipedia.org/wiki/Foo_(bar)", "https://x.com/a?utm_source=t", "http://www.bbc.co.uk/news"]
    assert "http" not in strip_urls(text) and "www." not in strip_urls(text)


def _trim_by_recounting(url: str) -> str:
    """The rule `find_urls` trims by, written as it first was (recounting on every step: quadratic)."""
    from bot.engine.urls import _TRAILING

    while url and url[-1] in _TRAILING:
        opener = {")": "(", "]": "[", "}": "{"}.get(url[-1])
        if opener and url.count(opener) >= url.count(url[-1]):
            break
        url = url[:-1]
    return url


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab/_()[]{}.,;:!?'\"\u2019\u201d- "), max_size=30))
def test_urls_are_trimmed_by_the_same_rule_in_linear_time(tail: str) -> None:
    from bot.engine.urls import _trim

    url = "https://ex.com/w" + tail
    assert _trim(url) == _trim_by_recounting(url)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_expiry_and_lru_bound() -> None:
    clock = FakeClock()
    cache: TTLCache[str] = TTLCache(maxsize=3, clock=clock)
    cache.set("a", "A", ttl=10)
    cache.set("b", "B", ttl=100)
    cache.set("c", "C", ttl=100)
    assert cache.get("a") == "A"  # a is now most recently used
    cache.set("d", "D", ttl=100)  # evicts b, the least recently used
    assert len(cache) == 3 and cache.get("b") is None and cache.get("a") == "A"
    clock.now += 11
    assert cache.get("a") is None and cache.get("c") == "C"
    cache.set("c", "C2", ttl=0)
    assert cache.get("c") is None

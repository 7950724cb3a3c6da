"""Which network addresses the fetcher may connect to (pure functions, no network).

A link in a chat message is hostile input: it must never make the bot reach loopback, the LAN, cloud
metadata (169.254.169.254) or any other address that is not on the public internet.
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

# Categories a caller may opt into with allow_private=True (tests, self-hosted setups). Link-local
# (cloud metadata), multicast, unspecified and reserved stay refused whatever the setting.
PRIVATE_OK = frozenset({"loopback", "private"})

_V4_RULES: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), cat)
    for net, cat in (
        ("0.0.0.0/8", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("100.64.0.0/10", "shared (CGNAT)"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments (192.0.0.8, the dummy address, passed is_global)
    )
)
_V6_RULES: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), cat)
    for net, cat in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),  # deprecated site-local
        ("fc00::/7", "private"),  # unique local addresses
        ("ff00::/8", "multicast"),
        ("64:ff9b:1::/48", "reserved"),  # local-use NAT64 (RFC 8215)
        ("::/96", "reserved"),  # deprecated IPv4-compatible addresses
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765): an IPv4 address behind a translator


def classify(ip: IPAddress) -> str:
    """'' for a public address, else what it is: 'loopback', 'private', 'link-local', 'multicast', ..."""
    if isinstance(ip, IPv4Address):
        for net, cat in _V4_RULES:
            if ip in net:
                return cat
        # Documentation, benchmarking, IETF protocol ranges etc.
        return "" if ip.is_global else "reserved"
    if ip.scope_id:
        return "link-local"
    # Addresses that carry an IPv4 address inside are judged by that address.
    if ip.ipv4_mapped is not None:
        inner = classify(ip.ipv4_mapped)
        return f"{inner} (IPv4-mapped)" if inner else ""
    if ip in _IPV4_TRANSLATED:  # meaningful only behind a translator: refused whatever it carries,
        inner = classify(IPv4Address(int(ip) & 0xFFFFFFFF))  # allow_private included
        return f"reserved (IPv4-translated{', ' + inner if inner else ''})"
    if ip in _NAT64:
        inner = classify(IPv4Address(int(ip) & 0xFFFFFFFF))
        return f"{inner} (NAT64)" if inner else ""
    if ip.sixtofour is not None:
        inner = classify(ip.sixtofour)
        return f"{inner} (6to4)" if inner else ""
    for net, cat in _V6_RULES:
        if ip in net:
            return cat
    if ip.teredo is not None:
        return "reserved"  # the client address inside is obfuscated: cannot be vetted
    return "" if ip.is_global else "reserved"


def refusal_for(ip: IPAddress, *, allow_private: bool = False) -> str:
    """'' when the fetcher may connect to `ip`, else a reason like 'refused: address 10.0.0.1 is private'."""
    cat = classify(ip)
    if not cat:
        return ""
    base = cat.split(" (", 1)[0]
    if allow_private and base in PRIVATE_OK:
        return ""
    return f"refused: address {ip} is {cat}"


def connect_address(ip: IPAddress) -> str:
    """The address string to dial: IPv4-mapped IPv6 is dialled as plain IPv4 (same host, no dual-stack quirks)."""
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


_NUM_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


class BadHost(ValueError):
    """A host that looks numeric but is not a valid address (e.g. 999.1.1.1, 0x1.0xfffffffff)."""


def parse_ip_host(host: str) -> IPAddress | None:
    """The address an IP-literal host denotes, in every form resolvers accept, or None for a host name.

    Besides dotted quads and IPv6, inet_aton()/WHATWG forms are decoded: 2130706433, 0x7f000001,
    0177.0.0.1, 127.1 all mean 127.0.0.1 and must be judged as such. Raises BadHost for a
    numeric-looking host that is out of range, since some resolver would still make something of it.
    """
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if ":" in h:
        if "%" in h:
            raise BadHost(f"zone identifiers are not allowed: {host}")
        try:
            return IPv6Address(h)
        except ValueError as exc:
            raise BadHost(f"invalid IPv6 address: {host}") from exc
    if h.endswith("."):
        h = h[:-1]
    parts = h.split(".")
    # WHATWG: a host whose last label is numeric is an IPv4 address or invalid, never a name.
    if not parts or not _NUM_PART.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUM_PART.match(p) for p in parts):
        raise BadHost(f"invalid numeric host: {host}")
    nums: list[int] = []
    for p in parts:
        if p[:2] == "0x":
            nums.append(int(p[2:] or "0", 16))
        elif len(p) > 1 and p.startswith("0"):
            if not all(c in "01234567" for c in p):
                raise BadHost(f"invalid octal in host: {host}")
            nums.append(int(p, 8))
        else:
            nums.append(int(p))
    *head, last = nums
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(nums)):
        raise BadHost(f"numeric host out of range: {host}")
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return IPv4Address(value)


def parse_address(text: str) -> IPAddress:
    """A resolver's answer as an address; raises ValueError for anything that is not one plain address."""
    if "%" in text:
        raise ValueError(f"scoped address: {text}")
    return ipaddress.ip_address(text.strip())

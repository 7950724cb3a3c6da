"""Fetching one untrusted URL safely: policy checks, pinned connections, manual redirects, hard limits.

Every outcome is a value (Fetched or Refusal with a reason); nothing raises to the caller.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from bot.links.addresses import BadHost, connect_address, parse_address, parse_ip_host, refusal_for
from bot.links.transport import PinnedBackend, PinnedTransport, UncheckedHostError, pin_scope

Resolver = Callable[[str, int], Awaitable[list[str]]]

USER_AGENT = "claim-context/0.1 (+link-preview; reads a shared page's title and metadata once, no crawling)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


@dataclass
class Fetched:
    url: str  # as requested
    final_url: str  # after redirects
    body: bytes
    charset: str | None
    content_type: str
    redirects: int
    validators: dict[str, str] = field(default_factory=dict)  # etag, last-modified: for a conditional re-fetch


@dataclass
class NotModified:
    """A conditional request answered 304: what the caller had is still current."""
    url: str
    final_url: str


@dataclass
class Refusal:
    url: str
    reason: str


class _Stop(Exception):
    """Internal: abandon this fetch with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses for `host` from the system resolver (getaddrinfo in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in out:
            out.append(addr)
    return out


def check_url(url: str, *, allow_private: bool = False) -> str:
    """'' when `url` may be fetched as far as its text goes (scheme, credentials, host), else why not."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        return _numeric_host_refusal(url, allow_private) or f"refused: invalid URL ({_short(exc)})"
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https"):
        return f"refused: scheme {scheme or '(none)'}: not allowed"
    if parsed.userinfo:
        return "refused: credentials in URL"
    if not parsed.raw_host:
        return "refused: no host"
    return ""


def _numeric_host_refusal(url: str, allow_private: bool) -> str:
    """For URLs httpx cannot even parse (0177.0.0.1, 999.0.0.1): say what the host would have meant."""
    try:
        host = urlsplit(url.strip()).hostname or ""
        ip = parse_ip_host(host)
    except BadHost as exc:
        return f"refused: {exc}"
    except ValueError:
        return ""
    return refusal_for(ip, allow_private=allow_private) if ip is not None else ""


class _BoundedBody:
    """Collects a (possibly gzip/deflate encoded) body, raising _Stop('too large') past the cap.

    Decoding happens here rather than in httpx so the cap applies to the decoded size and a
    compression bomb is cut off after `cap` bytes of output, not after inflating a whole chunk.
    """

    def __init__(self, cap: int, encoding: str) -> None:
        self.cap = cap
        self.raw_bytes = 0
        self.parts: list[bytes] = []
        self.size = 0
        enc = encoding.strip().lower()
        if enc in ("", "identity"):
            self._inflate: zlib._Decompress | None = None  # type: ignore[name-defined]
        elif enc in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if enc != "deflate" else zlib.decompressobj()
            self._raw_deflate_fallback = enc == "deflate"
        else:
            raise _Stop(f"unsupported content-encoding: {enc[:40]}")

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise _Stop("too large")
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        self.raw_bytes += len(chunk)
        if self.raw_bytes > self.cap:
            raise _Stop("too large")
        if self._inflate is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._inflate.decompress(data, self.cap - self.size + 1)
            except zlib.error:
                if self._raw_deflate_fallback and self.raw_bytes == len(chunk) and not self.parts:
                    # "deflate" is sometimes raw deflate without the zlib header.
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._raw_deflate_fallback = False
                    continue
                raise _Stop("bad content-encoding") from None
            self._keep(out)
            data = self._inflate.unconsumed_tail

    def body(self) -> bytes:
        if self._inflate is not None:
            try:
                self._keep(self._inflate.flush())
            except zlib.error:
                raise _Stop("bad content-encoding") from None
        return b"".join(self.parts)


class SafeFetcher:
    """GETs untrusted http(s) URLs for their HTML, refusing anything that could reach internal addresses."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = 2_000_000,
        connect_timeout: float = 5,
        read_timeout: float = 5,
        total_timeout: float = 10,
        max_redirects: int = 5,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        self.resolver: Resolver = resolver or system_resolver
        self.backend = PinnedBackend(network_backend)
        self._transport = PinnedTransport(backend=self.backend, verify=verify)
        self._timeouts = {"connect": connect_timeout, "read": read_timeout, "write": read_timeout, "pool": connect_timeout}
        self._headers = {
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9",
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "en;q=0.9, *;q=0.5",
        }

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def fetch(self, url: str, *, accept: frozenset[str] | None = None,
                    conditional: dict[str, str] | None = None) -> Fetched | NotModified | Refusal:
        """One URL, following up to max_redirects redirects, each hop checked; never raises. `accept`: the
        content types wanted (default HTML); `conditional`: validators from an earlier Fetched (etag,
        last-modified), sent as If-None-Match / If-Modified-Since, so an unchanged document is NotModified."""
        try:
            async with asyncio.timeout(self.total_timeout):
                with pin_scope() as pins:
                    return await self._fetch(url, pins, accept or HTML_TYPES, conditional or {})
        except _Stop as stop:
            return Refusal(url, stop.reason)
        except httpx.PoolTimeout:  # every pooled connection busy: our saturation, not the server's slowness
            return Refusal(url, "busy: no free connection")
        except (TimeoutError, httpx.TimeoutException):
            return Refusal(url, "timeout")
        except UncheckedHostError as exc:
            return Refusal(url, str(exc))
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, UncheckedHostError) or str(exc).startswith("refused:"):
                return Refusal(url, str(exc))
            return Refusal(url, f"connect failed: {_short(exc)}")
        except httpx.HTTPError as exc:
            return Refusal(url, f"{type(exc).__name__}: {_short(exc)}")
        except Exception as exc:  # noqa: BLE001 - a hostile URL or server must never crash the bot
            return Refusal(url, f"error: {type(exc).__name__}: {_short(exc)}")

    async def _addresses(self, host: str, port: int) -> list[str]:
        """Checked addresses to dial for `host`; raises _Stop when any address is not allowed."""
        try:
            literal = parse_ip_host(host)
        except BadHost as exc:
            raise _Stop(f"refused: {exc}") from None
        if literal is not None:
            ips = [literal]
        else:
            try:
                answers = await self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise _Stop(f"dns failed: {_short(exc)}") from None
            if not answers:
                raise _Stop(f"dns failed: no address for {host}")
            try:
                ips = [parse_address(a) for a in answers]
            except ValueError as exc:
                raise _Stop(f"refused: {exc}") from None
        for ip in ips:  # any bad answer refuses the host: an attacker controls the order
            reason = refusal_for(ip, allow_private=self.allow_private)
            if reason:
                raise _Stop(reason)
        return [connect_address(ip) for ip in ips]

    async def _fetch(self, url: str, pins: dict[str, list[str]], accept: frozenset[str] = HTML_TYPES,
                     conditional: dict[str, str] | None = None) -> Fetched | NotModified:
        headers = dict(self._headers)
        if accept is not HTML_TYPES:
            headers["Accept"] = ", ".join(sorted(accept))
        if conditional:
            if conditional.get("etag"):
                headers["If-None-Match"] = conditional["etag"]
            if conditional.get("last-modified"):
                headers["If-Modified-Since"] = conditional["last-modified"]
        current = url.strip()
        for hop in range(self.max_redirects + 1):
            reason = check_url(current, allow_private=self.allow_private)
            if reason:
                raise _Stop(reason)
            target = httpx.URL(current)
            host = target.raw_host.decode("ascii").lower()
            port = target.port or (443 if target.scheme == "https" else 80)
            pins[host] = await self._addresses(host, port)

            request = httpx.Request("GET", target, headers=headers, extensions={"timeout": self._timeouts})
            response = await self._transport.handle_async_request(request)
            try:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location", "").strip()
                    if not location:
                        raise _Stop(f"http {response.status_code} without location")
                    if hop == self.max_redirects:
                        raise _Stop(f"too many redirects (> {self.max_redirects})")
                    try:
                        current = str(target.join(location))
                    except (httpx.InvalidURL, ValueError) as exc:
                        raise _Stop(f"refused: invalid redirect location ({_short(exc)})") from None
                    continue
                if response.status_code == 304 and conditional:
                    return NotModified(url=url, final_url=current)
                if response.status_code >= 400 or response.status_code < 200:
                    raise _Stop(f"http {response.status_code}")
                ctype, charset = _content_type(response.headers.get("content-type", ""))
                if ctype not in accept:
                    raise _Stop(f"not html: {ctype or 'no content-type'}" if accept is HTML_TYPES
                                else f"unexpected content-type: {ctype or 'none'}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise _Stop("too large")
                sink = _BoundedBody(self.max_bytes, response.headers.get("content-encoding", ""))
                async for chunk in response.aiter_raw(CHUNK):
                    sink.feed(chunk)
                validators = {k: response.headers[k] for k in ("etag", "last-modified") if response.headers.get(k)}
                return Fetched(url=url, final_url=current, body=sink.body(), charset=charset, content_type=ctype,
                               redirects=hop, validators=validators)
            finally:
                # Closing an unfinished stream drops the connection instead of draining it.
                await response.aclose()
        raise _Stop(f"too many redirects (> {self.max_redirects})")  # pragma: no cover - loop always returns/raises


def _content_type(header: str) -> tuple[str, str | None]:
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")[:40]
    return kind.strip().lower(), charset


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]

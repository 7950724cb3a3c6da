"""An httpx transport that connects only to addresses the fetcher has already checked.

httpx would resolve the host name again when it connects, leaving a DNS-rebinding window between our
check and the connection. Here the fetcher pins host -> checked addresses (in a context variable, so
concurrent fetches never see each other's pins) and the httpcore network backend dials those
addresses. The URL is untouched, so the Host header, TLS SNI and certificate verification all use
the original host name.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import typing
from collections import deque

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

# host (as httpcore sees it: IDNA ascii, IPv6 without brackets, lower-case) -> checked addresses
_PINS: contextvars.ContextVar[dict[str, list[str]] | None] = contextvars.ContextVar("claim_context_link_pins", default=None)


class UncheckedHostError(httpcore.ConnectError):
    """A connection was requested for a host the fetcher has not checked: refused."""


@contextlib.contextmanager
def pin_scope() -> typing.Iterator[dict[str, list[str]]]:
    """A fresh pin table for the duration of one fetch (redirect hops add to it)."""
    pins: dict[str, list[str]] = {}
    token = _PINS.set(pins)
    try:
        yield pins
    finally:
        _PINS.reset(token)


class PinnedBackend(AsyncNetworkBackend):
    """Dials the pinned, already-checked address for a host, never a fresh DNS answer."""

    def __init__(self, inner: AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        # (host, address, port) of recent connections: for logs and tests, bounded.
        self.connections: deque[tuple[str, str, int]] = deque(maxlen=64)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:
        pins = _PINS.get() or {}
        addresses = pins.get(host.lower().strip("[]"))
        if not addresses:
            raise UncheckedHostError(f"refused: no checked address for host {host}")
        last_exc: Exception | None = None
        for address in addresses[:4]:
            self.connections.append((host, address, port))
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: typing.Any = None) -> AsyncNetworkStream:
        raise UncheckedHostError("refused: unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request/response mapping, exception mapping) over a PinnedBackend."""

    def __init__(
        self,
        *,
        backend: PinnedBackend | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30),
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits, http1=True, http2=False)
        self.backend = backend or PinnedBackend()
        # httpx.AsyncHTTPTransport takes no network_backend; swap in a pool built with ours.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):  # pragma: no cover
            raise RuntimeError("unsupported httpx version: AsyncHTTPTransport has no connection pool to pin")
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self.backend,
        )

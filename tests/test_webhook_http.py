"""The webhook port's HTTP handling, on a real Tornado server on 127.0.0.1 with raw requests: the secret and the
declared size are checked before any body is read, and malformed input is a 4xx, never a 500."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest

from bot import ops
from bot.adapters.telegram.webhook import MAX_BODY, SECRET_HEADER, FleetWebhook

SECRET = "s3cret-token_1"


class RecordingGate:
    """Stands in for UpdateGate: records what reached it."""

    def __init__(self) -> None:
        self.delivered: list[Any] = []
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def deliver(self, data: dict[str, Any]) -> int:
        self.delivered.append(data)
        return 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def hook():
    gate, port = RecordingGate(), free_port()
    server = FleetWebhook(gate, path="/hook+1", secret=SECRET, health=ops.Health({}))  # type: ignore[arg-type]
    server.listen(port, "127.0.0.1")
    yield gate, port
    await server.stop(drain_s=1)


async def raw(port: int, head: bytes, body: bytes = b"") -> int:
    """Send `head` (and `body`, if any), return the status line's code; bounded by a 10 s timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head + body)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        return int(status.split()[1])
    finally:
        writer.close()


def head(path: str = "/hook+1", *, secret: bytes | None = SECRET.encode(), length: int = 0) -> bytes:
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Content-Type: application/json",
             f"Content-Length: {length}".encode()]
    if secret is not None:
        lines.append(SECRET_HEADER.encode() + b": " + secret)
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def test_an_update_with_the_secret_reaches_the_gate(hook) -> None:
    gate, port = hook
    body = json.dumps({"update_id": 1}).encode()
    assert await raw(port, head(length=len(body)), body) == 200
    assert gate.delivered == [{"update_id": 1}]


@pytest.mark.parametrize("secret", [None, b"wrong", "s\u00e9cret".encode("latin-1"), "s\u00e9cret".encode()])
async def test_a_request_without_the_secret_is_refused_and_its_body_not_kept(hook, secret: bytes | None) -> None:
    """A non-ASCII header used to raise TypeError in compare_digest: a 500 and a traceback per request. The
    body is read and dropped, not buffered (150 stalled unauthenticated uploads held 300 MB)."""
    gate, port = hook
    body = b"x" * (MAX_BODY // 2)
    assert await raw(port, head(secret=secret, length=len(body)), body) == 403
    assert gate.delivered == []


async def test_a_body_over_the_limit_is_refused_from_its_declared_length(hook) -> None:
    gate, port = hook
    assert await raw(port, head(length=MAX_BODY + 1)) == 413
    assert gate.delivered == []


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b"{not json", b"\xff\xfe"])
async def test_malformed_json_is_a_400_not_a_500(hook, body: bytes) -> None:
    gate, port = hook
    assert await raw(port, head(length=len(body)), body) == 400
    assert gate.delivered == []


async def test_the_path_is_a_literal_not_a_pattern(hook) -> None:
    gate, port = hook
    body = b'{"update_id": 2}'
    assert await raw(port, head("/hookk1", length=len(body)), body) == 404  # "+" was a regex quantifier
    assert await raw(port, head("/hook+1", length=len(body)), body) == 200
    assert gate.delivered == [{"update_id": 2}]


def test_webhook_mode_needs_a_secret_telegram_accepts() -> None:
    from bot.config import ConfigError, Settings

    url = {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg"}
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL"):
        Settings.from_env(url)
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: 1-256 letters"):
        Settings.from_env({**url, "TELEGRAM_WEBHOOK_SECRET": "s\u00e9cret"})
    assert Settings.from_env({**url, "TELEGRAM_WEBHOOK_SECRET": SECRET}).telegram_webhook_secret == SECRET


async def test_a_slow_update_is_not_taken_over_by_a_live_replica(tmp_path) -> None:
    """The lease was never renewed: an update handled for longer than the lease (a chat's queue, OCR, a
    group's send slots) was taken over by the redelivery to another live replica and handled twice."""
    from types import SimpleNamespace

    from bot.adapters.telegram.webhook import UpdateGate
    from bot.state import open_state

    handled: list[str] = []
    release = asyncio.Event()

    def app(name: str) -> Any:
        async def process_update(update: Any) -> None:
            handled.append(name)
            if name == "A":
                await release.wait()  # as long as the test holds it: past the lease

        class InOrder:
            async def process_update(self, update: Any, coroutine: Any) -> None:
                await coroutine

        return SimpleNamespace(bot=None, update_processor=InOrder(), process_update=process_update)

    a_state, b_state = open_state(tmp_path / "state.db"), open_state(tmp_path / "state.db")  # two replicas
    lease = 2.4  # renewed every 0.8 s: only a beat held up for over 1.6 s could let B in
    a, b = UpdateGate(app("A"), a_state, lease_s=lease), UpdateGate(app("B"), b_state, lease_s=lease)
    first = asyncio.create_task(a.deliver({"update_id": 4242}))
    try:
        await asyncio.sleep(lease * 1.25)  # past the first lease, A still working
        assert await b.deliver({"update_id": 4242}) == 503  # Telegram's redelivery: busy, not taken over
        release.set()
        assert await asyncio.wait_for(first, 10) == 200
        assert await b.deliver({"update_id": 4242}) == 200 and handled == ["A"]  # done: acknowledged, not redone
    finally:
        release.set()
        await asyncio.wait_for(first, 10)
        a_state.close()
        b_state.close()


async def test_the_ops_port_listens_where_it_is_told() -> None:
    from bot.config import Settings

    settings = Settings.from_env({"CLAIM_CONTEXT_OPS_PORT": str(free_port()), "CLAIM_CONTEXT_OPS_LISTEN": "127.0.0.1"})
    assert Settings.from_env({}).ops_listen == "0.0.0.0"
    server = ops.serve(ops.Health({}), settings.ops_port, settings.ops_listen)
    try:
        bound = {sock.getsockname()[0] for sock in server._sockets.values()}
        assert bound == {"127.0.0.1"}
        reader, writer = await asyncio.open_connection("127.0.0.1", settings.ops_port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await asyncio.wait_for(reader.readline(), 10)).split()[1] == b"200"
        writer.close()
    finally:
        server.stop()

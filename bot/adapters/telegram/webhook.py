"""Webhook mode for a fleet: several replicas behind one URL, every update handled exactly once.

Telegram delivers an update to the URL, waits for a 2xx, and redelivers it later on an error or a timeout
(the load balancer may pick another replica). So a replica answers HTTP only once the update is handled
(python-telegram-bot's own webhook server acknowledges on receipt, and an update queued in a process that
is then killed would be lost), and it first takes the update in the shared state (StateStore.claim_update):

- "take": handle it, mark it done, answer 200;
- "done": another replica (or this one) already handled it: answer 200, nothing is sent again;
- "busy": another live replica is handling it now: answer 503 so Telegram asks again later. The replica
  renews its lease while it works, however long the update takes; if it dies, the lease runs out and the
  redelivery takes the update over.

The moderation decision's (chat, message, revision) key in the same database is the second guard: a group
card is never sent twice for one message even if an update were handled twice. The remaining window is a
replica killed after Telegram accepted its reply and before the "done" mark commits (one round trip): the
redelivery then answers again. Telegram has no idempotency key for sends, so no design closes it fully.

The same server answers /healthz, /readyz and /metrics (bot/ops.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import socket
from typing import Any

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot import ops
from bot.state import StateStore

log = logging.getLogger(__name__)

PLATFORM = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # Telegram's updates are a few KB
IDLE_S = 75.0  # a kept-alive connection with nothing on it (Tornado's default is an hour)
BODY_S = 15.0  # to send a body of at most MAX_BODY, once the headers are in
RETRY_AFTER_S = 2


def process_owner() -> str:
    """This process in the updates table: host, pid and a random part (a restarted pid is a new owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class UpdateGate:
    """Exactly-once delivery of updates to `app`, over the shared state."""

    def __init__(self, app: Application, state: StateStore, *, owner: str | None = None, lease_s: float = 60.0) -> None:
        self.app, self.state = app, state
        self.owner = owner or process_owner()
        self.lease_s = lease_s
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def deliver(self, data: dict[str, Any]) -> int:
        """Handle one update body; the HTTP status to answer."""
        update_id = data.get("update_id")
        if not isinstance(update_id, int):
            return 400
        status = await asyncio.to_thread(self.state.claim_update, PLATFORM, update_id, self.owner, lease_s=self.lease_s)
        ops.UPDATES.labels(PLATFORM, status).inc()
        if status == "done":
            return 200
        if status == "busy":
            return 503
        self.in_flight += 1
        self.idle.clear()
        heartbeat = asyncio.create_task(self._keep_lease(update_id))
        try:
            update = Update.de_json(data, self.app.bot)
            # the update processor keeps one chat's updates in order within this process, as in polling mode
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        except BaseException:
            log.exception("update %s failed before it was handled; released for Telegram's retry", update_id)
            await asyncio.to_thread(self.state.finish_update, PLATFORM, update_id, self.owner, done=False)
            return 500
        finally:
            heartbeat.cancel()
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()
        await asyncio.to_thread(self.state.finish_update, PLATFORM, update_id, self.owner)
        return 200

    async def _keep_lease(self, update_id: int) -> None:
        """Renew the lease a third of the way through, for as long as the update is being handled: a slow
        update (a chat's queue, OCR, a group's send slots) is not taken over by a redelivery to another live
        replica; a replica that dies stops renewing and its lease runs out."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if not await asyncio.to_thread(self.state.renew_update, PLATFORM, update_id, self.owner,
                                               lease_s=self.lease_s):
                    return
            except Exception as exc:  # the state is unreachable for a moment: the next beat tries again
                log.warning("could not renew the lease on update %s: %s", update_id, exc)


@tornado.web.stream_request_body
class _HookHandler(tornado.web.RequestHandler):
    """The secret and the declared size are checked from the headers, before any of the body is kept: a
    request without the secret used to have its body (up to 2 MB) buffered first, and 150 stalled ones held
    300 MB. A refused request's body is read and dropped (the client hears its 403 as HTTP expects, within
    the body timeout); one declared over the limit is not read at all."""

    def initialize(self, gate: UpdateGate, secret: str) -> None:
        self.gate, self.secret = gate, secret
        self._body = bytearray()
        self._refused = False

    def prepare(self) -> None:
        declared = self.request.headers.get("Content-Length", "")
        if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise tornado.web.HTTPError(413)
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        self._refused = bool(self.secret) and not secrets.compare_digest(given, self.secret.encode())  # bytes: any value

    def data_received(self, chunk: bytes) -> None:
        if self._refused:
            return
        if len(self._body) + len(chunk) > MAX_BODY:  # chunked, without a length
            raise tornado.web.HTTPError(413)
        self._body += chunk

    async def post(self) -> None:
        if self._refused:
            self.set_status(403)
            return
        try:
            data = json.loads(self._body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than json's C scanner goes
            self.set_status(400)
            return
        status = await self.gate.deliver(data if isinstance(data, dict) else {})
        self.set_status(status)
        if status == 503:
            self.set_header("Retry-After", str(RETRY_AFTER_S))


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # a 503 is the fleet working as designed (an update in flight elsewhere): not an error line per retry
    status = handler.get_status()
    level = logging.WARNING if status >= 500 and status != 503 else logging.DEBUG
    log.log(level, "%d %s %.1fms", status, handler.request.path, 1000 * handler.request.request_time())


class FleetWebhook:
    """The HTTP server of one replica: the webhook path plus the operations endpoints."""

    def __init__(self, gate: UpdateGate, *, path: str, secret: str, health: ops.Health) -> None:
        self.gate = gate
        # the path is a literal: "hook+1" must not be a pattern that "/hookk1" matches and "/hook+1" does not
        routes: list[Any] = [(r"/" + re.escape(path.strip("/")), _HookHandler, {"gate": gate, "secret": secret})]
        routes += ops.routes(health)
        self.server = HTTPServer(tornado.web.Application(routes, log_function=_log_request), max_body_size=MAX_BODY,
                                 idle_connection_timeout=IDLE_S, body_timeout=BODY_S)

    def listen(self, port: int, address: str) -> None:
        self.server.listen(port, address)

    async def stop(self, drain_s: float = 30.0) -> None:
        """Stop taking updates, then let the ones in flight finish (their 200s still go out)."""
        self.server.stop()
        try:
            await asyncio.wait_for(self.gate.idle.wait(), drain_s)
        except asyncio.TimeoutError:
            log.warning("%d update(s) still in flight at shutdown; Telegram will redeliver them", self.gate.in_flight)
        await self.server.close_all_connections()

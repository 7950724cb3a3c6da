"""Operations: Prometheus metrics, /healthz, /readyz and /metrics.

A Telegram webhook replica serves them on its webhook port (bot/adapters/telegram/webhook.py); any other
process (polling, Discord) on CLAIM_CONTEXT_OPS_PORT when set. /healthz: the process and its event loop
answer. /readyz: knowledge loaded and the state database reachable (a load balancer sends nothing to a
replica that is not ready). The metrics are process-wide (prometheus-client's default registry): scrape
every process; Prometheus sums the fleet.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from tornado.httpserver import HTTPServer

MESSAGES = Counter("claim_context_messages_checked_total", "Messages matched against the knowledge")
DECISIONS = Counter("claim_context_decisions_total", "Engine decisions by kind", ["kind"])
MODERATION = Counter("claim_context_moderation_total", "Group moderation outcomes by action", ["action"])
MATCH_SECONDS = Histogram("claim_context_match_seconds", "Engine time per message (all candidates)",
                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
LINK_FETCHES = Counter("claim_context_link_fetches_total", "Link lookups by outcome", ["outcome"])
FLOOD_WAITS = Counter("claim_context_flood_waits_total", "429 answers (flood waits) from a platform", ["platform"])
SEND_WAIT_SECONDS = Histogram("claim_context_send_wait_seconds", "Time a send waited for the fleet's send budget",
                              buckets=(0, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30))
UPDATES = Counter("claim_context_updates_total", "Webhook updates by outcome (take, done, busy)",
                  ["platform", "status"])
KNOWLEDGE = Gauge("claim_context_knowledge_info", "The knowledge version this process answers from (value 1)",
                  ["version"])
KNOWLEDGE_RELOADS = Counter("claim_context_knowledge_reloads_total", "Knowledge versions switched to while running")


def observe_check(decision: str, seconds: float) -> None:
    MESSAGES.inc()
    DECISIONS.labels(decision).inc()
    MATCH_SECONDS.observe(seconds)


def set_knowledge_version(version: str) -> None:
    KNOWLEDGE.clear()
    KNOWLEDGE.labels(version or "unknown").set(1)


READY_REUSE_S = 1.0


class Health:
    """Readiness checks by name; each returns True when that part is ready (run off the event loop)."""

    def __init__(self, checks: dict[str, Callable[[], bool]] | None = None, *, reuse_s: float = READY_REUSE_S) -> None:
        self.checks: dict[str, Callable[[], bool]] = dict(checks or {})
        self.started = time.time()
        self.reuse_s = reuse_s
        self._last: tuple[float, dict[str, bool]] | None = None
        self._lock: asyncio.Lock | None = None

    async def ready(self) -> dict[str, bool]:
        """Each check's answer; one run serves every request within `reuse_s` (the endpoint is public on the
        webhook port: a flood of /readyz must not become a flood of database pings)."""
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._last is not None and time.monotonic() - self._last[0] < self.reuse_s:
                return dict(self._last[1])
            results: dict[str, bool] = {}
            for name, check in self.checks.items():
                try:
                    results[name] = bool(await asyncio.wait_for(asyncio.to_thread(check), 5))
                except Exception:
                    results[name] = False
            self._last = (time.monotonic(), results)
            return dict(results)


class _Healthz(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("ok\n")


class _Readyz(tornado.web.RequestHandler):
    def initialize(self, health: Health) -> None:
        self.health = health

    async def get(self) -> None:
        results = await self.health.ready()
        self.set_status(200 if all(results.values()) else 503)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ready": all(results.values()), "checks": results}))


class _Metrics(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest())


def routes(health: Health) -> list[Any]:
    return [(r"/healthz", _Healthz), (r"/readyz", _Readyz, {"health": health}), (r"/metrics", _Metrics)]


def serve(health: Health, port: int, address: str = "0.0.0.0") -> HTTPServer:
    """The three endpoints on their own port (processes without a webhook server). Call inside a running loop."""
    server = HTTPServer(tornado.web.Application(routes(health)))
    server.listen(port, address)
    return server


class InstrumentedResolver:
    """A LinkResolver that counts each lookup's outcome (ok, or the failure's kind)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def resolve(self, url: str) -> Any:
        fetched = await self._inner.resolve(url)
        outcome = "ok" if getattr(fetched, "ok", False) else (getattr(fetched, "reason", "") or "failed")
        LINK_FETCHES.labels(str(outcome).split(":", 1)[0][:40]).inc()
        return fetched

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

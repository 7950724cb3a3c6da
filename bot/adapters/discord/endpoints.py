"""Where discord.py connects: REST and gateway overrides (a local fake, a proxy, a mirror)."""

from __future__ import annotations

from typing import Any

import discord
import yarl

from bot.config import Settings


class _PinnedGateway:
    """Installed on DiscordWebSocket.gateway when a gateway override is configured: every gateway URL the
    library would store (READY's resume_gateway_url, the default after an invalidated session) reads back
    as the override, so resumes cannot leave it. Without an override it behaves as a plain attribute."""

    pinned: yarl.URL | None = None

    def __get__(self, ws: Any, owner: type | None = None) -> Any:
        if ws is None:
            return self
        return self.pinned if self.pinned is not None else ws.__dict__.get("_cc_gateway")

    def __set__(self, ws: Any, value: Any) -> None:
        ws.__dict__["_cc_gateway"] = value


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at Settings' REST and gateway endpoints (a local fake, a proxy, a mirror).

    In discord.py 2.x the REST base is the class attribute `Route.BASE`, read at every request (webhook and
    interaction-callback routes build the same `Route`). The gateway is `DiscordWebSocket.DEFAULT_GATEWAY`
    for a plain client's first connection; AutoShardedClient instead takes the URL from GET /gateway/bot
    (patched per client in `build_client`), and resumes use READY's `resume_gateway_url` (pinned here).
    Both are process-wide in the library, so one process talks to one Discord."""
    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url.rstrip("/")
    ws_cls = discord.gateway.DiscordWebSocket
    if settings.discord_gateway_url:
        url = yarl.URL(settings.discord_gateway_url)
        ws_cls.DEFAULT_GATEWAY = url
        if not isinstance(ws_cls.__dict__.get("gateway"), _PinnedGateway):
            ws_cls.gateway = _PinnedGateway()  # type: ignore[assignment]
        ws_cls.__dict__["gateway"].pinned = url
    elif isinstance(ws_cls.__dict__.get("gateway"), _PinnedGateway):
        ws_cls.__dict__["gateway"].pinned = None


def pin_bot_gateway(client: discord.Client, gateway_url: str) -> None:
    """AutoShardedClient asks REST for the gateway URL; with an override, connect to the override."""
    original = client.http.get_bot_gateway

    async def get_bot_gateway() -> tuple[int, str, Any]:
        shards, _url, limits = await original()
        return shards, gateway_url, limits

    client.http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]

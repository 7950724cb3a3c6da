"""A local fake of Discord's gateway and REST API for end-to-end tests of the Discord adapter.

discord.py talks to it through its real HTTP client, rate limiter and gateway code: point
`discord.http.Route.BASE` at `api_base` and `DiscordWebSocket.DEFAULT_GATEWAY` at `gateway_url`
(the adapter does both from Settings). Everything listens on 127.0.0.1 only.

What it enforces, as Discord does (400 with Discord's JSON error shape, code 50035):
message content <= 2000; <= 10 embeds; embed title 256, description 4096, 25 fields,
field name 256 / value 1024 (both non-empty), footer 2048, author 256, 6000 characters in total
across a message's embeds; <= 5 action rows of <= 5 components; custom_id 1..100; button label <= 80;
autocomplete choices <= 25 with names 1..100; command names/descriptions/options per the spec.
Interactions must be acknowledged once (40060) and within `interaction_deadline` seconds (10062).
Channel-message and webhook routes carry rate-limit headers and answer 429 (with `retry_after`,
and the `Via` header discord.py needs to tell a rate limit from a Cloudflare ban) when exceeded.

Every REST call is recorded in `calls`; tests wait on them with `wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web

# Permission bits (https://discord.com/developers/docs/topics/permissions)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_GUILD = 1 << 5
USE_APPLICATION_COMMANDS = 1 << 31
MEMBER_PERMS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
INTENT_MESSAGE_CONTENT = 1 << 15

_EPOCH_MS = 1420070400000
_CHAT_NAME_RE = re.compile(r"^[-_\w]{1,32}$", re.UNICODE)
# https://discord.com/developers/docs/reference#locales: the only keys *_localizations may carry
# (there is no Arabic or Persian client locale).
DISCORD_LOCALES = frozenset({"id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
                             "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
                             "th", "zh-CN", "ja", "zh-TW", "ko"})


def snowflake(n: int) -> int:
    """A valid-looking snowflake (time-ordered) with a small counter in the low bits."""
    return ((int(time.time() * 1000) - _EPOCH_MS) << 22) | (n & 0x3FFFFF)


def _iso(ts: float | None = None) -> str:
    t = time.gmtime(ts or time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", t)


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: dict | None = None, *,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors
        self.retry_after = retry_after

    def body(self) -> dict:
        if self.retry_after is not None:  # 429 body shape
            return {"message": self.message, "retry_after": self.retry_after, "global": False}
        b: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            b["errors"] = self.errors
        return b


class _Form:
    """Collects Invalid Form Body errors in Discord's nested shape."""

    def __init__(self) -> None:
        self.errors: dict = {}

    def add(self, path: list[str | int], code: str, message: str) -> None:
        node = self.errors
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_len(self, path: list, value: Any, limit: int, *, min_len: int = 0) -> None:
        if value is None:
            return
        n = len(str(value))
        if n > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
        elif n < min_len:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {min_len} and {limit} in length.")

    def raise_if_any(self) -> None:
        if self.errors:
            raise DiscordError(400, 50035, "Invalid Form Body", self.errors)


def validate_message(payload: dict, *, allow_empty: bool = False) -> None:
    """Discord's limits for a message-creating or -editing payload."""
    f = _Form()
    content = payload.get("content")
    f.max_len(["content"], content, 2000)
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        f.add(["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        p = ["embeds", i]
        f.max_len(p + ["title"], e.get("title"), 256)
        f.max_len(p + ["description"], e.get("description"), 4096)
        fields = e.get("fields") or []
        if len(fields) > 25:
            f.add(p + ["fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, fl in enumerate(fields):
            f.max_len(p + ["fields", j, "name"], fl.get("name", ""), 256, min_len=1)
            f.max_len(p + ["fields", j, "value"], fl.get("value", ""), 1024, min_len=1)
            total += len(str(fl.get("name", ""))) + len(str(fl.get("value", "")))
        footer = (e.get("footer") or {}).get("text")
        author = (e.get("author") or {}).get("name")
        f.max_len(p + ["footer", "text"], footer, 2048)
        f.max_len(p + ["author", "name"], author, 256)
        total += sum(len(str(x or "")) for x in (e.get("title"), e.get("description"), footer, author))
    if total > 6000:
        f.add(["embeds"], "BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000")
    _validate_components(f, payload.get("components") or [])
    if not allow_empty and not content and not embeds and not payload.get("components") and "flags" not in payload:
        f.add(["content"], "BASE_TYPE_REQUIRED", "Cannot send an empty message")
    f.raise_if_any()


def _validate_components(f: _Form, rows: list) -> None:
    if len(rows) > 5:
        f.add(["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(rows):
        if row.get("type") != 1:
            f.add(["components", i, "type"], "COMPONENT_LAYOUT_INVALID", "Top-level components must be action rows.")
            continue
        items = row.get("components") or []
        if not 1 <= len(items) <= 5:
            f.add(["components", i, "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        for j, c in enumerate(items):
            p = ["components", i, "components", j]
            if c.get("type") == 2:
                f.max_len(p + ["label"], c.get("label"), 80)
                if c.get("style") == 5:
                    if not c.get("url"):
                        f.add(p + ["url"], "BASE_TYPE_REQUIRED", "This field is required")
                else:
                    f.max_len(p + ["custom_id"], c.get("custom_id", ""), 100, min_len=1)
            else:
                f.max_len(p + ["custom_id"], c.get("custom_id", ""), 100, min_len=1)


def validate_commands(commands: list) -> None:
    """Application command registration rules (names, descriptions, options, choices)."""
    f = _Form()
    if len(commands) > 100:
        f.add([], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    seen: set[tuple[int, str]] = set()
    for i, c in enumerate(commands):
        ctype = c.get("type", 1)
        name = c.get("name", "")
        if (ctype, name) in seen:
            f.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", f"Application command names must be unique: {name}")
        seen.add((ctype, name))
        if ctype == 1:
            if not _CHAT_NAME_RE.match(name) or name != name.lower():
                f.add([i, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
            f.max_len([i, "description"], c.get("description", ""), 100, min_len=1)
            _validate_localizations(f, [i], c, chat_input=True)
            _validate_options(f, [i, "options"], c.get("options") or [])
        else:
            f.max_len([i, "name"], name, 32, min_len=1)
            if c.get("description"):
                f.add([i, "description"], "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Context menu commands cannot have descriptions.")
            _validate_localizations(f, [i], c, chat_input=False)
    f.raise_if_any()


def _validate_localizations(f: _Form, path: list, obj: dict, *, chat_input: bool) -> None:
    """name_localizations / description_localizations: Discord locales only, each value within the same
    limits as the field it localises (chat-input names keep the name rules)."""
    for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
        for locale, value in (obj.get(key) or {}).items():
            p = path + [key, locale]
            if locale not in DISCORD_LOCALES:
                f.add(p, "LOCALE_INVALID", f"Invalid locale: {locale!r}")
            f.max_len(p, value, limit, min_len=1)
            if key == "name_localizations" and chat_input and not (_CHAT_NAME_RE.match(value or "") and value == value.lower()):
                f.add(p, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {value!r}")


def _validate_options(f: _Form, path: list, options: list) -> None:
    if len(options) > 25:
        f.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    required_done = False
    for i, o in enumerate(options):
        p = path + [i]
        name = o.get("name", "")
        if not _CHAT_NAME_RE.match(name) or name != name.lower():
            f.add(p + ["name"], "APPLICATION_COMMAND_INVALID_NAME", f"Option name is invalid: {name!r}")
        f.max_len(p + ["description"], o.get("description", ""), 100, min_len=1)
        _validate_localizations(f, p, o, chat_input=True)
        if o.get("type") in (1, 2):
            _validate_options(f, p + ["options"], o.get("options") or [])
            continue
        if o.get("required"):
            if required_done:
                f.add(p + ["required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
        else:
            required_done = True
        choices = o.get("choices") or []
        if len(choices) > 25:
            f.add(p + ["choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and o.get("autocomplete"):
            f.add(p + ["autocomplete"], "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES", "Autocomplete cannot be set with choices")
        for j, ch in enumerate(choices):
            f.max_len(p + ["choices", j, "name"], ch.get("name", ""), 100, min_len=1)


def validate_autocomplete(data: dict) -> None:
    f = _Form()
    choices = data.get("choices") or []
    if len(choices) > 25:
        f.add(["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for j, ch in enumerate(choices):
        f.max_len(["data", "choices", j, "name"], ch.get("name", ""), 100, min_len=1)
        if isinstance(ch.get("value"), str):
            f.max_len(["data", "choices", j, "value"], ch["value"], 100)
    f.raise_if_any()


@dataclass
class Call:
    """One recorded REST request and what the fake answered."""

    method: str
    path: str  # without the /api/v10 prefix
    json: Any
    status: int = 0
    response: Any = None
    ts: float = field(default_factory=time.monotonic)
    interaction_id: int | None = None  # set for interaction callbacks and webhook calls on an interaction token

    @property
    def creates_message(self) -> bool:
        """A call that posts a message someone will see (the allowed_mentions rule applies to all of them)."""
        if self.method == "POST" and re.fullmatch(r"/channels/\d+/messages", self.path):
            return True
        if self.method == "POST" and re.fullmatch(r"/webhooks/\d+/[^/]+", self.path):
            return True
        if self.method == "PATCH" and "/webhooks/" in self.path:
            return True
        if self.path.endswith("/callback") and isinstance(self.json, dict) and self.json.get("type") in (4, 7):
            return True
        return False

    @property
    def message_payload(self) -> dict:
        if self.path.endswith("/callback"):
            return (self.json or {}).get("data") or {}
        return self.json if isinstance(self.json, dict) else {}


class _Bucket:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.remaining, self.reset = limit, 0.0

    def take(self) -> tuple[bool, float]:
        now = time.monotonic()
        if now >= self.reset:
            self.remaining, self.reset = self.limit, now + self.window
        if self.remaining <= 0:
            return False, self.reset - now
        self.remaining -= 1
        return True, self.reset - now


class _Conn:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.session_id = ""
        self.shard: tuple[int, int] = (0, 1)
        self.intents = 0
        self.identified = asyncio.Event()
        self.lock = asyncio.Lock()
        self.heartbeats = 0


@dataclass
class _Session:
    session_id: str
    shard: tuple[int, int]
    intents: int
    log: list[dict] = field(default_factory=list)  # sent dispatches, for RESUME replay
    seq: int = 0


class FakeDiscord:
    """Gateway + REST on one loopback port. Use as `async with FakeDiscord() as fake:`."""

    def __init__(self, *, token: str = "fake-token-123", shards: int = 1, message_rate: tuple[int, float] = (5, 1.0),
                 webhook_rate: tuple[int, float] = (5, 1.0), interaction_deadline: float = 3.0,
                 heartbeat_interval_ms: int = 41250, message_content_allowed: bool = True,
                 resume_gateway_url: str | None = None, bot_gateway_url: str | None = None) -> None:
        self.resume_gateway_url = resume_gateway_url  # what READY advertises (default: this gateway)
        self.bot_gateway_url = bot_gateway_url  # what GET /gateway/bot advertises (default: this gateway)
        self.token = token
        self.shards = shards
        self.message_rate = message_rate
        self.webhook_rate = webhook_rate
        self.interaction_deadline = interaction_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.message_content_allowed = message_content_allowed
        self._ids = itertools.count(1000)
        self.app_id = snowflake(1)
        self.guild_id = snowflake(2)
        self.guild_locale = "en-US"  # the test guild's preferred_locale
        self.channel_id = snowflake(3)  # #general
        self.log_channel_id = snowflake(4)  # #mod-log
        self.admin_role_id = snowflake(5)
        self.bot_user = self._user(snowflake(6), "claimcontext", bot=True)
        self.admin = self._user(snowflake(7), "admin")
        self.member = self._user(snowflake(8), "member")
        self.other_bot = self._user(snowflake(9), "otherbot", bot=True)
        self.extra_guild_ids: list[int] = []
        self.calls: list[Call] = []
        self.messages: dict[int, dict] = {}  # every message the fake knows (user and bot)
        self.commands: dict[int | None, list[dict]] = {}  # synced commands: None = global, else guild id
        self.interactions: dict[int, dict] = {}  # id -> {"payload", "created", "acked", "token"}
        self.rate_limited = 0  # 429s answered
        self.force_429: dict[str, int] = {}  # path regex -> how many 429s to inject
        self.identify_payloads: list[dict] = []
        self.resumes = 0
        self._buckets: dict[str, _Bucket] = {}
        self._conns: list[_Conn] = []
        self._sessions: dict[str, _Session] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.call_hooks: list[Callable[[Call], None]] = []  # see every recorded call as it happens (benchmarks)
        self.attachment_files: dict[str, tuple[bytes, str]] = {}  # CDN path -> (content, content type)
        self.attachment_downloads: list[str] = []  # CDN paths fetched, in order

    # ---- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> "FakeDiscord":
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{tail:.*}", self._attachment)  # the CDN (cdn.discordapp.com) on this port
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for c in list(self._conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "FakeDiscord":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def new_id(self) -> int:
        return snowflake(next(self._ids))

    # ---- the world ---------------------------------------------------------------------------------
    @staticmethod
    def _user(uid: int, name: str, *, bot: bool = False) -> dict:
        u = {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
             "public_flags": 0}
        if bot:
            u["bot"] = True
        return u

    def user(self, n: int) -> dict:
        """A further ordinary member (for load tests: many distinct authors)."""
        return self._user(snowflake(100000 + n), f"user{n}")

    def member_payload(self, user: dict) -> dict:
        roles = [str(self.admin_role_id)] if user["id"] == self.admin["id"] else []
        return {"user": user, "roles": roles, "joined_at": _iso(), "deaf": False, "mute": False, "flags": 0,
                "nick": None, "avatar": None, "pending": False}

    def permissions_of(self, user: dict) -> int:
        perms = MEMBER_PERMS
        if user["id"] == self.admin["id"]:
            perms |= MANAGE_MESSAGES
        return perms

    def _channel(self, cid: int, name: str, position: int, guild_id: int | None = None) -> dict:
        return {"id": str(cid), "type": 0, "guild_id": str(guild_id or self.guild_id), "name": name,
                "position": position, "permission_overwrites": [], "nsfw": False, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0, "parent_id": None, "flags": 0}

    def extra_channel(self, n: int) -> int:
        """Ids of further text channels (created in GUILD_CREATE when `channels` > 2)."""
        return snowflake(200000 + n)

    def guild_payload(self, guild_id: int | None = None, *, channels: int = 0) -> dict:
        gid = guild_id or self.guild_id
        chans = [self._channel(self.channel_id, "general", 0, gid), self._channel(self.log_channel_id, "mod-log", 1, gid)] \
            if gid == self.guild_id else [self._channel(snowflake(300000 + gid % 1000), "general", 0, gid)]
        chans += [self._channel(self.extra_channel(i), f"room-{i}", 2 + i, gid) for i in range(channels)]
        roles = [
            {"id": str(gid), "name": "@everyone", "permissions": str(MEMBER_PERMS), "position": 0, "color": 0,
             "hoist": False, "managed": False, "mentionable": False, "flags": 0},
            {"id": str(self.admin_role_id), "name": "Moderators", "permissions": str(MEMBER_PERMS | MANAGE_MESSAGES),
             "position": 1, "color": 0, "hoist": False, "managed": False, "mentionable": True, "flags": 0},
        ]
        members = [self.member_payload(u) for u in (self.bot_user, self.admin, self.member, self.other_bot)]
        return {"id": str(gid), "name": "Test Guild", "icon": None, "owner_id": self.admin["id"], "region": "",
                "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
                "explicit_content_filter": 0, "roles": roles, "emojis": [], "stickers": [], "features": [],
                "mfa_level": 0, "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
                "vanity_url_code": None, "description": None, "banner": None, "premium_tier": 0,
                "preferred_locale": self.guild_locale, "public_updates_channel_id": None, "nsfw_level": 0,
                "premium_progress_bar_enabled": False, "joined_at": _iso(), "large": False, "unavailable": False,
                "member_count": len(members), "voice_states": [], "members": members, "channels": chans,
                "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
                "soundboard_sounds": []}

    def _guilds_for_shard(self, shard: tuple[int, int]) -> list[int]:
        gids = [self.guild_id, *self.extra_guild_ids]
        return [g for g in gids if (g >> 22) % shard[1] == shard[0]]

    # ---- gateway -----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        conn = _Conn(ws)
        self._conns.append(conn)
        try:
            await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                op = data.get("op")
                if op == 1:
                    conn.heartbeats += 1
                    await self._send(conn, {"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    await self._identify(conn, data["d"])
                elif op == 6:
                    await self._resume(conn, data["d"])
        finally:
            self._conns.remove(conn)
        return ws

    async def _send(self, conn: _Conn, payload: dict) -> None:
        async with conn.lock:
            if not conn.ws.closed:
                await conn.ws.send_str(json.dumps(payload))

    async def _identify(self, conn: _Conn, d: dict) -> None:
        self.identify_payloads.append(d)
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & INTENT_MESSAGE_CONTENT and not self.message_content_allowed:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = tuple(d.get("shard") or (0, 1))
        conn.shard, conn.intents = (int(shard[0]), int(shard[1])), intents
        conn.session_id = f"session-{next(self._ids)}"
        self._sessions[conn.session_id] = _Session(conn.session_id, conn.shard, intents)
        gids = self._guilds_for_shard(conn.shard)
        await self._dispatch_to(conn, "READY", {
            "v": 10, "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in gids], "session_id": conn.session_id,
            "resume_gateway_url": self.resume_gateway_url or self.gateway_url, "shard": list(conn.shard),
            "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [], "relationships": []})
        for g in gids:
            await self._dispatch_to(conn, "GUILD_CREATE", self.guild_payload(g, channels=self.guild_channels))
        conn.identified.set()
        async with self._changed:
            self._changed.notify_all()

    guild_channels = 0  # extra text channels in the main guild (set before start for load tests)

    async def _resume(self, conn: _Conn, d: dict) -> None:
        sess = self._sessions.get(d.get("session_id", ""))
        if d.get("token") != self.token or sess is None:
            await self._send(conn, {"op": 9, "d": False, "s": None, "t": None})
            return
        conn.session_id, conn.shard, conn.intents = sess.session_id, sess.shard, sess.intents
        conn.seq = sess.seq
        for payload in sess.log:
            if payload["s"] > int(d.get("seq") or 0):
                await self._send(conn, payload)
        await self._dispatch_to(conn, "RESUMED", {})
        conn.identified.set()
        self.resumes += 1
        async with self._changed:
            self._changed.notify_all()

    async def _dispatch_to(self, conn: _Conn, event: str, data: dict) -> None:
        sess = self._sessions.get(conn.session_id)
        if sess is not None:
            sess.seq += 1
            conn.seq = sess.seq
        else:
            conn.seq += 1
        payload = {"op": 0, "t": event, "s": conn.seq, "d": data}
        if sess is not None:
            sess.log.append(payload)
            del sess.log[:-2000]  # bounded replay buffer
        await self._send(conn, payload)

    async def wait_identified(self, count: int = 1, timeout: float = 10.0) -> None:
        async def ok() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: sum(c.identified.is_set() for c in self._conns) >= count)
        await asyncio.wait_for(ok(), timeout)

    async def dispatch(self, event: str, data: dict, *, guild_id: int | None = None) -> None:
        """Send a DISPATCH to the connection whose shard owns `guild_id` (all when None and no guild)."""
        gid = guild_id if guild_id is not None else int(data.get("guild_id") or 0) or None
        for conn in list(self._conns):
            if not conn.identified.is_set():
                continue
            if gid is not None and (gid >> 22) % conn.shard[1] != conn.shard[0]:
                continue
            content_ok = conn.intents & INTENT_MESSAGE_CONTENT
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not content_ok and not self._content_visible(data):
                data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
            await self._dispatch_to(conn, event, data)

    def _content_visible(self, msg: dict) -> bool:
        """Without the message-content intent Discord still sends content of DMs, the bot's own messages and mentions of it."""
        if not msg.get("guild_id") or msg["author"]["id"] == self.bot_user["id"]:
            return True
        return any(m["id"] == self.bot_user["id"] for m in msg.get("mentions", []))

    async def reconnect_all(self) -> None:
        """Ask every client to reconnect (op 7); discord.py resumes its session."""
        for conn in list(self._conns):
            conn.identified.clear()
            await self._send(conn, {"op": 7, "d": None, "s": None, "t": None})

    # ---- events tests queue ------------------------------------------------------------------------
    def attachment(self, data: bytes, filename: str, content_type: str, *, channel_id: int | None = None,
                   width: int | None = None, height: int | None = None) -> dict:
        """An uploaded file as Discord's attachment object, its bytes served at `url` like the CDN serves them."""
        aid = self.new_id()
        path = f"{channel_id or self.channel_id}/{aid}/{filename}"
        self.attachment_files[path] = (data, content_type)
        url = f"http://127.0.0.1:{self.port}/attachments/{path}"
        a = {"id": str(aid), "filename": filename, "size": len(data), "url": url, "proxy_url": url,
             "content_type": content_type}
        if width and height:
            a.update(width=width, height=height)
        return a

    async def _attachment(self, request: web.Request) -> web.Response:
        path = request.match_info["tail"]
        if path not in self.attachment_files:
            return web.Response(status=404)
        self.attachment_downloads.append(path)
        data, ctype = self.attachment_files[path]
        return web.Response(body=data, content_type=ctype)

    def message(self, content: str, *, author: dict | None = None, channel_id: int | None = None,
                guild: bool = True, mentions: list[dict] | None = None, attachments: list[dict] | None = None) -> dict:
        author = author or self.member
        mid = self.new_id()
        everyone = "@everyone" in content or "@here" in content
        msg = {"id": str(mid), "channel_id": str(channel_id or self.channel_id), "author": author,
               "content": content, "timestamp": _iso(), "edited_timestamp": None, "tts": False,
               "mention_everyone": everyone, "mentions": mentions or [], "mention_roles": [],
               "attachments": attachments or [],
               "embeds": [], "pinned": False, "type": 0, "flags": 0, "components": []}
        if guild:
            msg["guild_id"] = str(self.guild_id)
            msg["member"] = {k: v for k, v in self.member_payload(author).items() if k != "user"}
        self.messages[mid] = msg
        return msg

    async def send_message(self, content: str, **kw: Any) -> dict:
        msg = self.message(content, **kw)
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def edit_message(self, msg: dict, content: str) -> dict:
        new = {**msg, "content": content, "edited_timestamp": _iso()}
        self.messages[int(msg["id"])] = new
        await self.dispatch("MESSAGE_UPDATE", new)
        return new

    def _command(self, name: str, ctype: int = 1) -> tuple[dict, int | None]:
        for scope in (self.guild_id, None):
            for c in self.commands.get(scope, []):
                if c["name"] == name and c.get("type", 1) == ctype:
                    return c, scope
        raise KeyError(f"command {name!r} (type {ctype}) was never synced; synced: {self.commands}")

    def command_spec(self, name: str, ctype: int = 1) -> dict:
        return self._command(name, ctype)[0]

    def interaction(self, itype: int, data: dict | None, *, user: dict | None = None, channel_id: int | None = None,
                    message: dict | None = None, guild: bool = True, locale: str = "en-US") -> dict:
        """`locale`: the user's client language, sent on every interaction but a ping. Discord's clients send
        only Discord locales; the fake sends any tag (`ar`, for the bot's own fallback) so the bot is tested on it."""
        user = user or self.member
        iid = self.new_id()
        cid = channel_id or self.channel_id
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(self.app_id), "type": itype, "token": f"itoken-{iid}",
            "version": 1, "locale": locale, "entitlements": [], "attachment_size_limit": 8 * 1024 * 1024,
            "app_permissions": str(MEMBER_PERMS), "context": 0 if guild else 1,
        }
        if data is not None:
            payload["data"] = data
        if guild:
            payload.update(guild_id=str(self.guild_id), guild_locale=self.guild_locale, channel_id=str(cid),
                           channel={"id": str(cid), "type": 0, "guild_id": str(self.guild_id), "name": "general",
                                    "position": 0, "permission_overwrites": [], "nsfw": False, "flags": 0},
                           member={**self.member_payload(user), "permissions": str(self.permissions_of(user))},
                           authorizing_integration_owners={"0": str(self.guild_id)})
        else:
            payload.update(user=user, channel_id=str(cid),
                           channel={"id": str(cid), "type": 1, "recipients": [user], "flags": 0},
                           authorizing_integration_owners={"1": user["id"]})
        if message is not None:
            payload["message"] = message
        return payload

    def slash(self, name: str, options: dict[str, Any] | None = None, *, sub: str | None = None,
              focused: str | None = None, **kw: Any) -> dict:
        """An APPLICATION_COMMAND (or, with `focused`, APPLICATION_COMMAND_AUTOCOMPLETE) interaction."""
        spec, scope = self._command(name)
        opt_specs = spec.get("options") or []
        if sub is not None:
            sub_spec = next(o for o in opt_specs if o["name"] == sub)
            opt_specs = sub_spec.get("options") or []
        types = {o["name"]: o["type"] for o in opt_specs}
        opts = []
        for k, v in (options or {}).items():
            if k not in types:
                raise KeyError(f"/{name} {sub or ''} has no option {k!r}: {list(types)}")
            o: dict[str, Any] = {"name": k, "type": types[k], "value": v}
            if k == focused:
                o["focused"] = True
            opts.append(o)
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": spec["id"], "name": name, "type": 1, "options": opts}
        if scope is not None:
            data["guild_id"] = str(scope)
        resolved_channels = {str(o["value"]): {**self._channel(int(o["value"]), "mod-log", 1), "permissions": str(MEMBER_PERMS)}
                             for o in (opts[0].get("options", []) if sub else opts) if o["type"] == 7}
        if resolved_channels:
            data["resolved"] = {"channels": resolved_channels}
        return self.interaction(4 if focused else 2, data, **kw)

    def message_command(self, name: str, target: dict, **kw: Any) -> dict:
        spec, scope = self._command(name, 3)
        data: dict[str, Any] = {"id": spec["id"], "name": name, "type": 3, "target_id": target["id"],
                                "resolved": {"messages": {target["id"]: target}}}
        if scope is not None:
            data["guild_id"] = str(scope)
        return self.interaction(2, data, **kw)

    def button(self, message: dict, custom_id: str, **kw: Any) -> dict:
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, message=message, **kw)

    async def interact(self, payload: dict) -> int:
        iid = int(payload["id"])
        self.interactions[iid] = {"payload": payload, "created": time.monotonic(), "acked": False,
                                  "token": payload["token"]}
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=int(payload.get("guild_id") or 0) or None)
        return iid

    # ---- waiting on what the bot did ---------------------------------------------------------------
    async def wait_for(self, pred: Callable[[Call], bool], *, timeout: float = 10.0, count: int = 1) -> list[Call]:
        async def ok() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: sum(1 for c in self.calls if pred(c)) >= count)
                return [c for c in self.calls if pred(c)]
        return await asyncio.wait_for(ok(), timeout)

    async def wait_interaction_done(self, iid: int, *, timeout: float = 10.0, followups: int = 0) -> list[Call]:
        """Wait until an interaction has an accepted visible answer (direct, or deferred + followup/edit)."""
        def answered(c: Call) -> bool:
            return c.interaction_id == iid and 200 <= c.status < 300 and (
                c.creates_message or (c.path.endswith("/callback") and c.json.get("type") in (8, 9)))
        await self.wait_for(answered, timeout=timeout, count=1 + followups)
        return self.calls_for(iid)

    def calls_for(self, iid: int) -> list[Call]:
        return [c for c in self.calls if c.interaction_id == iid]

    def channel_posts(self, channel_id: int | None = None) -> list[Call]:
        cid = str(channel_id) if channel_id else r"\d+"
        pat = re.compile(rf"/channels/{cid}/messages")
        return [c for c in self.calls if c.method == "POST" and pat.fullmatch(c.path) and c.status == 200]

    def errors(self) -> list[Call]:
        """Rejected calls other than rate limits (what a correct bot never triggers)."""
        return [c for c in self.calls if c.status >= 400 and c.status != 429]

    # ---- REST --------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            ctype = request.headers.get("Content-Type", "")
            if "multipart" in ctype:
                body = {"_multipart": True}
            elif raw:
                body = json.loads(raw)
        call = Call(request.method, path, body)
        headers: dict[str, str] = {}
        try:
            if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(("/interactions/", "/webhooks/")):
                raise DiscordError(401, 0, "401: Unauthorized")
            self._check_rate(call, headers)
            status, result = self._route(call, request)
        except DiscordError as e:
            status, result = e.status, e.body()
            if e.status == 429:
                self.rate_limited += 1
        call.status, call.response = status, result
        self.calls.append(call)
        for hook in self.call_hooks:
            hook(call)
        async with self._changed:
            self._changed.notify_all()
        if status == 200 and call.method == "POST" and re.fullmatch(r"/channels/\d+/messages", path):
            # Discord echoes the bot's own message back through the gateway.
            asyncio.get_running_loop().create_task(self.dispatch("MESSAGE_CREATE", result))
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim.
        headers["Content-Type"] = "application/json"
        return web.Response(body=json.dumps(result).encode(), status=status, headers=headers)

    def _bucket_key(self, call: Call) -> tuple[str, tuple[int, float]] | None:
        m = re.fullmatch(r"/channels/(\d+)/messages", call.path)
        if m and call.method == "POST":
            return f"msg:{m.group(1)}", self.message_rate
        m = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/.*)?", call.path)
        if m:
            return f"wh:{m.group(2)}", self.webhook_rate
        return None

    def _check_rate(self, call: Call, headers: dict[str, str]) -> None:
        for pat, n in list(self.force_429.items()):
            if n > 0 and re.fullmatch(pat, call.path):
                self.force_429[pat] = n - 1
                headers.update({"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": "1"})
                raise DiscordError(429, 0, "You are being rate limited.", retry_after=0.05)
        key = self._bucket_key(call)
        if key is None:
            return
        name, (limit, window) = key
        bucket = self._buckets.setdefault(name, _Bucket(limit, window))
        ok, reset_after = bucket.take()
        headers.update({"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(bucket.remaining, 0)),
                        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                        "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Bucket": name.split(":")[0] + "-hash"})
        if not ok:
            headers.update({"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": str(max(1, round(reset_after)))})
            raise DiscordError(429, 0, "You are being rate limited.", retry_after=round(reset_after, 3))

    def _route(self, call: Call, request: web.Request) -> tuple[int, Any]:
        m, p, body = call.method, call.path, call.json
        if m == "GET" and p == "/users/@me":
            return 200, {**self.bot_user, "verified": True, "mfa_enabled": False, "flags": 0}
        if m == "GET" and p == "/oauth2/applications/@me":
            return 200, {"id": str(self.app_id), "name": "claim-context", "description": "", "icon": None,
                         "bot_public": True, "bot_require_code_grant": False, "owner": self.admin,
                         "verify_key": "0" * 64, "flags": 0, "team": None, "summary": ""}
        if m == "GET" and p == "/gateway/bot":
            return 200, {"url": self.bot_gateway_url or self.gateway_url, "shards": self.shards,
                         "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}
        if m == "GET" and p == "/gateway":
            return 200, {"url": self.gateway_url}
        mm = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", p)
        if mm and m in ("PUT", "GET"):
            if int(mm.group(1)) != self.app_id:
                raise DiscordError(403, 50001, "Missing Access")
            scope = int(mm.group(2)) if mm.group(2) else None
            if m == "PUT":
                validate_commands(body or [])
                self.commands[scope] = [self._command_record(c, scope) for c in body or []]
            return 200, self.commands.get(scope, [])
        mm = re.fullmatch(r"/channels/(\d+)/messages", p)
        if mm and m == "POST":
            return 200, self._create_message(int(mm.group(1)), body or {}, author=self.bot_user)
        mm = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)
        if mm and m == "GET":
            msg = self.messages.get(int(mm.group(2)))
            if msg is None or msg["channel_id"] != mm.group(1):
                raise DiscordError(404, 10008, "Unknown Message")
            return 200, msg
        mm = re.fullmatch(r"/channels/(\d+)", p)
        if mm and m == "GET":
            return 200, self._channel(int(mm.group(1)), "general", 0)
        mm = re.fullmatch(r"/guilds/(\d+)/members/(\d+)", p)
        if mm and m == "GET":
            for u in (self.bot_user, self.admin, self.member, self.other_bot):
                if u["id"] == mm.group(2):
                    return 200, self.member_payload(u)
            raise DiscordError(404, 10007, "Unknown Member")
        mm = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)
        if mm and m == "POST":
            return self._callback(call, int(mm.group(1)), mm.group(2), body or {})
        mm = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", p)
        if mm:
            return self._webhook(call, int(mm.group(1)), mm.group(2), mm.group(3), body or {})
        raise DiscordError(404, 0, "404: Not Found")

    def _command_record(self, c: dict, scope: int | None) -> dict:
        rec = {"id": str(self.new_id()), "application_id": str(self.app_id), "version": str(self.new_id()),
               "type": c.get("type", 1), "name": c["name"], "description": c.get("description", ""),
               "name_localizations": c.get("name_localizations") or None,
               "description_localizations": c.get("description_localizations") or None,
               "options": c.get("options", []), "default_member_permissions": c.get("default_member_permissions"),
               "dm_permission": c.get("dm_permission", True), "nsfw": c.get("nsfw", False),
               "contexts": c.get("contexts"), "integration_types": c.get("integration_types", [0])}
        if scope is not None:
            rec["guild_id"] = str(scope)
        return rec

    def _create_message(self, channel_id: int, body: dict, *, author: dict, interaction: dict | None = None) -> dict:
        validate_message(body)
        ref = body.get("message_reference")
        referenced = None
        if ref:
            referenced = self.messages.get(int(ref["message_id"]))
            if referenced is None and ref.get("fail_if_not_exists", True):
                raise DiscordError(400, 50035, "Invalid Form Body", {"message_reference": {"_errors": [
                    {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]}})
        mid = self.new_id()
        msg = {"id": str(mid), "channel_id": str(channel_id), "author": author, "content": body.get("content") or "",
               "timestamp": _iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
               "mention_roles": [], "attachments": [], "embeds": body.get("embeds") or [], "pinned": False,
               "type": 19 if ref else (20 if interaction else 0), "flags": int(body.get("flags") or 0),
               "components": body.get("components") or []}
        if channel_id in (self.channel_id, self.log_channel_id) or body.get("_guild"):
            msg["guild_id"] = str(self.guild_id)
        if ref:
            msg["message_reference"] = {"message_id": ref["message_id"], "channel_id": str(channel_id),
                                        "guild_id": str(self.guild_id), "type": 0}
            if referenced is not None:
                msg["referenced_message"] = referenced
        if interaction is not None:
            msg["interaction_metadata"] = {"id": interaction["id"], "type": interaction["type"],
                                           "user": (interaction.get("member") or {}).get("user") or interaction.get("user"),
                                           "authorizing_integration_owners": {}}
            msg["webhook_id"] = str(self.app_id)
            msg["application_id"] = str(self.app_id)
            if interaction.get("guild_id"):
                msg["guild_id"] = interaction["guild_id"]
        self.messages[mid] = msg
        return msg

    def _interaction_for(self, iid: int, token: str) -> dict:
        it = self.interactions.get(iid)
        if it is None or it["token"] != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        return it

    def _callback(self, call: Call, iid: int, token: str, body: dict) -> tuple[int, Any]:
        call.interaction_id = iid
        it = self._interaction_for(iid, token)
        if it["acked"]:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - it["created"] > self.interaction_deadline:
            raise DiscordError(404, 10062, "Unknown interaction")
        ctype = body.get("type")
        payload = it["payload"]
        data = body.get("data") or {}
        if ctype == 8:
            if payload["type"] != 4:
                raise DiscordError(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": "Autocomplete responses need an autocomplete interaction"}]}})
            validate_autocomplete(data)
        elif ctype in (4, 7):
            validate_message(data)
        elif ctype not in (5, 6, 9):
            raise DiscordError(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of (1, 4, 5, 6, 7, 8, 9)."}]}})
        if ctype in (6, 7) and payload["type"] != 3:
            raise DiscordError(400, 40043, "Interaction response type is only valid for component interactions")
        it["acked"] = True
        it["ack_type"] = ctype
        it["ephemeral"] = bool(int(data.get("flags") or 0) & 64)
        resp: dict[str, Any] = {"interaction": {"id": str(iid), "type": payload["type"],
                                                "response_message_loading": ctype == 5,
                                                "response_message_ephemeral": it["ephemeral"]}}
        if ctype in (4, 5):
            msg = self._create_message(int(payload["channel_id"]), data if ctype == 4 else {"content": "", "flags": data.get("flags", 0)},
                                       author=self.bot_user, interaction=payload) if ctype == 4 else None
            if ctype == 5:
                validate_message({"flags": 0}, allow_empty=True)
                msg = self._create_message(int(payload["channel_id"]), {"flags": int(data.get("flags") or 0) | 128},
                                           author=self.bot_user, interaction=payload)
            it["original"] = int(msg["id"])  # type: ignore[index]
            resp["interaction"]["response_message_id"] = msg["id"]  # type: ignore[index]
            resp["resource"] = {"type": ctype, "message": msg}
        elif ctype == 7:
            target = payload.get("message") or {}
            msg = {**self.messages.get(int(target.get("id", 0)), target), **{k: v for k, v in data.items() if k in ("content", "embeds", "components")}}
            resp["resource"] = {"type": ctype, "message": msg}
        return 200, resp

    def _webhook(self, call: Call, app_id: int, token: str, target: str | None, body: dict) -> tuple[int, Any]:
        it = next((v for v in self.interactions.values() if v["token"] == token), None)
        if app_id != self.app_id or it is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        call.interaction_id = int(it["payload"]["id"])
        if not it["acked"]:
            raise DiscordError(404, 10015, "Unknown Webhook")  # followups need an acknowledged interaction
        payload = it["payload"]
        if call.method == "POST" and target is None:
            return 200, self._create_message(int(payload["channel_id"]), body, author=self.bot_user, interaction=payload)
        mid = it.get("original") if target == "@original" else int(target or 0)
        msg = self.messages.get(mid or 0)
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        if call.method == "GET":
            return 200, msg
        if call.method == "DELETE":
            self.messages.pop(mid, None)  # type: ignore[arg-type]
            return 204, None
        if call.method == "PATCH":
            validate_message({**{k: msg.get(k) for k in ("content", "embeds", "components")}, **body})
            msg.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
            msg["flags"] = int(msg.get("flags") or 0) & ~128
            msg["edited_timestamp"] = _iso()
            return 200, msg
        raise DiscordError(405, 0, "405: Method Not Allowed")


# ---- test knowledge and a harness that runs the real adapter against the fake ---------------------------

def write_test_knowledge(root: "str | Any") -> None:
    """A small knowledge directory for adapter tests: ordinary claims, related claims, and one claim whose
    lists are long enough to overflow every Discord limit if rendered naively (plus hostile markdown)."""
    from pathlib import Path

    import yaml

    root = Path(root)
    (root / "claims").mkdir(parents=True, exist_ok=True)
    (root / "outlets").mkdir(parents=True, exist_ok=True)

    def claim(cid: str, statement: str, phrasings: list[str], status: str, actor: str, **extra: Any) -> dict:
        d = {"id": cid, "statement": statement, "phrasings": phrasings, "status": status,
             "status_note": f"Test note for {cid}.", "language": "en",
             "first_report": {"outlet": "Example Times", "date": "2020-08-17", "headline": phrasings[0],
                              "url": f"https://example.com/{cid}", "sourcing": "anonymous-officials",
                              "sourcing_detail": "two unnamed officials"},
             "entities": [{"name": actor, "role": "actor"}], "last_reviewed": "2026-01-15"}
        d.update(extra)
        return d

    long_summary = ("An unusually long paragraph about the dispute, repeated to stress the card limits. " * 6).strip()
    claims = [
        claim("iran-taliban-bounties-2020",
              "Iran paid bounties to the Haqqani Network for attacks on US troops in Afghanistan.",
              ["US intelligence claims Iran paid Taliban to kill American troops",
               "Iran paid the Haqqani network for the Bagram air base attack"], "unproven", "Iran",
              denials=[{"who": "Iranian Foreign Ministry", "date": "2020-08-18", "summary": "Called the report false.",
                        "outlet": "Associated Press"}],
              fact_checks=[{"publisher": "PolitiFact", "rating": "Unproven", "date": "2020-09-01"}],
              developments=[{"date": "2021-04-15", "summary": "No official US assessment was published."}],
              related=["russia-gru-taliban-bounties-2020"]),
        claim("russia-gru-taliban-bounties-2020",
              "Russian military intelligence offered bounties to Taliban-linked militants for killing US troops.",
              ["Russia secretly offered Afghan militants bounties to kill US troops",
               "GRU unit paid Taliban to kill American soldiers"], "disputed", "Russia",
              related=["iran-taliban-bounties-2020"]),
        claim("5g-spreads-covid-19", "5G mobile networks spread the coronavirus that causes COVID-19.",
              ["5G towers are spreading coronavirus", "5G radiation causes COVID-19 symptoms"], "false", "5G",
              fact_checks=[{"publisher": "Reuters Fact Check", "rating": "False", "date": "2020-04-01"}]),
        claim("moon-landing-staged-1969",
              "The 1969 Apollo 11 moon landing was staged in a film studio. **bold** @everyone <@&123> ||spoiler||",
              ["NASA faked the moon landing in a studio", "Apollo 11 moon landing was filmed on a sound stage"],
              "false", "NASA",
              sourcing_notes=long_summary,
              denials=[{"who": f"Scientist {i} @everyone", "date": "2001-01-01", "summary": long_summary,
                        "outlet": "Science *Weekly*", "headline": f"Headline {i} [link](http://x) `code`"}
                       for i in range(40)],
              fact_checks=[{"publisher": f"Checker {i}", "rating": "False", "date": "2019-07-16",
                            "headline": long_summary[:200]} for i in range(30)],
              developments=[{"date": "2019-07-20", "summary": long_summary} for i in range(30)]),
    ]
    for c in claims:
        (root / "claims" / f"{c['id']}.yaml").write_text(yaml.safe_dump(c, sort_keys=False), encoding="utf-8")
    (root / "outlets" / "ownership.yaml").write_text(yaml.safe_dump([{
        "domain": "rt.com", "name": "RT", "ownership": "state-funded", "country": "Russia",
        "note": "Funded by the Russian government.",
        "citation": {"outlet": "Example Review", "date": "2022-03-01", "headline": "Who funds RT"}}]), encoding="utf-8")


class BotHarness:
    """The fake Discord plus the real adapter client connected to it (for tests and the load benchmark)."""

    def __init__(self, db_path: Any, state_path: Any, *, guild_id: bool = False, sharded: bool = False,
                 resolver: Any = None, fake: FakeDiscord | None = None, client_options: dict | None = None,
                 settings_options: dict | None = None, **fake_options: Any) -> None:
        self.client_options = client_options or {}
        self.settings_options = settings_options or {}  # e.g. discord_attachment_hosts: the fake's CDN is 127.0.0.1
        self.db_path, self.state_path = db_path, state_path
        self._owns_fake = fake is None
        self.fake = fake or FakeDiscord(shards=2 if sharded else 1, **fake_options)
        self.guild_scoped, self.sharded, self.resolver = guild_id, sharded, resolver
        self.client: Any = None
        self.state: Any = None
        self.engine: Any = None
        self._task: asyncio.Task | None = None
        self.stop = asyncio.Event()

    def settings(self) -> Any:
        from bot.config import Settings
        return Settings(db_path=self.db_path, state_path=self.state_path, discord_token=self.fake.token,
                        discord_api_base_url=self.fake.api_base, discord_gateway_url=self.fake.gateway_url,
                        discord_guild_id=self.fake.guild_id if self.guild_scoped else None,
                        discord_sharded=self.sharded, allow_private_fetch=True, **self.settings_options)

    async def start(self, *, timeout: float = 15.0) -> "BotHarness":
        from bot.adapters.discord import client as discord_bot
        from bot.engine.service import Engine
        from bot.state import StateStore

        if not self.fake.port:
            await self.fake.start()
        self.engine = self.engine or Engine(self.db_path)
        self.state = StateStore(self.state_path)
        self.stop = asyncio.Event()
        settings = self.settings()
        clients: list[Any] = []
        self.handled = 0

        def watch(client: Any) -> None:
            """Count user messages the client has fully handled (the bot keeps no such counter itself)."""
            handle = client._handle_message

            async def counted(message: Any, *, edited: bool) -> None:
                try:
                    await handle(message, edited=edited)
                finally:
                    if not message.author.bot:
                        self.handled += 1
            client._handle_message = counted
            clients.append(client)

        self._task = asyncio.create_task(discord_bot.run_discord(
            settings, self.engine, self.state, self.resolver, self.stop, on_client=watch,
            guild_ready_timeout=0.05, **self.client_options))

        async def wait_ready() -> None:
            while not clients:
                if self._task.done():
                    self._task.result()
                await asyncio.sleep(0.01)
            self.client = clients[0]
            waiter = asyncio.ensure_future(self.client.wait_until_ready())
            done, _ = await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
            if self._task in done:
                waiter.cancel()
                self._task.result()
                raise RuntimeError("the client stopped before it was ready")
        await asyncio.wait_for(wait_ready(), timeout)
        return self

    async def close(self) -> None:
        self.stop.set()
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 15)
        self.client = None
        if self.state is not None:
            self.state.close()

    async def __aenter__(self) -> "BotHarness":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
        if self._owns_fake:
            await self.fake.close()

"""A local fake of the Telegram Bot API for end-to-end tests of the real python-telegram-bot stack.

aiohttp on 127.0.0.1 (random port). Point an Application at it with
`ApplicationBuilder().base_url(fake.base_url).base_file_url(fake.base_file_url)`.

Like the real server it rejects what Telegram rejects (text over 4096 characters after entity
parsing, malformed HTML, callback_data over 64 bytes, more than 50 inline results, ...) with the same
400 "Bad Request: ..." shape, can answer 429 with parameters.retry_after, and enforces flood limits
(per chat, per group, overall), recording every violation so tests can assert there were none.
Every call is recorded (method + decoded params).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import unicodedata
import urllib.parse
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from aiohttp import web

MAX_TEXT = 4096
MAX_CAPTION = 1024
GET_FILE_MAX = 20 * 1024 * 1024  # "bots can download files of up to 20MB in size" (Bot API, getFile)
MAX_CALLBACK_DATA = 64
MAX_INLINE_RESULTS = 50

# Form-encoded requests (PTB's default) carry non-string values JSON-encoded.
JSON_FIELDS = {
    "reply_markup", "reply_parameters", "link_preview_options", "results", "commands", "entities",
    "allowed_updates", "scope", "button", "caption_entities", "reply_to_message_id",
}
INT_FIELDS = {"chat_id", "message_id", "user_id", "offset", "limit", "timeout", "cache_time", "max_connections",
              "from_chat_id", "message_thread_id"}
BOOL_FIELDS = {"drop_pending_updates", "show_alert", "is_personal", "disable_notification", "protect_content",
               "allow_paid_broadcast"}

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote", "tg-emoji"}
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
URL_ENTITY_RE = re.compile(r"""(?i)\b(?:https?://[^\s<>"']+|www\.[^\s<>"']+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|info|ru|uk|de)(?:/[^\s<>"']*)?)""")
COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class ParseError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


SPECIAL_RE = re.compile(r"[<&]")


HREF_RE = re.compile(r"""href\s*=\s*("([^"]*)"|'([^']*)')""", re.I)


def _check_href(tag: str, offset: int) -> None:
    """Telegram refuses the whole message when a link's URL is malformed ("Wrong HTTP URL" / "Unsupported URL
    protocol"); an independent approximation: a known scheme, and for http(s) a host, no spaces or controls."""
    m = HREF_RE.search(tag)
    if m is None:
        return
    url = html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
    if any(c.isspace() or ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or unicodedata.category(c) in ("Cf", "Cs") for c in url):
        raise ParseError(f"Wrong HTTP URL at byte offset {offset}")
    try:
        parts = urllib.parse.urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise ParseError(f"Wrong HTTP URL at byte offset {offset}") from None
    if parts.scheme.lower() not in ("http", "https", "tg", "mailto", "ftp"):
        raise ParseError(f"Unsupported URL protocol at byte offset {offset}")
    if parts.scheme.lower() in ("http", "https") and (not host or ".." in host or host.startswith(".")):
        raise ParseError(f"Wrong HTTP URL at byte offset {offset}")


def parse_html(text: str) -> str:
    """Telegram's HTML parse mode: returns the visible text or raises ParseError like the real server."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while True:
        m = SPECIAL_RE.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        j = m.start()
        out.append(text[i:j])
        offset = len(text[:j].encode("utf-8"))
        if text[j] == "<":
            tag = TAG_RE.match(text, j)
            if not tag:
                raise ParseError(f"Unclosed start tag at byte offset {offset}")
            closing, name = tag.group(1), tag.group(2).lower()
            if closing:
                if not stack or stack[-1] != name:
                    raise ParseError(f"Can't find end tag corresponding to start tag \"{stack[-1] if stack else name}\"")
                stack.pop()
            else:
                if name not in ALLOWED_TAGS:
                    raise ParseError(f"Unsupported start tag \"{name}\" at byte offset {offset}")
                if name == "a":
                    _check_href(tag.group(0), offset)
                stack.append(name)
            i = tag.end()
        else:
            ent = ENTITY_RE.match(text, j)
            if not ent:
                raise ParseError(f"Unsupported entity at byte offset {offset}; use &amp; to write a literal &")
            out.append(html.unescape(ent.group(0)))
            i = ent.end()
    if stack:
        raise ParseError(f"Can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ts: float
    status: int = 200
    result: Any = None
    error: str = ""


@dataclass
class Bucket:
    """Leaky bucket: `capacity` messages at once, draining at `rate` per second (same model as aiolimiter)."""
    capacity: float
    rate: float
    level: float = 0.0
    last: float = 0.0

    def admit(self, now: float) -> bool:
        self.level = max(0.0, self.level - (now - self.last) * self.rate)
        self.last = now
        if self.level + 1 > self.capacity + 1e-9:
            return False
        self.level += 1
        return True


@dataclass
class Limits:
    per_chat_burst: float = 3  # Telegram: ~1 message/second per chat, short bursts allowed
    per_chat_rate: float = 1.0
    group_per_minute: float = 20  # Telegram: 20 messages per minute in a group
    overall_per_second: float = 30  # Telegram: ~30 messages per second overall (0 = off)
    reject: bool = True  # answer 429 on a violation (as Telegram does), besides recording it


@dataclass
class Failure:
    kind: str  # "429" | "disconnect" | "500"
    retry_after: int = 1


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token_for_fake", *, username: str = "claimctx_bot",
                 bot_id: int = 123456, limits: Limits | None = None) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.limits = limits or Limits()
        self.calls: list[Call] = []
        self.violations: list[dict[str, Any]] = []
        self.privacy_mode = False  # True: group updates filtered like Telegram does for bots in privacy mode
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, Any] = {}  # scope -> the list for users of any language (no language_code)
        self.localized_commands: dict[tuple[str, str], Any] = {}  # (scope, language_code) -> that language's list
        self.user_languages: dict[int, str] = {}  # user id -> language_code their client sends
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # every message, users' and the bot's
        self.queued_at: dict[tuple[int, int], float] = {}  # (chat, message) -> time the update was queued
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._inline_ids = itertools.count(1)
        self._failures: dict[str, list[Failure]] = {}
        self._chat_buckets: dict[int, Bucket] = {}
        self._group_buckets: dict[int, Bucket] = {}
        self._overall: Bucket | None = None
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        self.listeners: list[Callable[[Call], None]] = []
        self.files: dict[str, bytes] = {}  # file_id -> content (photos and documents users sent)
        self._file_paths: dict[str, str] = {}  # file_path (as getFile gives it) -> file_id
        self.downloads: list[str] = []  # file_paths the bot downloaded, in order
        self._file_ids = itertools.count(1)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> "FakeTelegram":
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        if self._cond:
            async with self._cond:
                self._cond.notify_all()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what tests feed in --------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "", *, is_bot: bool = False, username: str = "") -> dict[str, Any]:
        u: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name or f"User{user_id}"}
        if username:
            u["username"] = username
        if user_id in self.user_languages and not is_bot:
            u["language_code"] = self.user_languages[user_id]  # an IETF tag, as Telegram's clients send it
        return u

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Claim Context", "username": self.username}

    def chat(self, chat_id: int, *, type: str | None = None, title: str = "", username: str = "") -> dict[str, Any]:
        if chat_id in self.chats:
            return self.chats[chat_id]
        kind = type or ("private" if chat_id > 0 else "supergroup")
        c: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            c["first_name"] = f"User{chat_id}"
        else:
            c["title"] = title or f"Group {chat_id}"
        if username:
            c["username"] = username
        self.chats[chat_id] = c
        return c

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        self.members[(chat_id, user_id)] = status

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    @staticmethod
    def auto_entities(text: str, bot_username: str = "") -> list[dict[str, Any]]:
        """Entities the way Telegram's clients detect them: a leading bot command, URLs, @mentions."""
        ents: list[dict[str, Any]] = []

        def span(start: int, end: int) -> tuple[int, int]:
            return utf16_len(text[:start]), utf16_len(text[start:end])

        m = COMMAND_RE.match(text)
        if m:
            off, ln = span(m.start(), m.end())
            ents.append({"type": "bot_command", "offset": off, "length": ln})
        for m in URL_ENTITY_RE.finditer(text):
            if text[max(0, m.start() - 1):m.start()] == "@":
                continue
            off, ln = span(m.start(), m.end())
            ents.append({"type": "url", "offset": off, "length": ln})
        for m in re.finditer(r"@[A-Za-z0-9_]{5,32}\b", text):
            off, ln = span(m.start(), m.end())
            ents.append({"type": "mention", "offset": off, "length": ln})
        return sorted(ents, key=lambda e: e["offset"])

    def add_file(self, data: bytes) -> dict[str, Any]:
        """Store a file a user uploaded; returns the file_id/file_unique_id/file_size every file object carries."""
        n = next(self._file_ids)
        file_id = f"AgAC-fake-file-{n}"
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"uniq{n}", "file_size": len(data)}

    def photo_sizes(self, *sizes: tuple[bytes, int, int]) -> list[dict[str, Any]]:
        """A photo as Telegram delivers it: one PhotoSize per size it made, smallest first ((data, width, height))."""
        return [dict(self.add_file(data), width=w, height=h) for data, w, h in sorted(sizes, key=lambda s: s[1] * s[2])]

    def document(self, data: bytes, mime_type: str, file_name: str = "file") -> dict[str, Any]:
        return dict(self.add_file(data), mime_type=mime_type, file_name=file_name)

    def message(self, chat_id: int, user_id: int, text: str, *, entities: list[dict[str, Any]] | None = None,
                reply_to: dict[str, Any] | None = None, from_user: dict[str, Any] | None = None,
                via_bot: bool = False, sender_chat: dict[str, Any] | None = None, chat_title: str = "",
                queue: bool = True, photo: list[dict[str, Any]] | None = None, document: dict[str, Any] | None = None,
                forward_from_chat: dict[str, Any] | None = None) -> dict[str, Any]:
        """Queue a message update; returns the message dict (as Telegram would deliver it). With `photo` (see
        photo_sizes) or `document`, `text` is the caption; `forward_from_chat`: the channel (a chat dict of
        type channel) it was forwarded from, as Bot API 7's forward_origin."""
        chat = self.chat(chat_id, title=chat_title)
        media = photo is not None or document is not None
        if media and len(text) > MAX_CAPTION:
            raise ValueError(f"a caption is at most {MAX_CAPTION} characters")
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": from_user or self.user(user_id),
            "chat": chat,
            "date": int(time.time()),
        }
        if photo is not None:
            msg["photo"] = photo
        if document is not None:
            msg["document"] = document
        if not media or text:
            msg["caption" if media else "text"] = text
        ents = self.auto_entities(text) if entities is None else entities
        if ents:
            msg["caption_entities" if media else "entities"] = ents
        if forward_from_chat is not None:
            msg["forward_origin"] = {"type": "channel", "chat": forward_from_chat, "date": int(time.time()) - 60,
                                     "message_id": 4242}
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        if via_bot:
            msg["via_bot"] = self.bot_user()
        if sender_chat is not None:
            msg["sender_chat"] = sender_chat
        self.messages[(chat_id, msg["message_id"])] = msg
        if queue:
            self.push({"message": msg})
        return msg

    def edit(self, msg: dict[str, Any], new_text: str, *, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        edited = dict(msg, text=new_text, edit_date=int(time.time()))
        ents = self.auto_entities(new_text) if entities is None else entities
        edited.pop("entities", None)
        if ents:
            edited["entities"] = ents
        self.messages[(msg["chat"]["id"], msg["message_id"])] = edited
        self.push({"edited_message": edited})
        return edited

    def inline_query(self, user_id: int, query: str, *, offset: str = "") -> str:
        qid = str(next(self._inline_ids))
        self.push({"inline_query": {"id": qid, "from": self.user(user_id), "query": query, "offset": offset,
                                    "chat_type": "private"}})
        return qid

    def press(self, user_id: int, message: dict[str, Any] | None, data: str, *, inline_message_id: str = "") -> str:
        """Queue a callback_query as if `user_id` pressed a button with `data` on `message` (a bot message)."""
        qid = str(next(self._inline_ids) + 10_000)
        cq: dict[str, Any] = {"id": qid, "from": self.user(user_id), "chat_instance": "ci-1", "data": data}
        if message is not None:
            cq["message"] = {k: v for k, v in message.items() if not k.startswith("_")}
        if inline_message_id:
            cq["inline_message_id"] = inline_message_id
        self.push({"callback_query": cq})
        return qid

    def push(self, update: dict[str, Any]) -> int:
        if self.privacy_mode and not self._visible_in_privacy_mode(update):
            return 0
        uid = next(self._update_ids)
        update = {"update_id": uid, **update}
        msg = update.get("message") or update.get("edited_message")
        if msg:
            self.queued_at.setdefault((msg["chat"]["id"], msg["message_id"]), time.perf_counter())
        self._updates.append(update)
        if self._cond:
            asyncio.get_running_loop().create_task(self._notify())
        return uid

    async def _notify(self) -> None:
        assert self._cond
        async with self._cond:
            self._cond.notify_all()

    def _visible_in_privacy_mode(self, update: dict[str, Any]) -> bool:
        """Telegram's privacy mode: in groups a bot sees commands, replies to itself and mentions only."""
        msg = update.get("message") or update.get("edited_message")
        if not msg or msg["chat"]["type"] == "private":
            return True
        text = msg.get("text") or msg.get("caption", "")
        if any(e["type"] == "bot_command" and e["offset"] == 0 for e in msg.get("entities", [])):
            return True
        reply = msg.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        return f"@{self.username}".lower() in text.lower()

    def fail_next(self, method: str, count: int = 1, *, kind: str = "429", retry_after: int = 1) -> None:
        self._failures.setdefault(method, []).extend(Failure(kind, retry_after) for _ in range(count))

    # --- what tests read -----------------------------------------------------------------------

    def calls_to(self, method: str, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent successfully (Message dicts as returned to the bot)."""
        out = [c.result for c in self.calls if c.method == "sendMessage" and c.status == 200]
        return [m for m in out if chat_id is None or m["chat"]["id"] == chat_id]

    def replies_to(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        return [m for m in self.sent(chat_id) if m.get("reply_to_message", {}).get("message_id") == message_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last calls: "
                                     f"{[(c.method, c.status, c.error) for c in self.calls[-8:]]}")
            await asyncio.sleep(0.01)

    async def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout, f"{count} message(s) in chat {chat_id}")
        return self.sent(chat_id)

    async def wait_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        await self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout, f"{count} {method} call(s)")
        return self.calls_to(method)

    async def idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until all queued updates were fetched and no call arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.calls[-1].ts if self.calls else 0.0
            if not self._updates and time.monotonic() - max(last, 0) >= quiet:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("fake Telegram never went idle")

    # --- the HTTP side -------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body or {})
        raw = await request.text()
        items = parse_qsl(raw, keep_blank_values=True) if raw else []
        items += list(request.query.items())
        params: dict[str, Any] = {}
        for key, value in items:
            if key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            elif key in INT_FIELDS:
                try:
                    params[key] = int(value)
                except ValueError:
                    params[key] = value
            elif key in BOOL_FIELDS:
                params[key] = value.lower() == "true"
            else:
                params[key] = value
        return params

    async def _file(self, request: web.Request) -> web.Response:
        """The file download path getFile points to: /file/bot<token>/<file_path>."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        file_id = self._file_paths.get(path)
        if file_id is None:
            return web.Response(status=404)
        self.downloads.append(path)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._read_params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        failures = self._failures.get(method)
        if failures:
            f = failures.pop(0)
            if f.kind == "disconnect":
                call.status, call.error = 0, "disconnected"
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if f.kind == "429":
                call.status, call.error = 429, "injected flood wait"
                return web.json_response({"ok": False, "error_code": 429,
                                          "description": f"Too Many Requests: retry after {f.retry_after}",
                                          "parameters": {"retry_after": f.retry_after}}, status=429)
            call.status, call.error = 500, "injected server error"
            return web.json_response({"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500)
        handler = getattr(self, f"m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as e:
            call.status, call.error = e.code, e.description
            body: dict[str, Any] = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            return web.json_response(body, status=e.code)
        call.result = result
        for listener in self.listeners:
            listener(call)
        return web.json_response({"ok": True, "result": result})

    # --- validation shared by the sending methods ----------------------------------------------

    @staticmethod
    def _parse_text(text: Any, parse_mode: Any, what: str = "message") -> str:
        if not isinstance(text, str) or text == "":
            raise ApiError(400, f"Bad Request: {what} text is empty")
        visible = text
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                visible = parse_html(text)
            except ParseError as e:
                raise ApiError(400, f"Bad Request: can't parse entities: {e}") from None
        elif parse_mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this fake")
        if not visible.strip():
            raise ApiError(400, f"Bad Request: {what} text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return visible

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", url):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
                if data is None and url is None and "switch_inline_query_current_chat" not in button \
                        and "switch_inline_query" not in button:
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")

    def _check_flood(self, chat_id: int, method: str) -> None:
        now = time.monotonic()
        lim = self.limits
        problems = []
        chat_b = self._chat_buckets.setdefault(chat_id, Bucket(lim.per_chat_burst, lim.per_chat_rate, last=now))
        if not chat_b.admit(now):
            problems.append("per-chat")
        if chat_id < 0 and lim.group_per_minute:
            gb = self._group_buckets.setdefault(chat_id, Bucket(lim.group_per_minute, lim.group_per_minute / 60, last=now))
            if not gb.admit(now):
                problems.append("group per-minute")
        if lim.overall_per_second:
            if self._overall is None:
                self._overall = Bucket(lim.overall_per_second, lim.overall_per_second, last=now)
            if not self._overall.admit(now):
                problems.append("overall")
        if problems:
            self.violations.append({"chat_id": chat_id, "method": method, "limits": problems, "ts": now})
            if lim.reject:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})

    def _chat_id(self, params: dict[str, Any]) -> int:
        cid = params.get("chat_id")
        if isinstance(cid, str) and cid.lstrip("-").isdigit():
            cid = int(cid)
        if not isinstance(cid, int):
            raise ApiError(400, "Bad Request: chat not found")
        return cid

    # --- methods -------------------------------------------------------------------------------

    def m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        if len(data) > GET_FILE_MAX:
            raise ApiError(400, "Bad Request: file is too big")
        path = f"files/{file_id}.bin"
        self._file_paths[path] = file_id
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data), "file_path": path}

    def m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.bot_user(), can_join_groups=True, can_read_all_group_messages=not self.privacy_mode,
                    supports_inline_queries=True)

    def m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def m_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = params
        return True

    def m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    def m_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        lang = params.get("language_code") or ""
        if lang and not re.fullmatch(r"[a-z]{2}", lang):  # "A two-letter ISO 639-1 language code"
            raise ApiError(400, "Bad Request: invalid language code specified")
        if lang:
            self.localized_commands[(scope, lang)] = commands
        else:
            self.commands[scope] = commands
        return True

    def m_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        user_id = int(params.get("user_id", 0))
        status = self.members.get((chat_id, user_id), "member")
        user = self.user(user_id)
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            perms = dict.fromkeys(["can_be_edited", "is_anonymous", "can_post_stories", "can_edit_stories",
                                   "can_delete_stories", "can_promote_members"], False)
            perms.update(dict.fromkeys(["can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                                        "can_restrict_members", "can_change_info", "can_invite_users"], True))
            return {"status": "administrator", "user": user, **perms}
        if status == "left":
            return {"status": "left", "user": user}
        return {"status": "member", "user": user}

    async def m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._cond
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), 30.0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        async with self._cond:
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._cond.wait(), remaining)
                except asyncio.TimeoutError:
                    break
        return self._updates[:max(1, min(limit, 100))]

    def _store_bot_message(self, chat_id: int, text: str, params: dict[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        visible = self._parse_text(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        reply = params.get("reply_parameters") or {}
        if "reply_to_message_id" in params and not reply:
            reply = {"message_id": params["reply_to_message_id"]}
        replied = None
        if reply:
            target_chat = reply.get("chat_id", chat_id)
            replied = self.messages.get((int(target_chat), int(reply["message_id"])))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        self._check_flood(chat_id, "sendMessage")
        msg = self._store_bot_message(chat_id, visible, params)
        if replied is not None:
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        msg["_html"] = params.get("text")  # what was sent, for tests (PTB ignores unknown keys)
        return msg

    def m_editMessageText(self, params: dict[str, Any]) -> Any:
        visible = self._parse_text(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        key = (chat_id, int(params.get("message_id", 0)))
        msg = self.messages.get(key)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if msg["from"]["id"] != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        if msg["text"] == visible and msg.get("reply_markup") == params.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        self._check_flood(chat_id, "editMessageText")
        msg = dict(msg, text=visible, edit_date=int(time.time()))
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        else:
            msg.pop("reply_markup", None)
        self.messages[key] = msg
        return msg

    def m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        self._check_markup(params.get("reply_markup"))
        return True

    def m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text", "") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def m_answerInlineQuery(self, params: dict[str, Any]) -> bool:
        results = params.get("results") or []
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = set()
        for r in results:
            rid = str(r.get("id", ""))
            if not 1 <= len(rid.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            if rid in ids:
                raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            ids.add(rid)
            if r.get("type") == "article":
                if not r.get("title"):
                    raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
                content = r.get("input_message_content") or {}
                self._parse_text(content.get("message_text"), content.get("parse_mode"), "inline result message")
            self._check_markup(r.get("reply_markup"))
        return True

    def m_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        lang = params.get("language_code") or ""
        return self.localized_commands.get((scope, lang), []) if lang else self.commands.get(scope, [])

    def commands_for(self, language_code: str, scope: str = "default") -> list[dict[str, Any]]:
        """The menu a user whose client is in `language_code` sees (Telegram falls back to the list set
        without a language)."""
        key = json.dumps({"type": scope}, sort_keys=True)
        return self.localized_commands.get((key, language_code)) or self.commands.get(key, [])

    def m_close(self, params: dict[str, Any]) -> bool:
        return True

    def m_logOut(self, params: dict[str, Any]) -> bool:
        return True


class BotUnderTest:
    """The real Application (bot.adapters.telegram) running in polling mode against a FakeTelegram,
    driven exactly as `python -m bot run` drives it (run_telegram with a stop event)."""

    def __init__(self, fake: FakeTelegram, settings: Any, engine: Any, state: Any, resolver: Any = None, *,
                 limiter: Any = None, poll_timeout: int = 1) -> None:
        self.fake, self.settings, self.engine, self.state, self.resolver = fake, settings, engine, state, resolver
        self.limiter, self.poll_timeout = limiter, poll_timeout
        self.app: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None

    async def start(self, timeout: float = 10.0) -> "BotUnderTest":
        from bot.adapters.telegram import build_application, run_telegram

        self._stop = asyncio.Event()
        self.app = build_application(self.settings, self.engine, self.state, self.resolver, limiter=self.limiter)
        polls = len(self.fake.calls_to("getUpdates"))
        self._task = asyncio.create_task(run_telegram(self.settings, self.engine, self.state, self.resolver,
                                                      self._stop, app=self.app, poll_timeout=self.poll_timeout))
        await self.fake.wait_for(lambda: len(self.fake.calls_to("getUpdates", ok_only=False)) > polls or self._task.done(),
                                 timeout, "the bot to start polling")
        if self._task.done():
            self._task.result()  # raises what went wrong
        return self

    async def stop(self, timeout: float = 15.0) -> None:
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        await asyncio.wait_for(self._task, timeout)
        self._task = None

    async def settle(self, quiet: float = 0.2, timeout: float = 30.0) -> None:
        """Wait until every queued update was fetched and handled and nothing was sent for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        calm_since = None
        while time.monotonic() < deadline:
            processor = self.app.update_processor
            busy = (self.fake._updates or not self.app.update_queue.empty()
                    or processor.current_concurrent_updates > 0)
            last = self.fake.calls[-1].ts if self.fake.calls else 0.0
            if busy or time.monotonic() - last < quiet:
                calm_since = None
            elif calm_since is None:
                calm_since = time.monotonic()
            elif time.monotonic() - calm_since >= quiet:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the bot never settled")

    @property
    def adapter(self) -> Any:
        return self.app.bot_data["handlers"].conversation

    async def __aenter__(self) -> "BotUnderTest":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

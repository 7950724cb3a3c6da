"""The platform-neutral conversation: every flow the bot has, written once.

An adapter turns a platform event into an `Incoming` and calls one method here with a `Responder`; the
conversation decides what to say and where (replies are neutral values, bot/chat/messages.py). Engine
work runs in worker threads; state writes are single transactions in the StateStore.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.chat import checking, pictures, texts
from bot.chat.commands import parse_moderation
from bot.chat.i18n import for_locale, language_of
from bot.chat.layout import scrub
from bot.chat.limits import WindowLimit
from bot.chat.messages import (AboutReply, Action, ActionKind, CardReply, FlagsReply, DownloadFailed, ForwardOrigin,
                               HelpReply, Incoming, LogChatProbe, MuteReply, Notice, ReceiptKind, Receipt, Refusal,
                               RefusalKind, Responder, SettingsReply, SourcesReply, RelatedReply)
from bot.chat.pictures import ChatBusy, PictureCheck, PictureReader
from bot.engine.cards import Card, CheckResult, OutletNote
from bot.engine.service import Engine
from bot.images.errors import ImageError
from bot.moderation import Moderation, SettingError
from bot.state import StateStore

if TYPE_CHECKING:
    from bot.links import LinkResolver

log = logging.getLogger(__name__)

EXCERPT_CHARS = 300  # of a flagged message, in a moderators' notice
# What one member may have the bot post into one group: answers to /check, mentions and buttons (a card, its
# sources, its related claims) per window. Telegram lets a bot post 20 messages a minute in a group, so one
# member repeating /check could queue cards for hours ahead of everyone else's answers. Past the allowance the
# member is told once a window; private chats are not limited (the asker floods only their own chat).
ASKS_PER_WINDOW = 6
ASK_WINDOW = 60.0  # seconds


class Conversation:
    def __init__(self, engine: Engine, state: StateStore, resolver: "LinkResolver | None" = None,
                 pictures: PictureReader | None = None) -> None:
        self.engine, self.state, self.resolver = engine, state, resolver
        self.moderation = Moderation(state)
        self.pictures = pictures or PictureReader()
        self.asks = WindowLimit(ASKS_PER_WINDOW, ASK_WINDOW)
        self._told_too_fast = WindowLimit(1, ASK_WINDOW)

    async def _may_post_for(self, msg: Incoming, out: Responder, *, always_tell: bool = False) -> bool:
        """Whether the bot may post what this member asked for in this group now (ASKS_PER_WINDOW); past that, the
        member is told once a window (`always_tell`: a button press, whose answer shows only to the presser)."""
        if not msg.in_group:
            return True
        key = (msg.platform, msg.chat_id, msg.user_id)
        if self.asks.take(key):
            return True
        if always_tell or self._told_too_fast.take(key):
            await out.reply(Refusal(RefusalKind.TOO_FAST))
        return False

    # -- engine calls (off the event loop) -------------------------------------------------------------
    async def check(self, msg: Incoming) -> CheckResult:
        """The engine's answer, its card in the asker's language (`msg.locale`) where the claim has it."""
        result = await checking.check(self.engine, msg.text, msg.links, self.resolver, chat=(msg.platform, msg.chat_id))
        return await self._in_language(result, language_of(msg.locale))

    async def _in_language(self, result: CheckResult, lang: str) -> CheckResult:
        card = result.card
        if lang != "en" and card is not None:
            result.card = await asyncio.to_thread(self.engine.card, card.claim_id, confidence=card.confidence,
                                                  decision=card.decision, outlet=card.outlet, lang=lang) or card
        return result

    async def check_picture(self, msg: Incoming) -> PictureCheck:
        """The engine's answer for the message's first picture (bot/chat/pictures.py), in the asker's language,
        holding the chat's one picture slot. Raises ChatBusy (another picture from the chat is being read) or
        what stopped the picture being read at all (TooLarge, Undecodable, DownloadFailed, ImageError)."""
        with self.pictures.one_per_chat((msg.platform, msg.chat_id)):
            found = await self.pictures.check(self.engine, msg)
        await self._in_language(found.result, language_of(msg.locale))
        return found

    async def _card_reply(self, msg: Incoming, result: CheckResult, checked_text: str,
                          notice: Notice | None = None) -> CardReply:
        """The answer, naming the channel a forwarded message came from when its outlet has a note."""
        origin = msg.forwarded_from
        note = await self._channel_outlet(origin)
        return CardReply(result, checked_text=checked_text, notice=notice, forwarded_from=origin if note else None,
                         channel_outlet=note)

    async def _channel_outlet(self, origin: ForwardOrigin | None) -> OutletNote | None:
        if origin is None or not origin.username:
            return None
        return await asyncio.to_thread(self.engine.outlet_for_channel, origin.username)

    async def card(self, claim_id: str, lang: str = "en") -> Card | None:
        claim_id = scrub(claim_id).strip()
        return await asyncio.to_thread(self.engine.card, claim_id, lang=lang) if claim_id else None

    async def card_for(self, text: str, lang: str = "en") -> Card | None:
        """A claim id, or else the best match for the text."""
        text = scrub(text).strip()
        if not text:
            return None
        if " " not in text and (card := await self.card(text, lang)) is not None:
            return card
        return (await self._in_language(await asyncio.to_thread(self.engine.check, text), lang)).card

    async def search(self, text: str, limit: int = 10, lang: str = "en") -> list[Card]:
        """Up to `limit` candidate claims' cards, best first (inline search: the user picks one to share)."""
        text = scrub(text)

        def go() -> list[Card]:
            found = self.engine.search(text, limit=limit)
            cards = (self.engine.card(m.id, confidence=m.score, decision="match", lang=lang) for m in found.matches[:limit])
            return [c for c in cards if c is not None]
        return await asyncio.to_thread(go)

    # -- asking ------------------------------------------------------------------------------------------
    async def answer(self, msg: Incoming, out: Responder) -> None:
        """A check someone asked for: a private message, a command, a mention. Never silent."""
        await _asked(out, self._answer(msg, out))

    async def _answer(self, msg: Incoming, out: Responder) -> None:
        if not await self._may_post_for(msg, out):
            return
        if msg.images:
            await self._answer_picture(msg, out)
            return
        if not msg.text.strip() and not msg.links:
            await out.reply(HelpReply("check"))
            return
        await out.reply(await self._card_reply(msg, await self.check(msg), msg.text))

    async def _answer_picture(self, msg: Incoming, out: Responder) -> None:
        """A picture someone asked about (a private message, /check, a mention, Discord's message menu): a card,
        or one clear sentence on why not, also when the chat's previous picture is still being read (asked,
        never silent; a picture nobody asked about in a group is skipped silently: see _moderate)."""
        t = for_locale(msg.locale)
        try:
            found = await self.check_picture(msg)
        except ChatBusy:
            await out.reply(Refusal(RefusalKind.IMAGE_BUSY))
            return
        except (ImageError, DownloadFailed) as exc:
            log.info("picture in %s/%s not read: %s", msg.chat_id, msg.message_id, exc)
            await out.reply(pictures.refusal(exc, self.pictures, t))
            return
        problem = pictures.unanswered(found)
        await out.reply(problem or await self._card_reply(msg, found.result, found.text))

    async def sources(self, msg: Incoming, out: Responder, arg: str, *, exact: bool = False) -> None:
        """Every source of a claim named by id, or (not `exact`) of the best match for the text."""
        arg = scrub(arg)  # command arguments, like message text, are made encodable before anything stores them

        async def go() -> None:
            if not arg.strip():
                await out.reply(HelpReply("sources"))
                return
            if not await self._may_post_for(msg, out):
                return
            lang = language_of(msg.locale)
            card = await (self.card(arg, lang) if exact else self.card_for(arg, lang))
            if card is not None:
                await out.reply(SourcesReply(card))
            elif exact:
                await out.reply(Refusal(RefusalKind.UNKNOWN_CLAIM, arg.strip()))
            else:
                await out.reply(CardReply(CheckResult(text=arg, decision="none")))
        await _asked(out, go())

    async def about(self, out: Responder) -> None:
        await _asked(out, self._about(out))

    async def _about(self, out: Responder) -> None:
        await out.reply(AboutReply(await asyncio.to_thread(self.engine.about)))

    # -- group auto-moderation -------------------------------------------------------------------------
    async def moderate(self, msg: Incoming, out: Responder) -> None:
        """A group message nobody asked about: engine check -> Moderation.decide -> reply / notify / nothing.
        Silent on failure: a group is never told about our errors."""
        try:
            await self._moderate(msg, out)
        except Exception:
            log.exception("moderation of %s/%s failed", msg.chat_id, msg.message_id)

    async def _moderate(self, msg: Incoming, out: Responder) -> None:
        if not msg.text.strip() and not msg.links and not msg.images:
            return
        settings = await asyncio.to_thread(self.moderation.settings, msg.platform, msg.chat_id)
        if not settings.enabled:
            return  # the common path: one indexed read, no engine work
        if msg.images:
            if not self.pictures.take_unasked((msg.platform, msg.chat_id)):
                log.info("picture in %s/%s skipped: the group's picture rate is spent", msg.chat_id, msg.message_id)
                return
            try:
                found = await self.check_picture(msg)
            except (ChatBusy, ImageError, DownloadFailed) as exc:  # a group never hears about a picture we skip
                log.info("picture in %s/%s skipped: %s", msg.chat_id, msg.message_id, exc or type(exc).__name__)
                return
            result, checked = found.result, found.text
        else:
            result, checked = await self.check(msg), msg.text
        decision = await asyncio.to_thread(self.moderation.decide, msg.platform, msg.chat_id, msg.message_id, checked,
                                           result, message_link=msg.message_link, edited=msg.edited)
        log.debug("moderation %s/%s: %s (%s)", msg.chat_id, msg.message_id, decision.action, decision.reason)
        if decision.action == "reply":
            await out.reply(await self._card_reply(msg, result, checked))
        elif decision.action == "notify" and settings.log_chat_id:
            excerpt = checked if len(checked) <= EXCERPT_CHARS else checked[:EXCERPT_CHARS] + "\u2026"
            notice = Notice(msg.chat_title or msg.chat_id, msg.message_link, msg.message_id, excerpt, msg.author)
            if not await out.post(settings.log_chat_id, await self._card_reply(msg, result, checked, notice)):
                log.warning("log chat %s of %s is not reachable", settings.log_chat_id, msg.chat_id)

    # -- moderation commands (admins) ------------------------------------------------------------------
    def _guard(self, msg: Incoming) -> Refusal | None:
        t = for_locale(msg.locale)
        if not msg.in_group:
            return Refusal(RefusalKind.GROUP_ONLY, texts.word(msg.platform, "groups", t))
        if not msg.is_admin:
            return Refusal(RefusalKind.ADMINS_ONLY, texts.word(msg.platform, "admins", t))
        return None

    async def settings(self, msg: Incoming, out: Responder, changes: dict[str, Any] | None = None) -> None:
        """Show the chat's settings, or change them first (`changes`: moderation setting names -> values).
        A new log chat is probed first: the bot must be able to post there."""
        async def go() -> None:
            if (refusal := self._guard(msg)) is not None:
                await out.reply(refusal)
                return
            target = (changes or {}).get("log_chat_id")
            if target and str(target) != msg.chat_id:
                # a Telegram id names any chat the bot is in: the notices (and the probe, with this chat's title)
                # go only where this admin is an admin too
                if not await out.runs(str(target), msg.user_id):
                    await out.reply(Refusal(RefusalKind.LOG_CHAT_NOT_RUN))
                    return
                if not await out.post(str(target), LogChatProbe(msg.chat_title or msg.chat_id)):
                    await out.reply(Refusal(RefusalKind.LOG_CHAT_UNREACHABLE))
                    return
            try:
                if changes:
                    s = await asyncio.to_thread(self.moderation.update, msg.platform, msg.chat_id, **changes)
                else:
                    s = await asyncio.to_thread(self.moderation.settings, msg.platform, msg.chat_id)
            except SettingError as e:
                await out.reply(Refusal(RefusalKind.SETTING, texts.setting_problem(e, msg.platform, for_locale(msg.locale))))
                return
            await out.reply(SettingsReply(s, saved=bool(changes)))
        await _asked(out, go())

    async def moderation_command(self, msg: Incoming, out: Responder, args: list[str]) -> None:
        """`/moderation ...` typed as text: parsed into changes (bot/chat/commands.py), then as `settings`."""
        if (refusal := self._guard(msg)) is not None:
            await _asked(out, out.reply(refusal))
            return
        try:
            changes = parse_moderation([scrub(a) for a in args], msg.chat_id)
        except SettingError as e:
            detail = texts.setting_problem(e, msg.platform, for_locale(msg.locale))
            await _asked(out, out.reply(Refusal(RefusalKind.SETTING, detail)))
            return
        if changes is None:
            await _asked(out, out.reply(HelpReply("moderation")))
            return
        await self.settings(msg, out, changes)

    async def mute(self, msg: Incoming, out: Responder, claim_id: str, *, mute: bool) -> None:
        claim_id = scrub(claim_id)

        async def go() -> None:
            if (refusal := self._guard(msg)) is not None:
                await out.reply(refusal)
                return
            claim = claim_id.strip()
            if not claim:
                await out.reply(HelpReply("mute" if mute else "unmute"))
                return
            if mute and await self.card(claim) is None:
                await out.reply(Refusal(RefusalKind.UNKNOWN_CLAIM, claim))
                return
            fn = self.moderation.mute if mute else self.moderation.unmute
            s = await asyncio.to_thread(fn, msg.platform, msg.chat_id, claim)
            await out.reply(MuteReply(claim, mute, s))
        await _asked(out, go())

    async def flags(self, msg: Incoming, out: Responder, limit: int = 20) -> None:
        async def go() -> None:
            if (refusal := self._guard(msg)) is not None:
                await out.reply(refusal)
                return
            await out.reply(FlagsReply(await asyncio.to_thread(self.moderation.recent_flags, msg.platform, msg.chat_id, limit)))
        await _asked(out, go())

    # -- buttons ---------------------------------------------------------------------------------------
    async def on_action(self, msg: Incoming, out: Responder, action: Action | None, checked_text: str = "") -> None:
        """A button under a card. `msg` is who pressed it and where; `checked_text` the message the card answered.
        `action` None: the button's reference has expired."""
        checked_text = scrub(checked_text)

        async def go() -> None:
            if action is None:
                await out.reply(Refusal(RefusalKind.EXPIRED))
                return
            if action.kind in (ActionKind.WRONG, ActionKind.HELPFUL):
                # a button's data comes from the client: feedback on a claim we do not have is a forgery (or a
                # claim since removed), not an item for the curators' queue
                known = await asyncio.to_thread(self.engine.claim_data, action.claim_id)
                await out.reply(await self._feedback(msg, action, checked_text) if known else Refusal(RefusalKind.GONE))
                return
            if not await self._may_post_for(msg, out, always_tell=True):
                return
            card = await self.card(action.claim_id, language_of(msg.locale))
            if card is None:
                await out.reply(Refusal(RefusalKind.GONE))
            elif action.kind is ActionKind.SOURCES:
                await out.reply(SourcesReply(card))
            elif action.kind is ActionKind.RELATED:
                await out.reply(RelatedReply(card))
            else:
                await out.reply(CardReply(CheckResult(text="", decision="match", card=card)))
        await _asked(out, go())

    async def _feedback(self, msg: Incoming, action: Action, checked_text: str) -> Receipt:
        wrong = action.kind is ActionKind.WRONG
        admin = msg.is_admin and msg.in_group
        stored = await asyncio.to_thread(
            self.state.record_feedback, platform=msg.platform, chat_id=msg.chat_id, user_id=msg.user_id,
            claim_id=action.claim_id, kind="wrong" if wrong else "helpful", text=checked_text, is_admin=admin)
        if not stored:
            return Receipt(ReceiptKind.ALREADY_SENT)
        if wrong:
            return Receipt(ReceiptKind.WRONG_STOPS_FLAGS if admin else ReceiptKind.WRONG)
        return Receipt(ReceiptKind.HELPFUL)


async def _asked(out: Responder, work: Awaitable[None]) -> None:
    """Someone asked: a failure gets a clear answer rather than silence."""
    try:
        await work
    except Exception:
        log.exception("answering failed")
        try:
            await out.reply(Refusal(RefusalKind.ERROR))
        except Exception:
            log.exception("could not even say that something went wrong")


def with_text(msg: Incoming, text: str) -> Incoming:
    """The same message, checking other text (a command's argument, the message it replies to)."""
    return replace(msg, text=text)


"""Telegram updates in, chat-layer calls out: one small handler per kind of update."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from dataclasses import replace

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent, Message,
                      Update, User)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes,
                          InlineQueryHandler, MessageHandler, TypeHandler, filters)

from bot.adapters.telegram import render as R
from bot.adapters.telegram.incoming import (GROUPS, PLATFORM, is_admin, message_text_and_urls, to_incoming, user_is_admin,
                                            without_command)
from bot.adapters.telegram.refs import MORE, Refs
from bot.adapters.telegram.responder import NO_PREVIEW, TelegramResponder, TelegramSender
from bot.chat import texts
from bot.chat.i18n import N_, Translator, for_locale
from bot.chat.conversation import Conversation, with_text
from bot.chat.layout import NO_MATCH
from bot.chat.messages import Action, ActionKind, HelpReply, Incoming, Refusal, RefusalKind
from bot.engine.cards import Card

log = logging.getLogger(__name__)

INLINE_CACHE_TIME = 10  # seconds: knowledge changes rarely, but answers should feel live
INLINE_RESULTS = 10
Context = ContextTypes.DEFAULT_TYPE

INLINE_HELP = N_("Type a headline or claim after {mention} to share what is known about it.")
INLINE_HELP_EXAMPLE = N_("Example:")
# TRANSLATORS: a short example query for inline mode, in your language.
INLINE_EXAMPLE = N_("Iran paid Taliban bounties")
INLINE_HELP_TITLE = N_("Type a headline or claim to check it")
INLINE_HELP_DESCRIPTION = N_("Claim Context: who reported it, on what sourcing, who denied it, fact-checks")
INLINE_NONE_TITLE = N_("No known claim matches")
INLINE_NONE_DESCRIPTION = N_("Send it to the bot in private to report it")


def user_translator(user: User | None) -> Translator:
    """The words of the person behind an update: their Telegram app's language (English when unknown)."""
    return for_locale(user.language_code if user is not None else "")


class TelegramHandlers:
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.refs = Refs(conversation.state)

    def _out(self, context: Context, msg: Message, *, reply_to: Message | None = None) -> TelegramResponder:
        return TelegramResponder(TelegramSender(context.bot, self.refs), msg.chat_id,
                                 reply_to=(reply_to or msg).message_id, username=context.bot.username or "bot",
                                 t=user_translator(msg.from_user))

    # -- filters ---------------------------------------------------------------------------------------
    async def ignore_bots(self, update: Update, context: Context) -> None:
        """Messages from bots (including this one, and our own inline cards) are never answered."""
        msg = update.message or update.edited_message
        if msg is None:
            return
        anonymous_admin = msg.sender_chat is not None and msg.sender_chat.id == msg.chat.id
        if (msg.from_user is not None and msg.from_user.is_bot and not anonymous_admin) or msg.via_bot is not None:
            raise ApplicationHandlerStop

    # -- commands ----------------------------------------------------------------------------------------
    async def start(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        payload = context.args[0] if context.args else ""
        kind = {"s_": ActionKind.SOURCES, "c_": ActionKind.CLAIM}.get(payload[:2])
        claim_id = await asyncio.to_thread(self.refs.claim_id, payload[2:]) if kind else None
        if kind and claim_id:  # a deep link from an inline card
            await self.conversation.on_action(to_incoming(msg), self._out(context, msg), Action(kind, claim_id))
            return
        await self.help(update, context)

    async def help(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        await self._out(context, msg).reply(HelpReply())

    async def check(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        text, urls = message_text_and_urls(msg)
        text, target = without_command(text), msg
        if not text.strip() and not urls and msg.reply_to_message is not None:
            target = msg.reply_to_message
            text, urls = message_text_and_urls(target)
        incoming = to_incoming(msg, text=text, links=urls, about=target)
        await self.conversation.answer(incoming, self._out(context, msg, reply_to=target))

    async def about(self, update: Update, context: Context) -> None:
        await self.conversation.about(self._out(context, update.effective_message))

    async def sources(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        arg = without_command(msg.text or "")
        if not arg.strip() and msg.reply_to_message is not None:
            arg = message_text_and_urls(msg.reply_to_message)[0]
        await self.conversation.sources(to_incoming(msg), self._out(context, msg), arg)

    async def moderation(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        incoming = to_incoming(msg, is_admin=await is_admin(context.bot, msg))
        await self.conversation.moderation_command(incoming, self._out(context, msg), list(context.args or []))

    async def mute(self, update: Update, context: Context) -> None:
        await self._mute(update, context, True)

    async def unmute(self, update: Update, context: Context) -> None:
        await self._mute(update, context, False)

    async def _mute(self, update: Update, context: Context, mute: bool) -> None:
        msg = update.effective_message
        incoming = to_incoming(msg, is_admin=await is_admin(context.bot, msg))
        await self.conversation.mute(incoming, self._out(context, msg), (context.args or [""])[0], mute=mute)

    async def flags(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        incoming = to_incoming(msg, is_admin=await is_admin(context.bot, msg))
        await self.conversation.flags(incoming, self._out(context, msg))

    # -- messages ----------------------------------------------------------------------------------------
    async def private_text(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        incoming = to_incoming(msg)
        if incoming.text.strip() or incoming.links or incoming.images:
            await self.conversation.answer(incoming, self._out(context, msg))

    async def group_message(self, update: Update, context: Context) -> None:
        msg = update.effective_message
        edited = update.edited_message is not None
        incoming = to_incoming(msg, edited=edited)
        username = context.bot.username or ""
        if not edited and _addresses_bot(msg, context.bot.id, username):
            # someone talks to the bot (works with privacy mode on): answer like a /check
            text = _mention(username).sub(" ", incoming.text) if username else incoming.text
            await self.conversation.answer(with_text(incoming, text), self._out(context, msg))
            return
        await self.conversation.moderate(incoming, self._out(context, msg))

    # -- inline mode -------------------------------------------------------------------------------------
    async def inline(self, update: Update, context: Context) -> None:
        query = update.inline_query
        text = (query.query or "").strip()
        username = context.bot.username or "bot"
        t = user_translator(query.from_user)
        if not text:
            e = html.escape
            help_html = (e(t(INLINE_HELP)).format(mention=f"<code>@{e(username)}</code>") + " "
                         + f"{e(t(INLINE_HELP_EXAMPLE))} <code>@{e(username)} {e(t(INLINE_EXAMPLE))}</code>")
            results = [InlineQueryResultArticle(
                id="help", title=t(INLINE_HELP_TITLE), description=t(INLINE_HELP_DESCRIPTION),
                input_message_content=InputTextMessageContent(help_html, parse_mode=ParseMode.HTML,
                                                              link_preview_options=NO_PREVIEW))]
        else:
            cards = await self.conversation.search(text[:512], INLINE_RESULTS, lang=t.lang)
            results = await asyncio.to_thread(self._inline_results, cards, username, t)
        await query.answer(results[:INLINE_RESULTS], cache_time=INLINE_CACHE_TIME)

    def _inline_results(self, cards: list[Card], username: str, t: Translator) -> list[InlineQueryResultArticle]:
        out = []
        for card in cards:
            ref = self.refs.claim_ref(card.claim_id, R.MAX_START_PAYLOAD - 2)
            keyboard = InlineKeyboardMarkup([
                [InlineKeyboardButton(texts.action_label(ActionKind.SOURCES, t), url=f"https://t.me/{username}?start=s_{ref}")],
                [InlineKeyboardButton(texts.action_label(k, t), callback_data=self.refs.callback_data(Action(k, card.claim_id)))
                 for k in (ActionKind.WRONG, ActionKind.HELPFUL)]])
            out.append(InlineQueryResultArticle(
                id=R.short_hash(card.claim_id, 32), title=card.statement[:200] or card.claim_id,
                description=R.one_line_summary(card, t)[:200], reply_markup=keyboard,
                input_message_content=InputTextMessageContent(R.paginate(R.card_lines(card, t=t), t=t)[0],
                                                              parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)))
        if not out:
            out.append(InlineQueryResultArticle(
                id="none", title=t(INLINE_NONE_TITLE), description=t(INLINE_NONE_DESCRIPTION),
                input_message_content=InputTextMessageContent(f"<b>{html.escape(t(NO_MATCH))}</b>", parse_mode=ParseMode.HTML,
                                                              link_preview_options=NO_PREVIEW)))
        return out

    # -- buttons ---------------------------------------------------------------------------------------
    async def callback(self, update: Update, context: Context) -> None:
        query = update.callback_query
        data = query.data or ""
        msg = query.message if isinstance(query.message, Message) else None
        out = TelegramResponder(TelegramSender(context.bot, self.refs), msg.chat_id if msg else None,
                                reply_to=msg.message_id if msg else None, query=query,
                                username=context.bot.username or "bot", t=user_translator(query.from_user))
        if data.startswith(MORE + ":") and msg is not None:
            await self._more(out, data.partition(":")[2], msg)
            return
        action = await asyncio.to_thread(self.refs.action, data)
        checked = msg.reply_to_message if msg is not None else None
        group = msg is not None and msg.chat.type in GROUPS
        admin = group and action is not None and action.kind in (ActionKind.WRONG, ActionKind.HELPFUL) and \
            await user_is_admin(context.bot, msg.chat_id, query.from_user.id)  # type: ignore[union-attr]
        # an inline message has no chat to post into
        base = to_incoming(msg, is_admin=admin) if msg is not None else Incoming(platform=PLATFORM, chat_id="inline")
        incoming = replace(base, user_id=str(query.from_user.id), locale=query.from_user.language_code or "")
        stored = await asyncio.to_thread(self.refs.checked, msg.chat_id, msg.message_id) if msg is not None else None
        checked_text = stored if stored is not None else (message_text_and_urls(checked)[0] if checked else "")
        await self.conversation.on_action(incoming, out, action, checked_text)

    async def _more(self, out: TelegramResponder, key: str, msg: Message) -> None:
        """The rest of a long card, once: the button goes from the card, and a second press finds nothing."""
        pages = await asyncio.to_thread(self.refs.take_pages, key, msg.chat_id)
        if pages is None:
            await out.reply(Refusal(RefusalKind.EXPIRED))
            return
        await out._answer(None)
        await _without_more_button(msg)
        for page in pages[:R.MAX_PAGES]:
            await out.sender.send(msg.chat_id, page, reply_to=msg.message_id)

    # -- errors ----------------------------------------------------------------------------------------
    async def error(self, update: object, context: Context) -> None:
        """Errors the chat layer did not catch (it answers its own): logged; the asker still hears back."""
        log.error("error handling an update: %r", context.error, exc_info=context.error)
        msg = update.effective_message if isinstance(update, Update) else None
        if msg is None or update.edited_message is not None:  # type: ignore[union-attr]
            return
        if msg.chat.type == ChatType.PRIVATE or (msg.text or "").startswith("/"):
            await self._out(context, msg).reply(Refusal(RefusalKind.ERROR))

    def register(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self.ignore_bots), group=-1)
        for name in ("start", "help", "check", "about", "sources", "moderation", "mute", "unmute", "flags"):
            app.add_handler(CommandHandler(name, getattr(self, name), filters=filters.UpdateType.MESSAGE))
        text = (filters.TEXT | filters.CAPTION | filters.PHOTO | filters.Document.IMAGE) & ~filters.COMMAND
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & text, self.private_text))
        app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGES & text, self.group_message))
        app.add_handler(InlineQueryHandler(self.inline))
        app.add_handler(CallbackQueryHandler(self.callback))
        app.add_error_handler(self.error)


def _addresses_bot(msg: Message, bot_id: int, username: str) -> bool:
    reply = msg.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    return bool(username) and _mention(username).search(msg.text or msg.caption or "") is not None


def _mention(username: str) -> re.Pattern[str]:
    """@username as a whole mention: "@claimctx_bot_fake" names another bot (usernames are letters, digits, _)."""
    return re.compile(rf"(?i)@{re.escape(username)}(?![A-Za-z0-9_])")


async def _without_more_button(card: Message) -> None:
    """The card keeps its other buttons; "More" has done its work (best effort: an old or deleted card stays)."""
    markup = card.reply_markup
    if markup is None:
        return
    rows = [row for row in markup.inline_keyboard
            if not any(str(b.callback_data or "").startswith(MORE + ":") for b in row)]
    with contextlib.suppress(TelegramError):
        await card.edit_reply_markup(reply_markup=InlineKeyboardMarkup(rows) if rows else None)

"""Telegram messages as the chat layer's `Incoming`."""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Message, MessageEntity
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.adapters.telegram.files import forward_origin, message_images
from bot.chat.messages import ChatKind, Incoming
from bot.engine.urls import find_urls

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
_COMMAND = re.compile(r"^/\S+\s*")


def message_text_and_urls(message: Message | None) -> tuple[str, list[str]]:
    """The text of a message plus the URLs its entities carry that the text does not show in full
    (`text_link` targets, bare domains Telegram detected as `url`)."""
    if message is None:
        return "", []
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    parse = message.parse_entity if message.text else message.parse_caption_entity
    present = set(find_urls(text))
    extra: list[str] = []
    for e in entities:
        url = ""
        if e.type == MessageEntity.TEXT_LINK and e.url:
            url = e.url
        elif e.type == MessageEntity.URL:
            try:
                url = parse(e)
            except (IndexError, ValueError):
                continue
            if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", url):
                url = "http://" + url
        if url and url not in present and url not in extra:
            extra.append(url)
    return text, extra


def without_command(text: str) -> str:
    """The text after a leading /command (with or without @botname)."""
    return _COMMAND.sub("", text, count=1)


def to_incoming(msg: Message, *, text: str | None = None, links: list[str] | None = None, is_admin: bool = False,
                edited: bool = False, about: Message | None = None) -> Incoming:
    """`about`: the message whose picture and forward origin are checked (default `msg`; /check in reply to
    a photo checks the photo)."""
    own_text, own_links = message_text_and_urls(msg)
    about = msg if about is None else about
    return Incoming(
        platform=PLATFORM, chat_id=str(msg.chat_id),
        chat_kind=ChatKind.GROUP if msg.chat.type in GROUPS else ChatKind.PRIVATE,
        message_id=str(msg.message_id), user_id=str(msg.from_user.id) if msg.from_user else "",
        text=own_text if text is None else text, links=tuple(own_links if links is None else links),
        is_admin=is_admin, edited=edited, message_link=msg.link or "", chat_title=msg.chat.title or "",
        author=msg.from_user.full_name if msg.from_user else "",
        locale=(msg.from_user.language_code or "") if msg.from_user else "",
        images=message_images(about), forwarded_from=forward_origin(about))


async def is_admin(bot: Any, msg: Message) -> bool:
    """An owner or administrator of the message's group (an anonymous admin posting as the group counts)."""
    if msg.chat.type not in GROUPS:
        return False
    if msg.sender_chat is not None and msg.sender_chat.id == msg.chat_id:
        return True
    if msg.from_user is None:
        return False
    return await user_is_admin(bot, msg.chat_id, msg.from_user.id)


async def user_is_admin(bot: Any, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError as e:
        log.info("getChatMember(%s, %s) failed: %s", chat_id, user_id, e)
        return False
    return member.status in ADMIN_STATUSES

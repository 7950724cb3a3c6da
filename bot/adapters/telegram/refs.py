"""Compact references for Telegram's 64-byte callback_data and /start payloads, kept in the StateStore
so buttons work after a restart, and expiring so the table does not grow forever."""

from __future__ import annotations

import json
import re
import secrets

from bot.adapters.telegram.render import MAX_CALLBACK_DATA, short_hash
from bot.chat.messages import Action, ActionKind
from bot.state import StateStore

CLAIM_TTL = 90 * 24 * 3600  # a card's buttons work for 90 days
PAGES_TTL = 7 * 24 * 3600  # the rest of a long card ("More") for a week
ID_SAFE = re.compile(r"^[A-Za-z0-9-]+$")
MORE = "m"  # callback kind for the rest of a long card; action kinds use ActionKind's codes
CHECKED = "k"  # the text a card answered, by the card's chat and message: a picture's words are in no message
CHECKED_MAX = 4000
PAGES_KEY = re.compile(r"^m[0-9a-f]{16}$")  # what put_pages makes: nothing else is read as pages


class Refs:
    def __init__(self, state: StateStore) -> None:
        self.state = state

    def claim_ref(self, claim_id: str, room: int) -> str:
        """The claim id itself when it fits in `room` bytes and is unambiguous; else "_" + a stored hash."""
        if len(claim_id.encode("utf-8")) <= room and ID_SAFE.match(claim_id) and not claim_id.startswith("_"):
            return claim_id
        return self.state.put_ref("_" + short_hash(claim_id, 20), claim_id, CLAIM_TTL)

    def claim_id(self, ref: str) -> str | None:
        if ref.startswith("_"):
            return self.state.get_ref(ref)
        return ref or None

    def callback_data(self, action: Action) -> str:
        return f"{action.kind.value}:{self.claim_ref(action.claim_id, MAX_CALLBACK_DATA - 2)}"

    def action(self, data: str) -> Action | None:
        """The action a button's callback_data names; None when it is malformed or its reference expired."""
        code, _, ref = data.partition(":")
        kind = ActionKind.from_code(code)
        claim_id = self.claim_id(ref) if kind is not None and ref else None
        return Action(kind, claim_id) if kind is not None and claim_id else None

    def put_checked(self, chat_id: int | str, message_id: int, text: str) -> None:
        """What the card sent as `message_id` answered (the recognised text and caption of a picture), for its
        feedback buttons: the message it replies to holds only the caption."""
        self.state.put_ref(f"{CHECKED}{chat_id}:{message_id}", text[:CHECKED_MAX], CLAIM_TTL)

    def checked(self, chat_id: int | str, message_id: int) -> str | None:
        return self.state.get_ref(f"{CHECKED}{chat_id}:{message_id}")

    def put_pages(self, chat_id: int | str, pages: list[str]) -> str:
        """Keep the rest of a long card for its "More" button, bound to the chat the card is in."""
        return self.state.put_ref(MORE + secrets.token_hex(8), json.dumps({"chat": str(chat_id), "pages": pages}),
                                  PAGES_TTL)

    def take_pages(self, key: str, chat_id: int | str) -> list[str] | None:
        """The rest of a long card, once (a second press, or a second member's, finds nothing). None for
        anything but a pages key of this chat: callback_data comes from the client, and a forged one named
        other references (a card's checked text read as pages: one message per character, or the user's own
        HTML posted as the bot's)."""
        if not PAGES_KEY.match(key):
            return None
        stored = self.state.get_ref(key)
        pages = _pages_of(stored, chat_id)
        # taken only when it is this chat's (a press elsewhere leaves it), and by one press of several at once
        return pages if pages is not None and self.state.take_ref(key) == stored else None


def _pages_of(stored: str | None, chat_id: int | str) -> list[str] | None:
    try:
        kept = json.loads(stored) if stored is not None else None
    except ValueError:
        return None
    if not isinstance(kept, dict) or kept.get("chat") != str(chat_id):
        return None  # another chat's, or from before pages were bound to their chat
    pages = kept.get("pages")
    return pages if isinstance(pages, list) and all(isinstance(p, str) for p in pages) else None

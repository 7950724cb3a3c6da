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

    def put_pages(self, pages: list[str]) -> str:
        return self.state.put_ref(MORE + secrets.token_hex(8), json.dumps(pages), PAGES_TTL)

    def pages(self, key: str) -> list[str] | None:
        stored = self.state.get_ref(key)
        return json.loads(stored) if stored is not None else None

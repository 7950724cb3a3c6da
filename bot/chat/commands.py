"""Text commands (`/moderation cooldown 6`) parsed into setting changes: the same words on every platform
whose commands are typed (Telegram, the console); Discord's slash options map to the same changes."""

from __future__ import annotations

import re
from typing import Any

from bot.chat.i18n import N_
from bot.moderation import SettingError

MODERATION_USAGE = ("/moderation on|off", "/moderation mode reply|notify", N_("/moderation log <chat id>|here|off"),
                    N_("/moderation cooldown <hours>"), N_("/moderation quiet <from>-<to>|off (UTC hours)"),
                    "/moderation threshold <0..1>", N_("/mute <claim id>, /unmute <claim id>, /flags"))
_CHAT_ID = re.compile(r"-?\d{1,20}")
_QUIET = re.compile(r"(\d{1,2})(?::00)?-(\d{1,2})(?::00)?")


def parse_moderation(args: list[str], here: str) -> dict[str, Any] | None:
    """Setting changes from the words after /moderation ({} shows the settings; None: not a known form,
    show the usage). `here`: this chat's id, for `log here`. SettingError for a value that cannot be."""
    words = [a.lower() for a in args]
    if not words:
        return {}
    head, rest = words[0], words[1:]
    if head in ("on", "off") and not rest:
        return {"enabled": head == "on"}
    if len(rest) != 1:
        return None
    value = rest[0]
    if head == "mode":
        return {"mode": value}
    if head == "log":
        if value == "off":
            return {"log_chat_id": None}
        target = here if value == "here" else value
        if not _CHAT_ID.fullmatch(target):
            raise SettingError("log_chat_id", N_("the {log_chat_id} must be a numeric chat id, 'here' or 'off'"))
        return {"log_chat_id": target}
    if head == "cooldown":
        try:
            hours = float(value)
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 168:
            raise SettingError("cooldown_s", N_("the {cooldown_s} must be between 0 and 168 hours (7 days)"))
        return {"cooldown_s": int(round(hours * 3600))}
    if head == "quiet":
        if value == "off":
            return {"quiet_start": None, "quiet_end": None}
        m = _QUIET.fullmatch(value)
        if not m:
            raise SettingError("quiet_start", N_("quiet hours look like 22-7 (UTC hours)"))
        return {"quiet_start": int(m.group(1)), "quiet_end": int(m.group(2))}
    if head == "threshold":
        return {"threshold": value}
    return None

"""Every sentence the bot says outside a card, in one place (one home for wording, and later catalogues)."""

from __future__ import annotations

from bot.chat.messages import ActionKind, ReceiptKind, Refusal, RefusalKind

REFUSALS: dict[RefusalKind, str] = {
    RefusalKind.GROUP_ONLY: "Moderation commands work in {detail}, run by an admin.",
    RefusalKind.ADMINS_ONLY: "Sorry, only {detail} can change the moderation settings.",
    RefusalKind.UNKNOWN_CLAIM: "No claim has the id {detail}.",
    RefusalKind.NO_TEXT: "That message has no text to check.",
    RefusalKind.SETTING: "Not changed: {detail}",
    RefusalKind.LOG_CHAT_UNREACHABLE: "Not changed: I cannot post in that chat; add me there first.",
    RefusalKind.EXPIRED: "This button has expired; send the message again.",
    RefusalKind.GONE: "That claim is no longer in the knowledge base.",
    RefusalKind.ERROR: "Sorry, something went wrong while checking this. Nothing was lost; please try again in a moment.",
}

RECEIPTS: dict[ReceiptKind, str] = {
    ReceiptKind.WRONG: "Thanks \u2014 reported to the curators as a wrong match.",
    ReceiptKind.WRONG_STOPS_FLAGS: ("Thanks \u2014 reported to the curators as a wrong match. "
                                    "It will no longer be auto-flagged for this text here."),
    ReceiptKind.HELPFUL: "Thanks for the feedback!",
    ReceiptKind.ALREADY_SENT: "You already sent this feedback. Thank you!",
}

INTRO = ("Claim Context tells you what is known about a claim or headline you just saw: who first reported it "
         "and on what sourcing, who denied it, what fact-checkers ruled and what happened later.")
EXAMPLE = "US intelligence claims Iran paid Taliban to kill American troops"
USAGE = {
    "check": "Send /check followed by a headline or a link, or reply /check to the message you want checked.",
    "sources": "Send /sources followed by a claim id or the claim's text.",
    "mute": "Usage: /mute <claim id>",
    "unmute": "Usage: /unmute <claim id>",
}
MUTED = "{claim} will no longer be auto-flagged in this group."
UNMUTED = "{claim} will be auto-flagged again in this group."
SAVED = "Saved."
LOG_CHAT_PROBE = "This chat will receive claim-context moderation notices for {title}."
KNOWN_CLAIM_POSTED = "Known claim posted in {title}: "
NO_FLAGS = "None yet."
RECENT_FLAGS = "Recent flags"


def refusal_text(r: Refusal) -> str:
    return REFUSALS[r.kind].format(detail=r.detail)


# How each platform's users name things: the same sentence, in their words.
WORDS: dict[str, dict[str, str]] = {
    "telegram": {"groups": "groups", "admins": "the group's admins", "log_chat_id": "log chat"},
    "discord": {"groups": "servers", "admins": "members who can manage messages or the server",
                "log_chat_id": "log channel"},
}
DEFAULT_WORDS = {"groups": "groups", "admins": "admins", "log_chat_id": "log chat"}
SETTING_WORDS = {"enabled": "moderation", "mode": "mode", "cooldown_s": "cooldown", "threshold": "threshold",
                 "quiet_start": "quiet hours start", "quiet_end": "quiet hours end"}


def word(platform: str, key: str) -> str:
    return WORDS.get(platform, DEFAULT_WORDS).get(key) or DEFAULT_WORDS[key]


def setting_words(platform: str) -> dict[str, str]:
    """Moderation setting names as this platform's admins know them (never `log_chat_id`)."""
    return {**SETTING_WORDS, "log_chat_id": word(platform, "log_chat_id")}

ACTION_LABELS = {ActionKind.SOURCES: "Sources", ActionKind.RELATED: "Related", ActionKind.WRONG: "Wrong match",
                 ActionKind.HELPFUL: "Helpful", ActionKind.CLAIM: "Open"}

"""Every sentence the bot says outside a card, in one place. English here; each language's words are in
the gettext catalogues (bot/chat/i18n.py): renderers show these through the event's Translator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.chat.i18n import EN, N_, Translator
from bot.chat.messages import ActionKind, ReceiptKind, Refusal, RefusalKind

if TYPE_CHECKING:
    from bot.moderation import SettingError

REFUSALS: dict[RefusalKind, str] = {
    RefusalKind.GROUP_ONLY: N_("Moderation commands work in {detail}, run by an admin."),
    RefusalKind.ADMINS_ONLY: N_("Sorry, only {detail} can change the moderation settings."),
    RefusalKind.UNKNOWN_CLAIM: N_("No claim has the id {detail}."),
    RefusalKind.NO_TEXT: N_("That message has no text to check."),
    RefusalKind.SETTING: N_("Not changed: {detail}"),
    RefusalKind.LOG_CHAT_UNREACHABLE: N_("Not changed: I cannot post in that chat; add me there first."),
    RefusalKind.LOG_CHAT_NOT_RUN: N_("Not changed: you are not an admin of that chat."),
    RefusalKind.TOO_FAST: N_("You are asking faster than I answer in this chat; ask again in a minute."),
    RefusalKind.EXPIRED: N_("This button has expired; send the message again."),
    RefusalKind.GONE: N_("That claim is no longer in the knowledge base."),
    RefusalKind.ERROR: N_("Sorry, something went wrong while checking this. Nothing was lost; please try again in a moment."),
    RefusalKind.IMAGE_BUSY: N_("I am still reading the previous picture from this chat; send this one again in a moment."),
    RefusalKind.IMAGE_TOO_LARGE: N_("This picture is too large for me to read ({detail})."),
    RefusalKind.IMAGE_UNREADABLE: N_("I cannot open this picture: send a JPEG, PNG, WebP or GIF image."),
    RefusalKind.IMAGE_DOWNLOAD: N_("I could not download this picture; please send it again."),
    RefusalKind.NO_OCR: N_("I can't read text in images on this bot (OCR is not installed), and this picture "
                           "is not one I know. Send the text of the headline instead."),
    RefusalKind.OCR_TIMEOUT: N_("Reading the text in this picture took too long. Send the text of the headline "
                                "instead, or a smaller screenshot."),
    RefusalKind.IMAGE_NO_TEXT: N_("I found no text in this picture, and it is not one I know."),
}

RECEIPTS: dict[ReceiptKind, str] = {
    ReceiptKind.WRONG: N_("Thanks \u2014 reported to the curators as a wrong match."),
    ReceiptKind.WRONG_STOPS_FLAGS: N_("Thanks \u2014 reported to the curators as a wrong match. "
                                      "It will no longer be auto-flagged for this text here."),
    ReceiptKind.HELPFUL: N_("Thanks for the feedback!"),
    ReceiptKind.ALREADY_SENT: N_("You already sent this feedback. Thank you!"),
}

INTRO = N_("Claim Context tells you what is known about a claim or headline you just saw: who first reported it "
           "and on what sourcing, who denied it, what fact-checkers ruled and what happened later.")
# TRANSLATORS: an example headline to check; write it as a headline in your language would say it.
EXAMPLE = N_("US intelligence claims Iran paid Taliban to kill American troops")
USAGE = {
    "check": N_("Send /check followed by a headline or a link, or reply /check to the message you want checked."),
    "sources": N_("Send /sources followed by a claim id or the claim's text."),
    "mute": N_("Usage: /mute <claim id>"),
    "unmute": N_("Usage: /unmute <claim id>"),
}
MUTED = N_("{claim} will no longer be auto-flagged in this group.")
UNMUTED = N_("{claim} will be auto-flagged again in this group.")
MUTED_SERVER = N_("{claim} will no longer be auto-flagged in this server.")
UNMUTED_SERVER = N_("{claim} will be auto-flagged again in this server.")
SAVED = N_("Saved.")
LOG_CHAT_PROBE = N_("This chat will receive claim-context moderation notices for {title}.")
KNOWN_CLAIM_POSTED = N_("Known claim posted in {title}: ")
NO_FLAGS = N_("None yet.")
RECENT_FLAGS = N_("Recent flags")


def refusal_text(r: Refusal, t: Translator = EN) -> str:
    return t(REFUSALS[r.kind], detail=r.detail)


def usage(topic: str, t: Translator = EN) -> str | None:
    """The usage line of a command, or None for a topic that has none."""
    return t(USAGE[topic]) if topic in USAGE else None


def mute_text(claim: str, muted: bool, t: Translator = EN, *, server: bool = False) -> str:
    """`claim` is already rendered (code span, escaped) by the caller."""
    template = (MUTED_SERVER if muted else UNMUTED_SERVER) if server else (MUTED if muted else UNMUTED)
    return t(template, claim=claim)


# How each platform's users name things: the same sentence, in their words.
WORDS: dict[str, dict[str, str]] = {
    "telegram": {"groups": N_("groups"), "admins": N_("the group's admins"), "log_chat_id": N_("log chat")},
    "discord": {"groups": N_("servers"), "admins": N_("members who can manage messages or the server"),
                "log_chat_id": N_("log channel")},
}
DEFAULT_WORDS = {"groups": N_("groups"), "admins": N_("admins"), "log_chat_id": N_("log chat")}
SETTING_WORDS = {"enabled": N_("moderation"), "mode": N_("mode"), "cooldown_s": N_("cooldown"),
                 "threshold": N_("threshold"), "quiet_start": N_("quiet hours start"), "quiet_end": N_("quiet hours end")}


def setting_problem(error: "SettingError", platform: str, t: Translator = EN) -> str:
    """A moderation.SettingError in the admin's language and this platform's words."""
    return error.worded(setting_words(platform, t), template=t(error.problem))


def word(platform: str, key: str, t: Translator = EN) -> str:
    return t(WORDS.get(platform, DEFAULT_WORDS).get(key) or DEFAULT_WORDS[key])


def setting_words(platform: str, t: Translator = EN) -> dict[str, str]:
    """Moderation setting names as this platform's admins know them (never `log_chat_id`)."""
    return {**{k: t(v) for k, v in SETTING_WORDS.items()}, "log_chat_id": word(platform, "log_chat_id", t)}


ACTION_LABELS = {ActionKind.SOURCES: N_("Sources"), ActionKind.RELATED: N_("Related"), ActionKind.WRONG: N_("Wrong match"),
                 ActionKind.HELPFUL: N_("Helpful"), ActionKind.CLAIM: N_("Open")}


def action_label(kind: ActionKind, t: Translator = EN) -> str:
    return t(ACTION_LABELS[kind])

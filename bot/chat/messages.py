"""What comes in (a message from any platform) and what goes out (replies as neutral values).

Adapters build an `Incoming` from a platform event and render each reply; nothing here knows a platform.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from bot.chat.layout import scrub
from bot.engine.cards import Card, CheckResult, OutletNote


class ChatKind(Enum):
    PRIVATE = "private"  # a one-to-one chat with the bot (or the console)
    GROUP = "group"  # a group, supergroup, server channel


class DownloadFailed(Exception):
    """An image's bytes could not be fetched from the platform (network, refused host, the file is gone)."""


@dataclass(frozen=True)
class IncomingImage:
    """A picture attached to a message, not yet downloaded. `size`: the bytes the platform declares (0 when
    it does not say), checked against the cap before anything is fetched. `fetch(max_bytes)`: the bytes,
    downloaded by the adapter, which stops past `max_bytes` (raising bot.images.TooLarge) and raises
    DownloadFailed when the platform cannot serve it."""

    fetch: Callable[[int], Awaitable[bytes]] = field(compare=False, repr=False)
    size: int = 0
    mime: str = ""
    name: str = ""


@dataclass(frozen=True)
class ForwardOrigin:
    """Where a forwarded message first appeared: a channel (Telegram), by its public username when it has one."""

    username: str = ""  # without the @
    title: str = ""
    platform_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "username", scrub(self.username).lstrip("@"))
        object.__setattr__(self, "title", scrub(self.title))

    @property
    def name(self) -> str:
        """"@rt_russian (RT на русском)", "@rt_russian" or the title alone (a private channel)."""
        if self.username and self.title:
            return f"@{self.username} ({self.title})"
        return f"@{self.username}" if self.username else self.title


@dataclass(frozen=True)
class Incoming:
    """One message, platform-neutral. Ids are strings on every platform."""

    platform: str
    chat_id: str
    chat_kind: ChatKind = ChatKind.PRIVATE
    message_id: str = ""
    user_id: str = ""
    text: str = ""
    links: tuple[str, ...] = ()  # URLs the platform carries outside the visible text (link entities)
    is_admin: bool = False  # may change this chat's moderation settings
    edited: bool = False
    message_link: str = ""
    chat_title: str = ""
    author: str = ""
    locale: str = ""
    images: tuple[IncomingImage, ...] = ()  # pictures attached (the first is read; see bot/chat/pictures.py)
    forwarded_from: ForwardOrigin | None = None

    def __post_init__(self) -> None:
        for name in ("text", "chat_title", "author"):  # user text is made encodable once, at the boundary
            object.__setattr__(self, name, scrub(getattr(self, name)))
        object.__setattr__(self, "links", tuple(scrub(u) for u in self.links))

    @property
    def in_group(self) -> bool:
        return self.chat_kind is ChatKind.GROUP


class ActionKind(Enum):
    """A button under a card, as a neutral action; `value` is its one-letter code in compact references."""

    SOURCES = "s"
    RELATED = "r"
    WRONG = "w"
    HELPFUL = "h"
    CLAIM = "c"  # open another claim's card (from the related list)

    @classmethod
    def from_code(cls, code: str) -> "ActionKind | None":
        return next((k for k in cls if k.value == code), None)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    claim_id: str
    label: str = ""  # for CLAIM: the claim's statement

    def __post_init__(self) -> None:  # read back from a platform's button: encodable, as Incoming's text
        object.__setattr__(self, "claim_id", scrub(self.claim_id))
        object.__setattr__(self, "label", scrub(self.label))


def card_actions(card: Card | None) -> tuple[Action, ...]:
    """The buttons every card carries: sources, related (when there are any), wrong match, helpful."""
    if card is None:
        return ()
    kinds = [ActionKind.SOURCES] + ([ActionKind.RELATED] if card.related else []) + [ActionKind.WRONG, ActionKind.HELPFUL]
    return tuple(Action(k, card.claim_id) for k in kinds)


class RefusalKind(Enum):
    GROUP_ONLY = "group-only"
    ADMINS_ONLY = "admins-only"
    UNKNOWN_CLAIM = "unknown-claim"
    NO_TEXT = "no-text"
    SETTING = "setting"  # detail: what is wrong, in the user's words
    LOG_CHAT_UNREACHABLE = "log-chat-unreachable"
    LOG_CHAT_NOT_RUN = "log-chat-not-run"  # the admin does not administer the chat named as the log
    TOO_FAST = "too-fast"  # one member asked for more posts in a group than its allowance a minute
    EXPIRED = "expired"  # a button whose reference has expired
    GONE = "gone"  # the claim left the knowledge base
    ERROR = "error"  # something failed on our side; nothing was lost
    IMAGE_BUSY = "image-busy"  # another picture from this chat is still being read
    IMAGE_TOO_LARGE = "image-too-large"  # detail: the limit, in the user's words
    IMAGE_UNREADABLE = "image-unreadable"  # not a JPEG/PNG/WebP/GIF, or a broken file
    IMAGE_DOWNLOAD = "image-download"  # the platform did not give us the file
    NO_OCR = "no-ocr"  # no text recognition on this bot, and the picture is not a known one
    IMAGE_NO_TEXT = "image-no-text"  # no text in the picture, and it is not a known one
    OCR_TIMEOUT = "ocr-timeout"


class ReceiptKind(Enum):
    WRONG = "wrong"
    WRONG_STOPS_FLAGS = "wrong-stops-flags"  # an admin's report: this text is no longer auto-flagged here
    HELPFUL = "helpful"
    ALREADY_SENT = "already-sent"


@dataclass(frozen=True)
class Notice:
    """Why a card goes to a moderators' log chat: where the known claim was posted."""

    chat_title: str
    message_link: str
    message_id: str
    excerpt: str
    author: str = ""
    channel: str = ""


@dataclass(frozen=True)
class CardReply:
    """A card (or 'no known claim' with the outlet note), with its buttons."""

    result: CheckResult
    checked_text: str = ""
    notice: Notice | None = None
    forwarded_from: ForwardOrigin | None = None  # named in the answer when `channel_outlet` is known
    channel_outlet: OutletNote | None = None  # the outlet behind the channel a message was forwarded from

    @property
    def channel(self) -> str:
        """The forwarded message's channel as the answer names it; "" when its outlet has no note."""
        return self.forwarded_from.name if self.forwarded_from is not None and self.channel_outlet is not None else ""

    @property
    def actions(self) -> tuple[Action, ...]:
        return card_actions(self.result.card)


@dataclass(frozen=True)
class SourcesReply:
    card: Card


@dataclass(frozen=True)
class RelatedReply:
    card: Card

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(Action(ActionKind.CLAIM, r.id, r.statement) for r in self.card.related[:5])


@dataclass(frozen=True)
class AboutReply:
    about: dict[str, Any]


@dataclass(frozen=True)
class HelpReply:
    topic: str = "general"  # general | moderation | check | sources | mute


@dataclass(frozen=True)
class SettingsReply:
    settings: Any  # moderation.ChatSettings
    saved: bool = False


@dataclass(frozen=True)
class MuteReply:
    claim_id: str
    muted: bool
    settings: Any


@dataclass(frozen=True)
class FlagsReply:
    flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class LogChatProbe:
    """Posted once to a chat about to become a log chat: proves the bot may post there."""

    chat_title: str


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    detail: str = ""


@dataclass(frozen=True)
class Receipt:
    """The acknowledgement of a button press (Telegram: a callback answer; Discord: an ephemeral note)."""

    kind: ReceiptKind


Reply = (CardReply | SourcesReply | RelatedReply | AboutReply | HelpReply | SettingsReply | MuteReply | FlagsReply
         | LogChatProbe | Refusal | Receipt)


class Responder(Protocol):
    """What an adapter gives the conversation for one event: where replies go."""

    async def reply(self, reply: Reply) -> None:
        """Answer in the conversation the event came from (under the message, to the interaction)."""

    async def post(self, chat_id: str, reply: Reply) -> bool:
        """Post in another chat (a moderators' log chat); False when the bot may not post there."""

    async def runs(self, chat_id: str, user_id: str) -> bool:
        """Whether `user_id` administers `chat_id` (their own private chat counts): a moderators' log must be
        a chat its admin runs, not any chat the bot happens to be in."""

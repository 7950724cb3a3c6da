"""The platform-neutral chat layer: flows written once, typed outcomes, and the defects the duplicated
adapters had (each test here failed on the adapters before the chat layer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.discord.render import result_embeds
from bot.adapters.telegram import render as tg
from bot.adapters.telegram.refs import Refs
from bot.chat.conversation import Conversation
from bot.chat.layout import NOT_FOUND_HINT, card_sections
from bot.chat.messages import (Action, ActionKind, CardReply, ChatKind, Incoming, Receipt, ReceiptKind, Refusal,
                               RefusalKind, Reply, SettingsReply)
from bot.chat.render_text import render_result
from bot.config import ConfigError, Settings
from bot.engine.cards import CheckResult
from bot.engine.service import Engine
from bot.state import StateStore

ROOT = Path(__file__).resolve().parent.parent
IRAN = "US intelligence claims Iran paid Taliban to kill American troops"
CLAIM = "iran-taliban-bounties-2020"


class Capture:
    """A responder that keeps what the conversation said."""

    def __init__(self, can_post: bool = True, runs: tuple[str, ...] | None = None) -> None:
        self.replies: list[Reply] = []
        self.posts: list[tuple[str, Reply]] = []
        self.can_post = can_post
        self.admin_of = runs  # None: every chat

    async def reply(self, reply: Reply) -> None:
        self.replies.append(reply)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        self.posts.append((chat_id, reply))
        return self.can_post

    async def runs(self, chat_id: str, user_id: str) -> bool:
        return self.admin_of is None or chat_id in self.admin_of


@pytest.fixture
def conversation(engine: Engine, tmp_path: Path) -> Conversation:
    return Conversation(engine, StateStore(tmp_path / "state.db"))


def group_msg(platform: str = "telegram", **kw: object) -> Incoming:
    return Incoming(platform=platform, chat_id="-100", chat_kind=ChatKind.GROUP, message_id="7", user_id="5", **kw)  # type: ignore[arg-type]


def test_importing_the_engine_loads_no_network_library() -> None:
    code = ("import sys, bot.engine.service, bot.engine.matcher, bot.engine.store, bot.engine.importers, bot.engine.urls;"
            "print(sorted(m for m in ('httpx', 'httpcore', 'anyio', 'lxml', 'trafilatura', 'aiohttp', 'telegram', 'discord')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


async def test_a_wrong_match_on_another_message_is_new_feedback(engine: Engine, state: StateStore) -> None:
    """The Telegram adapter ignored the text: a second message wrongly matched to the same claim was
    answered "already sent" and not stored, so it kept being auto-flagged. (On both state backends.)"""
    conversation = Conversation(engine, state)
    admin = group_msg(is_admin=True)
    out = Capture()
    wrong = Action(ActionKind.WRONG, CLAIM)
    await conversation.on_action(admin, out, wrong, "first message that is not the claim")
    await conversation.on_action(admin, out, wrong, "first message that is not the claim")  # a double click
    await conversation.on_action(admin, out, wrong, "a different message, also not the claim")
    assert out.replies == [Receipt(ReceiptKind.WRONG_STOPS_FLAGS), Receipt(ReceiptKind.ALREADY_SENT),
                           Receipt(ReceiptKind.WRONG_STOPS_FLAGS)]
    assert [r["text"] for r in conversation.state.feedback()] == ["first message that is not the claim",
                                                                  "a different message, also not the claim"]


def test_button_references_expire_and_say_so(state: StateStore) -> None:
    state.put_ref("k", "v", ttl=10, now=1000.0)
    assert state.get_ref("k", now=1009.0) == "v"
    assert state.get_ref("k", now=1010.0) is None  # expired: "This button has expired" is now true
    for i in range(50):  # expired rows are purged by later writes, so the table does not grow forever
        state.put_ref(f"old{i}", "x", ttl=1, now=2000.0)
    state.put_ref("new", "y", ttl=100, now=3000.0)
    assert [r["key"] for r in state.query("SELECT key FROM refs")] == ["new"]


async def test_an_expired_button_gets_a_clear_answer(engine: Engine, state: StateStore) -> None:
    conversation = Conversation(engine, state)
    refs = Refs(conversation.state)
    long_id = "x" * 80  # does not fit callback_data: stored as a reference
    data = refs.callback_data(Action(ActionKind.SOURCES, long_id))
    assert refs.action(data) == Action(ActionKind.SOURCES, long_id)
    conversation.state.execute("UPDATE refs SET expires = 0")
    assert refs.action(data) is None
    out = Capture()
    await conversation.on_action(group_msg(), out, refs.action(data))
    assert out.replies == [Refusal(RefusalKind.EXPIRED)]


@pytest.mark.parametrize("data", ["", ":", f":{CLAIM}", f"x:{CLAIM}", f"sr:{CLAIM}", "s:", "w"])
def test_malformed_callback_data_is_no_action(tmp_path: Path, data: str) -> None:
    """`kind not in "srcwh"` was a substring test: an empty kind passed."""
    assert Refs(StateStore(tmp_path / "s.db")).action(data) is None


async def test_setting_errors_use_the_platforms_words(conversation: Conversation) -> None:
    for platform, word in (("telegram", "log chat"), ("discord", "log channel")):
        out = Capture()
        await conversation.settings(group_msg(platform, is_admin=True), out, {"mode": "notify"})
        (refusal,) = out.replies
        assert isinstance(refusal, Refusal) and refusal.kind is RefusalKind.SETTING
        assert word in refusal.detail and "log_chat_id" not in refusal.detail


async def test_the_same_settings_on_every_platform(conversation: Conversation) -> None:
    """Telegram could set a match threshold and Discord could not: both go through one settings call now."""
    for platform in ("telegram", "discord"):
        out = Capture()
        await conversation.settings(group_msg(platform, is_admin=True), out, {"threshold": 0.5, "enabled": True})
        (reply,) = out.replies
        assert isinstance(reply, SettingsReply) and reply.saved and reply.settings.threshold == 0.5


async def test_moderation_commands_refuse_members_and_private_chats(conversation: Conversation) -> None:
    out = Capture()
    await conversation.moderation_command(group_msg(is_admin=False), out, ["on"])
    await conversation.moderation_command(Incoming(platform="telegram", chat_id="5"), out, ["on"])
    assert [r.kind for r in out.replies] == [RefusalKind.ADMINS_ONLY, RefusalKind.GROUP_ONLY]  # type: ignore[union-attr]
    assert not conversation.moderation.settings("telegram", "-100").enabled


async def test_a_new_log_chat_must_be_one_the_admin_runs(conversation: Conversation) -> None:
    out = Capture(runs=("-300",))
    await conversation.settings(group_msg(is_admin=True), out, {"log_chat_id": "-200"})
    assert out.replies == [Refusal(RefusalKind.LOG_CHAT_NOT_RUN)] and out.posts == []  # not even the probe
    assert conversation.moderation.settings("telegram", "-100").log_chat_id is None
    await conversation.settings(group_msg(is_admin=True), out, {"log_chat_id": "-300"})
    assert conversation.moderation.settings("telegram", "-100").log_chat_id == "-300"


async def test_a_new_log_chat_must_be_reachable(conversation: Conversation) -> None:
    out = Capture(can_post=False)
    await conversation.settings(group_msg(is_admin=True), out, {"log_chat_id": "-200"})
    assert out.replies == [Refusal(RefusalKind.LOG_CHAT_UNREACHABLE)]
    assert conversation.moderation.settings("telegram", "-100").log_chat_id is None


async def test_notify_mode_posts_the_card_with_a_notice(conversation: Conversation) -> None:
    admin = group_msg(is_admin=True)
    await conversation.settings(admin, Capture(), {"enabled": True, "log_chat_id": "-200", "mode": "notify"})
    out = Capture()
    await conversation.moderate(group_msg(text=IRAN, message_link="https://t.me/c/1/7", chat_title="Evil & Co"), out)
    assert out.replies == []
    ((chat, reply),) = out.posts
    assert chat == "-200" and isinstance(reply, CardReply) and reply.result.card is not None
    assert reply.notice is not None and reply.notice.chat_title == "Evil & Co" and reply.notice.excerpt == IRAN


async def test_an_engine_failure_is_answered_when_asked_and_silent_in_groups(conversation: Conversation,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("database unreadable")

    monkeypatch.setattr(conversation.engine, "check", broken)
    asked, group = Capture(), Capture()
    await conversation.answer(Incoming(platform="telegram", chat_id="5", text=IRAN), asked)
    await conversation.settings(group_msg(is_admin=True), Capture(), {"enabled": True})
    await conversation.moderate(group_msg(text=IRAN), group)
    assert asked.replies == [Refusal(RefusalKind.ERROR)] and group.replies == group.posts == []


def test_the_no_match_answer_does_not_point_at_a_button_it_lacks() -> None:
    none = CheckResult(text="x", decision="none")
    texts = [render_result(none), tg.to_html(tg.result_lines(none)),
             " ".join(str(e.to_dict()) for e in result_embeds(none))]
    for text in texts:
        assert "Wrong match" not in text and "report it to the curators" in text
    assert "button" not in NOT_FOUND_HINT


def test_one_layout_feeds_every_renderer(engine: Engine) -> None:
    card = engine.card(CLAIM)
    assert card is not None
    titles = [s.title for s in card_sections(card) if s.title]
    plain = render_result(CheckResult(text="", decision="match", card=card))
    html = tg.to_html(tg.card_lines(card))
    embed = result_embeds(CheckResult(text="", decision="match", card=card))[0].to_dict()
    positions = [plain.index(t) for t in titles]
    assert positions == sorted(positions) and [html.index(t) for t in titles] == sorted(html.index(t) for t in titles)
    assert [f["name"] for f in embed["fields"]] == titles


def test_malformed_urls_never_become_links(engine: Engine) -> None:
    from bot.engine.cards import Card, FactCheck

    bad = ["http://", "https://[::1", "http://a\x00b.com/", "http://:80/", "https:///p", "http://a..b/",
           "https://ex.com/\u202e", "http://ex.com/\x7f"]
    card = Card("x", "S.", "false", "N.", "match", 1.0,
                fact_checks=tuple(FactCheck("P", "False", "2020", url=u) for u in bad))
    html = tg.to_html(tg.card_lines(card))
    assert "<a href" not in html
    good = Card("x", "S.", "false", "N.", "match", 1.0, fact_checks=(FactCheck("P", "False", "2020", url="https://ex.com/a"),))
    assert '<a href="https://ex.com/a">' in tg.to_html(tg.card_lines(good))


def test_a_lone_surrogate_is_made_encodable_at_the_boundary() -> None:
    msg = Incoming(platform="telegram", chat_id="1", text="abc\ud800def")
    assert msg.text.encode("utf-8") == "abc\ufffddef".encode()
    from bot.chat.messages import Notice

    reply = CardReply(CheckResult(text="", decision="none"), notice=Notice("t\udfff", "", "1", "x\ud800"))
    tg.to_html(tg.card_reply_lines(reply)).encode("utf-8")  # does not raise


async def test_command_arguments_and_button_texts_with_a_lone_surrogate_are_answered_and_stored(
        conversation: Conversation) -> None:
    """Command arguments and a button's checked text reach the store as message text does, made encodable:
    each used to end in the generic error (SQLite's UnicodeEncodeError) and the feedback was lost."""
    admin = group_msg(is_admin=True)
    calls = {
        "mute": lambda out: conversation.mute(admin, out, "x\ud800", mute=True),
        "unmute": lambda out: conversation.mute(admin, out, "x\ud800", mute=False),
        "sources by id": lambda out: conversation.sources(admin, out, "x\ud800", exact=True),
        "sources by text": lambda out: conversation.sources(admin, out, IRAN + " \ud800"),
        "moderation": lambda out: conversation.moderation_command(admin, out, ["cooldown", "5\ud800"]),
        "wrong match": lambda out: conversation.on_action(admin, out, Action(ActionKind.WRONG, CLAIM), IRAN + "\udfff"),
        "button of a bad id": lambda out: conversation.on_action(admin, out, Action(ActionKind.SOURCES, "x\udfff")),
    }
    answered = {}
    for name, call in calls.items():
        out = Capture()
        await call(out)
        answered[name] = out.replies
    assert all(len(r) == 1 for r in answered.values()), answered
    errors = [name for name, (r,) in answered.items() if isinstance(r, Refusal) and r.kind is RefusalKind.ERROR]
    assert errors == []
    assert answered["mute"] == [Refusal(RefusalKind.UNKNOWN_CLAIM, "x\ufffd")]
    assert answered["button of a bad id"] == [Refusal(RefusalKind.GONE)]
    (feedback,) = conversation.state.feedback()
    assert feedback["text"] == IRAN + "\ufffd" and feedback["claim_id"] == CLAIM


async def test_feedback_on_a_claim_we_do_not_have_is_refused_not_queued(conversation: Conversation) -> None:
    """A forged button ("w:spam-001-visit-evil-example") made a feedback row per made-up id for the curators."""
    for kind in (ActionKind.WRONG, ActionKind.HELPFUL):
        out = Capture()
        await conversation.on_action(group_msg(), out, Action(kind, "spam-001-visit-evil-example"), IRAN)
        assert out.replies == [Refusal(RefusalKind.GONE)]
    assert conversation.state.feedback(None) == []
    out = Capture()
    await conversation.on_action(group_msg(), out, Action(ActionKind.WRONG, CLAIM), IRAN)  # a real claim still counts
    assert out.replies == [Receipt(ReceiptKind.WRONG)] and len(conversation.state.feedback()) == 1


async def test_one_member_cannot_make_the_bot_flood_a_group(conversation: Conversation) -> None:
    """Each member's asks in a group (checks, sources, buttons that post) are answered at most ASKS_PER_WINDOW a
    window; past that the member is told once, a button presser every time (only they see it), and other
    members and private chats are not held back."""
    from bot.chat.conversation import ASKS_PER_WINDOW
    from bot.chat.limits import WindowLimit

    now = [0.0]
    conversation.asks = WindowLimit(ASKS_PER_WINDOW, 60.0, clock=lambda: now[0])
    conversation._told_too_fast = WindowLimit(1, 60.0, clock=lambda: now[0])
    member, out = group_msg(text=IRAN), Capture()
    for _ in range(ASKS_PER_WINDOW + 3):
        await conversation.answer(member, out)
    assert [type(r).__name__ for r in out.replies] == ["CardReply"] * ASKS_PER_WINDOW + ["Refusal"]
    assert out.replies[-1] == Refusal(RefusalKind.TOO_FAST)
    pressed = Capture()
    for _ in range(2):
        await conversation.on_action(member, pressed, Action(ActionKind.SOURCES, CLAIM))
        await conversation.sources(member, pressed, IRAN)
    assert pressed.replies == [Refusal(RefusalKind.TOO_FAST)] * 2  # the button is told each time; /sources is not
    other = Capture()
    await conversation.answer(Incoming(platform="telegram", chat_id="-100", chat_kind=ChatKind.GROUP, message_id="8",
                                       user_id="6", text=IRAN), other)
    assert isinstance(other.replies[0], CardReply)  # another member is answered
    private = Capture()
    for _ in range(ASKS_PER_WINDOW + 2):
        await conversation.answer(Incoming(platform="telegram", chat_id="5", message_id="1", user_id="5", text=IRAN), private)
    assert all(isinstance(r, CardReply) for r in private.replies) and len(private.replies) == ASKS_PER_WINDOW + 2
    now[0] = 60.0  # the window moves on
    again = Capture()
    await conversation.answer(member, again)
    assert isinstance(again.replies[0], CardReply)


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_PORT"):
        Settings.from_env({"TELEGRAM_WEBHOOK_PORT": "abc"})
    with pytest.raises(ConfigError, match="DISCORD_SHARDED"):
        Settings.from_env({"DISCORD_SHARDED": "maybe"})
    out = subprocess.run([sys.executable, "-m", "bot", "check", "--no-fetch", "hi"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "TELEGRAM_WEBHOOK_PORT": "abc"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == "configuration: TELEGRAM_WEBHOOK_PORT: must be a whole number, not 'abc'"

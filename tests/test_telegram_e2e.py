"""The Telegram adapter end to end: the real python-telegram-bot stack (Application, Updater, HTTPX
requests, rate limiter) against tests/fakes/telegram_api.py on 127.0.0.1, with the real engine on a
small knowledge base built once per session."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import yaml
from aiohttp import ClientSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakes importable under any runner

from bot.config import Settings  # noqa: E402
from bot.engine.service import Engine  # noqa: E402
from bot.engine.store import build_database  # noqa: E402
from bot.state import StateStore  # noqa: E402
from tests.fakes.telegram_api import BotUnderTest, FakeTelegram, parse_html, utf16_len  # noqa: E402
from tests.fakes.pages import headline_page, html_site  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # raised inside PTB's RetryAfter

# --- a small knowledge base with the shapes these tests need ---------------------------------------

LONG_ID = ("lunar-consortium-secret-moon-base-built-under-the-far-side-crater-daedalus-"
           "according-to-an-anonymous-leak-2031")
HUGE_ID = "giant-squid-parliament-2025"
IRAN_ID = "iran-taliban-bounties-2020"
RUSSIA_ID = "russia-gru-taliban-bounties-2020"

IRAN_TEXT = "US intelligence claims Iran paid Taliban to kill American troops"
RUSSIA_TEXT = "Russian military intelligence offered the Taliban bounties to kill US soldiers"
LONG_TEXT = "Lunar Consortium secretly built a moon base under the Daedalus crater"
HUGE_TEXT = "Giant squids elected their own parliament in the Mariana Trench"
NO_MATCH_TEXT = "What a lovely afternoon for a picnic by the river with sandwiches"


def _claim(cid: str, statement: str, phrasings: list[str], actor: str, aliases: list[str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": cid,
        "statement": statement,
        "phrasings": phrasings,
        "status": extra.pop("status", "unproven"),
        "status_note": extra.pop("status_note", "Rests on unnamed sources; no public evidence."),
        "language": "en",
        "first_report": extra.pop("first_report", {
            "outlet": "Example Times", "date": "2020-08-17", "headline": phrasings[0],
            "url": "https://example.com/report", "sourcing": "anonymous-officials",
            "sourcing_detail": "two unnamed officials",
        }),
        "entities": [{"name": actor, "role": "actor", "aliases": aliases}],
        "last_reviewed": "2026-01-15",
    }
    data.update(extra)
    return data


def claims() -> list[dict[str, Any]]:
    iran = _claim(
        IRAN_ID, "Iran paid bounties to the Haqqani Network for attacks on US troops in Afghanistan.",
        [IRAN_TEXT, "Iran paid the Haqqani network for the Bagram air base attack"], "Iran", ["Iranian", "Tehran"],
        denials=[{"who": "Iranian Foreign Ministry", "date": "2020-08-18", "summary": "Called the report false.",
                  "outlet": "Associated Press", "headline": "Iran denies Taliban were paid bounties"}],
        fact_checks=[{"publisher": "FactCheck Example", "rating": "Unsupported", "date": "2020-09-01",
                      "url": "https://factcheck.example.org/iran-bounties"}],
        related=[RUSSIA_ID],
    )
    russia = _claim(
        RUSSIA_ID, "Russia's GRU offered bounties to Taliban-linked militants to kill US and coalition troops.",
        [RUSSIA_TEXT, "Russia paid Taliban militants bounties for killing American soldiers"], "Russia",
        ["Russian", "GRU", "Kremlin"], status="disputed", related=[IRAN_ID],
    )
    long_one = _claim(
        LONG_ID, "The Lunar Consortium built a secret <b>moon base</b> & <script>alert(1)</script> under Daedalus crater.",
        [LONG_TEXT, "Secret moon base under Daedalus crater built by the Lunar Consortium"], "Lunar Consortium",
        ["Consortium"], status="false", status_note="No evidence at all; the <i>leak</i> was a role-playing game & a hoax.",
    )
    developments = [
        {"date": f"2025-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
         "summary": (f"Development number {i}: marine biologists at station {i} reviewed the footage again and "
                     "found that the so-called assembly was a feeding aggregation, as documented many times "
                     "before in the literature on cephalopod behaviour in deep trenches."),
         "outlet": "Ocean Weekly", "url": f"https://ocean.example.org/squid/{i}"}
        for i in range(45)
    ]
    huge = _claim(
        HUGE_ID, "Giant squids formed a parliament in the Mariana Trench.",
        [HUGE_TEXT, "Squid parliament discovered in the Mariana Trench"], "Giant squid", ["squids", "squid"],
        status="false", developments=developments,
    )
    return [iran, russia, long_one, huge]


def write_knowledge(root: Path) -> Path:
    (root / "claims").mkdir(parents=True, exist_ok=True)
    (root / "outlets").mkdir(exist_ok=True)
    for c in claims():
        (root / "claims" / f"{c['id']}.yaml").write_text(yaml.safe_dump(c, sort_keys=False, allow_unicode=True))
    (root / "outlets" / "ownership.yaml").write_text(yaml.safe_dump([{
        "domain": "rt.com", "name": "RT", "ownership": "state-funded", "country": "Russia",
        "note": "Funded by the Russian government.",
        "citation": {"outlet": "Example Review", "date": "2022-01-01", "headline": "Who funds RT"},
    }], sort_keys=False))
    return root


@pytest.fixture(scope="session")
def tg_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tgkb")
    return build_database(write_knowledge(root / "knowledge"), root / "knowledge.db")


@pytest.fixture(scope="session")
def tg_engine(tg_db: Path) -> Engine:
    return Engine(tg_db)


# --- harness ---------------------------------------------------------------------------------------

ADMIN, MEMBER, USER = 501, 502, 503
GROUP, LOG_CHAT = -100777, -100888


def make_settings(fake: FakeTelegram, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(state_path=tmp_path / "state.db", telegram_token=fake.token, telegram_api_base_url=fake.base_url,
                    allow_private_fetch=True, **kw)


@pytest.fixture
async def fake():
    async with FakeTelegram() as f:
        yield f


@pytest.fixture
def state(tmp_path: Path):
    s = StateStore(tmp_path / "state.db")
    yield s
    s.close()


@pytest.fixture
async def bot(fake: FakeTelegram, tg_engine: Engine, state: StateStore, tmp_path: Path):
    b = BotUnderTest(fake, make_settings(fake, tmp_path), tg_engine, state)
    await b.start()
    yield b
    await b.stop()
    assert fake.violations == [], f"flood limits violated: {fake.violations[:5]}"


def html_of(msg: dict[str, Any]) -> str:
    return msg["_html"]


def buttons(msg: dict[str, Any]) -> dict[str, str]:
    rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url") for row in rows for b in row}


def last_send_params(fake: FakeTelegram, chat_id: int) -> dict[str, Any]:
    return [c.params for c in fake.calls_to("sendMessage") if c.params["chat_id"] == chat_id][-1]


async def ask(fake: FakeTelegram, chat_id: int, text: str, user: int = USER, count: int = 1, **kw: Any) -> tuple[dict, list[dict]]:
    before = len(fake.sent(chat_id))
    msg = fake.message(chat_id, user, text, **kw)
    sent = await fake.wait_sent(chat_id, before + count)
    return msg, sent[before:]


def feedback_rows(state: StateStore) -> list[dict[str, Any]]:
    return state.feedback(status=None)


# --- commands --------------------------------------------------------------------------------------

async def test_commands_are_registered_and_help_has_an_example(fake: FakeTelegram, bot: BotUnderTest) -> None:
    default = fake.commands[json.dumps({"type": "default"})]
    names = {c["command"] for c in default}
    assert {"start", "help", "check", "about", "sources"} <= names
    admins = {c["command"] for c in fake.commands[json.dumps({"type": "all_chat_administrators"})]}
    assert {"moderation", "mute", "unmute", "flags"} <= admins
    for command in ("/start", "/help"):
        _, (reply,) = await ask(fake, USER, command)
        assert "Example" in reply["text"] and "/check" in reply["text"]


async def test_check_command_answers_with_an_html_card(fake: FakeTelegram, bot: BotUnderTest, tg_engine: Engine) -> None:
    msg, (reply,) = await ask(fake, USER, f"/check {IRAN_TEXT}")
    card = tg_engine.card(IRAN_ID)
    assert card is not None and card.statement in reply["text"]
    assert reply["reply_to_message"]["message_id"] == msg["message_id"]
    params = last_send_params(fake, USER)
    assert params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert set(buttons(reply)) == {"Sources", "Related", "Wrong match", "Helpful"}
    assert all(len(d.encode()) <= 64 for d in buttons(reply).values())


async def test_check_with_botname_and_without_argument(fake: FakeTelegram, bot: BotUnderTest) -> None:
    _, (reply,) = await ask(fake, USER, f"/check@{fake.username} {RUSSIA_TEXT}")
    assert "GRU" in reply["text"]
    _, (usage,) = await ask(fake, USER, "/check")
    assert "reply" in usage["text"] and "/check" in usage["text"]


async def test_check_as_a_reply_checks_the_replied_message(fake: FakeTelegram, bot: BotUnderTest) -> None:
    original = fake.message(GROUP, MEMBER, IRAN_TEXT)
    _, (reply,) = await ask(fake, GROUP, "/check", reply_to=original)
    assert reply["reply_to_message"]["message_id"] == original["message_id"]
    assert "Haqqani" in reply["text"]


async def test_private_text_is_checked_and_no_match_says_so(fake: FakeTelegram, bot: BotUnderTest) -> None:
    _, (card,) = await ask(fake, USER, RUSSIA_TEXT)
    assert "Status: Disputed" in card["text"]
    _, (none,) = await ask(fake, USER, NO_MATCH_TEXT)
    assert none["text"].startswith("No known claim matches")
    assert "report" in none["text"].lower() and "reply_markup" not in none


async def test_about_reports_the_knowledge_base(fake: FakeTelegram, bot: BotUnderTest, tg_engine: Engine) -> None:
    about = tg_engine.about()
    _, (reply,) = await ask(fake, USER, "/about")
    assert f"Claims: {about['claims']}" in reply["text"]
    assert about["last_reviewed"] in reply["text"] and "CC BY-SA 4.0" in reply["text"]


async def test_sources_by_id_and_by_text(fake: FakeTelegram, bot: BotUnderTest) -> None:
    _, (by_id,) = await ask(fake, USER, f"/sources {IRAN_ID}")
    assert "https://factcheck.example.org/iran-bounties" in by_id["text"]  # URLs spelled out in full
    assert "Iranian Foreign Ministry" in by_id["text"]
    _, (by_text,) = await ask(fake, USER, f"/sources {IRAN_TEXT}")
    assert by_text["text"] == by_id["text"]
    _, (unknown,) = await ask(fake, USER, "/sources no-such-claim-anywhere")
    assert unknown["text"].startswith("No known claim matches")


# --- inline mode -----------------------------------------------------------------------------------

async def test_inline_empty_query_gets_help(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.inline_query(USER, "")
    (call,) = await fake.wait_call("answerInlineQuery")
    (result,) = call.params["results"]
    assert result["type"] == "article" and "headline" in result["title"].lower()
    assert int(call.params["cache_time"]) <= 30


async def test_inline_query_returns_cards(fake: FakeTelegram, bot: BotUnderTest, tg_engine: Engine) -> None:
    fake.inline_query(USER, "Taliban bounties troops")
    (call,) = await fake.wait_call("answerInlineQuery")
    results = call.params["results"]
    assert 1 <= len(results) <= 10
    expected = {m.id for m in tg_engine.search("Taliban bounties troops", limit=10).matches}
    statements = {tg_engine.card(cid).statement for cid in expected}
    assert {r["title"] for r in results} <= statements and results
    for r in results:
        assert "\n" not in r["description"] and "sourcing" in r["description"]
        content = r["input_message_content"]
        assert content["parse_mode"] == "HTML" and utf16_len(parse_html(content["message_text"])) <= 4096
        assert content["link_preview_options"] == {"is_disabled": True}


async def test_inline_long_card_and_long_id_fit_telegram_limits(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.inline_query(USER, HUGE_TEXT)
    fake.inline_query(USER, LONG_TEXT)
    calls = await fake.wait_call("answerInlineQuery", 2)
    assert all(c.status == 200 for c in fake.calls_to("answerInlineQuery", ok_only=False))
    long_result = next(r for c in calls for r in c.params["results"] if "moon base" in r["title"])
    sources_url = next(b["url"] for row in long_result["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Sources")
    payload = sources_url.split("start=", 1)[1]
    assert len(payload) <= 64
    _, (reply,) = await ask(fake, USER, f"/start {payload}")  # the deep link opens the sources list
    assert "Sources for" in reply["text"] and "Daedalus" in reply["text"]


# --- links ------------------------------------------------------------------------------------------

@pytest.fixture
async def page_server():
    """A local news page whose headline is a known claim."""
    async with html_site({"/news/article": headline_page(IRAN_TEXT, "Body text.")}) as base:
        yield base


@pytest.fixture
async def link_bot(fake: FakeTelegram, tg_engine: Engine, state: StateStore, tmp_path: Path):
    from bot.links import LinkResolver

    resolver = LinkResolver(allow_private=True, total_timeout=5)
    b = BotUnderTest(fake, make_settings(fake, tmp_path), tg_engine, state, resolver)
    await b.start()
    yield b
    await b.stop()
    await resolver.aclose()


async def test_links_are_looked_up_through_the_safe_fetcher(fake: FakeTelegram, link_bot: BotUnderTest, page_server: str) -> None:
    _, (reply,) = await ask(fake, USER, f"look at this {page_server}/news/article")
    assert "Haqqani" in reply["text"]
    assert last_send_params(fake, USER)["link_preview_options"] == {"is_disabled": True}
    # a hidden text_link entity is followed too
    text = "you have to read this"
    _, (hidden,) = await ask(fake, USER, text, entities=[{"type": "text_link", "offset": 0, "length": 8,
                                                          "url": f"{page_server}/news/article?utm_source=x"}])
    assert "Haqqani" in hidden["text"]
    _, (cmd,) = await ask(fake, USER, f"/check {page_server}/news/article")
    assert "Haqqani" in cmd["text"]


async def test_links_to_internal_addresses_are_not_fetched_by_default(fake: FakeTelegram, tg_engine: Engine, state: StateStore,
                                                                     tmp_path: Path, page_server: str) -> None:
    from bot.links import LinkResolver

    resolver = LinkResolver()  # production default: loopback refused
    async with BotUnderTest(fake, make_settings(fake, tmp_path), tg_engine, state, resolver):
        _, (reply,) = await ask(fake, USER, f"{page_server}/news/article")
        assert reply["text"].startswith("No known claim matches")
    await resolver.aclose()


# --- buttons ---------------------------------------------------------------------------------------

async def test_sources_related_and_feedback_buttons(fake: FakeTelegram, bot: BotUnderTest, state: StateStore) -> None:
    msg, (card,) = await ask(fake, USER, IRAN_TEXT)
    b = buttons(card)
    before = len(fake.sent(USER))
    fake.press(USER, card, b["Sources"])
    (sources,) = (await fake.wait_sent(USER, before + 1))[before:]
    assert "https://factcheck.example.org/iran-bounties" in sources["text"]
    fake.press(USER, card, b["Related"])
    (related,) = (await fake.wait_sent(USER, before + 2))[before + 1:]
    assert RUSSIA_ID in related["text"]
    # the related list opens the related card
    fake.press(USER, related, buttons(related)[next(iter(buttons(related)))])
    (russia,) = (await fake.wait_sent(USER, before + 3))[before + 2:]
    assert "GRU" in russia["text"]

    fake.press(USER, card, b["Helpful"])
    fake.press(USER, card, b["Helpful"])  # a double tap is recorded once
    fake.press(USER, card, b["Wrong match"])
    answers = await fake.wait_call("answerCallbackQuery", 6)
    rows = feedback_rows(state)
    assert sorted(r["kind"] for r in rows) == ["helpful", "wrong"]
    wrong = next(r for r in rows if r["kind"] == "wrong")
    assert wrong["claim_id"] == IRAN_ID and wrong["text"] == IRAN_TEXT and wrong["platform"] == "telegram"
    assert wrong["chat_id"] == str(USER) and wrong["user_id"] == str(USER)
    assert any("already" in (c.params.get("text") or "") for c in answers)


async def test_long_cards_are_cut_with_a_more_button(fake: FakeTelegram, bot: BotUnderTest) -> None:
    _, (first,) = await ask(fake, USER, HUGE_TEXT)
    assert "More \u25b8" in buttons(first)
    assert utf16_len(first["text"]) <= 4096
    parse_html(html_of(first))  # well-formed on its own
    before = len(fake.sent(USER))
    fake.press(USER, first, buttons(first)["More \u25b8"])
    await fake.wait_for(lambda: any(HUGE_ID in m["text"] for m in fake.sent(USER)[before:]), 10, "the rest of the card")
    await fake.idle(0.3)
    rest = fake.sent(USER)[before:]
    whole = "\n".join(m["text"] for m in [first] + rest)
    for i in range(45):  # every development appears exactly once across the pages
        assert whole.count(f"Development number {i}:") == 1, i
    assert all(utf16_len(m["text"]) <= 4096 for m in rest) and len(rest) >= 1
    assert "id: " + HUGE_ID in whole.replace("\n", " ")


async def test_more_works_once_and_only_for_its_own_pages(fake: FakeTelegram, bot: BotUnderTest) -> None:
    """Telegram warns that a client can send any callback_data. A forged "More" named other references: a
    card's checked text ("k<chat>:<message>") was read as pages, one message per character (3,065 queued from
    one press) or, written as a JSON list, the user's own HTML posted as the bot's; and a real "More" pressed
    again posted every page again."""
    quoted = '"' + IRAN_TEXT + ' <b>OFFICIAL</b>"'  # valid JSON: the checked text stored for its card
    _, (card,) = await ask(fake, USER, quoted)
    before = len(fake.sent(USER))
    for forged in (f"m:k{USER}:{card['message_id']}", "m:_abc", "m:" + "m" + "0" * 16, "m:", "m:m" + "g" * 16):
        fake.press(USER, card, forged)
    await fake.idle(0.3)
    assert len(fake.sent(USER)) == before  # nothing posted
    answers = [c.params.get("text") or "" for c in fake.calls_to("answerCallbackQuery")]
    assert len(answers) == 5 and all(answers)  # every press answered (the expired-button text), none left hanging

    _, (first,) = await ask(fake, USER, HUGE_TEXT)
    more = buttons(first)["More \u25b8"]
    _, (other,) = await ask(fake, USER + 1, HUGE_TEXT, user=USER + 1)
    fake.press(USER + 1, other, more)  # this chat's pages key, pressed in another chat
    await fake.idle(0.3)
    assert fake.replies_to(USER + 1, other["message_id"]) == []
    before = len(fake.sent(USER))
    fake.press(USER, first, more)
    await fake.wait_for(lambda: any(HUGE_ID in m["text"] for m in fake.sent(USER)[before:]), 10, "the rest of the card")
    await fake.idle(0.3)
    posted = len(fake.sent(USER)) - before
    fake.press(USER, first, more)  # again: nothing more
    await fake.idle(0.3)
    assert len(fake.sent(USER)) - before == posted
    (edit,) = [c for c in fake.calls_to("editMessageReplyMarkup") if c.params.get("message_id") == first["message_id"]]
    kept = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]  # decoded by the fake
    assert "More \u25b8" not in kept and "Sources" in kept  # the card keeps its other buttons


async def test_long_claim_ids_fit_callback_data_and_markup_is_escaped(fake: FakeTelegram, bot: BotUnderTest) -> None:
    _, (card,) = await ask(fake, USER, LONG_TEXT)
    assert "<script>alert(1)</script>" in card["text"]  # shown literally, not parsed
    assert "&amp;" not in card["text"] and " & " in card["text"]
    assert "<script>" not in html_of(card)
    data = buttons(card)
    assert all(len(v.encode()) <= 64 for v in data.values())
    before = len(fake.sent(USER))
    fake.press(USER, card, data["Sources"])
    (sources,) = (await fake.wait_sent(USER, before + 1))[before:]
    assert LONG_ID in sources["text"]


# --- flood control and network errors ----------------------------------------------------------------

async def test_flood_wait_and_network_errors_do_not_lose_replies(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.fail_next("sendMessage", 1, kind="429", retry_after=1)
    _, (reply,) = await ask(fake, USER, IRAN_TEXT)
    assert "Haqqani" in reply["text"]
    fake.fail_next("sendMessage", 1, kind="disconnect")
    _, (again,) = await ask(fake, USER + 1, RUSSIA_TEXT)
    assert "GRU" in again["text"]
    await fake.idle(0.3)
    assert len(fake.sent(USER)) == 1 and len(fake.sent(USER + 1)) == 1  # once each, none lost
    assert [c.status for c in fake.calls_to("sendMessage", ok_only=False)].count(429) == 1


async def test_private_burst_stays_within_per_chat_limits(fake: FakeTelegram, bot: BotUnderTest) -> None:
    texts = [IRAN_TEXT, RUSSIA_TEXT, NO_MATCH_TEXT, HUGE_TEXT, LONG_TEXT, IRAN_TEXT]
    msgs = [fake.message(USER, USER, t) for t in texts]
    await fake.wait_sent(USER, len(texts), timeout=15)
    replies = [m["reply_to_message"]["message_id"] for m in fake.sent(USER)]
    assert replies == [m["message_id"] for m in msgs]  # in order, once each
    assert fake.violations == []


# --- hostile input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "<b><script>&amp; alert('x')</script></b> & <i>unclosed",
    "A" * 4096,
    ("Iran paid Taliban " * 300)[:4096],
    "US intel\u200bligence claims Ir\u0430n paid Tali\u200dban to kill Americ\u0430n troops",  # zero-width + Cyrillic a
    "\u202egnitset\u202c \ufeff\u2066 right-to-left override",
    "see http://[::1 and http://%zz and http://999.1.1.1:99999/x",
    "http://127.0.0.1:1/admin https://localhost/ http://169.254.169.254/latest/meta-data",
])
async def test_hostile_input_gets_a_valid_answer(fake: FakeTelegram, link_bot: BotUnderTest, text: str) -> None:
    _, (reply,) = await ask(fake, USER, text)
    assert reply["text"]  # the fake validated its HTML and length
    if "<script>" in text:
        assert "<script>" not in html_of(reply)


async def test_token_is_never_logged(fake: FakeTelegram, tg_engine: Engine, state: StateStore, tmp_path: Path,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fake.fail_next("sendMessage", 1, kind="disconnect")
    async with BotUnderTest(fake, make_settings(fake, tmp_path), tg_engine, state):
        await ask(fake, USER, IRAN_TEXT)
    assert caplog.records
    assert all(fake.token not in r.getMessage() for r in caplog.records)
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


# --- groups ------------------------------------------------------------------------------------------

async def test_group_with_privacy_mode_on(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.privacy_mode = True
    fake.message(GROUP, MEMBER, IRAN_TEXT)  # not delivered in privacy mode, and auto-moderation is off anyway
    m, (reply,) = await ask(fake, GROUP, f"/check {RUSSIA_TEXT}", user=MEMBER)
    assert reply["reply_to_message"]["message_id"] == m["message_id"]
    m2, (answer,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER, reply_to=reply)  # a reply to the bot
    assert "Haqqani" in answer["text"] and answer["reply_to_message"]["message_id"] == m2["message_id"]
    _, (mention,) = await ask(fake, GROUP, f"@{fake.username} {HUGE_TEXT}", user=MEMBER)
    assert "squid" in mention["text"].lower()
    await fake.idle(0.3)
    assert len(fake.sent(GROUP)) == 3


async def test_a_mention_of_another_bot_whose_name_begins_like_ours_is_not_for_us(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.privacy_mode = False  # every group message arrives; auto-moderation is off
    fake.message(GROUP, MEMBER, f"@{fake.username}_fake {HUGE_TEXT}")
    fake.message(GROUP, MEMBER, f"@{fake.username}2 {HUGE_TEXT}")
    _, (ours,) = await ask(fake, GROUP, f"@{fake.username.upper()}, {HUGE_TEXT}", user=MEMBER)  # ours, any case
    assert "squid" in ours["text"].lower()
    await fake.idle(0.3)
    assert len(fake.sent(GROUP)) == 1


@pytest.fixture
def two_asks(monkeypatch: pytest.MonkeyPatch) -> int:
    """A member's allowance of asks per minute in a group, lowered before the bot starts (each post to a group
    waits for the rate limiter, so the real six would make a slow test)."""
    import bot.chat.conversation as conversation

    monkeypatch.setattr(conversation, "ASKS_PER_WINDOW", 2)
    return 2


async def test_a_member_repeating_check_in_a_group_gets_a_bounded_number_of_cards(two_asks: int, fake: FakeTelegram,
                                                                                   bot: BotUnderTest) -> None:
    for _ in range(two_asks + 4):
        fake.message(GROUP, MEMBER, f"/check {IRAN_TEXT}")
    await fake.wait_sent(GROUP, two_asks + 1, timeout=20)
    await fake.idle(0.5)
    texts = [m["text"] for m in fake.sent(GROUP)]
    assert sum("Haqqani" in t for t in texts) == two_asks
    assert texts[-1] == "You are asking faster than I answer in this chat; ask again in a minute."
    assert len(texts) == two_asks + 1 and fake.violations == []
    _, (answer,) = await ask(fake, GROUP, f"/check {RUSSIA_TEXT}", user=USER)  # another member is answered
    assert "GRU" in answer["text"]


async def test_messages_from_bots_are_ignored(fake: FakeTelegram, bot: BotUnderTest) -> None:
    fake.message(USER, USER, IRAN_TEXT, from_user=fake.user(999, "OtherBot", is_bot=True))
    fake.message(USER, USER, IRAN_TEXT, from_user=fake.bot_user())
    fake.message(GROUP, USER, f"/check {IRAN_TEXT}", from_user=fake.user(998, "B", is_bot=True))
    fake.message(USER, USER, IRAN_TEXT, via_bot=True)  # our own inline card, posted by a user
    _, (reply,) = await ask(fake, USER, NO_MATCH_TEXT)  # a human after them is answered
    await fake.idle(0.3)
    assert fake.sent(GROUP) == [] and fake.sent(USER) == [reply]


# --- group auto-moderation -----------------------------------------------------------------------------

def moderation_or_skip(state: StateStore) -> Any:
    from bot.moderation import Moderation

    try:
        return Moderation(state)
    except NotImplementedError:
        pytest.skip("bot/moderation.py is not implemented yet (Moderation(...) raises NotImplementedError)")


@pytest.fixture
def mod(state: StateStore) -> Any:
    return moderation_or_skip(state)


async def admin_says(fake: FakeTelegram, text: str, chat: int = GROUP, user: int = ADMIN) -> dict[str, Any]:
    fake.set_member(chat, ADMIN, "administrator")
    _, (reply,) = await ask(fake, chat, text, user=user)
    return reply


async def test_moderation_commands_are_for_admins_only(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    refusal = await admin_says(fake, "/moderation on", user=MEMBER)
    assert "only the group's admins" in refusal["text"]
    assert not mod.settings("telegram", GROUP).enabled
    fake.set_member(GROUP, 600, "creator")
    saved = await admin_says(fake, "/moderation on", user=600)
    assert saved["text"].startswith("Saved.") and mod.settings("telegram", GROUP).enabled
    for i, cmd in enumerate(("/mute " + IRAN_ID, "/unmute " + IRAN_ID, "/flags", "/moderation cooldown 2")):
        refused = await admin_says(fake, cmd, chat=GROUP - 1 - i, user=MEMBER)
        assert "only the group's admins" in refused["text"]
    _, (private,) = await ask(fake, USER, "/moderation on")
    assert "work in groups" in private["text"]
    bad = await admin_says(fake, "/moderation cooldown lots")
    assert bad["text"].startswith("Not changed")
    bad_mode = await admin_says(fake, "/moderation mode notify")  # needs a log chat first
    assert bad_mode["text"].startswith("Not changed") and "log" in bad_mode["text"]
    assert mod.settings("telegram", GROUP).cooldown_s == 6 * 3600


async def test_auto_moderation_reply_cooldown_mute_and_flags(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    await admin_says(fake, "/moderation on")
    chatter = fake.message(GROUP, MEMBER, NO_MATCH_TEXT)
    first, (card,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)
    assert card["reply_to_message"]["message_id"] == first["message_id"] and "Haqqani" in card["text"]
    repeat = fake.message(GROUP, MEMBER, "Iran paid the Haqqani network for the Bagram air base attack")
    await admin_says(fake, f"/mute {RUSSIA_ID}")
    muted = fake.message(GROUP, MEMBER, RUSSIA_TEXT)
    flags = await admin_says(fake, "/flags")
    await fake.idle(0.3)
    answered = {m["reply_to_message"]["message_id"] for m in fake.sent(GROUP)}
    assert first["message_id"] in answered
    assert not answered & {chatter["message_id"], repeat["message_id"], muted["message_id"]}
    assert IRAN_ID in flags["text"] and "cooldown" in flags["text"]
    assert mod.settings("telegram", GROUP).muted == {RUSSIA_ID}
    unknown = await admin_says(fake, "/mute no-such-claim")
    assert "No claim has the id" in unknown["text"]


async def test_notify_mode_posts_to_the_log_chat_with_a_link(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    fake.chat(GROUP, title="<b>Evil</b> & Co", username="evilgroup")
    fake.chat(LOG_CHAT, title="Mods")
    fake.set_member(LOG_CHAT, ADMIN, "administrator")  # the admin runs the log chat too
    await admin_says(fake, "/moderation on")
    probe_before = len(fake.sent(LOG_CHAT))
    await admin_says(fake, f"/moderation log {LOG_CHAT}")
    assert len(fake.sent(LOG_CHAT)) == probe_before + 1  # the log chat was told
    await admin_says(fake, "/moderation mode notify")
    s = mod.settings("telegram", GROUP)
    assert s.mode == "notify" and s.log_chat_id == str(LOG_CHAT)
    msg = fake.message(GROUP, MEMBER, RUSSIA_TEXT)
    (notice,) = (await fake.wait_sent(LOG_CHAT, probe_before + 2))[probe_before + 1:]
    assert "<b>Evil</b> & Co" in notice["text"] and "GRU" in notice["text"]
    assert f'href="https://t.me/evilgroup/{msg["message_id"]}"' in html_of(notice)
    await fake.idle(0.3)
    assert [m for m in fake.sent(GROUP) if m["reply_to_message"]["message_id"] == msg["message_id"]] == []


async def test_the_log_chat_must_be_one_the_admin_runs(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    """An admin of their own group named someone's private chat with the bot, or another group the bot is in, as
    the log: the bot posted the probe there (with the group's title as bait) and then every notice."""
    victim_group = LOG_CHAT - 1
    fake.chat(GROUP, title="URGENT: click t.me/evil to keep your account")
    fake.chat(victim_group, title="Victim group")
    for target in (USER, victim_group):
        refused = await admin_says(fake, f"/moderation log {target}")
        assert refused["text"] == "Not changed: you are not an admin of that chat."
        assert fake.sent(target) == []  # not even the probe
    assert mod.settings("telegram", GROUP).log_chat_id is None
    fake.message(ADMIN, ADMIN, "/start")  # the admin's own private chat with the bot: theirs to use
    await fake.wait_sent(ADMIN, 1)
    saved = await admin_says(fake, f"/moderation log {ADMIN}")
    assert saved["text"].startswith("Saved.") and mod.settings("telegram", GROUP).log_chat_id == str(ADMIN)


async def test_quiet_hours_and_zero_cooldown(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    await admin_says(fake, "/moderation on")
    await admin_says(fake, "/moderation cooldown 0")
    _, (one,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)
    _, (two,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)  # no cooldown: flagged again
    hour = time.gmtime().tm_hour
    await admin_says(fake, f"/moderation quiet {hour}-{(hour + 1) % 24}")
    quiet = fake.message(GROUP, MEMBER, RUSSIA_TEXT)
    await fake.idle(0.4)
    assert not fake.replies_to(GROUP, quiet["message_id"])
    assert mod.recent_flags("telegram", GROUP, 1)[0]["reason"] == "quiet hours"


async def test_admin_wrong_match_stops_auto_flagging(fake: FakeTelegram, bot: BotUnderTest, mod: Any, state: StateStore) -> None:
    await admin_says(fake, "/moderation on")
    await admin_says(fake, "/moderation cooldown 0")
    _, (card,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)
    fake.press(MEMBER, card, buttons(card)["Wrong match"])  # a member's report is queued, no effect yet
    await fake.wait_call("answerCallbackQuery", 1)
    _, (again,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)
    fake.press(ADMIN, again, buttons(again)["Wrong match"])
    await fake.wait_call("answerCallbackQuery", 2)
    rows = [r for r in feedback_rows(state) if r["kind"] == "wrong"]
    assert sorted(r["is_admin"] for r in rows) == [0, 1] and all(r["text"] == IRAN_TEXT for r in rows)
    blocked = fake.message(GROUP, MEMBER, IRAN_TEXT)
    await fake.idle(0.4)
    assert not fake.replies_to(GROUP, blocked["message_id"])
    assert mod.recent_flags("telegram", GROUP, 1)[0]["message_id"] != str(blocked["message_id"])


async def test_edited_messages_are_rechecked_once(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    await admin_says(fake, "/moderation on")
    msg = fake.message(GROUP, MEMBER, NO_MATCH_TEXT)
    await fake.idle(0.2)
    edited = fake.edit(msg, RUSSIA_TEXT)
    (card,) = await fake.wait_for(lambda: fake.replies_to(GROUP, msg["message_id"]), 5, "the edit's card")
    assert "GRU" in card["text"]
    fake.edit(edited, IRAN_TEXT)  # a second edit is not re-checked
    fake.edit(edited, HUGE_TEXT)
    await fake.idle(0.4)
    assert len(fake.replies_to(GROUP, msg["message_id"])) == 1


async def test_flood_of_1000_group_messages_within_limits(fake: FakeTelegram, bot: BotUnderTest, mod: Any) -> None:
    await admin_says(fake, "/moderation on")
    texts = [IRAN_TEXT, RUSSIA_TEXT, NO_MATCH_TEXT, "lol", HUGE_TEXT, "anyone here?", LONG_TEXT, "Iran paid the Haqqani network"]
    flood = [fake.message(GROUP, 1000 + i % 50, f"{texts[i % len(texts)]}") for i in range(1000)]
    await bot.settle(timeout=40)
    cards = [m for m in fake.sent(GROUP) if m.get("reply_markup") and m["reply_to_message"]["message_id"] >= flood[0]["message_id"]]
    claim_lines = [m["text"].split("\n", 1)[0] for m in cards]
    assert len(claim_lines) == len(set(claim_lines)) == 4  # one card per known claim in the cooldown
    assert fake.violations == []
    decided = state_count(mod.state, "SELECT COUNT(*) FROM decisions")
    assert decided >= 4


def state_count(state: StateStore, sql: str) -> int:
    return int(next(iter(state.query(sql)[0].values())))


# --- operation ---------------------------------------------------------------------------------------

async def test_restart_keeps_buttons_settings_and_cooldowns(fake: FakeTelegram, tg_engine: Engine, tmp_path: Path) -> None:
    settings = make_settings(fake, tmp_path)
    state = StateStore(settings.state_path)
    moderation_or_skip(state)
    async with BotUnderTest(fake, settings, tg_engine, state):
        await admin_says(fake, "/moderation on")
        _, (long_card,) = await ask(fake, USER, LONG_TEXT)
        _, (huge,) = await ask(fake, USER + 1, HUGE_TEXT)
        _, (flagged,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER)
    state.close()
    state = StateStore(settings.state_path)  # a new process: new Application, same state file
    try:
        async with BotUnderTest(fake, settings, tg_engine, state):
            before = len(fake.sent(USER))
            fake.press(USER, long_card, buttons(long_card)["Sources"])  # hashed id resolved after restart
            (sources,) = (await fake.wait_sent(USER, before + 1))[before:]
            assert LONG_ID in sources["text"]
            fake.press(USER + 1, huge, buttons(huge)["More \u25b8"])
            await fake.wait_sent(USER + 1, 2)
            repeat = fake.message(GROUP, MEMBER, IRAN_TEXT)  # still in cooldown, still enabled
            _, (status,) = await ask(fake, GROUP, "/moderation", user=ADMIN)
            assert "Moderation: on" in status["text"]
            assert not fake.replies_to(GROUP, repeat["message_id"])
    finally:
        state.close()


async def test_webhook_mode(fake: FakeTelegram, tg_engine: Engine, state: StateStore, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(fake, tmp_path, telegram_webhook_url=f"http://127.0.0.1:{port}/tg-hook",
                             telegram_webhook_listen="127.0.0.1", telegram_webhook_port=port,
                             telegram_webhook_secret="s3cret-token")
    from bot.adapters.telegram import run_telegram

    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(settings, tg_engine, state, None, stop))
    try:
        await fake.wait_call("setWebhook", 1, timeout=10)
        hook = fake.calls_to("setWebhook")[0].params
        assert hook["url"] == f"http://127.0.0.1:{port}/tg-hook" and hook["secret_token"] == "s3cret-token"
        msg = fake.message(USER, USER, IRAN_TEXT, queue=False)
        async with ClientSession() as http:
            for _ in range(50):  # the listener may take a moment to bind
                try:
                    async with http.post(f"http://127.0.0.1:{port}/tg-hook", json={"update_id": 1, "message": msg},
                                         headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                        assert r.status == 403
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            async with http.post(f"http://127.0.0.1:{port}/tg-hook", json={"update_id": 2, "message": msg},
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as r:
                assert r.status == 200
        (reply,) = await fake.wait_sent(USER, 1)
        assert "Haqqani" in reply["text"]
        assert fake.calls_to("getUpdates", ok_only=False) == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_an_engine_failure_gets_a_clear_answer(fake: FakeTelegram, tg_engine: Engine, state: StateStore,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("knowledge database unreadable")

    async with BotUnderTest(fake, make_settings(fake, tmp_path), tg_engine, state) as b:
        monkeypatch.setattr(b.adapter.engine, "check", broken)
        _, (reply,) = await ask(fake, USER, IRAN_TEXT)
        assert reply["text"].startswith("Sorry, something went wrong")
        monkeypatch.undo()
        _, (ok,) = await ask(fake, USER, IRAN_TEXT)  # and the bot carries on
        assert "Haqqani" in ok["text"]

"""A Russian-speaking Telegram user, end to end: the real python-telegram-bot stack against the fake Telegram
server, the shipped knowledge (whose claims carry Russian statements): a Russian card, Russian buttons and
button answers, Russian help, and the command menu set for language_code "ru"."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakes importable under any runner

from bot.adapters.telegram.app import ADMIN, PUBLIC  # noqa: E402
from bot.chat.i18n import TRANSLATED, translator  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine.service import Engine  # noqa: E402
from bot.state import StateStore  # noqa: E402
from tests.fakes.telegram_api import BotUnderTest, FakeTelegram  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

RU_USER, EN_USER, PT_USER = 601, 602, 603
IRAN_ID = "iran-taliban-bounties-2020"
IRAN = "US intelligence claims Iran paid Taliban to kill American troops"
RU = translator("ru")


@pytest.fixture
async def fake():
    async with FakeTelegram() as f:
        f.user_languages.update({RU_USER: "ru", PT_USER: "pt-br"})
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram, engine: Engine, tmp_path: Path):
    state = StateStore(tmp_path / "state.db")
    settings = Settings(state_path=tmp_path / "state.db", telegram_token=fake.token, telegram_api_base_url=fake.base_url)
    b = BotUnderTest(fake, settings, engine, state)
    await b.start()
    yield b
    await b.stop()
    state.close()
    assert fake.violations == []


async def ask(fake: FakeTelegram, user: int, text: str) -> dict[str, Any]:
    before = len(fake.sent(user))
    fake.message(user, user, text)
    return (await fake.wait_sent(user, before + 1, timeout=15))[-1]


def buttons(msg: dict[str, Any]) -> dict[str, str]:
    rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url") for row in rows for b in row}


async def test_a_russian_user_gets_a_russian_card(fake: FakeTelegram, bot: BotUnderTest, engine: Engine) -> None:
    reply = await ask(fake, RU_USER, f"/check {IRAN}")
    ru_card, en_card = engine.card(IRAN_ID, lang="ru"), engine.card(IRAN_ID)
    assert ru_card is not None and en_card is not None and ru_card.lang == "ru"
    text = reply["text"]
    assert ru_card.statement in text and en_card.statement not in text  # the claim in Russian
    assert ru_card.status_note in text
    for label in ("Claim:", "Status:", "First report", "Denials and disputes"):  # the footer is on a later page
        assert RU(label) in text, label
    assert RU("Unproven") in text and "Claim:" not in text and "Status:" not in text
    assert RU("Shown in English: there is no translation of this claim into this language yet.") not in text
    labels = buttons(reply)
    assert {RU("Sources"), RU("Wrong match"), RU("Helpful")} <= set(labels)

    # a button press answers in Russian too: the sources list, then a feedback receipt
    before = len(fake.sent(RU_USER))
    fake.press(RU_USER, reply, labels[RU("Sources")])
    sources = (await fake.wait_sent(RU_USER, before + 1, timeout=15))[-1]
    assert sources["text"].startswith(RU("Sources for:")) and ru_card.statement in sources["text"]
    fake.press(RU_USER, reply, labels[RU("Helpful")])
    await fake.wait_for(lambda: any(c.params.get("text") == RU("Thanks for the feedback!")
                                    for c in fake.calls_to("answerCallbackQuery")), 10, "a Russian receipt")


async def test_the_same_check_stays_english_for_english_and_unsupported_languages(fake: FakeTelegram, bot: BotUnderTest,
                                                                                   engine: Engine) -> None:
    card = engine.card(IRAN_ID)
    assert card is not None
    for user in (EN_USER, PT_USER):  # no language_code; Portuguese (no catalogue): English
        reply = await ask(fake, user, f"/check {IRAN}")
        assert card.statement in reply["text"] and "Claim:" in reply["text"] and "Sources" in buttons(reply)


async def test_help_is_russian(fake: FakeTelegram, bot: BotUnderTest) -> None:
    reply = await ask(fake, RU_USER, "/help")
    assert RU("Send me a headline or a link, or use:") in reply["text"]
    assert RU("US intelligence claims Iran paid Taliban to kill American troops") in reply["text"]
    assert "/check" in reply["text"] and "/sources" in reply["text"]  # command names stay as typed


async def test_the_command_menu_is_set_per_language(fake: FakeTelegram, bot: BotUnderTest) -> None:
    calls = fake.calls_to("setMyCommands")
    languages = {(json.loads(json.dumps(c.params.get("scope") or {})).get("type"), c.params.get("language_code") or "")
                 for c in calls}
    for lang in ("", *TRANSLATED):
        assert ("default", lang) in languages and ("all_chat_administrators", lang) in languages
    ru_menu = fake.commands_for("ru")
    assert [c["command"] for c in ru_menu] == [name for name, _ in PUBLIC]
    assert [c["description"] for c in ru_menu] == [RU(d) for _, d in PUBLIC]
    assert all(c["description"] != d for c, (_, d) in zip(ru_menu, PUBLIC))  # really Russian, not the English list
    admin_ru = fake.commands_for("ru", "all_chat_administrators")
    assert [c["description"] for c in admin_ru] == [RU(d) for _, d in ADMIN]
    assert fake.commands_for("pt") == fake.commands_for("")  # no Portuguese list: Telegram shows the default one

"""Discord in the user's language, end to end: discord.py's real HTTP and gateway code against the fake
Discord, on the shipped knowledge (whose claims carry Arabic, German... statements). Synced commands carry
translated descriptions for the Discord locales we have catalogues for; an interaction whose locale is `ar`
(not a Discord client locale, but the fake can send it) gets an Arabic card whose text runs are wrapped in
directional isolates; a server's preferred locale sets the language of gateway replies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, AsyncIterator

import discord
import pytest

from bot.adapters.discord import render
from bot.chat.i18n import translator
from bot.engine.service import Engine

try:
    from tests.fakes.discord_api import DISCORD_LOCALES, BotHarness, Call, validate_message
except ImportError:  # tests/ itself on sys.path
    from fakes.discord_api import DISCORD_LOCALES, BotHarness, Call, validate_message  # type: ignore[no-redef]

IRAN = "US intelligence claims Iran paid Taliban to kill American troops"
IRAN_ID = "iran-taliban-bounties-2020"
AR, RU, DE = translator("ar"), translator("ru"), translator("de")
FSI, PDI = "\u2068", "\u2069"


@pytest.fixture
async def bot(knowledge_db: Path, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(knowledge_db, tmp_path / "state.db") as h:
        yield h
    assert h.fake.errors() == [], [(c.path, c.status, c.response) for c in h.fake.errors()]


async def answer(h: BotHarness, payload: dict) -> list[Call]:
    iid = await h.fake.interact(payload)
    return await h.fake.wait_interaction_done(iid, timeout=15)


def visible(calls: list[Call]) -> list[dict]:
    return [c.message_payload for c in calls if c.creates_message and 200 <= c.status < 300]


def isolated(text: str) -> bool:
    """Every non-empty line is one first-strong isolate, and isolates pair up."""
    lines = [x for x in text.split("\n") if x.strip()]
    return bool(lines) and all(x.lstrip("\u2022 ").startswith(FSI) and x.endswith(PDI) for x in lines) and \
        text.count(FSI) == text.count(PDI)


async def test_synced_commands_carry_localised_descriptions(bot: BotHarness) -> None:
    check = bot.fake.command_spec("check")
    localized = check["description_localizations"]
    assert localized["ru"] == RU("Check a headline, claim or link against the known claims")
    assert localized["de"] == DE("Check a headline, claim or link against the known claims")
    assert {"es-ES", "es-419", "fr", "tr", "uk"} <= set(localized) <= DISCORD_LOCALES  # no "ar", no "fa": not Discord locales
    assert not check.get("name_localizations")  # /check is typed the same in every language
    option = check["options"][0]
    assert option["description_localizations"]["ru"] == RU("The headline, claim or URL to check")
    mod = bot.fake.command_spec("moderation")
    assert mod["description_localizations"]["de"] == DE("Auto-flag known claims in this server")
    quiet = next(o for o in mod["options"] if o["name"] == "quiet")
    assert quiet["options"][0]["description_localizations"]["ru"] == RU("Hour 0-23 UTC when quiet starts")
    menu = bot.fake.command_spec("Check claim", 3)
    assert menu["name_localizations"]["de"] == DE("Check claim") != "Check claim"


async def test_an_arabic_interaction_gets_an_arabic_rtl_safe_card(bot: BotHarness, engine: Engine) -> None:
    fake = bot.fake
    text = "عاجل: iran paid the Taliban https://example.com/a?b=1 ## 2020"
    calls = await answer(bot, fake.slash("check", {"text": IRAN + " " + text}, locale="ar"))
    payload = visible(calls)[0]
    validate_message(payload)  # every Discord limit, the isolates counted
    embed = payload["embeds"][0]
    card = engine.card(IRAN_ID, lang="ar")
    assert card is not None and card.lang == "ar"
    assert embed["title"] == f"{FSI}{card.statement}{PDI}"
    assert AR("Unproven") in embed["description"] and isolated(embed["description"])
    assert embed["author"]["name"].startswith(AR("Checked:") + " " + FSI) and embed["author"]["name"].endswith(PDI)
    names = [f["name"] for f in embed["fields"]]
    assert names[0] == AR("First report") and AR("Related claims") in names
    for field in embed["fields"]:
        assert isolated(field["value"]), field
    related = next(f for f in embed["fields"] if f["name"] == AR("Related claims"))
    assert f"{FSI}`russia-gru-taliban-bounties-2020`{PDI}" in related["value"]  # the Latin id isolated inside Arabic
    assert re.search(rf"id: {FSI}{IRAN_ID}{PDI}$", embed["footer"]["text"])
    labels = [b["label"] for row in payload["components"] for b in row["components"]]
    assert labels[0] == AR("Sources") and AR("Helpful") in labels

    # a card read back after a restart: the id from the footer, the checked text from the author line
    e = discord.Embed.from_dict(embed)
    assert render.claim_id_of(e) == IRAN_ID
    assert render.checked_text_of(e) == IRAN + " " + text

    # a button on the card, pressed by the Arabic user: the sources list in Arabic, isolated
    card_msg = fake.messages[int(calls[0].response["resource"]["message"]["id"])]
    src = visible(await answer(bot, fake.button(card_msg, f"cc:s:{IRAN_ID}", locale="ar")))[0]
    validate_message(src)
    assert src["embeds"][0]["title"] == FSI + AR("Sources: {claim}", claim=card.statement) + PDI


async def test_a_russian_interaction_gets_a_russian_card(bot: BotHarness, engine: Engine) -> None:
    payload = visible(await answer(bot, bot.fake.slash("check", {"text": IRAN}, locale="ru")))[0]
    card = engine.card(IRAN_ID, lang="ru")
    assert card is not None
    embed = payload["embeds"][0]
    assert embed["title"] == card.statement and FSI not in embed["title"]  # left-to-right: no isolates
    assert embed["fields"][0]["name"] == RU("First report")


async def test_gateway_replies_follow_the_servers_preferred_locale(knowledge_db: Path, tmp_path: Path, engine: Engine) -> None:
    h = BotHarness(knowledge_db, tmp_path / "state.db")
    h.fake.guild_locale = "de"
    async with h:
        fake = h.fake
        await fake.send_message(f"<@{fake.bot_user['id']}> {IRAN}", mentions=[fake.bot_user])
        got = await fake.wait_for(lambda c: c.status == 200 and isinstance(c.json, dict)
                                  and bool(c.json.get("message_reference")), timeout=15)
        embed = got[0].json["embeds"][0]
        card = engine.card(IRAN_ID, lang="de")
        assert card is not None and embed["title"] == card.statement
        assert embed["fields"][0]["name"] == DE("First report")
        assert fake.errors() == []


def test_arabic_and_persian_are_not_discord_locales() -> None:
    """Why ar/fa users see English command descriptions: Discord has no such client locale."""
    values = {loc.value for loc in discord.Locale}
    assert "ar" not in values and "fa" not in values and {"ru", "uk", "tr", "fr", "de", "es-ES"} <= values
    assert values <= DISCORD_LOCALES

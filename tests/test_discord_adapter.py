"""The Discord adapter end to end: discord.py's real HTTP, rate-limit and gateway code against the local
fake Discord (tests/fakes/discord_api.py), the real Engine on a knowledge DB built once per session, and
the real StateStore/Moderation in a temporary SQLite file."""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.engine.service import Engine
from bot.engine.store import build_database
from bot.moderation import Moderation
from bot.state import StateStore
from tests.fakes.pages import headline_page, html_site

try:
    from tests.fakes.discord_api import BotHarness, Call, FakeDiscord, validate_message, write_test_knowledge
except ImportError:  # tests/ itself on sys.path (pytest's rootdir-less import mode)
    from fakes.discord_api import BotHarness, Call, FakeDiscord, validate_message, write_test_knowledge  # type: ignore[no-redef]


IRAN = "US intelligence claims Iran paid Taliban to kill American troops"
RUSSIA = "Russia secretly offered Afghan militants bounties to kill US troops"
FIVEG = "5G towers are spreading coronavirus"
CHATTER = "what time is the meeting tomorrow, anyone know?"
NO_MENTIONS = {"parse": []}


@pytest.fixture(scope="session")
def discord_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("discord-kb")
    write_test_knowledge(root / "knowledge")
    return build_database(root / "knowledge", root / "knowledge.db")


@pytest.fixture(scope="session")
def discord_engine(discord_db: Path) -> Engine:
    return Engine(discord_db)


def assert_clean(fake: FakeDiscord) -> None:
    """What every test checks at the end: Discord rejected nothing, and no message could ping anyone."""
    assert fake.errors() == [], [(c.method, c.path, c.status, c.response) for c in fake.errors()]
    for c in fake.calls:
        if c.creates_message:
            am = c.message_payload.get("allowed_mentions")
            assert am is not None and am.get("parse") == [], (c.path, c.message_payload)
            assert not am.get("users") and not am.get("roles") and not am.get("replied_user"), (c.path, am)


@asynccontextmanager
async def running_bot(db: Path, state: Path, **kwargs: Any) -> AsyncIterator[BotHarness]:
    """The real client against a fresh fake; on exit, every recorded call must have been clean."""
    h = BotHarness(db, state, **kwargs)
    await h.start()
    try:
        yield h
    finally:
        await h.close()
        await h.fake.close()
    assert_clean(h.fake)


@pytest.fixture
async def bot(discord_db: Path, tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(discord_db, tmp_path / "state.db") as h:
        yield h


async def answer(h: BotHarness, payload: dict, *, followups: int = 0, timeout: float = 10) -> list[Call]:
    iid = await h.fake.interact(payload)
    return await h.fake.wait_interaction_done(iid, followups=followups, timeout=timeout)


def visible(calls: list[Call]) -> list[dict]:
    """Message payloads the user ends up seeing, in order."""
    return [c.message_payload for c in calls if c.creates_message and 200 <= c.status < 300]


def custom_ids(payload: dict) -> list[str]:
    return [b["custom_id"] for row in payload.get("components") or [] for b in row["components"] if "custom_id" in b]


async def settle(seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)


# --- start-up and operation ----------------------------------------------------------------------------

async def test_startup_uses_the_configured_endpoints_and_syncs_commands_globally(bot: BotHarness) -> None:
    fake = bot.fake
    assert fake.identify_payloads and fake.identify_payloads[0]["token"] == fake.token
    assert any(c.path == "/users/@me" for c in fake.calls)
    names = {(c["type"], c["name"]) for c in fake.commands[None]}
    assert {(1, "check"), (1, "sources"), (1, "about"), (1, "moderation"), (1, "flags"), (3, "Check claim")} <= names
    mod = fake.command_spec("moderation")
    subs = {o["name"]: o for o in mod["options"]}
    assert set(subs) >= {"on", "off", "mode", "log", "cooldown", "quiet", "mute", "unmute"}
    assert [o["name"] for o in subs["quiet"]["options"]] == ["from", "to"]
    assert int(mod["default_member_permissions"]) & (1 << 13)  # Manage Messages
    assert bot.client.allowed_mentions.to_dict() == NO_MENTIONS


async def test_guild_scoped_sync_when_a_guild_id_is_set(discord_db: Path, tmp_path: Path) -> None:
    async with BotHarness(discord_db, tmp_path / "s.db", guild_id=True) as h:
        assert None not in h.fake.commands
        assert {c["name"] for c in h.fake.commands[h.fake.guild_id]} >= {"check", "sources", "Check claim"}
        calls = await answer(h, h.fake.slash("check", {"text": IRAN}))
        assert visible(calls)[0]["embeds"][0]["title"].startswith("Iran paid bounties")
        assert_clean(h.fake)


async def test_sharded_client_connects_to_the_configured_gateway_and_answers(discord_db: Path, tmp_path: Path) -> None:
    # Discord's /gateway/bot names its own gateway; the configured override must still win.
    async with BotHarness(discord_db, tmp_path / "s.db", sharded=True, bot_gateway_url="ws://127.0.0.1:9/elsewhere") as h:
        await h.fake.wait_identified(2)
        assert any(c.path == "/gateway/bot" for c in h.fake.calls)
        assert sorted(tuple(p["shard"]) for p in h.fake.identify_payloads) == [(0, 2), (1, 2)]
        calls = await answer(h, h.fake.slash("check", {"text": FIVEG}))
        assert visible(calls)[0]["embeds"][0]["title"].startswith("5G mobile networks")
        assert_clean(h.fake)


async def test_reconnect_resumes_at_the_configured_gateway_and_keeps_answering(discord_db: Path, tmp_path: Path) -> None:
    # READY's resume_gateway_url points elsewhere (as Discord's does); resuming must stay on the override.
    async with BotHarness(discord_db, tmp_path / "s.db", resume_gateway_url="ws://127.0.0.1:9/elsewhere") as h:
        before = len(h.fake.identify_payloads)
        await h.fake.reconnect_all()
        await h.fake.wait_identified(1)
        assert len(h.fake.identify_payloads) == before and h.fake.resumes == 1  # resumed (op 6), not re-identified
        calls = await answer(h, h.fake.slash("check", {"text": IRAN}))
        assert visible(calls)
        assert_clean(h.fake)


async def test_run_discord_shuts_down_on_stop_and_never_logs_the_token(discord_db: Path, tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = BotHarness(discord_db, tmp_path / "s.db")
    await h.start()
    await answer(h, h.fake.slash("about"))
    h.stop.set()
    await asyncio.wait_for(h._task, 10)  # type: ignore[arg-type]
    assert h._task.exception() is None and h.client.is_closed()  # type: ignore[union-attr]
    await h.close()
    await h.fake.close()
    assert caplog.records and not any(h.fake.token in r.getMessage() for r in caplog.records)


async def test_run_discord_refuses_to_start_without_a_token(discord_engine: Engine, tmp_path: Path) -> None:
    from bot.adapters.discord import run_discord
    from bot.config import Settings

    state = StateStore(tmp_path / "s.db")
    with pytest.raises(RuntimeError, match="DISCORD_BOT_TOKEN"):
        await run_discord(Settings(discord_token=""), discord_engine, state, None)
    state.close()


# --- commands ------------------------------------------------------------------------------------------

async def test_check_answers_with_the_engines_card_as_an_embed(bot: BotHarness, discord_engine: Engine) -> None:
    calls = await answer(bot, bot.fake.slash("check", {"text": IRAN}))
    assert calls[0].json["type"] == 4  # local check: answered directly
    expected = discord_engine.check(IRAN).card
    assert expected is not None
    embed = visible(calls)[0]["embeds"][0]
    assert embed["title"] == expected.statement
    assert expected.claim_id in embed["footer"]["text"]
    assert [f["name"] for f in embed["fields"]][:1] == ["First report"]
    assert any(f["name"] == "Related claims" and expected.related[0].id in f["value"] for f in embed["fields"])
    ids = custom_ids(visible(calls)[0])
    assert ids == [f"cc:{k}:{expected.claim_id}" for k in "srwh"]


async def test_check_without_a_match_says_so_and_has_no_buttons(bot: BotHarness) -> None:
    calls = await answer(bot, bot.fake.slash("check", {"text": CHATTER}))
    payload = visible(calls)[0]
    assert payload["embeds"][0]["title"].startswith("No known claim")
    assert custom_ids(payload) == []


async def test_sources_autocomplete_offers_claims_within_discords_limits(bot: BotHarness, discord_engine: Engine) -> None:
    calls = await answer(bot, bot.fake.slash("sources", {"claim": "taliban"}, focused="claim"))
    cb = [c for c in calls if c.path.endswith("/callback")][0]
    assert cb.json["type"] == 8
    choices = cb.json["data"]["choices"]
    assert [c["value"] for c in choices] == [cid for cid, _ in discord_engine.complete_claims("taliban", limit=25)]
    assert choices and all(1 <= len(c["name"]) <= 100 for c in choices)
    # an empty prefix lists at most 25
    calls = await answer(bot, bot.fake.slash("sources", {"claim": ""}, focused="claim"))
    assert len([c for c in calls if c.path.endswith("/callback")][0].json["data"]["choices"]) <= 25


async def test_sources_lists_every_cited_item(bot: BotHarness, discord_engine: Engine) -> None:
    card = discord_engine.card("iran-taliban-bounties-2020")
    assert card is not None
    calls = await answer(bot, bot.fake.slash("sources", {"claim": card.claim_id}))
    text = "\n".join(f["value"] for f in visible(calls)[0]["embeds"][0]["fields"])
    for item in (card.first_report, *card.denials, *card.developments):
        assert item.date in text
    assert card.fact_checks[0].publisher in text


async def test_sources_for_an_unknown_id_is_a_polite_ephemeral_error(bot: BotHarness) -> None:
    calls = await answer(bot, bot.fake.slash("sources", {"claim": "no-such-claim @everyone"}))
    payload = visible(calls)[0]
    assert payload["flags"] & 64 and "@everyone" not in payload["content"]


async def test_about_reports_the_knowledge_base(bot: BotHarness, discord_engine: Engine) -> None:
    calls = await answer(bot, bot.fake.slash("about"))
    payload = visible(calls)[0]
    assert payload["flags"] & 64
    values = " ".join(f["value"] for f in payload["embeds"][0]["fields"])
    assert str(discord_engine.about()["claims"]) in values


async def test_check_claim_context_menu_works_without_the_message_content_intent(discord_db: Path, tmp_path: Path) -> None:
    import discord

    no_content = discord.Intents.default()
    no_content.message_content = False
    async with BotHarness(discord_db, tmp_path / "s.db", client_options={"intents": no_content}) as h:
        msg = await h.fake.send_message(RUSSIA)  # the gateway strips its content: no intent
        await settle(0.1)
        cached = h.client.get_channel(h.fake.channel_id)
        assert cached is not None
        calls = await answer(h, h.fake.message_command("Check claim", msg))
        embed = visible(calls)[0]["embeds"][0]
        assert embed["title"].startswith("Russian military intelligence")
        assert_clean(h.fake)


# --- buttons and feedback ------------------------------------------------------------------------------

async def test_buttons_show_sources_and_related_and_store_feedback(bot: BotHarness) -> None:
    fake = bot.fake
    calls = await answer(bot, fake.slash("check", {"text": IRAN}))
    card_msg = fake.messages[int(calls[0].response["resource"]["message"]["id"])]
    claim = "iran-taliban-bounties-2020"

    src = visible(await answer(bot, fake.button(card_msg, f"cc:s:{claim}")))[0]
    assert src["flags"] & 64 and src["embeds"][0]["title"].startswith("Sources:")
    rel = visible(await answer(bot, fake.button(card_msg, f"cc:r:{claim}")))[0]
    assert "russia-gru-taliban-bounties-2020" in rel["embeds"][0]["description"]

    await answer(bot, fake.button(card_msg, f"cc:h:{claim}"))
    await answer(bot, fake.button(card_msg, f"cc:h:{claim}"))  # a double click is one opinion
    await answer(bot, fake.button(card_msg, f"cc:w:{claim}", user=fake.admin))
    rows = bot.state.feedback(None)
    assert [(r["kind"], r["user_id"], r["is_admin"]) for r in rows] == [
        ("helpful", fake.member["id"], 0), ("wrong", fake.admin["id"], 1)]
    assert rows[1]["text"] == IRAN and rows[0]["platform"] == "discord" and rows[0]["chat_id"] == str(fake.guild_id)


async def test_buttons_keep_working_after_a_restart(discord_db: Path, tmp_path: Path) -> None:
    fake = FakeDiscord()
    async with fake:
        async with BotHarness(discord_db, tmp_path / "s.db", fake=fake) as h:
            calls = await answer(h, fake.slash("check", {"text": FIVEG}))
            card_msg = fake.messages[int(calls[0].response["resource"]["message"]["id"])]
        h2 = BotHarness(discord_db, tmp_path / "s.db", fake=fake)
        await h2.start()
        try:
            await answer(h2, fake.button(card_msg, "cc:h:5g-spreads-covid-19"))
            assert [r["kind"] for r in h2.state.feedback(None)] == ["helpful"]
        finally:
            await h2.close()
        assert_clean(fake)


# --- safety --------------------------------------------------------------------------------------------

HOSTILE = ("@everyone @here <@&123456789012345678> <@123456789012345678> **bold** `code` ||spoiler|| "
           "[link](http://x) > quote # heading " + IRAN)


async def test_hostile_check_text_is_escaped_and_pings_nobody(bot: BotHarness) -> None:
    calls = await answer(bot, bot.fake.slash("check", {"text": HOSTILE}))
    payload = visible(calls)[0]
    echo = payload["embeds"][0]["author"]["name"]
    for raw in ("@everyone", "@here", "<@&", "**bold**", "`code`", "||spoiler||", " [link](http://x)"):
        assert raw not in echo
    assert "\\*\\*bold\\*\\*" in echo and "\\|\\|spoiler\\|\\|" in echo


async def test_very_long_input_stays_within_limits(bot: BotHarness) -> None:
    long_text = (IRAN + " ") + ("@everyone **x** " * 400)[:3900]
    calls = await answer(bot, bot.fake.slash("check", {"text": long_text[:4000]}))
    payload = visible(calls)[0]
    validate_message(payload)
    assert len(payload["embeds"][0]["author"]["name"]) <= 256


async def test_card_with_huge_lists_fits_every_embed_limit(bot: BotHarness) -> None:
    calls = await answer(bot, bot.fake.slash("check", {"text": "NASA faked the moon landing in a studio"}))
    payload = visible(calls)[0]
    validate_message(payload)  # the fake already accepted it; this states the rule here too
    embed = payload["embeds"][0]
    assert sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) + len(embed["title"]) <= 6000
    assert "@everyone" not in embed["title"] or payload["allowed_mentions"] == NO_MENTIONS
    card_msg = bot.fake.messages[int(calls[0].response["resource"]["message"]["id"])]
    src = visible(await answer(bot, bot.fake.button(card_msg, "cc:s:moon-landing-staged-1969")))[0]
    validate_message(src)


# --- link lookups --------------------------------------------------------------------------------------

@pytest.fixture
async def page_server() -> AsyncIterator[str]:
    """A local news page whose headline is a known claim's phrasing."""
    async with html_site({"/news/story": headline_page(RUSSIA)}) as base:
        yield f"{base}/news/story"


@pytest.fixture
async def link_bot(discord_db: Path, tmp_path: Path) -> AsyncIterator[BotHarness]:
    from bot.links import LinkResolver

    resolver = LinkResolver(allow_private=True, total_timeout=5)
    try:
        async with running_bot(discord_db, tmp_path / "state.db", resolver=resolver) as h:
            yield h
    finally:
        await resolver.aclose()


async def test_check_of_a_link_is_deferred_then_fetched_safely(link_bot: BotHarness, page_server: str) -> None:
    calls = await answer(link_bot, link_bot.fake.slash("check", {"text": f"look {page_server}"}), followups=0)
    calls = await link_bot.fake.wait_for(lambda c: c.method == "PATCH" and c.path.endswith("@original"))
    cb = [c for c in link_bot.fake.calls if c.path.endswith("/callback")][0]
    assert cb.json["type"] == 5  # deferred: fetching may take longer than Discord's 3 s
    assert calls[0].json["embeds"][0]["title"].startswith("Russian military intelligence")


async def test_links_in_direct_messages_are_looked_up(link_bot: BotHarness, page_server: str) -> None:
    await link_bot.fake.send_message(f"is this true? {page_server}", guild=False)
    posts = await link_bot.fake.wait_for(lambda c: c.method == "POST" and c.path.endswith("/messages") and c.status == 200)
    assert posts[0].json["embeds"][0]["title"].startswith("Russian military intelligence")


# --- moderation ----------------------------------------------------------------------------------------

async def moderation_on(h: BotHarness, **sub: Any) -> None:
    await answer(h, h.fake.slash("moderation", sub="on", user=h.fake.admin))
    for name, options in sub.items():
        calls = await answer(h, h.fake.slash("moderation", options, sub=name, user=h.fake.admin))
        assert "Not changed" not in (visible(calls)[0].get("content") or ""), visible(calls)


def is_reply(c: Call) -> bool:
    """An accepted message posted as a reply (moderation's public card)."""
    return c.status == 200 and isinstance(c.json, dict) and bool(c.json.get("message_reference"))


def replies(h: BotHarness, channel_id: int | None = None) -> list[Call]:
    return [c for c in h.fake.channel_posts(channel_id or h.fake.channel_id) if is_reply(c)]


async def test_members_without_manage_messages_are_refused(bot: BotHarness) -> None:
    for sub, opts in (("on", None), ("cooldown", {"hours": 1}), ("mute", {"claim": "5g-spreads-covid-19"})):
        calls = await answer(bot, bot.fake.slash("moderation", opts, sub=sub, user=bot.fake.member))
        payload = visible(calls)[0]
        assert payload["flags"] & 64 and "only members who can manage" in payload["content"]
    calls = await answer(bot, bot.fake.slash("flags", user=bot.fake.member))
    assert "only members who can manage" in visible(calls)[0]["content"]
    assert not Moderation(bot.state).settings("discord", bot.fake.guild_id).enabled


async def test_reply_mode_flags_a_known_claim_once_per_cooldown(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot)
    first = await fake.send_message(IRAN)
    await fake.wait_for(is_reply, timeout=5)
    await fake.send_message(IRAN + "!!", author=fake.admin)
    await fake.send_message(CHATTER)
    await fake.send_message(IRAN, author=fake.other_bot)  # bots are never answered
    await settle()
    got = replies(bot)
    assert len(got) == 1 and str(got[0].json["message_reference"]["message_id"]) == first["id"]
    assert got[0].json["allowed_mentions"] == {"parse": [], "replied_user": False}
    flags = visible(await answer(bot, fake.slash("flags", user=fake.admin)))[0]["embeds"][0]["description"]
    assert "iran-taliban-bounties-2020" in flags and "count" in flags


async def test_allowed_mentions_on_replies_never_ping_the_author(bot: BotHarness) -> None:
    await moderation_on(bot)
    await bot.fake.send_message("@everyone <@&1> " + FIVEG)
    got = await bot.fake.wait_for(is_reply, timeout=5)
    assert got[0].json["allowed_mentions"]["parse"] == [] and got[0].json["allowed_mentions"]["replied_user"] is False



async def test_notify_mode_posts_to_the_log_channel_with_a_jump_link(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot, log={"channel": str(fake.log_channel_id)}, mode={"mode": "notify"})
    msg = await fake.send_message(RUSSIA)
    posts = await fake.wait_for(lambda c: c.path == f"/channels/{fake.log_channel_id}/messages" and c.status == 200)
    jump = f"https://discord.com/channels/{fake.guild_id}/{fake.channel_id}/{msg['id']}"
    assert jump in posts[0].json["content"]
    await settle(0.2)
    assert replies(bot) == []


async def test_notify_mode_without_a_log_channel_is_refused_clearly(bot: BotHarness) -> None:
    await answer(bot, bot.fake.slash("moderation", sub="on", user=bot.fake.admin))
    calls = await answer(bot, bot.fake.slash("moderation", {"mode": "notify"}, sub="mode", user=bot.fake.admin))
    assert "log channel" in visible(calls)[0]["content"]


async def test_muted_claims_are_not_flagged_and_unmute_restores(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot, mute={"claim": "5g-spreads-covid-19"}, cooldown={"hours": 0})
    await fake.send_message(FIVEG)
    await settle()
    assert replies(bot) == []
    await answer(bot, fake.slash("moderation", {"claim": "5g-spreads-covid-19"}, sub="unmute", user=fake.admin))
    await fake.send_message(FIVEG)
    await fake.wait_for(is_reply, timeout=5)


async def test_admin_wrong_match_stops_reflagging_that_text(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot, cooldown={"hours": 0})
    await fake.send_message(IRAN)
    got = await fake.wait_for(is_reply, timeout=5)
    card_msg = fake.messages[int(got[0].response["id"])]
    await answer(bot, fake.button(card_msg, "cc:w:iran-taliban-bounties-2020", user=fake.admin))
    await fake.send_message(IRAN)
    await fake.send_message(FIVEG)  # other claims still flagged (cooldown 0)
    await fake.wait_for(is_reply, timeout=5, count=2)
    await settle()
    assert [r.json["embeds"][0]["title"][:4] for r in replies(bot)] == ["Iran", "5G m"]


async def test_an_edited_message_is_rechecked_once(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot)
    msg = await fake.send_message(CHATTER)
    await settle(0.2)
    edited = await fake.edit_message(msg, RUSSIA)
    await fake.wait_for(is_reply, timeout=5)
    await fake.edit_message(edited, RUSSIA + " (source: trust me)")
    await fake.edit_message(edited, FIVEG)
    await settle()
    assert len(replies(bot)) == 1


async def test_settings_and_cooldowns_survive_a_restart(discord_db: Path, tmp_path: Path) -> None:
    fake = FakeDiscord()
    async with fake:
        h = BotHarness(discord_db, tmp_path / "s.db", fake=fake)
        await h.start()
        await moderation_on(h)
        await fake.send_message(IRAN)
        await fake.wait_for(is_reply, timeout=5)
        await h.close()
        h2 = BotHarness(discord_db, tmp_path / "s.db", fake=fake)
        await h2.start()
        try:
            await fake.send_message(IRAN)  # still on, still in cooldown: counted, not answered
            await fake.send_message(FIVEG)  # still on: answered
            await fake.wait_for(is_reply, timeout=5, count=2)
            await settle()
            assert len(replies(h2)) == 2
        finally:
            await h2.close()
        assert_clean(fake)


async def test_a_flood_of_1000_messages_gets_one_card_per_claim_within_rate_limits(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot)
    texts = [IRAN, RUSSIA, FIVEG] + [f"{CHATTER} #{i}" for i in range(7)]
    for i in range(1000):
        await fake.send_message(texts[i % len(texts)], author=fake.user(i % 50))

    async def all_handled() -> None:
        while bot.handled < 1000:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(all_handled(), 40)
    await settle(0.3)
    flags = bot.state.query("SELECT action, COUNT(*) AS n FROM flags GROUP BY action ORDER BY action")
    assert {r["action"]: r["n"] for r in flags} == {"count": 297, "reply": 3}  # 100 of each claim's message
    got = replies(bot)
    assert sorted(r.json["embeds"][0]["footer"]["text"].split("id: ")[1] for r in got) == sorted(
        ["iran-taliban-bounties-2020", "russia-gru-taliban-bounties-2020", "5g-spreads-covid-19"])
    assert bot.handled == 1000
    assert fake.rate_limited == 0


async def test_a_429_is_retried_by_discordpy_and_the_card_arrives_once(bot: BotHarness) -> None:
    fake = bot.fake
    await moderation_on(bot)
    fake.force_429[rf"/channels/{fake.channel_id}/messages"] = 2
    await fake.send_message(RUSSIA)
    await fake.wait_for(is_reply, timeout=10)
    await settle(0.2)
    assert fake.rate_limited == 2 and len(replies(bot)) == 1


async def test_moderation_follows_links_in_group_messages(link_bot: BotHarness, page_server: str) -> None:
    await moderation_on(link_bot)
    await link_bot.fake.send_message(f"read this {page_server}")
    got = await link_bot.fake.wait_for(is_reply, timeout=10)
    assert got[0].json["embeds"][0]["title"].startswith("Russian military intelligence")


async def test_quiet_hours_hold_back_public_replies(bot: BotHarness) -> None:
    import time as _time

    hour = _time.gmtime().tm_hour
    await moderation_on(bot, quiet={"from": hour, "to": (hour + 1) % 24})
    await bot.fake.send_message(IRAN)
    await settle(0.4)
    assert replies(bot) == []
    flags = bot.state.query("SELECT action, reason FROM flags")
    assert flags == [{"action": "count", "reason": "quiet hours"}]


async def test_a_very_long_hostile_group_message_gets_a_valid_card(bot: BotHarness) -> None:
    await moderation_on(bot)
    text = (IRAN + " " + "@everyone **x** ||y|| <@123456789012345678> " * 60)[:2000]
    await bot.fake.send_message(text)
    got = await bot.fake.wait_for(is_reply, timeout=5)
    validate_message(got[0].json)
    assert "@everyone" not in got[0].json["embeds"][0]["author"]["name"]


async def test_mentioning_the_bot_asks_it_directly(bot: BotHarness) -> None:
    fake = bot.fake
    await fake.send_message(f"<@{fake.bot_user['id']}> {FIVEG}", mentions=[fake.bot_user])  # moderation is off
    got = await fake.wait_for(is_reply, timeout=5)
    assert got[0].json["embeds"][0]["title"].startswith("5G mobile networks")
    await fake.send_message(f"@everyone {FIVEG}")  # not a mention of the bot, and moderation is off
    await settle(0.3)
    assert len(replies(bot)) == 1


async def test_moderators_can_set_and_see_the_threshold_on_discord_too(bot: BotHarness) -> None:
    calls = await answer(bot, bot.fake.slash("moderation", {"score": 0.5}, sub="threshold", user=bot.fake.admin))
    assert "Extra threshold: **0.5**" in visible(calls)[0]["content"]
    assert Moderation(bot.state).settings("discord", bot.fake.guild_id).threshold == 0.5

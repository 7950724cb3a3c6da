"""Discord rendering within Discord's limits, and the fake's enforcement of those limits (so the end-to-end
tests' "Discord accepted it" means something)."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from bot.adapters.discord import render
from bot.engine.cards import Card, CheckResult, FactCheck, OutletNote, RelatedClaim, Source

try:
    from tests.fakes.discord_api import DiscordError, FakeDiscord, validate_commands, validate_message
except ImportError:
    from fakes.discord_api import DiscordError, FakeDiscord, validate_commands, validate_message  # type: ignore[no-redef]

HUGE = "x" * 3000


def huge_card() -> Card:
    src = Source(date="2020-01-01", outlet="Outlet " + HUGE[:300], headline=HUGE, url="https://e.com/" + "a" * 500,
                 who="Someone", summary=HUGE)
    return Card(
        claim_id="huge-claim", statement="S" * 400, status="false", status_note=HUGE * 2, decision="related",
        confidence=0.5, first_report=src, sourcing="anonymous-officials", sourcing_detail=HUGE, sourcing_notes=HUGE,
        denials=(src,) * 60, fact_checks=(FactCheck("P" * 300, "False", "2020", HUGE, "https://f.com"),) * 60,
        developments=(src,) * 60, related=tuple(RelatedClaim(f"r-{i}", HUGE, "false") for i in range(60)),
        outlet=OutletNote(domain="rt.com", name="RT", ownership="state-funded", ownership_note=HUGE,
                          rsp_label="Deprecated", rsp_summary=HUGE, rsp_link="https://en.wikipedia.org/x"),
        last_reviewed="2026-01-01")


def payload(embeds: list[discord.Embed], **extra: object) -> dict:
    return {"embeds": [e.to_dict() for e in embeds], **extra}


def test_an_oversized_card_is_cut_to_every_embed_limit() -> None:
    embeds = render.result_embeds(CheckResult(text="t", decision="related", card=huge_card()), checked_text=HUGE)
    validate_message(payload(embeds))
    e = embeds[0]
    assert sum(render.embed_size(x) for x in embeds) <= render.EMBED_TOTAL_MAX
    assert len(e.title) <= 256 and len(e.fields) <= 25
    assert all(1 <= len(f.value) <= 1024 and len(f.name) <= 256 for f in e.fields)
    assert e.footer.text.endswith("id: huge-claim")  # the id survives: buttons after a restart need it
    assert e.colour.value == render.STATUS_COLOURS["false"]


def test_sources_and_related_of_an_oversized_card_fit() -> None:
    for embeds in (render.sources_embeds(huge_card()), render.related_embeds(huge_card())):
        validate_message(payload(embeds))
        assert render.claim_id_of(embeds[0]) == "huge-claim"


def test_fit_embeds_enforces_the_total_across_several_embeds() -> None:
    embeds = []
    for _ in range(12):
        e = discord.Embed(title="T" * 300, description="D" * 5000)
        for i in range(30):
            e.add_field(name="N" * 300, value="V" * 2000)
        embeds.append(e)
    fitted = render.fit_embeds(embeds)
    validate_message(payload(fitted))
    assert len(fitted) <= 10


@pytest.mark.parametrize("text", [
    "**bold** `code` ||spoiler|| [link](http://x) @everyone <@&123456789012345678> <@123456789012345678> > quote",
    "__under__ ~~strike~~ # heading - item \\ backslash",
    "plain words",
])
def test_echoed_text_is_escaped_and_reads_back(text: str) -> None:
    e = render.card_embed(huge_card(), checked_text=text)
    echo = e.author.name
    for raw in ("@everyone", "<@&123456789012345678>", "<@123456789012345678>", "**bold**", "||spoiler||"):
        assert raw not in echo
    assert render.checked_text_of(e) == text


def test_long_echo_is_cut_without_a_dangling_escape() -> None:
    out = render.escape_user_text("*" * 500, 100)
    assert len(out) <= 100 and not out[:-1].endswith("\\\\\\")
    assert out.endswith(render.ELLIPSIS)


def test_autocomplete_labels_fit_100_characters() -> None:
    assert len(render.choice_name("a" * 40, "s" * 300)) <= 100
    assert len(render.choice_name("a" * 90, "s" * 300)) <= 100
    assert render.choice_name("id-1", "Short.") == "Short. [id-1]"


def test_no_match_embed_lists_the_outlet() -> None:
    r = CheckResult(text="x", decision="none", outlet=OutletNote(domain="rt.com", name="RT", ownership="state-funded",
                                                                  ownership_note="Funded by a government."))
    e = render.result_embeds(r)[0]
    assert any(f.name == "About the outlet" and "state-funded" in f.value for f in e.fields)


# --- the fake enforces Discord's rules -----------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    {"content": "x" * 2001},
    {"embeds": [{"title": "t" * 257}]},
    {"embeds": [{"description": "d" * 4097}]},
    {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
    {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
    {"embeds": [{"fields": [{"name": "n", "value": ""}]}]},
    {"embeds": [{"footer": {"text": "f" * 2049}}]},
    {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
    {"embeds": [{"title": "t"}] * 11},
    {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c"}]}] * 6},
    {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c"}] * 6}]},
    {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}]}]},
    {},
])
def test_fake_rejects_what_discord_rejects(bad: dict) -> None:
    with pytest.raises(DiscordError) as exc:
        validate_message(bad)
    assert exc.value.status == 400 and exc.value.body()["code"] == 50035


@pytest.mark.parametrize("bad", [
    [{"type": 1, "name": "Check", "description": "upper case"}],
    [{"type": 1, "name": "check me", "description": "space"}],
    [{"type": 1, "name": "c" * 33, "description": "long"}],
    [{"type": 1, "name": "check", "description": "d" * 101}],
    [{"type": 1, "name": "check", "description": ""}],
    [{"type": 3, "name": "Check claim", "description": "context menus have none"}],
    [{"type": 1, "name": "check", "description": "x", "options": [{"type": 3, "name": "t", "description": "o" * 101}]}],
])
def test_fake_rejects_commands_out_of_spec(bad: list) -> None:
    with pytest.raises(DiscordError):
        validate_commands(bad)


async def test_fake_answers_errors_and_rate_limits_in_discords_shape() -> None:
    async with FakeDiscord(message_rate=(1, 5.0)) as fake:
        auth = {"Authorization": f"Bot {fake.token}"}
        url = f"{fake.api_base}/channels/{fake.channel_id}/messages"
        async with aiohttp.ClientSession() as s:
            async with s.post(url, json={"content": "x" * 2001}, headers=auth) as r:
                body = await r.json()
                assert r.status == 400 and body["code"] == 50035 and "content" in body["errors"]
            async with s.post(url, json={"content": "ok"}, headers=auth) as r:
                assert r.status == 429  # the rejected call still used the bucket's one slot
                assert (await r.json())["retry_after"] > 0 and r.headers["Via"]
                assert r.headers["X-RateLimit-Remaining"] == "0"
            async with s.get(f"{fake.api_base}/users/@me") as r:
                assert r.status == 401

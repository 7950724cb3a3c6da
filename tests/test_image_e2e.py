"""Pictures and forwards end to end on the fake servers: the real python-telegram-bot and discord.py stacks
against tests/fakes (getFile and the file path on the fake Bot API, attachments on the fake Discord CDN), the
real OCR and the real engine on the adapters' small knowledge bases. The chat layer's rules in detail:
tests/test_pictures.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import ClientSession

from bot.engine.service import Engine
from bot.engine.store import build_database
from bot.state import StateStore
from tests.fakes.discord_api import BotHarness, Call, FakeDiscord, write_test_knowledge
from tests.fakes.pictures import engine_with_channels, headline_screenshot, oversized_png, resized
from tests.fakes.telegram_api import BotUnderTest, FakeTelegram
from tests.test_images import bomb_png
from tests.test_telegram_e2e import (ADMIN, GROUP, IRAN_ID, IRAN_TEXT, MEMBER, NO_MATCH_TEXT, USER, admin_says,
                                     buttons, make_settings, write_knowledge)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

BIG = 21 * 1024 * 1024  # over our cap (20 MB) and over the Bot API's getFile limit
RT = {"id": -1001036240821, "type": "channel", "title": "RT на русском", "username": "rt_russian"}
IRAN_CARD = "Iran paid bounties to the Haqqani Network"


# --- Telegram ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tg_picture_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_with_channels(tmp_path_factory.mktemp("tg-pictures"), write_knowledge)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as f:
        yield f


@pytest.fixture
async def bot(fake: FakeTelegram, tg_picture_engine: Engine, tmp_path: Path) -> AsyncIterator[BotUnderTest]:
    state = StateStore(tmp_path / "state.db")
    b = BotUnderTest(fake, make_settings(fake, tmp_path), tg_picture_engine, state)
    await b.start()
    yield b
    await b.stop()
    state.close()
    assert fake.violations == [], f"flood limits violated: {fake.violations[:5]}"


async def ask(fake: FakeTelegram, chat_id: int, text: str, user: int = USER, **kw: Any) -> tuple[dict, list[dict]]:
    """Send a message and wait for the bot's answer: with OCR in the way, longer than text needs."""
    before = len(fake.sent(chat_id))
    msg = fake.message(chat_id, user, text, **kw)
    sent = await fake.wait_sent(chat_id, before + 1, timeout=30)
    return msg, sent[before:]


def photo(fake: FakeTelegram, data: bytes) -> list[dict[str, Any]]:
    """A photo as Telegram sends it: a thumbnail and the full size."""
    from tests.fakes.pictures import size_of

    return fake.photo_sizes(resized(data, 90), (data, *size_of(data)))


async def test_a_headline_photo_in_a_private_chat_gets_the_card(fake: FakeTelegram, bot: BotUnderTest, ocr: None) -> None:
    shot = headline_screenshot(IRAN_TEXT)
    sizes = photo(fake, shot)
    msg, (reply,) = await ask(fake, USER, "", photo=sizes)
    assert IRAN_CARD in reply["text"] and reply["reply_to_message"]["message_id"] == msg["message_id"]
    assert {"Sources", "Wrong match", "Helpful"} <= {b["text"] for row in reply["reply_markup"]["inline_keyboard"]
                                                    for b in row}
    (get_file,) = fake.calls_to("getFile")
    assert get_file.params["file_id"] == sizes[-1]["file_id"]  # the largest size, through getFile
    assert fake.downloads == [f"files/{sizes[-1]['file_id']}.bin"]  # from the configured file URL
    _, (doc_reply,) = await ask(fake, USER, "seen this?", document=fake.document(shot, "image/jpeg", "shot.jpg"))
    assert IRAN_CARD in doc_reply["text"]  # an image sent as a file, with a caption
    fake.message(USER, USER, "", document=fake.document(b"%PDF-1.4", "application/pdf", "report.pdf"))
    _, (text_reply,) = await ask(fake, USER, NO_MATCH_TEXT)  # a PDF is not read, and not answered
    assert text_reply["text"].startswith("No known claim") and len(fake.calls_to("getFile")) == 2


async def test_wrong_match_on_a_photo_card_records_the_words_read_from_it(fake: FakeTelegram, bot: BotUnderTest,
                                                                          ocr: None) -> None:
    msg, (card,) = await ask(fake, USER, "is this real?", photo=photo(fake, headline_screenshot(IRAN_TEXT)))
    assert IRAN_CARD in card["text"]
    fake.press(USER, card, buttons(card)["Wrong match"])
    await fake.wait_call("answerCallbackQuery", 1)
    (row,) = [r for r in bot.state.feedback(status=None) if r["kind"] == "wrong"]
    # the words on the picture, then the caption: what the card answered, not the caption alone
    assert row["claim_id"] == IRAN_ID and "Iran" in row["text"] and row["text"].endswith("is this real?")
    assert row["text"] != msg["caption"]


async def test_a_photo_in_a_moderated_group_gets_the_groups_card(fake: FakeTelegram, bot: BotUnderTest, ocr: None) -> None:
    quiet = fake.message(GROUP, MEMBER, "", photo=photo(fake, headline_screenshot(IRAN_TEXT)))
    await bot.settle()
    assert fake.replies_to(GROUP, quiet["message_id"]) == [] and fake.calls_to("getFile") == []  # moderation off: not even fetched
    _, (asked,) = await ask(fake, GROUP, "/check", user=ADMIN, reply_to=quiet)  # /check in reply to the photo reads it
    assert IRAN_CARD in asked["text"] and asked["reply_to_message"]["message_id"] == quiet["message_id"]
    await admin_says(fake, "/moderation on")
    first, (card,) = await ask(fake, GROUP, "", user=MEMBER, photo=photo(fake, headline_screenshot(IRAN_TEXT)))
    assert card["reply_to_message"]["message_id"] == first["message_id"] and IRAN_CARD in card["text"]
    again = fake.message(GROUP, MEMBER, "", photo=photo(fake, headline_screenshot(IRAN_TEXT, source="Other News")))
    chatter = fake.message(GROUP, MEMBER, "", photo=photo(fake, headline_screenshot(NO_MATCH_TEXT)))
    bomb = fake.message(GROUP, MEMBER, "", document=fake.document(bomb_png(30000, 30000), "image/png", "x.png"))
    await bot.settle()
    answered = {m["reply_to_message"]["message_id"] for m in fake.sent(GROUP) if "reply_to_message" in m}
    assert first["message_id"] in answered
    assert not answered & {again["message_id"], chatter["message_id"], bomb["message_id"]}  # cooldown, no match, silent failure
    _, (flags,) = await ask(fake, GROUP, "/flags", user=ADMIN)
    assert IRAN_ID in flags["text"] and "cooldown" in flags["text"]


async def test_a_forward_from_a_state_media_channel_names_it_with_the_outlet_note(fake: FakeTelegram,
                                                                                 bot: BotUnderTest) -> None:
    _, (note,) = await ask(fake, USER, NO_MATCH_TEXT, forward_from_chat=RT)
    assert note["text"].startswith("No known claim")  # nothing matches, but the channel is worth a word
    assert "Forwarded from @rt_russian (RT на русском)" in note["text"]
    assert "state-funded" in note["text"] and "Funded by the Russian government" in note["text"]
    _, (card,) = await ask(fake, USER, IRAN_TEXT, forward_from_chat=RT)
    assert IRAN_CARD in card["text"] and "Forwarded from @rt_russian" in card["text"]
    cats = {"id": -1001000000001, "type": "channel", "title": "Cats", "username": "cats_daily"}
    _, (plain,) = await ask(fake, USER, NO_MATCH_TEXT, forward_from_chat=cats)
    assert "Forwarded" not in plain["text"]  # a channel without an outlet note is not worth naming

    await admin_says(fake, "/moderation on")
    chatter = fake.message(GROUP, MEMBER, NO_MATCH_TEXT, forward_from_chat=RT)
    flagged, (group_card,) = await ask(fake, GROUP, IRAN_TEXT, user=MEMBER, forward_from_chat=RT)
    assert "Forwarded from @rt_russian" in group_card["text"] and IRAN_CARD in group_card["text"]
    await bot.settle()
    assert fake.replies_to(GROUP, chatter["message_id"]) == []  # in a group, the note only with a card


async def test_a_decompression_bomb_gets_a_clear_answer_and_the_bot_keeps_answering(fake: FakeTelegram,
                                                                                   bot: BotUnderTest) -> None:
    bomb = bomb_png(30000, 30000)  # 900 million pixels in a small PNG
    assert len(bomb) < 200_000
    _, (refused,) = await ask(fake, USER, "", document=fake.document(bomb, "image/png", "map.png"))
    assert refused["text"] == ("This picture is too large for me to read "
                               "(the limit is 20 MB and 24 million pixels).")
    _, (garbage,) = await ask(fake, USER, "", document=fake.document(b"\x89PNG\r\n\x1a\n broken", "image/png", "b.png"))
    assert "cannot open this picture" in garbage["text"]
    _, (card,) = await ask(fake, USER, IRAN_TEXT)
    assert IRAN_CARD in card["text"]


async def test_an_oversized_file_is_refused_before_download(fake: FakeTelegram, bot: BotUnderTest) -> None:
    big = fake.document(oversized_png(BIG), "image/png", "huge.png")
    _, (refused,) = await ask(fake, USER, "", document=big)
    assert "too large" in refused["text"] and "20 MB" in refused["text"]
    assert fake.calls_to("getFile", ok_only=False) == [] and fake.downloads == []  # refused on the declared size
    async with ClientSession() as http:  # the fake refuses it too, as the Bot API documents (20 MB)
        async with http.post(f"{fake.base_url}{fake.token}/getFile", json={"file_id": big["file_id"]}) as r:
            assert r.status == 400 and (await r.json())["description"] == "Bad Request: file is too big"
    _, (card,) = await ask(fake, USER, IRAN_TEXT)
    assert IRAN_CARD in card["text"]


async def test_a_known_picture_gets_its_claims_card_with_the_picture_named(fake: FakeTelegram, tmp_path: Path) -> None:
    import yaml
    from benchmarks.image_set import scene
    from bot.images.phash import image_hash_entry
    from tests.fakes.pictures import jpeg

    original = tmp_path / "original.png"
    scene(1906, (800, 600)).save(original)
    entry = image_hash_entry(original)
    entry.update(description="A drawn landscape passed off as a Taliban camp",
                 source={"outlet": "Example Checks", "date": "2020-09-02", "headline": "No, this is not a camp"})
    root = tmp_path / "kb"
    write_knowledge(root)
    claim_file = root / "claims" / f"{IRAN_ID}.yaml"
    claim = yaml.safe_load(claim_file.read_text(encoding="utf-8"))
    claim_file.write_text(yaml.safe_dump({**claim, "images": [entry]}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    engine = Engine(build_database(root, tmp_path / "kb.db"))
    state = StateStore(tmp_path / "state.db")
    async with BotUnderTest(fake, make_settings(fake, tmp_path), engine, state):
        shared = jpeg(scene(1906, (800, 600)).resize((640, 480)), quality=60)  # shared on, smaller and recompressed
        _, (card,) = await ask(fake, USER, "", photo=photo(fake, shared))
        assert IRAN_CARD in card["text"]
        assert "This picture is known: A drawn landscape passed off as a Taliban camp \u2014 2020-09-02, Example Checks" \
            in card["text"].replace("<b>", "").replace("</b>", "")
    state.close()


# --- Discord ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def discord_picture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("discord-pictures")
    write_test_knowledge(root / "knowledge")
    return build_database(root / "knowledge", root / "knowledge.db")


async def discord_bot(db: Path, state: Path, **settings: Any) -> BotHarness:
    return await BotHarness(db, state, settings_options=settings).start()


def posted(fake: FakeDiscord, count: int) -> Any:
    return fake.wait_for(lambda c: c.method == "POST" and c.path.endswith("/messages") and c.status == 200,
                         count=count, timeout=30)


def said(c: Call) -> str:
    embeds = c.json.get("embeds") or []
    return (c.json.get("content") or "") + " ".join(str(e.get("title", "")) for e in embeds)


async def test_a_discord_image_attachment_gets_the_card(discord_picture_db: Path, tmp_path: Path, ocr: None) -> None:
    h = await discord_bot(discord_picture_db, tmp_path / "s.db", discord_attachment_hosts=("127.0.0.1",))
    fake = h.fake
    try:
        shot = fake.attachment(headline_screenshot(IRAN_TEXT), "shot.jpg", "image/jpeg")
        await fake.send_message("", guild=False, attachments=[shot])
        (reply,) = await posted(fake, 1)
        assert reply.json["embeds"][0]["title"].startswith(IRAN_CARD)
        assert len(fake.attachment_downloads) == 1

        from tests.test_discord_adapter import is_reply, moderation_on  # the adapter tests' own helpers
        await moderation_on(h)
        before = len(fake.attachment_downloads)
        msg = await fake.send_message("look", attachments=[fake.attachment(headline_screenshot(IRAN_TEXT), "a.png",
                                                                          "image/jpeg")])
        (card,) = await fake.wait_for(lambda c: is_reply(c) and str(c.json["message_reference"]["message_id"]) == msg["id"],
                                      timeout=30)
        assert card.json["embeds"][0]["title"].startswith(IRAN_CARD) and len(fake.attachment_downloads) == before + 1

        # "Check claim" on a picture: deferred (reading may take longer than Discord's 3 s), then the card
        iid = await fake.interact(fake.message_command("Check claim", msg))
        (edit,) = await fake.wait_for(lambda c: c.interaction_id == iid and c.method == "PATCH", timeout=30)
        (callback,) = [c for c in fake.calls_for(iid) if c.path.endswith("/callback")]
        assert callback.json["type"] == 5 and edit.json["embeds"][0]["title"].startswith(IRAN_CARD)
    finally:
        await h.close()
        await fake.close()
    assert fake.errors() == []


async def test_discord_pictures_bombs_oversized_files_and_other_hosts(discord_picture_db: Path, tmp_path: Path) -> None:
    h = await discord_bot(discord_picture_db, tmp_path / "s.db", discord_attachment_hosts=("127.0.0.1",))
    fake = h.fake
    try:
        # one after the other: a second picture in a chat while the first is read would only hear "wait"
        await fake.send_message("", guild=False, attachments=[fake.attachment(bomb_png(30000, 30000), "b.png", "image/png")])
        (bomb,) = await posted(fake, 1)
        await fake.send_message("", guild=False, attachments=[fake.attachment(oversized_png(BIG), "big.png", "image/png")])
        _, big = await posted(fake, 2)
        assert "too large" in said(bomb) and "24 million pixels" in said(bomb)
        assert "too large" in said(big) and "20 MB" in said(big)
        assert [p.rsplit("/", 1)[-1] for p in fake.attachment_downloads] == ["b.png"]  # the big one: never requested
        await fake.send_message(IRAN_TEXT, guild=False)
        *_, card = await posted(fake, 3)
        assert card.json["embeds"][0]["title"].startswith(IRAN_CARD)  # still answering
    finally:
        await h.close()
        await fake.close()
    assert fake.errors() == []

    # Discord's own hosts only (the default): the fake's CDN on 127.0.0.1 is not one of them, so nothing is fetched.
    h = await discord_bot(discord_picture_db, tmp_path / "s2.db")
    fake = h.fake
    try:
        await fake.send_message("", guild=False, attachments=[fake.attachment(headline_screenshot(IRAN_TEXT), "s.jpg",
                                                                             "image/jpeg")])
        (refused,) = await posted(fake, 1)
        assert "could not download this picture" in said(refused) and fake.attachment_downloads == []
    finally:
        await h.close()
        await fake.close()

"""Pictures and forwards in the chat layer (bot/chat/pictures.py, Conversation): one picture at a time per
chat, typed failures as one clear sentence where someone asked and silence in group moderation, the known
picture and the forwarded channel laid out once for every renderer. The platforms end to end:
tests/test_image_e2e.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from bot.adapters.discord.render import result_embeds, unescape_user_text
from bot.adapters.telegram import render as tg
from bot.adapters.telegram.files import largest_photo
from bot.chat.conversation import Conversation
from bot.chat.i18n import EN
from bot.chat.messages import (CardReply, ChatKind, DownloadFailed, ForwardOrigin, Incoming, IncomingImage, Refusal,
                               RefusalKind, Reply)
from bot.chat.pictures import PictureReader
from bot.chat.render_text import render_reply
from bot.engine.cards import CheckResult, ImageMatch, Source
from bot.engine.service import Engine
from bot.images.errors import OcrUnavailable
from bot.moderation import Moderation
from bot.state import StateStore
from tests.fakes.discord_api import write_test_knowledge
from tests.fakes.pictures import engine_with_channels, headline_screenshot, jpeg
from tests.test_images import bomb_png

IRAN = "US intelligence claims Iran paid Taliban to kill American troops"
IRAN_ID = "iran-taliban-bounties-2020"
CHATTER = "Lovely weather for a picnic by the river this afternoon"
RT_CHANNEL = ForwardOrigin(username="rt_russian", title="RT на русском", platform_id="-1001036240821")


class Capture:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.posts: list[tuple[str, Reply]] = []

    async def reply(self, reply: Reply) -> None:
        self.replies.append(reply)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        self.posts.append((chat_id, reply))
        return True

    async def runs(self, chat_id: str, user_id: str) -> bool:
        return True


class Upload:
    """A picture as an adapter hands it over: its declared size and a fetch that can be held back."""

    def __init__(self, data: bytes = b"", *, size: int | None = None, fails: bool = False) -> None:
        self.data, self.fails = data, fails
        self.size = len(data) if size is None else size
        self.fetched: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, max_bytes: int) -> bytes:
        self.fetched.append(max_bytes)
        await self.gate.wait()
        if self.fails:
            raise DownloadFailed("HTTP 404")
        return self.data

    @property
    def image(self) -> IncomingImage:
        return IncomingImage(fetch=self.fetch, size=self.size, mime="image/jpeg")


@pytest.fixture(scope="session")
def picture_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return engine_with_channels(tmp_path_factory.mktemp("pictures-kb"), write_test_knowledge)


@pytest.fixture
def conversation(picture_engine: Engine, tmp_path: Path) -> Conversation:
    c = Conversation(picture_engine, StateStore(tmp_path / "state.db"))
    yield c
    c.state.close()


def private(upload: Upload | None = None, text: str = "", chat: str = "42", **kw: object) -> Incoming:
    return Incoming(platform="telegram", chat_id=chat, message_id="1", user_id=chat, text=text,
                    images=(upload.image,) if upload else (), **kw)  # type: ignore[arg-type]


def group(upload: Upload | None = None, text: str = "", message_id: str = "7", **kw: object) -> Incoming:
    return Incoming(platform="telegram", chat_id="-100", chat_kind=ChatKind.GROUP, message_id=message_id, user_id="5",
                    text=text, images=(upload.image,) if upload else (), **kw)  # type: ignore[arg-type]


def moderated(c: Conversation) -> None:
    Moderation(c.state).update("telegram", "-100", enabled=True)


async def test_a_headline_screenshot_gets_the_claims_card(conversation: Conversation, ocr: None) -> None:
    out = Capture()
    await conversation.answer(private(Upload(headline_screenshot(IRAN)), text="is this true?"), out)
    (reply,) = out.replies
    assert isinstance(reply, CardReply) and reply.result.card is not None and reply.result.card.claim_id == IRAN_ID
    assert reply.checked_text.startswith("World News") and "kill American troops" in reply.checked_text
    assert reply.checked_text.endswith("is this true?")  # the picture's words, then the caption


async def test_one_picture_at_a_time_per_chat(conversation: Conversation, ocr: None) -> None:
    moderated(conversation)
    first, second, elsewhere = Upload(headline_screenshot(IRAN)), Upload(headline_screenshot(IRAN)), Upload(b"junk")
    first.gate.clear()
    out = Capture()
    reading = asyncio.create_task(conversation.answer(private(first), out))
    while not first.fetched:
        await asyncio.sleep(0.01)
    await conversation.answer(private(second), out)  # the same chat while the first is read: a short note
    assert out.replies == [Refusal(RefusalKind.IMAGE_BUSY)] and second.fetched == []
    other = Capture()
    await conversation.answer(private(elsewhere, chat="43"), other)  # another chat is not held up
    assert other.replies == [Refusal(RefusalKind.IMAGE_UNREADABLE)]

    group_first, group_second = Upload(headline_screenshot(IRAN)), Upload(headline_screenshot(IRAN))
    group_first.gate.clear()
    in_group = Capture()
    moderating = asyncio.create_task(conversation.moderate(group(group_first), in_group))
    while not group_first.fetched:
        await asyncio.sleep(0.01)
    await conversation.moderate(group(group_second, message_id="8"), in_group)  # skipped, silently
    assert in_group.replies == [] and group_second.fetched == []

    first.gate.set()
    group_first.gate.set()
    await asyncio.wait_for(asyncio.gather(reading, moderating), 30)
    assert isinstance(out.replies[-1], CardReply) and out.replies[-1].result.card.claim_id == IRAN_ID
    assert [type(r) for r in in_group.replies] == [CardReply]  # the group's card, per its moderation rules
    failing = Upload(b"x", fails=True)
    await conversation.answer(private(failing), out)  # the slot was given back, after a failure too
    await conversation.answer(private(Upload(b"more junk")), out)
    assert out.replies[-2:] == [Refusal(RefusalKind.IMAGE_DOWNLOAD), Refusal(RefusalKind.IMAGE_UNREADABLE)]


@pytest.mark.parametrize("upload, kind", [
    (Upload(b"", size=25 * 1024 * 1024), RefusalKind.IMAGE_TOO_LARGE),  # refused on its declared size
    (Upload(bomb_png(30000, 30000)), RefusalKind.IMAGE_TOO_LARGE),  # 900 megapixels in a small PNG
    (Upload(b"GIF89a but not really an image"), RefusalKind.IMAGE_UNREADABLE),
    (Upload(b"x", fails=True), RefusalKind.IMAGE_DOWNLOAD),
], ids=["declared-size", "bomb", "garbage", "download"])
async def test_a_picture_that_cannot_be_read_gets_one_sentence_and_groups_hear_nothing(
        conversation: Conversation, upload: Upload, kind: RefusalKind) -> None:
    out = Capture()
    await conversation.answer(private(upload), out)
    assert [r.kind for r in out.replies if isinstance(r, Refusal)] == [kind] and len(out.replies) == 1
    if kind is RefusalKind.IMAGE_TOO_LARGE:
        assert upload.fetched == [] if upload.size > 20 * 1024 * 1024 else upload.fetched
        said = render_reply(out.replies[0])
        assert "too large" in said and "20 MB" in said and "24 million pixels" in said
    moderated(conversation)
    in_group = Capture()
    await conversation.moderate(group(upload), in_group)
    assert in_group.replies == [] and in_group.posts == []


async def test_without_ocr_the_bot_says_so_unless_the_caption_answers(conversation: Conversation,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ocr(*args: object, **kw: object) -> None:
        raise OcrUnavailable("no OCR engine installed")
    monkeypatch.setattr("bot.images.reading.recognise", no_ocr)
    out = Capture()
    await conversation.answer(private(Upload(headline_screenshot(IRAN))), out)
    assert out.replies == [Refusal(RefusalKind.NO_OCR)]
    assert "OCR is not installed" in render_reply(out.replies[0])
    await conversation.answer(private(Upload(headline_screenshot(IRAN)), text=IRAN), out)
    assert isinstance(out.replies[-1], CardReply) and out.replies[-1].result.card.claim_id == IRAN_ID


async def test_a_picture_without_text_is_said_to_have_none(conversation: Conversation, ocr: None) -> None:
    from PIL import Image

    out = Capture()
    await conversation.answer(private(Upload(jpeg(Image.new("RGB", (640, 480), (90, 140, 200))))), out)
    assert out.replies == [Refusal(RefusalKind.IMAGE_NO_TEXT)]


async def test_a_forward_from_a_state_media_channel_names_it_with_the_outlet_note(conversation: Conversation) -> None:
    out = Capture()
    await conversation.answer(private(text=CHATTER, forwarded_from=RT_CHANNEL), out)
    (reply,) = out.replies
    assert isinstance(reply, CardReply) and reply.result.card is None  # the note alone is worth saying in private
    assert reply.channel == "@rt_russian (RT на русском)" and reply.channel_outlet.name == "RT"
    said = render_reply(reply)
    assert "Forwarded from @rt_russian (RT на русском)" in said and "state-funded" in said
    assert said.count("Ownership:") == 1

    moderated(conversation)
    in_group = Capture()
    await conversation.moderate(group(text=CHATTER, forwarded_from=RT_CHANNEL), in_group)
    assert in_group.replies == []  # in a group the note comes only with a card
    await conversation.moderate(group(text=IRAN, message_id="9", forwarded_from=RT_CHANNEL), in_group)
    (card,) = in_group.replies
    assert card.result.card.claim_id == IRAN_ID and "Forwarded from @rt_russian" in render_reply(card)

    unknown = Capture()
    await conversation.answer(private(text=CHATTER, forwarded_from=ForwardOrigin("somebody_else", "Cats")), unknown)
    assert unknown.replies[0].channel == "" and "Forwarded" not in render_reply(unknown.replies[0])


def test_the_known_picture_and_the_channel_are_laid_out_once_for_every_renderer(picture_engine: Engine) -> None:
    card = picture_engine.card(IRAN_ID)
    rt = picture_engine.outlet_for_url("https://rt.com/")
    image = ImageMatch(IRAN_ID, "A doctored map of troop positions", Source(outlet="Example Checks", date="2020-09-02"),
                       distance=12)
    reply = CardReply(CheckResult(text="", decision="match", card=card, outlet=rt, image=image),
                      forwarded_from=RT_CHANNEL, channel_outlet=rt)
    known = "This picture is known: A doctored map of troop positions \u2014 2020-09-02, Example Checks"
    forwarded = "Forwarded from @rt_russian (RT на русском)"
    plain = render_reply(reply)
    html = tg.to_html(tg.card_reply_lines(reply))
    embed = result_embeds(reply.result, forwarded_from=reply.channel, channel_outlet=reply.channel_outlet)[0].to_dict()
    fields = unescape_user_text("\n".join(f"{f['name']}\n{f['value']}" for f in embed["fields"]).replace("**", ""))
    for said in (plain, html.replace("<b>", "").replace("</b>", ""), fields):
        assert known in said and forwarded in said
        assert said.count("Funded by the Russian government") == 1  # the link's outlet is the channel's: once
    assert plain.index(known) < plain.index(forwarded) < plain.index("First report")


def test_the_largest_telegram_photo_within_the_cap_is_read() -> None:
    from telegram import PhotoSize

    sizes = [PhotoSize(f"id{w}", f"u{w}", w, w // 2, file_size=s) for w, s in ((90, 2_000), (1280, 150_000), (2560, 400_000))]
    assert largest_photo(sizes).file_id == "id2560"
    assert largest_photo(sizes, max_bytes=200_000).file_id == "id1280"
    assert largest_photo(sizes, max_bytes=1_000).file_id == "id90"  # nothing fits: the smallest, refused on its size
    assert largest_photo([]) is None
    assert PictureReader().limits(EN) == "the limit is 20 MB and 24 million pixels"


@given(st.lists(st.tuples(st.integers(1, 5000), st.integers(1, 5000), st.integers(0, 30_000_000)), max_size=6),
       st.integers(0, 25_000_000))
def test_the_photo_read_is_the_largest_that_fits(sizes: list[tuple[int, int, int]], cap: int) -> None:
    from telegram import PhotoSize

    photos = [PhotoSize(f"id{i}", f"u{i}", w, h, file_size=b) for i, (w, h, b) in enumerate(sizes)]
    chosen = largest_photo(photos, max_bytes=cap)
    fitting = [p for p in photos if p.file_size <= cap]
    if not photos:
        assert chosen is None
    elif fitting:
        assert chosen.file_size <= cap and chosen.width * chosen.height == max(p.width * p.height for p in fitting)
    else:  # nothing fits: the smallest, which the declared-size check then refuses
        assert chosen.width * chosen.height == min(p.width * p.height for p in photos) and chosen.file_size > cap


def test_a_group_flood_of_pictures_is_read_at_a_bounded_rate() -> None:
    now = [0.0]
    reader = PictureReader(unasked_per_window=3, window=60.0, clock=lambda: now[0])
    assert [reader.take_unasked("g") for _ in range(5)] == [True, True, True, False, False]
    assert reader.take_unasked("other group")  # each group has its own allowance
    now[0] = 59.9
    assert not reader.take_unasked("g")
    now[0] = 60.0  # the first three leave the window
    assert [reader.take_unasked("g") for _ in range(4)] == [True, True, True, False]


async def test_pictures_past_the_groups_rate_are_skipped_before_download(conversation: Conversation, ocr: None) -> None:
    moderated(conversation)
    conversation.pictures.unasked.per_window = 1
    out = Capture()
    first, second = Upload(b"junk"), Upload(headline_screenshot(IRAN))
    await conversation.moderate(group(first, message_id="20"), out)
    await conversation.moderate(group(second, message_id="21"), out)
    assert first.fetched and second.fetched == [] and out.replies == []
    await conversation.answer(private(second, chat="99"), out)  # asked for: never rate-limited away
    assert isinstance(out.replies[-1], CardReply)

"""The fake Bot API itself: it must reject what Telegram rejects, or the end-to-end tests prove nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.telegram_api import FakeTelegram, Limits  # noqa: E402


async def call(fake: FakeTelegram, method: str, **params) -> httpx.Response:
    async with httpx.AsyncClient() as c:
        return await c.post(f"{fake.base_url}{fake.token}/{method}", json=params, timeout=5)


async def test_limits_and_validation() -> None:
    async with FakeTelegram(limits=Limits(per_chat_burst=2, reject=True)) as fake:
        fake.chat(5)
        ok = await call(fake, "sendMessage", chat_id=5, text="<b>hi</b>", parse_mode="HTML")
        assert ok.json()["ok"] and ok.json()["result"]["text"] == "hi"
        too_long = await call(fake, "sendMessage", chat_id=6, text="x" * 4097)
        assert too_long.status_code == 400 and "too long" in too_long.json()["description"]
        tags_ok = await call(fake, "sendMessage", chat_id=7, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        assert tags_ok.status_code == 200  # tags do not count
        bad_html = await call(fake, "sendMessage", chat_id=8, text="<b>x</i>", parse_mode="HTML")
        assert bad_html.json()["description"].startswith("Bad Request: can't parse entities")
        markup = {"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]}
        bad_data = await call(fake, "sendMessage", chat_id=9, text="t", reply_markup=markup)
        assert bad_data.status_code == 400 and "BUTTON_DATA_INVALID" in bad_data.json()["description"]
        results = [{"type": "article", "id": str(i), "title": "t", "input_message_content": {"message_text": "m"}}
                   for i in range(51)]
        assert (await call(fake, "answerInlineQuery", inline_query_id="1", results=results)).status_code == 400
        results[0]["input_message_content"]["message_text"] = "m" * 4097
        assert (await call(fake, "answerInlineQuery", inline_query_id="1", results=results[:1])).status_code == 400
        # flood: burst of 2 per chat, the third at once is a violation answered with 429
        codes = [(await call(fake, "sendMessage", chat_id=10, text="m")).status_code for _ in range(3)]
        assert codes == [200, 200, 429] and fake.violations and fake.violations[-1]["limits"] == ["per-chat"]
        fake.fail_next("sendMessage", 1, kind="429", retry_after=3)
        r = await call(fake, "sendMessage", chat_id=11, text="m")
        assert r.status_code == 429 and r.json()["parameters"]["retry_after"] == 3
        bad_token = await httpx.AsyncClient().post(f"{fake.base_url}wrong/getMe")
        assert bad_token.status_code == 401


async def test_form_encoded_bodies_are_decoded_like_ptb_sends_them() -> None:
    async with FakeTelegram() as fake:
        async with httpx.AsyncClient() as c:
            r = await c.post(f"{fake.base_url}{fake.token}/sendMessage",
                             data={"chat_id": "42", "text": "123",
                                   "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "s:x"}]]}'})
        assert r.json()["ok"]
        params = fake.calls_to("sendMessage")[0].params
        assert params["chat_id"] == 42 and params["text"] == "123"
        assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "s:x"


@pytest.mark.parametrize("text,visible", [("/check x", True), ("hello", False), (f"hi @claimctx_bot", True)])
async def test_privacy_mode_filters_group_messages(text: str, visible: bool) -> None:
    async with FakeTelegram() as fake:
        fake.privacy_mode = True
        fake.message(-100, 1, text)
        fake.message(5, 1, "private messages always arrive")
        assert len(fake._updates) == (2 if visible else 1)

"""The catalogues: complete in every language, placeholders kept, compiled files current, platform limits met."""

from __future__ import annotations

import gettext

import pytest

from bot.chat import i18n
from bot.chat.i18n import LANGUAGES, TRANSLATED, for_locale, language_of, translator


@pytest.mark.parametrize("locale, lang", [
    ("ru", "ru"), ("ru-RU", "ru"), ("uk", "uk"), ("ar", "ar"), ("fa-IR", "fa"), ("es-ES", "es"), ("es-419", "es"),
    ("tr", "tr"), ("fr", "fr"), ("de_DE", "de"), ("DE", "de"), ("en-US", "en"), ("en-GB", "en"), ("pt-BR", "en"),
    ("zh-CN", "en"), ("", "en"), (None, "en"), ("  ", "en"),
])
def test_platform_locales_map_to_a_supported_language(locale: str | None, lang: str) -> None:
    assert language_of(locale) == lang


def test_the_catalogues_are_complete_current_and_keep_placeholders() -> None:
    """Every marked string of the source is translated (no empty msgstr, nothing fuzzy) in all eight
    languages, with the same {placeholders}, and each committed .mo holds exactly what its .po says."""
    assert i18n.problems() == []


def test_each_language_has_its_own_words_and_english_is_the_fallback() -> None:
    assert len(TRANSLATED) == 8 and set(LANGUAGES) == {"en", *TRANSLATED}
    seen = set()
    for lang in TRANSLATED:
        t = translator(lang)
        assert t.lang == lang and t.has("Sources")
        seen.add(t("Related known claim: your message is on the same topic but is not this claim."))
        assert t("a sentence no catalogue has") == "a sentence no catalogue has"
    assert len(seen) == 8  # a different sentence in each language, none of them English
    assert translator("en")("Sources") == "Sources" and for_locale("pt-BR").lang == "en"
    assert translator("ar").rtl and translator("fa").rtl and not translator("ru").rtl


def test_the_compiled_catalogues_load_with_the_standard_library_alone() -> None:
    for lang in TRANSLATED:
        found = gettext.find(i18n.DOMAIN, str(i18n.LOCALES), languages=[lang])
        assert found and found.endswith(f"{lang}/LC_MESSAGES/claim_context.mo")


def test_command_texts_fit_the_platforms_limits_in_every_language() -> None:
    from bot.adapters.telegram.app import command_list

    for lang in LANGUAGES:
        t = translator(lang)
        for admin in (False, True):
            for c in command_list(t, admin=admin):
                assert 1 <= len(c.description) <= 256
    from bot.adapters.discord import commands as dc

    for lang in LANGUAGES:
        t = translator(lang)
        assert 1 <= len(t(dc.CHECK_CLAIM)) <= 32


# --- claim text in the user's language, or English with a note ------------------------------------------

@pytest.fixture(scope="module")
def untranslated_engine(tmp_path_factory: pytest.TempPathFactory):
    """Claims whose files have no `languages` block (like the imported fact-check claims)."""
    from bot.engine.service import Engine
    from bot.engine.store import build_database
    from tests.fakes.discord_api import write_test_knowledge

    root = tmp_path_factory.mktemp("plain-kb")
    write_test_knowledge(root / "knowledge")
    return Engine(build_database(root / "knowledge", root / "knowledge.db"))


NOTE = "Shown in English: there is no translation of this claim into this language yet."


def test_a_translated_claim_is_shown_in_the_language_with_no_note(engine) -> None:
    from bot.chat.render_text import render_result
    from bot.engine.cards import CheckResult

    for lang in TRANSLATED:
        card = engine.card("iran-taliban-bounties-2020", lang=lang)
        english = engine.card("iran-taliban-bounties-2020")
        assert card.lang == lang and card.statement != english.statement and card.status_note != english.status_note
        assert all(r.statement != e.statement for r, e in zip(card.related, english.related))  # related claims too
        text = render_result(CheckResult(text="", decision="match", card=card), translator(lang))
        assert card.statement in text and translator(lang)(NOTE) not in text


def test_an_untranslated_claim_is_english_with_a_one_line_note(untranslated_engine) -> None:
    from bot.adapters.discord import render
    from bot.chat.render_text import render_result
    from bot.engine.cards import CheckResult

    card = untranslated_engine.card("iran-taliban-bounties-2020", lang="ru")
    english = untranslated_engine.card("iran-taliban-bounties-2020")
    assert card.lang == "en" and card.statement == english.statement
    ru = translator("ru")
    text = render_result(CheckResult(text="", decision="match", card=card), ru)
    assert card.statement in text and ru(NOTE) in text and ru(NOTE) != NOTE and ru("Claim:").upper() in text
    assert NOTE not in render_result(CheckResult(text="", decision="match", card=english))  # English readers: no note
    embed = render.card_embed(card, t=translator("fa"))
    assert translator("fa")(NOTE) in embed.description


def test_isolates_stay_paired_when_discord_text_is_cut() -> None:
    from bot.adapters.discord import render

    text = render.isolate("\u0627\u0644\u0645\u0635\u0627\u062f\u0631 " * 50 + "\n" + "x" * 40)
    for limit in (5, 20, 99, 257):
        cut = render.truncate(text, limit)
        assert len(cut) <= limit and cut.count("\u2068") == cut.count("\u2069"), (limit, cut)
    assert render.isolate("plain latin", rtl=False) == "plain latin"
    assert render.isolate("\u0639\u0627\u062c\u0644", rtl=False).startswith("\u2068")  # Arabic text: isolated anyway


async def test_the_console_answers_in_the_language_asked_for(engine, tmp_path) -> None:
    from bot.adapters.console import answer
    from bot.chat.conversation import Conversation
    from bot.state import StateStore

    state = StateStore(tmp_path / "state.db")
    try:
        conversation = Conversation(engine, state)
        uk = translator("uk")
        card = engine.card("iran-taliban-bounties-2020", lang="uk")
        out = await answer("US intelligence claims Iran paid Taliban to kill American troops", conversation, "uk")
        assert card.statement in out and uk("Claim:").upper() in out and uk("First report") in out
        out = await answer("/sources iran-taliban-bounties-2020", conversation, "uk-UA")
        assert out.startswith(uk("Sources for:").upper()) and card.statement in out
        english = await answer("/help", conversation)
        assert english.startswith("claim-context console") and uk("Example:") in await answer("/help", conversation, "uk")
    finally:
        state.close()

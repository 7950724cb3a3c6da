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

"""Language detection (bot/engine/language.py): scripts, the Latin-script identifier built from py3langid's
model with only our languages' columns, and what a message is read as."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.engine import language


@pytest.fixture(scope="module")
def reference() -> LanguageIdentifier:
    """py3langid's own way to the same restriction (it keeps the full table alive, which ours does not)."""
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(language.LATIN))
    return ident


@pytest.mark.parametrize("text, lang", [
    ("Iran paid the Taliban to kill American troops in Afghanistan", "en"),
    ("Irán pagó a los talibanes para matar a soldados estadounidenses", "es"),
    ("L'Iran a payé les talibans pour tuer des soldats américains", "fr"),
    ("Der Iran hat die Taliban bezahlt, um amerikanische Soldaten zu töten", "de"),
    ("İran, Amerikan askerlerini öldürmeleri için Taliban'a para ödedi", "tr"),
    ("Иран платил талибам за убийство американских солдат", "ru"),
    ("Іран платив талібам за вбивство американських солдатів", "uk"),
    ("إيران دفعت لطالبان لقتل جنود أمريكيين", "ar"),
    ("ایران به طالبان پول داد تا سربازان آمریکایی را بکشند", "fa"),
    ("12345 !!! ???", "en"),  # no letters: English, the index's own language
])
def test_headlines_are_read_in_their_language(text: str, lang: str) -> None:
    assert language.detect(text)[0] == lang


def test_the_script_is_the_majority_of_letters() -> None:
    assert language.script_of("Путин said hello to everyone here") == "latin"
    assert language.script_of("Путин сказал hi") == "cyrillic"
    assert language.script_of("123 — !!") == ""
    assert language.script_of("123 - !!") == "" and language.script_of("a 123") == "latin"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_the_script_of_ascii_text_is_what_the_letter_count_says(text: str) -> None:
    """The fast path for ASCII text agrees with counting letters one by one (the text made non-ASCII by a
    trailing mark that is not a letter takes the slow path)."""
    assert language.script_of(text) == language.script_of(text + "\u00a0")


@pytest.mark.parametrize("text", [
    "Bill Gates wants microchips in every vaccine",
    "Le vaccin contient des puces électroniques",
    "La vacuna contiene microchips de Bill Gates",
    "Der Impfstoff enthält Mikrochips",
    "Aşı mikroçip içeriyor",
    "ok",
    "",
])
def test_our_identifier_answers_as_py3langids_own_restriction(reference: LanguageIdentifier, text: str) -> None:
    assert language._latin_identifier().classify(text) == reference.classify(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("Ll", "Lu", "Zs", "Po", "Nd")), max_size=120))
def test_our_identifier_matches_on_any_text(reference: LanguageIdentifier, text: str) -> None:
    assert language._latin_identifier().classify(text) == reference.classify(text)

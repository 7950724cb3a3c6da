import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.normalize import clean, content_tokens, normalize, tokens
from bot.engine import normalize as norm

VOCAB = {"iran", "paid", "taliban", "bounties", "vaccines", "kill", "troops"}


@pytest.mark.parametrize("evasive, expected", [
    ("ＩＲＡＮ paid", "iran paid"),  # fullwidth forms (NFKC)
    ("IRAN PAID", "iran paid"),  # case folding
    ("Ir\u200ban pa\u200did", "iran paid"),  # zero-width space
    ("Ir\u2060an pa\u00adid", "iran paid"),  # word joiner, soft hyphen
    ("\u0406r\u0430n p\u0430id", "iran paid"),  # Cyrillic look-alikes
    ("\u0399ran \u03c1aid", "iran paid"),  # Greek look-alikes
    ("1r4n p4id", "iran paid"),  # leetspeak digits
    ("v@ccines", "vaccines"),  # leetspeak symbols
    ("Iran paid https://evil.example/x?utm_source=a", "iran paid"),  # URLs removed
    ("#IranPaid", "iran paid"),  # hashtags split
])
def test_evasions_fold_to_plain_text(evasive, expected):
    assert normalize(evasive, VOCAB) == expected


def test_leetspeak_keeps_real_tokens():
    # "5g", "mh17", "covid19" are not leetspeak for words the index knows.
    assert tokens("5G mh17 covid19", VOCAB) == ["5g", "mh17", "covid19"]


def test_real_cyrillic_words_are_not_mangled():
    assert tokens("Россия заплатила") == ["россия", "заплатила"]


def test_mentions_keep_handle_and_words():
    assert tokens("@realDonaldTrump said", VOCAB) == ["realdonaldtrump", "real", "donald", "trump", "said"]


def test_clean_removes_format_characters_only():
    assert clean("a\u200eb\u202ec") == "abc"


def test_content_tokens_drop_stopwords():
    assert content_tokens(tokens("the Taliban were paid by Iran")) == ["taliban", "paid", "iran"]


def _df_of(words):
    table = {w: i + 1 for i, w in enumerate(words)}
    return lambda w: table.get(w, 0)


@pytest.mark.parametrize("word, expected", [
    ("capetownstorm", ["cape", "town", "storm"]),
    ("georgesoros", ["george", "soros"]),
    ("fyrefestival", ["fyre", "festival"]),
])
def test_run_together_words_split_into_known_words(word, expected):
    df = _df_of(["cape", "town", "storm", "george", "soros", "fyre", "festival", "or", "ape"])
    assert norm.split_compound(word, df, 1000) == expected


@pytest.mark.parametrize("word", [
    "pandamoanimum",  # no split into known words only
    "soros",  # too short to be run together
    "wildfire124",  # not letters only
    "georgexsoros",  # a letter left over
])
def test_words_without_a_clean_split_are_left_alone(word):
    df = _df_of(["panda", "george", "soros", "wild", "fire", "so", "ros"])
    assert norm.split_compound(word, df, 1000) is None


def test_split_prefers_fewer_common_parts():
    # "cornflakes": corn + flakes, not cor + nfl + akes, even where those three are known words
    df = {"corn": 50, "flakes": 20, "cor": 900, "nfl": 900, "akes": 900}.get
    assert norm.split_compound("cornflakes", lambda w: df(w) or 0, 1000) == ["corn", "flakes"]


def test_porter2_stems_join_word_families():
    assert norm.stem("immigration") == norm.stem("immigrants")
    assert norm.stem("vaccinations") == norm.stem("vaccines")
    assert norm.stem("bounties") == norm.stem("bounty")


def test_stems_come_from_the_c_stemmer_and_equal_the_pure_python_ones():
    # PyStemmer (a dependency) runs Snowball's C code; snowballstemmer's pure-Python port is the fallback
    # and the reference. Databases built with one must be read with the other, so the stems must agree.
    import random
    from pathlib import Path

    from snowballstemmer.english_stemmer import EnglishStemmer

    assert type(norm._ENGLISH).__module__ == "Stemmer"
    root = Path(__file__).resolve().parents[1]
    words = set(tokens((root / "tests" / "data" / "negatives.txt").read_text(encoding="utf-8")))
    for path in (root / "knowledge").rglob("*.yaml"):
        words.update(tokens(path.read_text(encoding="utf-8")))
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz'éüßçñ0123456789"
    words.update("".join(rng.choice(letters) for _ in range(rng.randint(1, 20))) for _ in range(20_000))
    assert len(words) > 25_000
    reference = EnglishStemmer()
    assert [w for w in sorted(words) if norm._ENGLISH.stemWord(w) != reference.stemWord(w)] == []


def test_clean_removes_every_format_character_in_unicode():
    # The removal table is scanned over the planes that hold format characters; this scans them all.
    fmt = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert len(fmt) > 150
    # U+202E (right-to-left override) is not invisible: it shows "vac\u202ecine" as "vacenic", and clean
    # reads it in that display order (test_evasions_of_a_known_headline_still_match).
    bad = [f"U+{ord(ch):04X}" for ch in fmt if ch != "\u202e" and clean(f"vac{ch}cine") != "vaccine"]
    assert bad == []


def test_words_spelled_letter_by_letter_are_joined():
    assert tokens("I r a n paid b o u n t i e s") == ["iran", "paid", "bounties"]
    assert tokens("R.u.s.s.i.a paid K.a.m.a.l.a") == ["russia", "paid", "kamala"]
    assert tokens("the U.S. and I am a fan") == ["the", "u", "s", "and", "i", "am", "a", "fan"]  # two letters stay


def test_accents_on_latin_letters_do_not_hide_a_word():
    assert tokens("Pôpé Fráncîs endorsed Bèrnîë") == ["pope", "francis", "endorsed", "bernie"]
    assert tokens("Élysée") == ["elysee"]
    assert tokens("Путин") == ["путин"]  # another script is left alone


@pytest.mark.parametrize("text, kept", [
    ("Hurricane Dorian washed up bricks of cocaine — NowThis (@nowthisnews) September 10, 2019",
     "Hurricane Dorian washed up bricks of cocaine"),
    ("Soros' son! Hes a globalist pig! - Patriot19 (@patirotwoman19) February 5, 2019", "Soros' son! Hes a globalist pig!"),
    ("my birth certificate — Barack Obama (@BarackObama) October 04, 19", "my birth certificate"),
    ("a pay raise — Tommy Christopher ( tommyxtopher ) August 14, 2018", "a pay raise"),  # after clean()
    ("Vote https://t.co/Yf6c0BZ8zv— Dan Eggen (@DanEggenWPost) October 2, 2016", "Vote https://t.co/Yf6c0BZ8zv"),
    # A quoted tweet: only the last signature goes, the quote and the comment on it stay.
    ("FAKE NEWS! — Donald J. Trump (@realDonaldTrump) August 16, 2018I mean, wow. — Jules (@jules_su) August 16, 2018",
     "FAKE NEWS! — Donald J. Trump (@realDonaldTrump) August 16, 2018I mean, wow."),
])
def test_a_pasted_tweets_signature_is_dropped(text, kept):
    assert norm.without_signature(text) == kept


@pytest.mark.parametrize("text", [
    "Prices rose - Reuters (citing officials) on March 3, 2020",
    "The vote is on March 3, 2020 — see @nytimes",
    "a - b (@c) is not dated",
])
def test_text_that_only_looks_like_a_signature_is_kept(text):
    assert norm.without_signature(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_without_signature_only_ever_cuts_a_tail(text):
    out = norm.without_signature(text)
    assert text.startswith(out) and len(out) <= len(text)

"""Every evasion form of issue 16's attack still finds the known headline it hides; genuine text in other
scripts is not folded into Latin; one ordinary word never gets a card."""

from collections.abc import Callable

import pytest

from bot.engine.normalize import tokens

IRAN = "iran-taliban-bounties-2020"
HEADLINES = {  # shipped phrasings and the claim each is a match for
    "US intelligence claims Iran paid Taliban to kill American troops": IRAN,
    "Russia paid Taliban-linked militants to kill American soldiers": "russia-gru-taliban-bounties-2020",
}

_ACCENTED = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
_CHEROKEE = str.maketrans("ABCDEGHJKLMPRSTVWZ", "ᎪᏴᏟᎠᎬᏀᎻᎫᏦᏞᎷᏢᎡᏚᎢᏙᏔᏃ")
_SMALL_CAPS = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘqʀꜱᴛᴜᴠᴡxʏᴢ")


def _per_letter(suffix: str) -> Callable[[str], str]:
    return lambda text: "".join(ch + suffix if ch.isalpha() else ch for ch in text)


def _regional(text: str) -> str:
    return "".join(chr(0x1F1E6 + ord(ch) - ord("a")) if "a" <= ch <= "z" else ch for ch in text.lower())


EVASIONS: dict[str, Callable[[str], str]] = {
    "rlo-whole-text": lambda t: "\u202e" + t[::-1],
    "rlo-each-word": lambda t: " ".join(f"\u202e{w[::-1]}\u202c" for w in t.split()),
    "fe0f-after-each-letter": _per_letter("\ufe0f"),
    "combining-accents": _per_letter("\u0301"),
    "combining-strikethrough": _per_letter("\u0336"),
    "combining-long-stroke-overlay": _per_letter("\u0335"),
    "accented-letters": lambda t: t.translate(_ACCENTED),
    "latin-alpha": lambda t: t.replace("a", "\u0251"),
    "cherokee-look-alikes": lambda t: t.upper().translate(_CHEROKEE),
    "small-capitals": lambda t: t.lower().translate(_SMALL_CAPS),
    "spaced-letters": lambda t: "   ".join(" ".join(w) for w in t.split()),
    "dotted-letters": lambda t: " ".join(".".join(w) for w in t.split()),
    "hair-spaces-between-letters": lambda t: " ".join("\u200a".join(w) for w in t.split()),
    "hair-spaces-between-words": lambda t: t.replace(" ", "\u200a"),
    "zero-width-word-separators": lambda t: t.replace(" ", "\u200b"),
    "zero-width-inside-words": lambda t: " ".join(w[:2] + "\u200b" + w[2:] for w in t.split()),
    "regional-indicator-letters": _regional,
    "mixed-cyrillic-greek": lambda t: t.replace("a", "\u0430").replace("o", "\u03bf").replace("e", "\u0435"),
}


@pytest.mark.parametrize("name", EVASIONS)
@pytest.mark.parametrize("headline", HEADLINES)
def test_evasions_of_a_known_headline_still_match(engine, headline, name):
    plain = engine.check(headline)
    assert (plain.decision, plain.matches[0].id) == ("match", HEADLINES[headline])
    evaded = EVASIONS[name](headline)
    r = engine.check(evaded)
    assert (r.decision, r.matches[0].id if r.matches else None) == ("match", HEADLINES[headline]), evaded


@pytest.mark.parametrize("text, expected", [
    ("Россия заплатила талибам", ["россия", "заплатила", "талибам"]),
    ("Ελλάδα και Ρωσία", ["ελλαδα", "και", "ρωσια"]),  # accents go, the Greek letters stay
    ("Путин сказал что Иран", ["путин", "сказал", "что", "иран"]),
    ("сор сер рас", ["сор", "сер", "рас"]),  # all look-alike letters, but the text is Russian
])
def test_genuine_russian_and_greek_words_are_not_folded_into_latin(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("J. K. Rowling", ["j", "k", "rowling"]),  # initials: one letter each, not a spelled-out word
    ("U.S. troops", ["u", "s", "troops"]),  # two letters are not joined
    ("a b testing", ["a", "b", "testing"]),
    ("I.r.a.n p.a.i.d", ["iran", "paid"]),
    ("vac\u200bcine", ["vaccine"]),
])
def test_spelled_out_letters_are_joined_only_when_three_or_more(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize("text", ["look", "lol", "pizza", "Pizza", "vaccines", "troops", "Taliban", "lol 😂"])
def test_one_ordinary_word_gets_no_card(engine, text):
    r = engine.check(text)
    assert r.decision == "none" and r.card is None, (text, r.decision, r.reason)


def test_two_shared_content_words_still_get_a_related_card(engine):
    assert engine.check("pizza restaurant").decision == "related"

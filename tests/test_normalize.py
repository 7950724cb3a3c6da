import pytest

from bot.engine.normalize import clean, content_tokens, normalize, tokens

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

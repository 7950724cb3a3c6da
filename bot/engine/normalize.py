"""Text normalisation shared by indexing and matching, hardened against evasion.

Handles Unicode compatibility forms (NFKC), case folding, zero-width and other invisible characters,
look-alike letters of other scripts (the Unicode confusables data, UTS #39), accents and other combining
marks, variation selectors, regional-indicator letters, text reversed with a right-to-left override,
letters spelled out with spaces or dots ("I r a n"), leetspeak digits inside words, URLs and hashtags;
splits run-together words against a vocabulary; stems with Porter2.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import Generic, TypeVar
from collections.abc import Container

import snowballstemmer
# The UTS #39 confusables table (Unicode 17 data), folded towards Latin: disarm's normalize_confusables.
# Chosen over confusable-homoglyphs (its data is an undirected similarity list without the prototype a
# skeleton needs, last updated in 2024) and confusables (last release 2021): disarm ships the current
# confusables.txt as a directed map, iterates it to a fixed point, and also folds the small capitals and
# Cherokee small letters that TR39 leaves as their own prototypes. One call is a few microseconds and
# only words with a non-ASCII letter reach it.
from disarm import normalize_confusables

from bot.engine.urls import strip_urls

# Invisible characters used to split words without a visible trace: every format character (category Cf:
# zero-width, joiners, bidi marks, soft hyphen, word joiner, BOM, tags) plus fillers of other categories
# (combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian vowel separator). Cf
# characters live in planes 0, 1 and 14 (checked over all of Unicode in the tests); one str.translate
# removes them all, instead of a category lookup per character.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0, 0xFEFF]
    + list(range(0x200B, 0x2010)) + list(range(0x202A, 0x202F)) + list(range(0x2060, 0x2070))
    + [c for r in (range(0x20000), range(0xE0000, 0xE1000)) for c in r if unicodedata.category(chr(c)) == "Cf"]
)

# Combining marks that sit on letters of any script (accents, strikethrough, overlays; the generic
# diacritic blocks) and variation selectors (U+FE0F after each letter): removed after NFD, so "Ir\u0336a\u0336n",
# "Ir\u00e1n" and "I\ufe0fr\ufe0fa\ufe0fn" all read "Iran". Script-specific vowel signs (Devanagari, Arabic) are not here.
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\ufe00-\ufe0f"
                       "\U000e0100-\U000e01ef]+")
# Regional-indicator symbols (U+1F1E6..U+1F1FF) are the letters A..Z drawn in boxes.
_REGIONAL = {0x1F1E6 + i: chr(ord("A") + i) for i in range(26)}
_REGIONAL_RE = re.compile("[\U0001f1e6-\U0001f1ff]")
# A right-to-left override displays what follows backwards until a pop (PDF, PDI) or the end of the line:
# "\u202enari" shows as "iran". Read the run in display order.
_RLO_RE = re.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")
# Zero-width characters that separate words when a text has no spaces at all.
_ZW_SEPARATORS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u180e"), " ")
_ZW_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u180e]")
_SPACE_RE = re.compile(r"\s")
# Hair, thin and other narrow spaces: NFKC makes them ordinary spaces, but between the letters of words that
# ordinary spaces separate they are letter-spacing ("I\u200ar\u200aa\u200an paid"), removed before NFKC.
_THIN_SPACES_RE = re.compile("[\u2006\u2008\u2009\u200a\u202f\u205f]")
# Small capitals look like capitals ("ᴛʜɪꜱ ɪꜱ" reads THIS IS); TR39 leaves most as their own prototypes.
_SMALL_CAPITALS = {c: unicodedata.name(chr(c))[len("LATIN LETTER SMALL CAPITAL "):]
                   for r in (range(0x0250, 0x02B0), range(0x1D00, 0x1D80), range(0xA700, 0xA800))
                   for c in r if unicodedata.name(chr(c), "").startswith("LATIN LETTER SMALL CAPITAL ")
                   and len(unicodedata.name(chr(c))) == len("LATIN LETTER SMALL CAPITAL ") + 1}
_WORD_RE = re.compile(r"[^\W_]+")
# Three or more single letters or digits with the same one separator between each: "I r a n", "I.R.A.N",
# "C-O-V-I-D" (a different separator, or two spaces, ends the word: "I.r.a.n p.a.i.d" is two words). Once a
# text spells words out this way, its two-character words are spelled out too ("5 G", "U.S.").
_SPACED = r"(?<![^\W_])[^\W_](?P<sep>%s)[^\W_](?:(?P=sep)[^\W_]){%d,}(?![^\W_])"
# Dots and dashes first, then spaces: in "i.s a U.k.r.a.i.n.e" the "s a U" is not a spaced-out word.
_SPACED_PASSES = tuple((re.compile(_SPACED % (seps, 1)), re.compile(_SPACED % (seps, 0)))
                       for seps in (r"[.\u00b7\u2022*|/_-]", " "))
_SPACED_SEP_RE = re.compile(r"[ .\u00b7\u2022*|/_-]")
# A cheap test first (most texts have no separator-letter-separator-letter-separator): it starts at a
# separator, where the full patterns try every position behind a look-behind.
_SPACED_HINT = re.compile(r"(?:[ .\u00b7\u2022*|/_-][^\W_]){2}[ .\u00b7\u2022*|/_-]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})

_TOKEN_RE = re.compile(r"[@$]?[^\W_]+(?:[@$!][^\W_]+)*[@$!]?", re.UNICODE)
_HASHTAG_RE = re.compile(r"#(\w+)")
_MEDIA_LINK_RE = re.compile(r"(?i)\b(?:pic\.twitter\.com|t\.co)/\w+")  # scheme-less media links in tweets
_MENTION_RE = re.compile(r"(?<!\w)@(\w{2,})")
# An embedded tweet's signature: "— Donald J. Trump (@realDonaldTrump) March 24, 2019" (who posted and when),
# also after a hyphen or glued to a link ("…/9pmmMoYeva— Name (@handle) October 04, 19"), and after `clean`
# has taken the handle's "@" off.
_SIGNATURE_RE = re.compile(r"(?:\s[-—–]\s?|[—–]\s?)[^—–\n]{0,80}\([^()]{0,80}\)\s*[A-Z][a-z]{2,8}\.? \d{1,2}, (?:\d{4}|\d{2})\b.*$",
                           re.S)
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z]{2,})")

STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their theirs them then there these they
    this those through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself rt via amp just also""".split()
)


def _unmask(text: str) -> str:
    """The non-ASCII evasions: right-to-left overrides read in display order, zero-width word separators
    made spaces, regional indicators made letters, combining marks and variation selectors removed."""
    if "\u202e" in text:
        text = _RLO_RE.sub(lambda m: m.group(1)[::-1], text)
    stripped = text.strip()
    if _ZW_RE.search(stripped) and not _SPACE_RE.search(stripped):
        # No visible space at all, yet three or more word-sized pieces between zero-width characters: they
        # stand for spaces. One inside a word ("vac\u200bcine") is removed like any invisible character.
        pieces = stripped.translate(_ZW_SEPARATORS).split()
        if len(pieces) >= 3 and sum(len(p) >= 2 for p in pieces) * 2 > len(pieces):
            text = text.translate(_ZW_SEPARATORS)
    if _REGIONAL_RE.search(text):
        text = text.translate(_REGIONAL)
    decomposed = unicodedata.normalize("NFD", text)
    if _MARKS_RE.search(decomposed):
        text = unicodedata.normalize("NFC", _MARKS_RE.sub("", decomposed))
    return _fold_words(text)


def _join_spelled_out(text: str) -> str:
    for runs, pairs in _SPACED_PASSES:
        seps: set[str] = set()

        def join(m: re.Match[str]) -> str:
            run = m.group(0)
            if not any(ch.isalpha() for ch in run):  # "1 2 3" stays numbers
                return run
            seps.add(m.group("sep"))
            return _SPACED_SEP_RE.sub("", run)

        text = runs.sub(join, text)
        if seps:
            text = pairs.sub(lambda m: _SPACED_SEP_RE.sub("", m.group(0)) if m.group("sep") in seps
                             and any(ch.isalpha() for ch in m.group(0)) else m.group(0), text)
    return text


def without_signature(text: str) -> str:
    """The text without a pasted tweet's closing signature (who posted it and when, not what it says)."""
    return _SIGNATURE_RE.sub("", text)


def clean(text: str) -> str:
    """NFKC, evasions undone (see _unmask), invisible characters removed, URLs removed, letters spelled out
    one by one joined, hashtags split into words. Case is kept."""
    text = text or ""
    if not text.isascii() and " " in text and _THIN_SPACES_RE.search(text):
        text = _THIN_SPACES_RE.sub("", text)  # letter-spacing inside words that ordinary spaces separate
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = _unmask(text)
    text = text.translate(_INVISIBLE)
    text = strip_urls(text)
    if _SPACED_HINT.search(f" {text} "):
        text = _join_spelled_out(text)
    text = _MEDIA_LINK_RE.sub(" ", text)
    text = _HASHTAG_RE.sub(lambda m: " " + _CAMEL_RE.sub(" ", m.group(1)) + " ", text)
    # Handles carry names: keep the handle and add its camel-case words (@realDonaldTrump -> real Donald Trump).
    text = _MENTION_RE.sub(lambda m: f" {m.group(1)} {_CAMEL_RE.sub(' ', m.group(1))} " if _CAMEL_RE.search(m.group(1)) else f" {m.group(1)} ", text)
    return text


def _is_latin_letter(ch: str) -> bool:
    return ("a" <= ch <= "z" or "A" <= ch <= "Z"
            or (ch > "\x7f" and ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")))


def _latin_fold(word: str) -> str:
    """The word with every look-alike letter replaced by its Latin prototype, case kept."""
    return normalize_confusables(word.translate(_SMALL_CAPITALS))


def _mostly_other_script(raws: list[str]) -> bool:
    """Fewer words with a Latin letter than words that are clearly in another script (a letter with no
    Latin look-alike: Russian "заплатила", Greek "Ελλάδα"). Words made only of look-alikes are no evidence
    either way; with no Latin word at all, the text is not English in disguise."""
    latin = other = 0
    for r in raws:
        if any(map(_is_latin_letter, r)):
            latin += 1
        elif not r.isascii() and any(ch.isalpha() for ch in r) and not latin_fold(r).isascii():
            other += 1
    return latin <= other


def _fold_words(text: str) -> str:
    """Fold look-alike letters into Latin, word by word: words that have a Latin letter (mixed scripts:
    "Ιrаn"; Latin look-alikes: "ɑ", small capitals) and words made entirely of look-alikes, unless the text
    is in another script (_mostly_other_script): real Russian or Greek words are left alone."""
    words = _WORD_RE.findall(text)
    if all(w.isascii() for w in words):
        return text
    foreign = _mostly_other_script(words)

    def fold(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.isascii():
            return word
        folded = latin_fold(word)
        if folded != word and (any(map(_is_latin_letter, word))
                               or (not foreign and folded.isascii() and folded.isalnum())):
            return folded
        return word

    return _WORD_RE.sub(fold, text)


def _fold_token(token: str, vocab: Container[str] | None) -> str:
    if token.isalpha() and token.isascii():  # most words: no look-alike, no digit or symbol to decode
        return token
    if any(ch.isdigit() or ch in "@$!" for ch in token) and any(ch.isalpha() for ch in token):
        decoded = token.translate(_LEET)
        if decoded.isalpha() and (vocab is None or (decoded in vocab and token not in vocab)):
            token = decoded
    return token.strip("@$!") or token


def tokens(text: str, vocab: Container[str] | None = None) -> list[str]:
    """Normalised word tokens. With `vocab`, leetspeak is decoded only into words the index knows
    (so "5g", "mh17" and "covid19" survive while "1r4n" becomes "iran")."""
    return clean_tokens(clean(text), vocab)


def clean_tokens(cleaned: str, vocab: Container[str] | None = None) -> list[str]:
    """`tokens` of a text that has already been through `clean` (the matcher needs both)."""
    out = []
    for raw in _TOKEN_RE.findall(cleaned.casefold()):
        tok = _fold_token(raw, vocab)
        tok = tok.replace("’", "'")
        if tok:
            out.append(tok)
    return out


def normalize(text: str, vocab: Container[str] | None = None) -> str:
    """The normalised form used for indexing, fuzzy scoring and near-duplicate checks."""
    return " ".join(tokens(text, vocab))


def content_tokens(toks: list[str]) -> list[str]:
    return [t for t in toks if t not in STOPWORDS and len(t) > 1]


SPLIT_MIN_LEN = 6  # shorter unknown words are names or typos, not run-together words
SPLIT_MIN_PART = 3
SPLIT_MAX_PARTS = 4
SPLIT_MAX_LEN = 30  # longer "words" are noise or an attack: a split costs about len^2/2 lookups


def split_compound(word: str, df: Callable[[str], int], n_docs: int) -> list[str] | None:
    """Split a run-together word the index does not know into words it does, as hashtags and handles
    write them ("capetownstorm" -> cape town storm, "georgesoros" -> george soros): the split into the
    fewest parts, among those the most common (sum of -log(df/n)); None when there is no split into 2 to
    4 known parts of at least 3 letters each. Split only unknown words: known ones are evidence as they are.
    """
    n = len(word)
    if not SPLIT_MIN_LEN <= n <= SPLIT_MAX_LEN or not word.isalpha():
        return None
    # best[i]: (parts, cost, words) of the best split of word[:i]; tuples compare parts first
    best: list[tuple[int, float, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0.0, [])
    for end in range(SPLIT_MIN_PART, n + 1):
        for start in range(0, end - SPLIT_MIN_PART + 1):
            prev = best[start]
            if prev is None or prev[0] >= SPLIT_MAX_PARTS:
                continue
            f = df(word[start:end])
            if f <= 0:
                continue
            option = (prev[0] + 1, prev[1] + math.log(max(n_docs, f) / f), prev[2] + [word[start:end]])
            if best[end] is None or option[:2] < best[end][:2]:
                best[end] = option
    found = best[n]
    return found[2] if found and found[0] >= 2 else None


T = TypeVar("T")


class Memo(Generic[T]):
    """A str -> scalar function cached in a plain dict, emptied when full. Unlike functools.lru_cache,
    whose linked list the garbage collector must walk, a dict of strings and numbers is not tracked by
    the GC: no multi-millisecond pauses once the cache is large."""

    __slots__ = ("fn", "limit", "cache", "peek")

    def __init__(self, fn: Callable[[str], T], limit: int = 200_000) -> None:
        self.fn, self.limit = fn, limit
        self.cache: dict[str, T] = {}
        self.peek = self.cache.get  # the cached value or None, without a Python-level call

    def __call__(self, key: str) -> T:
        value = self.cache.get(key)
        if value is None:
            if len(self.cache) >= self.limit:
                self.cache.clear()
            value = self.cache[key] = self.fn(key)
        return value


# With PyStemmer installed (a dependency) snowballstemmer hands out its C build of the same Snowball code:
# the same stems (checked in the tests), 0.8 instead of 38 microseconds for a word not seen before.
_ENGLISH = snowballstemmer.stemmer("english")
if hasattr(_ENGLISH, "maxCacheSize"):
    _ENGLISH.maxCacheSize = 0  # PyStemmer's own cache: `stem` below already memoises, and keeping both costs 3x


def _stem(token: str) -> str:
    """Porter2 (Snowball English), so 'immigration'/'immigrants' and 'vaccines'/'vaccinations' meet in
    the postings and the overlap features (against a plural-only stripper: +0.008 MAP@5 on CLEF dev,
    +0.002 on train, Recall@5 +0.016 / +0.010)."""
    return _ENGLISH.stemWord(token)


stem = Memo(_stem)
latin_fold = Memo(_latin_fold)

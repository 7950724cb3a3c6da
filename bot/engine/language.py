"""Which language a message is in, and how each language's words are reduced to the index's terms.

Detection: the script decides between Cyrillic (Russian or Ukrainian, told apart by the letters each
alphabet alone has) and Arabic script (Arabic or Persian, likewise); Latin-script text goes to py3langid
(langid.py's maintained fork: a naive Bayes model over byte n-grams shipped inside a 4.6 MB wheel, numpy
only, 0.8 ms a message here) restricted to the Latin-script languages we serve. A short or unclear Latin
message is English, the language of most of the knowledge. On this project's 1,210 development messages
in nine languages it is right on 98%; its misses are one-word chat and disguised English.

Analysis: each language's words are stemmed with its own Snowball stemmer (PyStemmer); Ukrainian has none
(the Russian stemmer did worse than none on it), so its words stay whole. Function words of each language
are dropped like English stopwords.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import Stemmer

from bot.engine.normalize import Memo

ENGLISH = "en"
LANGUAGES = ("en", "ru", "uk", "ar", "fa", "es", "tr", "fr", "de")
NAMES = {"en": "English", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic", "fa": "Persian", "es": "Spanish",
         "tr": "Turkish", "fr": "French", "de": "German"}
LATIN = ("en", "es", "tr", "fr", "de")
_SNOWBALL = {"ru": "russian", "ar": "arabic", "fa": "persian", "es": "spanish", "tr": "turkish", "fr": "french",
             "de": "german"}
MIN_CONFIDENCE = 0.75  # below it a Latin-script message is read as English

_UKRAINIAN_ONLY = frozenset("іїєґ")
_RUSSIAN_ONLY = frozenset("ыэъё")
_PERSIAN_ONLY = frozenset("پچژگکی")  # پ چ ژ گ, Persian kaf and yeh (Arabic writes ك ي)
_ARABIC_ONLY = frozenset("ةيكىأإؤ")

# Function words: prepositions, conjunctions, pronouns, particles and auxiliaries. Short hand-made lists on
# purpose: the large published lists also drop content words that claims turn on (Russian "белый", as in
# "Белый дом", is in stopwords-iso).
FUNCTION_WORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "ru": """а без бы был была были было быть в во вот вы да для до его ее её если есть же за и из или им их к
        как ко когда кто ли на над не него нее неё нет ни но о об около он она они оно от по под после при про с
        со так также там то тоже только у уже чем что чтобы это этот эта эти я мы ты вас нас их ему ей им этом
        том той тех всех все всё свой своих своей""",
    "uk": """а але без би був була були було бути в від для до його її з за зі і й й із їх к коли хто ли на над не
        ні но о об під після по при про та так також там те то тобто у що щоб це цей ця ці я ми ви він вона
        вони воно як чи ще вже лише тільки свій своїх своєї""",
    "ar": """في من على إلى الى عن مع أن ان إن لا ما هذا هذه ذلك تلك التي الذي الذين هو هي هم كان كانت قد لقد و أو او
        ثم بعد قبل عند كل بين حتى لم لن إذا اذا أي أيضا ايضا بل لكن فقط منذ هناك هنا""",
    "fa": """از به با در که را و یا این آن برای تا بر هم نیز اما ولی اگر چه چون هر می‌شود می‌کند است بود شد
        شده کرد کرده دارد داشت باید نه هیچ همه ما شما او آنها ایشان خود""",
    "es": """a al ante bajo con contra de del desde durante e el en entre es fue ha han hasta la las le les lo los
        mas más me mi muy no o para pero por que qué se ser si sí sin sobre su sus también te tras un una unos
        unas y ya yo está están era eran son como""",
    "tr": """ve veya ile bir bu şu o da de mi mı mu mü için gibi kadar daha çok en ama fakat ancak ise ki ne
        her hiç değil var yok olan oldu olarak ben sen biz siz onlar bunu şunu onu diye""",
    "fr": """a à au aux avec ce ces cette dans de des du elle elles en est et été il ils je la le les leur leurs
        lui mais me même mes ne nous on ont ou où par pas pour qu que qui sa se ses son sont sur ta te tes
        un une vous y été être avait""",
    "de": """aber als am an auch auf aus bei bin bis das dass dem den der des die du durch ein eine einem einen
        einer eines er es für hat hatte haben ich ihr im in ist ja kein mit nach nicht noch nur oder sich sie
        sind so über um und uns von vor war waren was wie wir wird wurde wurden zu zum zur""",
}.items()}


def script_of(text: str) -> str:
    """'cyrillic', 'arabic', 'latin' or '' (none), by the majority of letters."""
    if text.isascii():  # most messages: no per-letter name lookup
        return "latin" if any(map(str.isalpha, text)) else ""
    counts = {"cyrillic": 0, "arabic": 0, "latin": 0}
    for ch in text:
        if ch.isascii():
            counts["latin"] += ch.isalpha()
            continue
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for script in ("CYRILLIC", "ARABIC", "LATIN"):
            if name.startswith(script):
                counts[script.lower()] += 1
                break
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ""


@lru_cache(maxsize=1)
def _latin_identifier():  # type: ignore[no-untyped-def]
    """py3langid's model restricted to LATIN, built with only those languages' columns of its feature
    table: `set_languages` would keep the whole 142-language table (28 MB) for the process's lifetime."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
    keep = [i for i, c in enumerate(classes) if c in LATIN]  # what set_languages selects, in the same order
    return LanguageIdentifier(np.ascontiguousarray(ptc[:, keep]), np.asarray(pc)[keep], [classes[i] for i in keep],
                              nextmove, output, norm_probs=True, tk_row=row)


def detect(text: str) -> tuple[str, float]:
    """(language, confidence) of a message; one of LANGUAGES. Unclear Latin-script text is English."""
    script = script_of(text)
    letters = {ch for ch in text.casefold() if ch.isalpha()}
    if script == "cyrillic":
        uk, ru = len(letters & _UKRAINIAN_ONLY), len(letters & _RUSSIAN_ONLY)
        return ("uk", 1.0) if uk > ru else ("ru", 1.0 if ru else 0.8)
    if script == "arabic":
        fa, ar = len(letters & _PERSIAN_ONLY), len(letters & _ARABIC_ONLY)
        return ("fa", 1.0) if fa > ar else ("ar", 1.0 if ar else 0.8)
    if script != "latin":
        return ENGLISH, 0.0
    lang, confidence = _latin_identifier().classify(text)
    if lang != ENGLISH and confidence < MIN_CONFIDENCE:
        return ENGLISH, 1.0 - confidence
    return str(lang), float(confidence)


@lru_cache(maxsize=None)
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = _SNOWBALL.get(lang)
    if name is None:
        return None
    s = Stemmer.Stemmer(name)
    s.maxCacheSize = 0  # the Memo below already caches
    return s


_STEMS: dict[str, Memo[str]] = {}


def stemmer(lang: str) -> Memo[str]:
    """word -> its stem in `lang` (identity where the language has no stemmer), memoised."""
    memo = _STEMS.get(lang)
    if memo is None:
        s = _stemmer(lang)
        memo = _STEMS[lang] = Memo(s.stemWord if s is not None else str)
    return memo


def content_words(tokens: list[str], lang: str) -> list[str]:
    """`lang`'s tokens without its function words and one-letter tokens."""
    stop = FUNCTION_WORDS.get(lang, frozenset())
    return [t for t in tokens if t not in stop and len(t) > 1]


def terms(tokens: list[str], lang: str) -> list[str]:
    """The index terms of a text in `lang` (its normalised tokens): content words, stemmed in that language."""
    stem = stemmer(lang)
    return [stem(t) for t in content_words(tokens, lang)]


def foreign(lang: str) -> bool:
    """Whether `lang` is analysed by its own terms rather than the English pipeline the index began with."""
    return lang in LANGUAGES and lang != ENGLISH

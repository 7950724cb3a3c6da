"""The bot's words in the user's language: gettext catalogues, one translator per language.

The runtime reads the compiled catalogues (bot/chat/locales/<lang>/LC_MESSAGES/claim_context.mo) with the
standard library's gettext; Babel (dev extra) only extracts and compiles them:

    python -m bot.chat.i18n extract   # source -> locales/claim_context.pot, merged into every .po
    python -m bot.chat.i18n compile   # every .po -> its .mo (commit both)
    python -m bot.chat.i18n check     # untranslated ids, lost {placeholders}, stale .mo files

Strings are marked in the source with `N_("...")` (module constants, translated when rendered) or
`t("...")` (a Translator called in place). Placeholders are str.format fields ({detail}); command names
(/check) stay as they are in every language.
"""

from __future__ import annotations

import gettext
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

DOMAIN = "claim_context"
LOCALES = Path(__file__).resolve().parent / "locales"
DEFAULT = "en"
LANGUAGES: tuple[str, ...] = ("en", "ru", "uk", "ar", "fa", "es", "tr", "fr", "de")
TRANSLATED = LANGUAGES[1:]
RTL = frozenset({"ar", "fa"})
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?\}")


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def language_of(locale: str | None) -> str:
    """A platform locale ("ru", "pt-BR", "es-ES", "ar", "de_DE") as a supported language, else English."""
    primary = re.split(r"[-_]", (locale or "").strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else DEFAULT


class Translator:
    """One language's words. `t("No claim has the id {detail}.", detail=x)` translates, then formats."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations) -> None:
        self.lang, self._catalog = lang, catalog

    @property
    def rtl(self) -> bool:
        return self.lang in RTL

    def __call__(self, message: str, **fields: Any) -> str:
        text = self._catalog.gettext(message) if message else message
        return text.format(**fields) if fields else text

    def has(self, message: str) -> bool:
        """Whether this language has its own text for `message` (English always has)."""
        return self.lang == DEFAULT or message in getattr(self._catalog, "_catalog", {})

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


@lru_cache(maxsize=None)
def translator(lang: str = DEFAULT) -> Translator:
    """The cached translator for a supported language (anything else: English)."""
    lang = language_of(lang)
    if lang == DEFAULT:
        return Translator(lang, gettext.NullTranslations())
    return Translator(lang, gettext.translation(DOMAIN, localedir=str(LOCALES), languages=[lang], fallback=True))


def for_locale(locale: str | None) -> Translator:
    return translator(language_of(locale))


EN = translator(DEFAULT)


# --- maintenance (Babel, dev extra) ------------------------------------------------------------------------

SOURCES = ("bot/chat", "bot/adapters", "bot/moderation.py")
KEYWORDS = {"N_": None, "t": None}


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Any:
    """Every marked string of the chat layer and the adapters, as a Babel catalogue (the .pot)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir, extract_from_file

    root = Path(__file__).resolve().parents[2]
    catalog = Catalog(project="claim-context", domain=DOMAIN, charset="utf-8")
    for source in SOURCES:
        path = root / source
        found = (extract_from_dir(str(path), [("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",))
                 if path.is_dir() else ((str(path.relative_to(root)), *rest) for rest in
                                        extract_from_file("python", str(path), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",))))
        for filename, lineno, message, comments, context in found:
            where = f"{source}/{filename}" if path.is_dir() else filename
            catalog.add(message, locations=[(where, lineno)], auto_comments=comments, context=context)
    return catalog


def read_po(lang: str) -> Any:
    from babel.messages.pofile import read_po as _read

    with po_path(lang).open("rb") as f:
        return _read(f, locale=lang, domain=DOMAIN)


def write_po(catalog: Any, path: Path) -> None:
    from babel.messages.pofile import write_po as _write

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        _write(f, catalog, width=100, omit_header=False, sort_output=False, include_previous=False,
               include_lineno=False)  # file names only: editing code does not touch every catalogue


def update() -> None:
    """Extract, write the .pot, and merge it into each language's .po (new ids arrive untranslated)."""
    from babel.messages.catalog import Catalog

    template = extract()
    write_po(template, LOCALES / f"{DOMAIN}.pot")
    for lang in TRANSLATED:
        path = po_path(lang)
        catalog = read_po(lang) if path.exists() else Catalog(locale=lang, domain=DOMAIN, project="claim-context")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header; untranslated messages are what `check` reports
        catalog.last_translator = catalog.language_team = "claim-context maintainers"
        write_po(catalog, path)


def compile_all() -> None:
    from babel.messages.mofile import write_mo

    for lang in TRANSLATED:
        catalog = read_po(lang)
        with po_path(lang).with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


def problems() -> list[str]:
    """What keeps the catalogues from being complete: untranslated or fuzzy ids, placeholders that differ,
    a .mo that does not hold what its .po says, ids in the source that a catalogue lacks."""
    out: list[str] = []
    wanted = {m.id for m in extract() if m.id}
    for lang in TRANSLATED:
        catalog = read_po(lang)
        ids = {m.id for m in catalog if m.id}
        out += [f"{lang}: missing {i!r}" for i in sorted(wanted - ids)]
        out += [f"{lang}: not in the source {i!r}" for i in sorted(ids - wanted)]
        with po_path(lang).with_suffix(".mo").open("rb") as f:
            compiled = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        for m in catalog:
            if not m.id:
                continue
            if not m.string or m.fuzzy:
                out.append(f"{lang}: untranslated {m.id!r}")
                continue
            if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string)):
                out.append(f"{lang}: placeholders differ in {m.id!r}")
            if compiled.get(m.id) != m.string:
                out.append(f"{lang}: the .mo is stale for {m.id!r} (run compile)")
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "catalogues complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

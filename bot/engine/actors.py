"""Who a text names: aliases of actors (countries, organisations, people) found in a message or a claim.

One definition serves the matcher (which actors a message names; whether it names a claim's main actor)
and the store (the main actor of an imported claim that has no curated one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from bot.engine import normalize


class Alias(NamedTuple):
    words: tuple[str, ...]  # normalised tokens, for case-insensitive aliases
    case_sensitive: bool
    raw: str


def alias_is_case_sensitive(alias: str) -> bool:
    """Short all-caps aliases ('US', 'UK', 'UN') must keep their case: 'us' is a pronoun."""
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and len(letters) <= 4 and all(c.isupper() for c in letters)


_COMPILED: dict[tuple[str, bool | None], Alias] = {}  # the matcher compiles a candidate's aliases per message


def compile_alias(alias: str, case_sensitive: bool | None = None) -> Alias:
    key = (alias, case_sensitive)
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) >= 50_000:  # aliases come from the knowledge base: bounded, but stay bounded
            _COMPILED.clear()
        cs = alias_is_case_sensitive(alias) if case_sensitive is None else case_sensitive
        found = _COMPILED[key] = Alias(tuple(normalize.tokens(alias, ())), cs, alias)
    return found


def alias_position(alias: Alias, toks: list[str], text: str) -> float | None:
    """Where `alias` first occurs, as a fraction of the text (0 = at the start), or None.
    `toks` are the text's normalised tokens and `text` its cleaned form (normalize.clean)."""
    if alias.case_sensitive:
        m = re.search(rf"(?<![A-Za-z]){re.escape(alias.raw)}(?![A-Za-z])", text)
        return m.start() / max(len(text), 1) if m else None
    n = len(alias.words)
    if not n:
        return None
    first = alias.words[0]
    for i in range(len(toks) - n + 1):
        if toks[i] == first and tuple(toks[i:i + n]) == alias.words:
            return i / max(len(toks), 1)
    return None


def alias_found(alias: Alias, toks: list[str], text: str) -> bool:
    return alias_position(alias, toks, text) is not None


class NameIndex:
    """Aliases by their first word, to find the first actor a text names in one pass over its tokens
    (the store runs it on every imported claim: a 1M-claim build cannot afford a scan per alias)."""

    def __init__(self, aliases: dict[str, list[Alias]]) -> None:
        self.by_first: dict[str, list[tuple[Alias, str]]] = {}
        self.exact: list[tuple[Alias, str]] = []
        for name, options in aliases.items():
            for a in options:
                if a.case_sensitive:
                    self.exact.append((a, name))
                elif a.words:
                    self.by_first.setdefault(a.words[0], []).append((a, name))

    def _word_hits(self, toks: list[str]) -> Iterator[tuple[int, str]]:
        """(token position, actor) of every case-insensitive alias in the tokens, in order."""
        for i, tok in enumerate(toks):
            for a, name in self.by_first.get(tok, ()):
                if tuple(toks[i:i + len(a.words)]) == a.words:
                    yield i, name

    def named(self, toks: list[str], text: str) -> set[str]:
        """Every actor named in a text (`toks`: its normalised tokens, `text`: its cleaned form)."""
        out = {name for _, name in self._word_hits(toks)}
        out.update(name for a, name in self.exact if a.raw in text and alias_found(a, toks, text))
        return out

    def in_order(self, toks: list[str], text: str) -> list[str]:
        """The actors a text names, in the order it first names them (`toks`: its normalised tokens, `text`:
        its cleaned form); case-sensitive aliases ("US", "КСИР") by their place in the text."""
        found: dict[str, float] = {}
        for i, name in self._word_hits(toks):
            found.setdefault(name, i / max(len(toks), 1))
        for a, name in self.exact:
            if a.raw in text and (pos := alias_position(a, toks, text)) is not None:
                found[name] = min(found.get(name, pos), pos)
        return sorted(found, key=found.__getitem__)

    def first_named(self, statement: str, toks: list[str] | None = None) -> str:
        """The actor `statement` names first ('' if none); `toks`: its normalised tokens, if at hand."""
        toks = normalize.tokens(statement, ()) if toks is None else toks
        best: tuple[float, str] | None = None
        for i, name in self._word_hits(toks):
            if best is not None and i / len(toks) > best[0]:
                break  # hits come in token order: the first position is settled
            best = min(best, (i / len(toks), name)) if best else (i / len(toks), name)
        text = None
        for a, name in self.exact:
            if a.raw in statement:  # cheap test before cleaning the text
                text = normalize.clean(statement) if text is None else text
                pos = alias_position(a, toks, text)
                if pos is not None and (best is None or (pos, name) < best):
                    best = (pos, name)
        return best[1] if best else ""


def by_name(rows: Iterable[tuple[str, str, bool | None]]) -> dict[str, list[Alias]]:
    """(name, alias, case_sensitive or None) rows -> compiled aliases per name."""
    out: dict[str, list[Alias]] = {}
    for name, alias, cs in rows:
        out.setdefault(name, []).append(compile_alias(alias, None if cs is None else bool(cs)))
    return out

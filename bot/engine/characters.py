"""Characters no card should carry, for the knowledge validator (which refuses them, naming the field) and
the importer (which cleans them out of a third-party feed and keeps the fact-check)."""

from __future__ import annotations

import re

# C0/C1 controls other than tab and line breaks (NUL, ESC, BEL...), lone surrogates (a "\udc80" escape in
# YAML or JSON; SQLite cannot store them) and the bidi overrides that reorder the text a reader sees (U+202D,
# U+202E; Arabic and Hebrew need neither).
_UNPRINTABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e\ud800-\udfff]")
_CONTROLS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_OVERRIDES_RE = re.compile("[\u202d\u202e]")


def unprintable(text: str) -> str | None:
    """What is wrong with a text's characters ("contains the control character U+0000 at character 3"), or
    None."""
    m = _UNPRINTABLE_RE.search(text)
    return None if m is None else f"contains the control character U+{ord(m.group()):04X} at character {m.start() + 1}"


def without_controls(text: str) -> str:
    """`text` with each control character a space and the bidi overrides dropped (lone surrogates are left
    for the caller to report: they mean a broken feed, not stray formatting)."""
    return _OVERRIDES_RE.sub("", _CONTROLS_RE.sub(" ", text))

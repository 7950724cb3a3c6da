"""Phrasings that distort their claim: a different doer, or a main verb the statement does not assert.

A claim's phrasings are the ways people say the same thing; a message stating one gets the claim's card and
status. A `true` claim "In the 1980s the CIA ... funded and armed Afghan mujahideen, including fighters led by
Jalaluddin Haqqani" must not list "The CIA created the Haqqani network": that is another, distorted claim, with
its own status. Light rules (bot/engine/actor_roles.py, bot/engine/predicates.py), so the result is a list for a
curator to read, not a verdict.
"""

from __future__ import annotations

from typing import Any

from bot.engine import actor_roles, normalize, predicates

STRICT_STATUSES = ("true", "mostly-true")  # a distorted phrasing under these would show a false claim as true


def claim_roles(claim: dict[str, Any], index: actor_roles.RoleIndex) -> actor_roles.Roles:
    """The statement's roles: from its curated entities (actor/target/place) where it has them."""
    curated = actor_roles.roles_from_entities(claim.get("entities", []), index)
    return curated if any(curated) else index.roles(claim["statement"])


# Verbs that over-claim what support verbs assert: "funded/armed/backed X" is not "created/controls X".
_OVERCLAIM = predicates.keys(normalize.stem(w) for w in """create created creates make made invent invented found founded
    engineer engineered control controls controlled own owns owned run runs ran order ordered command commanded""".split())
_SUPPORT = predicates.keys(normalize.stem(w) for w in """fund funded funds finance financed arm armed back backed support
    supported help helped aid aided train trained supply supplied pay paid equip equipped assist assisted""".split())


def _known(names: tuple[str, ...], index: actor_roles.RoleIndex) -> tuple[str, ...]:
    return tuple(n for n in names if index.kind_of(n))  # gazetteer actors only: capitalised words are too loose here


def distortions(claim: dict[str, Any], index: actor_roles.RoleIndex) -> list[str]:
    """One line per phrasing that states the claim's act with another doer (a known actor of the same kind),
    or the claim's doer with an over-claiming verb ("created", "controls", "ordered") where the statement
    only asserts support ("funded", "armed", "backed")."""
    statement = claim.get("statement", "")
    if not statement:
        return []
    roles = claim_roles(claim, index)
    asserted = predicates.predicate(statement, index) | predicates.head(statement, index)
    out = []
    for phrasing in claim.get("phrasings", []):
        said = index.roles(phrasing)
        said = actor_roles.Roles(_known(said.doers, index), _known(said.targets, index), _known(said.places, index))
        verb = predicates.head(phrasing, index)
        same_act = bool(verb & asserted)
        if same_act and said.doers and roles.doers and not set(said.doers) & set(roles.doers) and any(
                index.kind_of(a) == index.kind_of(b) for a in said.doers for b in roles.doers):
            out.append(f"phrasing {phrasing!r}: says {', '.join(said.doers)} did it; the statement says "
                       f"{', '.join(roles.doers)}")
        elif (verb & _OVERCLAIM and not asserted & _OVERCLAIM and asserted & _SUPPORT
              and (not said.doers or set(said.doers) & set(roles.doers))):
            word = next((t for t in actor_roles.role_tokens(phrasing) if normalize.stem(t.casefold()) in verb), "")
            out.append(f"phrasing {phrasing!r}: {word!r} over-claims what the statement asserts (support, not "
                       "creation or control)")
    return out


def gazetteer_index(gazetteer: list[dict[str, Any]]) -> actor_roles.RoleIndex:
    return actor_roles.RoleIndex((g["name"], g["kind"], a, g.get("part_of"), g.get("acts_for")) for g in gazetteer
                            for a in [g["name"], *(g.get("aliases") or [])])

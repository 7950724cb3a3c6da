"""What a claim asserts, as against what it is about: the words of its predicate.

"Humans only use 10 percent of their brains" and "I only use 10 percent of my phone storage" share a topic;
"A fan was beaten for spoiling Endgame" and "Endgame was overrated" share a film. A `match` needs the message
to state the claim's predicate: one of the claim's verbs (paid, born, endorsed, cures, staged ...) or, after
"is/are", its complement ("Bats are blind"), compared by stem or through a small table of close paraphrases
(paid ~ bounty ~ reward ~ funded; born ~ birthplace; staged ~ fake ~ hoax). Light rules, no tagger: verbs are
the engine's verb list (bot/engine/actor_roles.py), words ending in -ed, and "-s" forms of both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.engine import actor_roles, normalize
from bot.engine.normalize import stem

# Close paraphrases of common fact-check predicates: a word in a group states every word of it.
_GROUPS = [
    "pay paid paying payment payments bounty bounties reward rewards offer offered offering cash money fund funded funding "
    "funds finance financed financing bankroll bankrolled bribe bribed price ransom",
    "kill killed killing kills murder murdered assassinate assassinated assassination slay slain execute executed dead death",
    "endorse endorsed endorsement endorsing back backed backing support supported supporter supporting",
    "born birth birthplace native birthright",
    "eligible ineligible eligibility citizen citizenship qualify disqualified",
    "cure cures cured curing treat treats treated treatment heal heals healed remedy",
    "prevent prevents prevented protect protects protection immune immunity ward",
    "cause causes caused causing trigger triggers triggered lead leads linked link give gives gave",
    "stage staged staging fake faked hoax fabricated fabricate actors crisis setup hoaxed fraud",
    "create created creating creation make made invent invented engineer engineered develop developed build built "
    "found founded manufacture manufactured design designed",
    "spread spreads spreading transmit transmits transmitted carry carries",
    "blow blew blown sabotage sabotaged destroy destroyed bomb bombed explode exploded explosion blast attack attacked",
    "shoot shot shooting downed hit struck strike",
    "send sent sending deploy deployed deploying dispatch dispatched",
    "supply supplied supplies provide provided providing deliver delivered gave give",
    "die died dies dead death passed",
    "arrest arrested arresting detain detained jail jailed custody indicted raid raided",
    "rig rigged rigging steal stole stolen switch switched flip flipped fraud manipulate manipulated tamper tampered change changed",
    "hack hacked hacking hackers breach breached",
    "ban bans banned banning outlaw outlawed prohibit prohibited scrap scrapping abolish abolished",
    "replace replaced replacing double lookalike clone impostor",
    "contain contains contained include includes ingredient inside",
    "change changes changed alter alters altered modify modifies rewrite",
    "see sight vision eyesight visible seen",
    "vote votes voted voting ballot ballots voter voters",
    "shell shelled shelling bombard bombarded attack attacked",
    "hide hid hidden cover covered secret secretly conceal concealed",
    "vote votes voting endorse endorsed backing backs",
    # nouns a paraphrase swaps freely
    "soldiers soldier troops troop forces army military servicemen defence defense",
    "virus coronavirus covid corona pandemic sars",
    "home house mansion residence",
    "place spot location",
    "tower towers mast masts antenna antennas network networks",
    "children child kids kid",
    "people person persons anyone everyone everybody somebody someone civilians citizens",
    "humans human people we you us everyone",
    "years decades decade year",
    "vaccine vaccines jab jabs shot shots vaccination vaccinations vaccinated inoculation",
    "missile missiles rocket rockets",
    "plane planes jet jets airliner aircraft flight warplane bomber airstrike airstrikes",
    "money cash dollars dollar billion million funds",
    "media press journalists reporters news",
    "dead died death killed dies",
    "fake hoax false staged fabricated lie lies",
    "election elections vote votes ballot ballots",
    "windmill windmills turbine turbines",
]
_GROUP_OF: dict[str, set[str]] = {}
for _i, _words in enumerate(_GROUPS):
    for _w in _words.split():
        _GROUP_OF.setdefault(stem(_w), set()).add(f"#{_i}")

_EXISTS = frozenset("taking take takes took place happening happens happened exists exist existed occurred occurring "
                    "occurs real true going".split())
SHORT_MESSAGE = 7  # content words: a message this short that restates a claim but for one word states another
_IMAGES = frozenset("photo photos image images picture pictures video videos footage clip screenshot map".split())
_REPORTS = frozenset("story claim claims report reports idea notion rumour rumor allegation allegations news theory".split())
_NEGATION = frozenset("not never no".split())
PLAIN_MAX_WORDS = 12  # a chat line, one clause: the only texts says_otherwise reads
_SENTENCE_INSIDE_RE = re.compile(r"[.!?:;]\s+\S")
_FAKE = frozenset("fake false hoax lie lies staged fabricated wrong made myth debunked bogus misleading untrue "
                  "inaccurate".split())  # with _EXISTS ("real", "true"): a verdict on the claim
_CIRCUMSTANCE = frozenset("when while whilst".split())
_COPULA_SKIP = frozenset("not no never only so very a an the just really actually".split())
_NOT_PREDICATE = frozenset("is was were are be been being am has have had will would did does do can could "
                                              "may might must shall should get gets got".split())


def keys(stems: Iterable[str]) -> set[str]:
    """Each stem and the paraphrase groups it belongs to."""
    out: set[str] = set()
    for s in stems:
        out.add(s)
        out |= _GROUP_OF.get(s, set())
    return out


def predicate(text: str, index: actor_roles.RoleIndex | None = None) -> set[str]:
    """The keys of what `text` asserts: the content words of its predicate phrase, from its main verb on
    (the words before it are its subject, the topic), less the actors (`index`: the gazetteer; roles are
    checked on their own), with the paraphrase groups of each. Empty when no predicate verb is found, or
    for a picture's description ("Photo shows a shark on a highway": a scene to recognise, not a claim to
    restate)."""
    raw = actor_roles.role_tokens(actor_roles.drop_participle_compounds(normalize.clean(text)))
    toks = actor_roles.fold_tokens(raw)
    if len(toks) > 1 and toks[0] in _IMAGES and toks[1] in actor_roles.REPORTING:
        return set()
    if len(toks) > 2 and "that" in toks[1:4] and toks[int(toks[0] in ("the", "a"))] in _REPORTS:
        # "The story that Russia offered bounties ... is a hoax": what is asserted comes after the last "is"
        last = max((i for i, t in enumerate(toks) if t in ("is", "was", "are", "were")), default=None)
        if last is not None:
            return keys(stem(t) for t in toks[last + 1:] if t.isalnum() and t not in normalize.STOPWORDS
                        and t not in _COPULA_SKIP)
    covered: set[int] = set()
    if index is not None:
        covered = {i for s, e, _ in index.mentions(raw, toks) for i in range(s, e)}
    # From the first verb on, reporting verbs included: "An advisory warned Africans ..." asserts a warning.
    verb = next((i for i in range(1, len(toks)) if i not in covered and _verb(toks[i])), None)
    if verb is None:
        return set()
    # A clause of time is a circumstance, not what is asserted: "... ineligible because her parents were
    # not citizens when she was born" does not assert a birth.
    end = next((i for i in range(verb + 1, len(toks)) if toks[i] in _CIRCUMSTANCE), len(toks))
    at = [i for i in range(verb, end) if i not in covered and toks[i].isalnum()
          and toks[i] not in normalize.STOPWORDS and toks[i] not in _NOT_PREDICATE and toks[i] not in _COPULA_SKIP]
    words = [toks[i] for i in at]
    if not words or all(toks[i] in _EXISTS or raw[i][:1].isupper() for i in at):
        return set()  # "A large-scale killing of farmers is taking place": the subject is the claim
    return keys(stem(w) for w in words)


def _verb(t: str) -> bool:
    """A verb or its -s form ("damages", "cures")."""
    return actor_roles.is_verb(t) or (len(t) > 4 and t.endswith("s") and (actor_roles.is_verb(t[:-1]) or actor_roles.is_verb(t[:-2])))


def states(message_stems: Iterable[str], predicates: Iterable[set[str]]) -> bool:
    """Whether a message (its stemmed words) states one of the predicates (of a claim's statement and
    phrasings); a claim with no predicate found in any of them asks for none."""
    found = [p for p in predicates if p]
    if not found:
        return True
    mine = keys(message_stems)
    return any(p & mine for p in found)


def says_otherwise(message: str, claim_predicates: Iterable[set[str]], index: actor_roles.RoleIndex | None = None) -> bool:
    """Whether the message is a plain "X is Y" about the claim's topic whose Y the claim does not say: "the
    White House Christmas tree lighting is on tonight", "microwave popcorn is my weakness". Only a copula with
    a complement of content words (not a passive: "was shot down"), and only against claims with a predicate."""
    found = [p for p in claim_predicates if p]
    if len(message.split()) > PLAIN_MAX_WORDS or _SENTENCE_INSIDE_RE.search(message.strip()):
        return False  # a longer text's first "is" is seldom what it says of the claim's topic
    toks, _ = _words(message, index)
    verb = next((i for i, t in enumerate(toks) if i and t in actor_roles.BE), None)
    if not found or verb is None or any(actor_roles.is_verb(t) and not t.endswith("ing") for t in toks[:verb] if t):
        return False  # no copula, or one after the message's own verb ("Iran paid ... and it was ...")
    rest = [t for t in toks[verb + 1:] if t]
    if not rest or _verb(rest[0]) or rest[0].endswith(("ed", "en")) or (rest[0] in _NEGATION and len(rest) > 1 and _verb(rest[1])):
        return False  # a passive or a verb phrase: "was shot down", "is not killing"
    complement = [t for t in rest if _content(t)]
    if any(t in _EXISTS or t in _FAKE for t in complement):
        return False  # "the bounty story is true / a hoax": a verdict on the claim itself
    mine = keys(stem(t) for t in complement)  # none at all ("is on tonight"): nothing said of the topic
    return not any(p & mine for p in found)


def verb_said_by(message: str, claim_texts: Iterable[str], index: actor_roles.RoleIndex | None = None) -> bool:
    """For a claim with no predicate found (a description: "E-mail details actor Denzel Washington's TV
    appearance"): whether the claim's words say what the message's verbs of a common fact-check predicate
    (the paraphrase groups: endorsed, paid, born, killed ...) do. A message with no such verb asks for nothing."""
    mine = {k for k in verbs(message, index) if k.startswith("#")}
    if not mine:
        return True
    theirs = keys(stem(t) for text in claim_texts for t in normalize.tokens(text, ()))  # every sentence: "the U.S. Navy shot"
    return bool(mine & theirs)


def _words(text: str, index: actor_roles.RoleIndex | None = None) -> tuple[list[str], int | None]:
    """A text's folded word tokens without accents, actors (`index`: the gazetteer; roles are checked on their
    own) as '', and the position of its first verb (None if it has none)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", normalize.clean(text)) if not unicodedata.combining(c))
    raw = [t for t in actor_roles.role_tokens(actor_roles.drop_participle_compounds(plain)) if t.isalnum()]
    toks = actor_roles.fold_tokens(raw)
    if index is not None:
        for s, e, _ in index.mentions(raw, toks):
            toks[s:e] = [""] * (e - s)
    verb = next((i for i in range(1, len(toks)) if _verbish(toks[i])), None)
    return toks, verb


def _verbish(t: str) -> bool:
    """Verbs, their -s forms, and every -ing word (gerunds: "Drinking chlorine dioxide cures ...")."""
    return t in actor_roles.REPORTING or actor_roles.is_verb(t) or (t.endswith("s") and actor_roles.is_verb(t[:-1])) or (
        t.endswith("ing") and len(t) > 5)


# Words a restatement adds or drops without changing the claim (negations, quantifiers, hedges).
_FUNCTION = frozenset("""after before during since against between across within without toward towards upon among
    least guess breaking watch look wow right soon now today yesterday tonight
    never always every all any anyone everyone nothing something really actually literally just even
    about around almost nearly cannot can't wasn isn aren weren doesn didn don won ain shouldn couldn wouldn hasn haven
    hadn mr mrs ms dr st new old whole entire total totally completely one two three four five ten first last""".split())


def _content(t: str) -> bool:
    return (t not in normalize.STOPWORDS and t not in _FUNCTION and not any(ch.isdigit() for ch in t) and len(t) > 2
            and not t.endswith("ly"))  # adverbs qualify, they do not swap the claim's things


def substitution(message: str, statement: str, other_fields: Iterable[str] = (), index: actor_roles.RoleIndex | None = None) -> str:
    """The word a message puts in place of one of the claim's ('' if none): a message that restates the claim
    but for one thing ("Ivermectin cures cancer" against "Ivermectin cures COVID-19", "The flu vaccine causes
    autism" against "The MMR vaccine causes autism") states another claim. Only near-copies count: one word of
    the message not in the claim, at most three of the statement's not in the message, neither side a verb (a
    paraphrase swaps verbs: "honey never expires", "honey never goes off"), both on the same side of the verb."""
    m_toks, m_verb = _words(message, index)
    c_toks, c_verb = _words(statement, index)
    if m_verb is None or c_verb is None:
        return ""
    c_all = set(keys(stem(t) for t in c_toks))
    for f in other_fields:
        c_all |= keys(stem(t) for t in _words(f, index)[0])
    m_stems = keys(stem(t) for t in m_toks)
    m_only = [(i, t) for i, t in enumerate(m_toks) if _content(t) and not keys([stem(t)]) & c_all]
    c_only = [(i, t) for i, t in enumerate(c_toks) if _content(t) and not keys([stem(t)]) & m_stems]
    if sum(_content(t) for t in m_toks) > SHORT_MESSAGE:
        return ""  # a long message says more than one thing; the swap test is for restatements
    if not 1 <= len(m_only) <= 3 or not 1 <= len(c_only) <= 3 or m_only[-1][0] - m_only[0][0] >= len(m_only):
        return ""  # a word, or a few in a row ("the common cold", "my phone storage"), put in place of a few
    if any(_verbish(t) for _, t in m_only + c_only):
        return ""
    mi, mw = m_only[0][0], " ".join(t for _, t in m_only)
    if index is not None and any(w.upper() in index.by_first for w in mw.split() if len(w) <= 4):
        return ""  # "isi" for ISI: an actor written in lower case, not another thing
    if mi > 0 and m_toks[mi - 1] == "to":
        return ""  # "... to blackmail Europe": a purpose added, not a thing swapped
    if any(w in actor_roles.TITLES for w in mw.split() + [t for _, t in c_only]):
        return ""  # "child star Miranda Cosgrove" / "actress Miranda Cosgrove": a description of the same person
    c_words = [t for _, t in c_only]
    if any(w in mw or mw in w for w in c_words) or mw == "".join(w[0] for w in c_toks if w)[:len(mw)] \
            or any(mw == "".join(w[0] for w in c_toks[i:i + len(mw)] if w) for i in range(len(c_toks))):
        return ""  # an abbreviation, a shortening or a compound ("Fed", "DST", "megadoses"), not another thing
    side = mi > m_verb
    same_side = [(i, t) for i, t in c_only if (i > c_verb) == side]
    # The swapped words must stand in the same place: the same word before or after them ("cures cancer" /
    # "cures COVID-19", "the flu vaccine" / "the MMR vaccine"); a paraphrase rewords around them instead.
    m_left, m_right = _key_at(m_toks, m_only[0][0], -1), _key_at(m_toks, m_only[-1][0], 1)
    aligned = [t for i, t in same_side if (m_left and m_left & _key_at(c_toks, i, -1)) or (m_right and m_right & _key_at(c_toks, i, 1))]
    return f"{mw} instead of {' '.join(aligned)}" if aligned else ""


def _key_at(toks: list[str], i: int, step: int) -> set[str]:
    """The keys of the next word from `i` in direction `step`, past stop words and numbers ("a cure for
    COVID-19" puts "cure" before "covid"); none past an actor or the end (no evidence of a place)."""
    i += step
    while 0 <= i < len(toks) and toks[i] and (toks[i] in normalize.STOPWORDS or any(c.isdigit() for c in toks[i])):
        i += step
    return keys([stem(toks[i])]) if 0 <= i < len(toks) and toks[i] else set()


def head(text: str, index: actor_roles.RoleIndex | None = None) -> set[str]:
    """The keys of the claim's main verb alone (the first verb of its clause that is not an auxiliary or a
    reporting verb: "paid" in "Iran paid the Taliban ..."); empty if none."""
    raw = actor_roles.role_tokens(actor_roles.drop_participle_compounds(normalize.clean(text)))
    toks = actor_roles.fold_tokens(raw)
    covered: set[int] = set()
    start = 0
    if index is not None:
        mentions = index.mentions(raw, toks)
        covered = {i for s, e, _ in mentions for i in range(s, e)}
        start = actor_roles.clause_start(toks, mentions)
    for i in range(start + 1, len(toks)):
        t = toks[i]
        if i not in covered and actor_roles.is_verb(t) and t not in _NOT_PREDICATE and t not in actor_roles.REPORTING:
            return keys([stem(t)])
    return set()


def restates(message: str, statement: str, index: actor_roles.RoleIndex | None = None) -> bool:
    """Whether the message restates the statement part by part: its main verb (or a close paraphrase), half
    the words before the verb (what the claim is about) and most of the first words after it (what it says
    of it). "We only use 10 percent of our brains" restates "Humans only use 10
    percent of their brains"; "I only use 10 percent of my phone storage" does not (no "brains")."""
    c_toks, c_verb = _words(statement, index)
    if c_verb is None:
        return False
    verb_keys = keys([stem(c_toks[c_verb])])
    mine = keys(stem(t) for t in _words(message, index)[0] if t)
    if not verb_keys & mine:
        return False

    shortened = [k for k in mine if len(k) >= 4 and not k.startswith("#")]

    def said(w: str) -> bool:  # by stem, paraphrase group or shortening ("hyper" for "hyperactive")
        return bool(keys([stem(w)]) & mine) or any(w.startswith(k) for k in shortened)

    def share(words: list[str], strict: bool) -> bool:
        words = [w for w in words if w and _content(w)]
        hits = 2 * sum(said(w) for w in words)
        return not words or (hits > len(words) if strict else hits >= len(words))

    after = [w for w in c_toks[c_verb + 1:] if w and _content(w)][:4]
    return share(c_toks[:c_verb], strict=False) and share(after, strict=True)  # what is said of it counts most


def verbs(text: str, index: actor_roles.RoleIndex | None = None) -> set[str]:
    """The keys of every verb of the text but auxiliaries ("fired", "hit" in "Ukraine fired the missile that
    hit Kramatorsk station")."""
    toks, _ = _words(text, index)
    return keys(stem(t) for i, t in enumerate(toks) if i and t and t not in _NOT_PREDICATE
                and (actor_roles.is_verb(t) or (_verb(t) and toks[i - 1] not in normalize.STOPWORDS)))  # "of votes" is a noun

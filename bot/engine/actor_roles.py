"""Who a text says did something, to whom and where: actors by role (doer, target, place).

Light syntax over word tokens (see the comment below); the actors themselves come from the gazetteer
(bot/engine/actors.py finds their names).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Any, NamedTuple

from bot.engine import normalize
from bot.engine.actors import alias_is_case_sensitive


# -- roles: who a text says did something, to whom, where ----------------------------------------------------
#
# Light syntax over word tokens, no tagger: a reporting frame ("X says", "US intelligence claims", a headline's
# "Label:") is cut off; in the clause that remains an actor before the predicate verb is its doer, after it its
# target; "by X" is a doer (and turns a passive subject into a target), "in/at X" a place, "against/on/to X" a
# target. Agencies count as their state (`part_of`: GRU -> Russia), so roles are compared state to state.

_ROLE_TOKEN_RE = re.compile(r"[^\W_]+|['’]s\b|[:;?!|,]|[—–]")
_DETERMINERS = frozenset("the a an its their his her this that these those some".split())
REPORTING = frozenset("""say says said saying claim claims claimed claiming report reports reported alleges alleged allege
    allegedly reveal reveals revealed confirm confirms confirmed suggest suggests suggested believe believes insist insists
    insisted warn warns warned admit admits admitted tweeted tweets wrote writes assert asserts asserted
    show shows showed shown prove proves proved""".split())
BE = frozenset("is was were are be been being am".split())
_AUX = BE | frozenset("has have had will would did does do can could may might must shall should".split())
_HEADLINE_PASSIVE = frozenset("in by after during near".split())
_PLACE_PREPS = frozenset("in at inside within across near into throughout".split())
_TARGET_PREPS = frozenset("against on to toward towards targeting onto over for".split())
# Common predicate verbs of fact-checked claims whose past forms do not end in -ed, and base forms (stems
# are compared, so "pays"/"paid" and "kills"/"killed" are both found).
_VERB_WORDS = """pay pays paid put puts offer give gives gave given send sends sent sell sells sold buy buys bought
    kill kills shoot shoots shot hit hits strike strikes struck fund funds back backs arm arms train trains make makes made
    build builds built create creates cause causes cure cures treat treats prevent prevents spread spreads steal steals stole
    stolen win wins won lose loses lost run runs ran lead leads led order orders bomb bombs attack attacks invade invades
    endorse endorses ban bans born die dies died plan plans hide hides hid use uses take takes took taken tell tells told
    meet meets met leave leaves left bring brings brought keep keeps kept hold holds held seize seizes rig rigs stage stages
    poison poisons hack hacks own owns owned control controls support supports help helps harm harms contain contains
    become becomes became get gets got go goes went sink sinks sank sunk blow blows blew blown bankroll bankrolls
    finance finances sponsor sponsors recruit recruits infiltrate plant plants force forces start starts stop stops
    let lets see sees saw seen mean means meant damage ruin harm destroy reduce increase lower raise boost block stop
    cure spread save wipe wipes wiped shed sheds flush flushes bury buries glow melt freeze shrink grow grows grew
    emit emits absorb absorbs produce produces rot turn turns reveal hire fire fires sue sues vote win""".split()
_VERBS = frozenset(_VERB_WORDS)
_NOT_VERBS = frozenset("""hundred united need speed seed feed breed indeed naked wicked sacred red bed wed ahmed
    mohammed hundred sled""".split())


class ActorAlias(NamedTuple):
    words: tuple[str, ...]  # casefolded tokens, or tokens as written for case-sensitive aliases
    case_sensitive: bool
    name: str  # the gazetteer entity


class Roles(NamedTuple):
    """Actors by role, as their state (or themselves, if part of none), sorted."""

    doers: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {"doer": list(self.doers), "target": list(self.targets), "place": list(self.places)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Roles":
        data = data or {}
        return cls(tuple(data.get("doer", ())), tuple(data.get("target", ())), tuple(data.get("place", ())))


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def role_tokens(text: str) -> list[str]:
    """Word tokens as written, plus the punctuation the role rules read (':' of a headline label, "'s"), of
    the text's first sentence that names someone or something capitalised (a tweet's signature dropped)."""
    text = normalize.without_signature(text)  # who posted, not who did it
    sentences = _SENTENCE_END_RE.split(text) if len(text) > 80 else [text]
    first = next((x for x in sentences if any(w[:1].isupper() for w in x.split()[1:])), sentences[0])
    return _ROLE_TOKEN_RE.findall(first)


def _plural_ok(alias: str) -> bool:
    """Demonyms take a plural -s ("Iranians", "Americans"); other names do not ("Trumps")."""
    return alias[-2:] in ("an", "ni", "qi", "li") or alias.endswith(("di", "ti"))


class RoleIndex:
    """The gazetteer (name, kind, alias, part_of[, acts_for]) compiled for finding actors and their roles."""

    @classmethod
    def from_db(cls, conn: Any) -> "RoleIndex":
        """The gazetteer table of a built database (a sqlite3 connection or a sqlite_utils Database)."""
        return cls(conn.execute("SELECT name, kind, alias, part_of, acts_for FROM gazetteer").fetchall())

    def __init__(self, rows: Iterable[tuple[str | None, ...]]) -> None:
        self.kind: dict[str, str] = {}
        self.part_of: dict[str, str] = {}
        self.acts_for: dict[str, str] = {}  # a person in office -> the state they act for (Biden -> United States)
        self.by_first: dict[str, list[ActorAlias]] = {}
        for name, kind, alias, part_of, *rest in rows:
            self.kind[name] = kind
            if part_of:
                self.part_of[name] = part_of
            if rest and rest[0]:
                self.acts_for[name] = rest[0]
            for a in {alias, name}:
                cs = alias_is_case_sensitive(a)
                words = tuple(w for w in role_tokens(a) if w[0].isalnum())
                if not cs:
                    words = tuple(normalize.tokens(" ".join(words), ()))
                if words:
                    self.by_first.setdefault(words[0], []).append(ActorAlias(words, cs, name))
        for options in self.by_first.values():
            options.sort(key=lambda a: -len(a.words))  # longest first: "South Korea" before "Korea"

    def state(self, name: str) -> str:
        """An agency's state ("GRU" -> "Russia"); anything else is itself."""
        seen = {name}
        while name in self.part_of and self.part_of[name] not in seen:
            name = self.part_of[name]
            seen.add(name)
        return name

    def kind_of(self, name: str) -> str:
        return self.kind.get(name, "")

    def known(self, roles: Roles) -> Roles:
        """The roles' actors of the gazetteer only."""
        keep = lambda names: tuple(n for n in names if n in self.kind)  # noqa: E731
        return Roles(keep(roles.doers), keep(roles.targets), keep(roles.places))

    def mentions(self, toks: list[str], low: list[str] | None = None) -> list[tuple[int, int, str]]:
        """(start, end, entity) of every actor in the tokens (as written), longest alias first, no overlap.
        `low`: the tokens folded (see fold_tokens), if at hand."""
        low = fold_tokens(toks) if low is None else low
        out = []
        i = 0
        while i < len(toks):
            found = None
            for key, words in ((toks[i], toks), (low[i], low)):
                for a in self.by_first.get(key, ()):
                    if (words is toks) != a.case_sensitive:
                        continue
                    if tuple(words[i:i + len(a.words)]) == a.words:
                        found = (i, i + len(a.words), a.name)
                        break
                if found:
                    break
            if found is None and low[i].endswith("s") and len(low[i]) > 4:  # plural demonyms
                for a in self.by_first.get(low[i][:-1], ()):
                    if len(a.words) == 1 and not a.case_sensitive and _plural_ok(a.words[0]):
                        found = (i, i + 1, a.name)
                        break
            if found:
                out.append(found)
                i = found[1]
            else:
                i += 1
        return out

    def metonym_states(self, toks: list[str], low: list[str] | None = None) -> list[str]:
        """The states (and agencies) a text names only by a metonym ("the Kremlin", "Tehran", "GRU" -> Russia,
        Iran, Russia; "Langley" -> CIA, United States), not by their name, a demonym or initials: words to add
        to a query or an index so that "the Kremlin paid" and "Russia paid" meet."""
        low = fold_tokens(toks) if low is None else low
        out: list[str] = []
        for s, e, name in self.mentions(toks, low):
            said = " ".join(low[s:e])
            for named in dict.fromkeys([name, self.state(name)]):  # "Langley" -> CIA and United States
                if self.kind.get(named) not in ("country", "organisation"):
                    continue
                folded = named.casefold()
                initials = "".join(w[0] for w in folded.split())
                if said[:4] == folded[:4] or said.replace(" ", "") == initials or named in out:
                    continue
                out.append(named)
        return out

    def roles(self, text: str) -> Roles:
        return roles_of(role_tokens(drop_participle_compounds(normalize.clean(text))), self)


_PARTICIPLE_COMPOUND_RE = re.compile(r"(?<=[^\W_])[-‐](?:[^\W_]+ed|backed|led|run|made)\b")


def drop_participle_compounds(text: str) -> str:
    """"Taliban-linked militants", "Iranian-backed militia", "Girl Scout-vended cookies": the participle is an
    adjective, not the predicate; dropped so that the rules see "Taliban militants"."""
    return _PARTICIPLE_COMPOUND_RE.sub("", text)


def fold_tokens(toks: list[str], vocab: Container[str] | None = ()) -> list[str]:
    """Tokens case-folded, look-alike letters mapped, leetspeak decoded into words of `vocab` (the index's
    words, for messages: "1r4n" -> "iran"; none for claims, which are indexed as written)."""
    return [t.casefold() if (t.isalpha() and t.isascii()) or not t[0].isalnum() else " ".join(normalize.clean_tokens(t, vocab))
            for t in toks]


def is_verb(t: str) -> bool:
    """`t`: a folded token."""
    if not t.isalpha():
        return False
    return t in _VERBS or t in _AUX or (len(t) > 4 and t.endswith("ed") and t not in _NOT_VERBS)


def clause_start(toks: list[str], mentions: list[tuple[int, int, str]]) -> int:
    """Where the reported clause begins: after a headline label ("Bountygate 2.0:") or a reporting verb
    ("US intelligence claims ..."), when an actor follows it; else 0."""
    covered = {i for s, e, _ in mentions for i in range(s, e)}
    start = 0
    for i, t in enumerate(toks):
        low = t.casefold()
        if "," in toks[max(0, i - 3):i]:
            continue  # "X endorsed Y, saying ...", "..., officials say": the main clause came first
        cut = t in (":", "|", "—", "–") or (low in REPORTING and i not in covered and not low.endswith("ing"))
        if cut and any(s > i for s, _, _ in mentions):
            start = i + 1
            if start < len(toks) and toks[start].casefold() == "that":
                start += 1
    return start


_TITLES = frozenset("""president vice former late pope king queen prince princess general gen dr mr mrs ms sir senator sen
    rep representative governor gov mayor minister prime chancellor secretary ayatollah supreme leader actor actress singer
    rapper star musician presenter host comedian billionaire ceo founder chairman judge justice lord lady saint st""".split())
TITLES = _TITLES
# After "X's", the words that make X the actor: its agents and arms ("Russia's GRU", "Tehran's missiles").
_AGENTS = frozenset("""military army navy forces force troops soldiers spies spy agents agent intelligence government regime
    administration officials president leader leaders police militia militias proxies guards missile missiles drones drone
    jets jet warplane warplanes buk rockets hackers trolls own state agency diplomats embassy ministry""".split())
_KIN = frozenset("father mother son daughter wife husband brother sister family parents grandfather grandmother uncle aunt "
                 "nephew niece cousin".split())
UNKNOWN = "name"  # the kind of a person or group named in a text but not in the gazetteer


def _capitalised(t: str) -> bool:
    return t[:1].isupper() and t[1:2].islower() if len(t) > 1 else False


def _title_case(toks: list[str]) -> bool:
    """A headline in Title Case ("Iran Paid Taliban To Kill American Troops"): capitals say nothing of names."""
    # Capitalised verbs and function words give it away ("Paid", "To", "Kill"); names are capitalised anyway.
    return sum(t[:1].isupper() and (t.casefold() in normalize.STOPWORDS or is_verb(t.casefold())) for t in toks[1:]) >= 2


def all_mentions(toks: list[str], low: list[str], index: RoleIndex) -> list[tuple[int, int, str]]:
    """The gazetteer's actors, and names it does not know: runs of capitalised words ("Joe Rogan", "Denzel
    Washington", "Michelle Obama": a first name before a known surname or place is someone else), and kin
    ("Obama's father", a person who is not Obama). Unknown names are their words as written."""
    found = index.mentions(toks, low)
    if _title_case(toks):
        return found
    at = {s: (s, e, n) for s, e, n in found}
    covered = {i for s, e, _ in found for i in range(s, e)}
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        if i in at:
            out.append(at[i])
            i = at[i][1]
            continue
        if not _capitalised(toks[i]) or low[i] in normalize.STOPWORDS or low[i] in REPORTING:
            i += 1
            continue
        j = i
        while (j < len(toks) and _capitalised(toks[j]) and j not in covered
               and (j == i or (low[j] not in normalize.STOPWORDS and low[j] not in REPORTING))):
            j += 1
        # Names as folded words, title-cased: "Nоrd Strеаm" with Cyrillic look-alikes is "Nord Stream".
        run = [low[k].title() for k in range(i, j) if low[k] not in _TITLES]
        if j in at and run and index.kind_of(at[j][2]) in ("person", "country"):
            # "Denzel Washington", "Michelle Obama": a first name before a known name or place
            s, e, _ = at[j]
            out.append((i, e, " ".join(low[k].title() for k in range(i, e))))
            i = e
            continue
        if run and (len(run) >= 2 or (i > 0 and toks[i - 1] not in (":", "|"))):
            out.append((i, j, " ".join(run)))
        i = max(j, i + 1)
    # kin: "Obama's father" is not Obama
    kin = []
    for s, e, name in out:
        if e + 1 < len(low) and low[e] in ("'s", "’s") and low[e + 1] in _KIN:
            kin.append((s, e + 2, f"{name}'s {low[e + 1]}"))
        else:
            kin.append((s, e, name))
    return kin


def same_actor(a: str, b: str, index: RoleIndex) -> bool:
    """Known actors by name; a name the gazetteer does not know by its words ("Rogan" is "Joe Rogan",
    "Actor Denzel Washington" is "Denzel Washington", "Michelle Obama" is not "Barack Obama")."""
    if a == b:
        return True
    if index.kind_of(a) and index.kind_of(b):
        return False
    wa, wb = a.casefold().split(), b.casefold().split()
    short, long_ = sorted((wa, wb), key=len)
    return bool(short) and long_[len(long_) - len(short):] == short


def roles_of(toks: list[str], index: RoleIndex, vocab: Container[str] | None = ()) -> Roles:
    """Doers, targets and places of a text's tokens (as written, see role_tokens). Without a predicate verb
    the text's syntax is unknown: only prepositions assign roles, and nobody is a doer."""
    low = fold_tokens(toks, vocab)
    mentions = all_mentions(toks, low, index)
    if not mentions:
        return Roles()
    toks = low
    start = clause_start(toks, mentions)
    mentions = [m for m in mentions if m[0] >= start] or mentions
    covered = {i for s, e, _ in mentions for i in range(s, e)}
    verb = next((i for i in range(start, len(toks)) if i not in covered and i > start and is_verb(toks[i])), None)
    if verb is not None:  # the main clause ends at the first comma after its verb ("..., officials say")
        end = next((i for i in range(verb, len(toks)) if toks[i] in (",", ";")), len(toks))
        mentions = [m for m in mentions if m[0] < end]
    # Passive: a form of "be" then a participle ("were killed by", "was born in").
    passive = verb is not None and toks[verb] in BE and any(is_verb(t) and t not in _AUX for t in toks[verb + 1:verb + 3])
    # A headline drops the "was": "Iran's president killed in helicopter crash", "US troops killed by ...".
    passive = passive or (verb is not None and toks[verb].endswith(("ed", "en")) and verb + 1 < len(toks)
                          and toks[verb + 1] in _HEADLINE_PASSIVE)
    doers, targets, places = set(), set(), set()
    subjects = set()
    starts = {m[0] for m in mentions}
    for s, e, name in mentions:
        if (e + 1 < len(toks) and toks[e] in ("'s", "’s") and toks[e + 1] not in _AGENTS and (e + 1) not in starts
                and (verb is None or s < verb)):
            continue  # "Trump's rally traffic made ...": an owner in the subject, not the doer ("shot down X's plane": target)
        j = s - 1
        while j >= start and toks[j].casefold() in _DETERMINERS:
            j -= 1
        prev = toks[j].casefold() if j >= start else ""
        name = index.state(name)
        if prev == "by":
            doers.add(name)
        elif prev in _PLACE_PREPS:
            places.add(name)
        elif prev in _TARGET_PREPS:
            targets.add(name)
        elif verb is None:
            # A headline without a verb: "Russian bounties on American troops", "IRGC cash bounties for ...":
            # the actor that opens it, before a noun, is the doer.
            k = start
            while k < len(toks) and toks[k] in _DETERMINERS:
                k += 1
            if s == k and e < len(toks) and toks[e].isalpha() and toks[e] not in _PLACE_PREPS | _TARGET_PREPS \
                    and toks[e] not in normalize.STOPWORDS:
                subjects.add(name)
            continue
        elif s < verb:
            subjects.add(name)
        else:
            targets.add(name)
    if passive:
        targets |= subjects  # "Iranian diplomats were killed (by the Taliban)": the subject is acted upon
    else:
        doers |= subjects
    return Roles(tuple(sorted(doers)), tuple(sorted(targets - doers)), tuple(sorted(places - doers - targets)))


def roles_from_entities(entities: list[dict[str, Any]], index: RoleIndex | None = None) -> Roles:
    """A curated claim's roles, from its entities (actor -> doer, target, place)."""
    state = index.state if index else (lambda n: n)
    pick = lambda role: tuple(sorted({state(e["name"]) for e in entities if e.get("role") == role}))
    doers = pick("actor")
    return Roles(doers, tuple(t for t in pick("target") if t not in doers),
                 tuple(p for p in pick("place") if p not in doers))


def conflict(message: Roles, claim: Roles, index: RoleIndex) -> str:
    """Why the message's actors contradict the claim's ('' if they do not): a different doer (or, in a claim
    without one, a different acted-upon subject), a different target of the same kind, or another country as
    the place.

    Comparable only when the two sides are of one kind (state and state, person and person; a name the
    gazetteer does not know passes for a person or an organisation) or the message's doer is among the
    claim's actors in another role ("the Taliban killed Iranians" against "Iran paid the Taliban"):
    "Putin ordered it" does not contradict "Russia ordered it"."""

    def weak(n: str) -> bool:  # one capitalised word the gazetteer does not know ("Buk", "Christmas"): no evidence
        return not index.kind_of(n) and len(n.split()) < 2

    message = Roles(*(tuple(n for n in names if not weak(n)) for names in message))
    claim = Roles(*(tuple(n for n in names if not weak(n)) for names in claim))

    def kind(n: str) -> str:
        return index.kind_of(n) or UNKNOWN

    def comparable(a: str, b: str) -> bool:
        kin = [n for n in (a, b) if "'s " in n]
        if kin:  # "Obama's father" is compared with Obama only
            return all(any(same_actor(n.split("'s ")[0], other, index) for other in (a, b) if other != n) for n in kin)
        ka, kb = kind(a), kind(b)
        if UNKNOWN in (ka, kb):  # names read from capitals: only two people's names are compared
            return all(k == "person" or (k == UNKNOWN and looks_like_person(n)) for k, n in ((ka, a), (kb, b)))
        return ka == kb

    def overlap(mine: tuple[str, ...], theirs: Iterable[str]) -> bool:
        return any(same_actor(a, b, index) for a in mine for b in theirs)

    def clash(mine: tuple[str, ...], theirs: tuple[str, ...], others: Iterable[str] = ()) -> bool:
        if not mine or not theirs or overlap(mine, theirs):
            return False
        return any(comparable(a, b) for a in mine for b in theirs) or overlap(mine, others)

    everyone = set(claim.doers) | set(claim.targets) | set(claim.places)
    if clash(message.doers, claim.doers, everyone - set(claim.doers)):
        return f"message says {', '.join(message.doers)} did it, the claim {', '.join(claim.doers)}"
    if not claim.doers and not message.doers and clash(message.targets, claim.targets):
        return f"message is about {', '.join(message.targets)}, the claim about {', '.join(claim.targets)}"
    if claim.doers and overlap(message.doers, claim.doers) and clash(message.targets, claim.targets):
        return f"message names {', '.join(message.targets)} as the target, the claim {', '.join(claim.targets)}"
    countries = lambda names: tuple(n for n in names if index.kind_of(n) == "country")  # noqa: E731
    if clash(countries(message.places), countries(claim.places)) and not overlap(message.places, everyone):
        return f"message places it in {', '.join(message.places)}, the claim in {', '.join(claim.places)}"
    return ""


_NOT_PERSON = frozenset("""war navy army forum reserve union party bank company corporation department agency university
    college school times news post airlines airways institute association council committee court museum foundation
    church group house office ministry states republic kingdom city county state island street river day act force
    corps guard police service network media club league team fund organization organisation center centre hospital
    board administration government parliament congress senate assembly federation station airport bridge tower
    festival awards prize cup games olympics world global international national royal federal north south east west
    carolina dakota virginia jersey york breaking""".split())


def unnamed_by_claim(message: Roles, claim: Roles, mentioned: Iterable[str], index: RoleIndex) -> list[str]:
    """The gazetteer actors the message gives a role that the claim names nowhere (`mentioned`: the actors its
    statement and phrasings name), as themselves or their state: "Nikki Haley was born in India" adds a place
    to "Nikki Haley is ineligible ...", "Ukraine shot down the Azerbaijan Airlines plane" another victim to
    "Ukraine shot down Prigozhin's plane". Such a message states another claim on the same topic."""
    theirs = {*claim.doers, *claim.targets, *claim.places, *mentioned}
    theirs |= {index.state(n) for n in theirs} | {index.acts_for.get(n, n) for n in theirs}
    out: list[str] = []
    for name in dict.fromkeys((*message.doers, *message.targets, *message.places)):
        if not index.kind_of(name) or name in out:
            continue
        forms = {name, index.state(name), index.acts_for.get(name, name)}  # "the Biden administration": the United States
        if any(same_actor(f, t, index) for f in forms for t in theirs):
            continue
        out.append(name)
    return out


def looks_like_person(name: str) -> bool:
    """A name outside the gazetteer that reads as a person's: two or three words, none an institution's word,
    or someone's kin ("Barack Obama's father")."""
    words = name.casefold().replace("'s", " ").split()
    if words and words[-1] in _KIN:
        return True
    return 2 <= len(words) <= 3 and not any(w in _NOT_PERSON for w in words)


def names_unknown(name: str, words: set[str]) -> bool:
    """Whether a text (its folded words) names a person the gazetteer does not know: any word of the name
    but a title ("Armstrong" names "Neil Armstrong")."""
    return any(w in words for w in name.casefold().replace("'s", " ").split() if len(w) > 2 and w not in _TITLES)

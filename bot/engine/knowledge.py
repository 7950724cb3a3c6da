"""Loading and validating the knowledge files (claims, outlet ownership notes, entity gazetteer).

Validation collects every problem as `file: field: message` and builds nothing when any exists.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.engine import known_images
from bot.engine.characters import unprintable
from bot.engine.outlets import RSP_LABELS
from bot.engine.urlcheck import MAX_URL_LENGTH, url_problem

CLAIM_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"  # the one claim-id pattern: files, buttons, curation, imports
ID_RE = re.compile(f"^{CLAIM_ID}$")
DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LANG_RE = re.compile(r"^[a-z]{2}$")
# The schema's vocabularies. Imported ClaimReview items whose rating maps to none of STATUSES get
# IMPORTED_STATUS; presentation labels for all of them live in bot/chat/layout.py.
STATUSES = ("true", "mostly-true", "misleading", "disputed", "unproven", "unverified", "false")
IMPORTED_STATUS = "fact-checked"
SOURCINGS = ("anonymous-officials", "anonymous-sources", "named-officials", "official-statement", "official-report",
             "documents", "court-records", "investigation", "eyewitnesses", "social-media", "unknown")
ROLES = ("actor", "target", "place", "subject")
ENTITY_KINDS = ("country", "organisation", "person")
OWNERSHIP = ("state-owned", "state-funded", "state-controlled", "party-owned", "public-broadcaster", "private")
# The languages every shipped claim and the gazetteer's main actors are written in (issue 20): the languages
# of the chats where the claims travel. `knowledge validate` reports claims that lack any of them.
TARGET_LANGUAGES = ("ru", "uk", "ar", "fa", "es", "tr", "fr", "de")
# ISO 639-1: a two-letter code must name a language, so a typo such as "ua" (for uk) or "sp" is caught.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv
ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne
ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st
su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())


class KnowledgeError(Exception):
    """Raised with every problem found; `problems` holds `file: field: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# Field spec: name -> (kind, required). Kinds: str, text (non-empty str), date, day, url, id, ids, enum tuple,
# strs (non-empty list of non-empty strings), bool, or a nested spec dict / [spec] for lists of records;
# ("by-lang", kind): a mapping of ISO 639-1 codes to values of that kind.
CITED = {"outlet": ("text", False), "date": ("date", True), "headline": ("text", False), "url": ("url", False),
         "author": ("text", False)}
CLAIM_SPEC: dict[str, tuple[Any, bool]] = {
    "id": ("id", True),
    "statement": ("text", True),
    "phrasings": ("strs", True),
    "status": (STATUSES, True),
    "status_note": ("text", True),
    "language": ("lang", True),
    "languages": (("by-lang", {
        "statement": ("text", False),
        "status_note": ("text", False),
        "phrasings": ([{"text": ("text", True), "translation": ("bool", False)}], True),
    }), False),
    "first_report": ({"outlet": ("text", True), "date": ("date", True), "headline": ("text", True),
                      "url": ("url", False), "author": ("text", False), "sourcing": (SOURCINGS, True),
                      "sourcing_detail": ("text", True)}, True),
    "sourcing_notes": ("text", False),
    "denials": ([{"who": ("text", True), "summary": ("text", True), **CITED}], False),
    "fact_checks": ([{"publisher": ("text", True), "rating": ("text", True), "date": ("date", True),
                      "headline": ("text", False), "url": ("url", False)}], False),
    "developments": ([{"summary": ("text", True), **CITED}], False),
    "related": ("ids", False),
    "entities": ([{"name": ("text", True), "role": (ROLES, True), "aliases": ("strs?", False)}], True),
    "images": ([{"algorithm": ((known_images.ALGORITHM,), True), "hash": ("hash", True), "crops": ("hashes", False),
                 "description": ("text", True),
                 "source": ({"outlet": ("text", True), "date": ("date", True), "headline": ("text", True),
                             "url": ("url", False)}, True)}], False),
    "last_reviewed": ("day", True),
}
# A channel handle's citation: a page (the outlet's own, an encyclopedia, a news report) that says the handle
# is the outlet's; `states` says in plain words what it says. Web pages often carry no date: optional here.
HANDLE_CITATION = {"outlet": ("text", True), "headline": ("text", True), "url": ("url", True),
                   "date": ("date", False), "states": ("text", True)}
OWNERSHIP_SPEC: dict[str, tuple[Any, bool]] = {
    "domain": ("domain", True),
    "name": ("text", True),
    "ownership": (OWNERSHIP, True),
    "country": ("text", False),
    "note": ("text", True),
    "citation": ({"outlet": ("text", True), "date": ("date", True), "headline": ("text", True), "url": ("url", False)}, True),
    "telegram": ([{"handle": ("handle", True), "citation": (HANDLE_CITATION, True)}], False),
}
ENTITY_SPEC: dict[str, tuple[Any, bool]] = {
    "name": ("text", True),
    "kind": (ENTITY_KINDS, True),
    "aliases": ("strs?", False),
    "names": (("by-lang", "strs"), False),  # names in other languages, inflected forms included
    "part_of": ("text", False),  # an agency's state (GRU -> Russia): actors are compared state to state
    "acts_for": ("text", False),  # a person in office: the state they act for (Putin -> Russia; "Putin's spies")
}
RSP_SPEC: dict[str, tuple[Any, bool]] = {  # what `build` reads from each outlets/rsp.yaml entry
    "name": ("text", True),
    "status": (tuple(RSP_LABELS), True),
    "year": ("str?", False),
    "summary": ("str?", True),
    "link": ("url", True),
    "domains": ("hosts", True),
}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$")
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{5,32}$")  # a Telegram username: 5-32 letters, digits and underscores

# Bounds that keep a hostile or broken file from costing minutes and gigabytes (issue 16): the largest
# shipped claim file is 4 KB and rsp.yaml 250 KB, so these leave room for growth.
MAX_CLAIM_FILE_BYTES = 1_000_000
MAX_LIST_FILE_BYTES = 2_000_000  # ownership.yaml, entities.yaml
MAX_RSP_FILE_BYTES = 5_000_000  # 20 times the shipped file (250 KB, 497 entries)
MAX_TEXT_CHARS = 4_000
MAX_YAML_DEPTH = 20  # the claim schema nests 4 deep
MAX_HANDLES = 50  # channel handles per outlet


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases (a few lines of `&a [*b, *b, ...]` expand to gigabytes), with bounded
    nesting (the composer recurses once per level: 5,000 levels is a RecursionError), and with an
    impossible date such as 2021-02-30 kept as the string written, for the validator to report."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in knowledge files", mark)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _mapping_without_duplicates(loader: Any, node: Any) -> Any:
    """A mapping whose keys are all different. PyYAML keeps the last of two equal keys without a word, so
    a line left over from a merge (a second `status:`) would flip a verdict silently."""
    first: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            if key_node.value in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value[:80]!r} (first on line "
                                f"{first[key_node.value].line + 1})", key_node.start_mark)
            first[key_node.value] = key_node.start_mark
    return yaml.constructor.SafeConstructor.construct_yaml_map(loader, node)


def _bool_or_word(loader: Any, node: Any) -> Any:
    """true/false as booleans; YAML 1.1's other booleans (yes, no, on, off) kept as the word written, so
    `status: off` is reported as no status rather than read as "false"."""
    word = loader.construct_scalar(node)
    return word.lower() == "true" if word.lower() in ("true", "false") else word


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:  # 2021-02-30: kept as written, for the field check to name
        return loader.construct_scalar(node)


_CONSTRUCTORS = {"tag:yaml.org,2002:timestamp": _timestamp_or_text, "tag:yaml.org,2002:map": _mapping_without_duplicates,
                 "tag:yaml.org,2002:bool": _bool_or_word}
for _tag, _constructor in _CONSTRUCTORS.items():
    _StrictLoader.add_constructor(_tag, _constructor)


if yaml.__with_libyaml__:
    class _CStrictLoader(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        """libyaml's loader with the same rules for dates, keys and booleans; used only after _check_events
        passed the text."""

    for _tag, _constructor in _CONSTRUCTORS.items():
        _CStrictLoader.add_constructor(_tag, _constructor)


def _check_events(text: str) -> None:
    """One pass of libyaml's event parser (linear time, C speed): refuse aliases and deep nesting before
    anything is built. PyYAML's pure-Python scanner is quadratic on long lines (a 1 MB line takes 30 s)."""
    depth = 0
    loader = yaml.CSafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in knowledge files",
                                                  event.start_mark)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels",
                                                      event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def parse_yaml(text: str) -> Any:
    """Parse one knowledge file's text; raises yaml.YAMLError (with a mark) on aliases and deep nesting."""
    if yaml.__with_libyaml__:
        _check_events(text)
        loader: Any = _CStrictLoader(text)
    else:  # pure-Python PyYAML: the same rules, enforced while composing
        loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _real_date(value: str) -> bool:
    """'2021', '2021-02' or '2021-02-28' naming a date that exists."""
    parts = value.split("-")
    try:
        dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
    except ValueError:
        return False
    return True


def _in_future(value: str) -> bool:
    """A date (YYYY, YYYY-MM or YYYY-MM-DD) that starts after tomorrow: a typo such as 2062 for 2026 (a day's
    slack for time zones)."""
    parts = [int(p) for p in value.split("-")]
    return dt.date(parts[0], *(parts[1:] + [1, 1])[:2]) > dt.date.today() + dt.timedelta(days=1)


def _scalar(value: Any) -> Any:
    # YAML turns 2020-08-17 into a date; keep dates as the strings curators wrote.
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    # YAML 1.1 reads `status: false` and `rating: True` as booleans: keep the word the curator wrote.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _check(value: Any, kind: Any, where: str, problems: list[str]) -> Any:
    """Validate one value against its kind; return the cleaned value."""
    if kind == "bool":
        if not isinstance(value, bool):
            problems.append(f"{where}: must be true or false")
        return bool(value) if isinstance(value, bool) else False
    if isinstance(kind, tuple) and kind and kind[0] == "by-lang":
        return _check_by_lang(value, kind[1], where, problems)
    value = _scalar(value)
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            problems.append(f"{where}: must be a mapping")
            return {}
        return _check_record(value, kind, where, problems)
    if isinstance(kind, list):
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list")
            return []
        return [_check(item, kind[0], f"{where}[{i}]", problems) for i, item in enumerate(value)]
    if isinstance(kind, tuple):
        if value not in kind:
            problems.append(f"{where}: {repr(value)[:80]} is not one of {', '.join(kind)}")
        return value
    if kind == "hashes":
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list of hashes")
            return []
        if len(value) > known_images.MAX_CROPS:
            problems.append(f"{where}: {len(value)} hashes; at most {known_images.MAX_CROPS}")
            return []
        return [_check(v, "hash", f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if kind in ("strs", "strs?", "ids", "hosts"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: must be a list of non-empty strings")
            return []
        for v in value:
            if len(v) > MAX_TEXT_CHARS:
                problems.append(f"{where}: an item is longer than {MAX_TEXT_CHARS} characters")
            if kind != "hosts" and (bad := unprintable(v)) is not None:  # a host's own check names them
                problems.append(f"{where}: an item {bad}")
            if kind == "hosts" and (len(v) > MAX_URL_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in v)):
                problems.append(f"{where}: {v[:80]!r} is not a domain (spaces or control characters)")
        if kind == "strs" and not value:
            problems.append(f"{where}: must not be empty")
        if kind == "ids":
            for v in value:
                if not ID_RE.match(v):
                    problems.append(f"{where}: {v!r} is not a valid claim id")
        return [v.strip() for v in value]
    if kind == "str?":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            problems.append(f"{where}: must be a string")
            return ""
        value = str(value)
        if len(value) > MAX_TEXT_CHARS:
            problems.append(f"{where}: longer than {MAX_TEXT_CHARS} characters")
        if (bad := unprintable(value)) is not None:
            problems.append(f"{where}: {bad}")
        return value
    if not isinstance(value, str) or not value.strip():
        if isinstance(value, int) and kind == "date":
            value = str(value)  # a bare year
        else:
            problems.append(f"{where}: must be a non-empty string")
            return ""
    value = value.strip()
    if kind != "url" and (bad := unprintable(value)) is not None:  # a URL's own check names them
        problems.append(f"{where}: {bad}")
        return value
    if kind == "hash":
        value = value.lower()
        if not known_images.is_hash(value):
            problems.append(f"{where}: {value[:80]!r} is not a PDQ hash (64 hexadecimal digits, as "
                            "`python -m bot knowledge image-hash FILE` prints it)")
        return value
    if kind == "handle":
        if not HANDLE_RE.match(value):
            bare = " (write it without the @)" if value.startswith("@") else ""
            problems.append(f"{where}: {value[:80]!r} is not a Telegram username (5-32 letters, digits or _){bare}")
        return value.lower()
    if kind == "url":
        why = url_problem(value)
        if why:
            problems.append(f"{where}: {value[:80]!r} is not a usable http(s) URL: {why}")
        return value
    if len(value) > MAX_TEXT_CHARS:
        problems.append(f"{where}: longer than {MAX_TEXT_CHARS} characters ({len(value)})")
        return value
    pattern = {"id": ID_RE, "date": DATE_RE, "day": DAY_RE, "lang": LANG_RE, "domain": DOMAIN_RE}.get(kind)
    if kind == "lang" and pattern.match(value) and value not in ISO_639_1:
        problems.append(f"{where}: {value!r} is not an ISO 639-1 language code")
    if pattern and not pattern.match(value):
        expected = {"id": "lowercase letters, digits and '-'", "date": "YYYY, YYYY-MM or YYYY-MM-DD",
                    "day": "YYYY-MM-DD", "lang": "a two-letter ISO 639-1 code",
                    "domain": "a lowercase domain name like rt.com"}[kind]
        problems.append(f"{where}: {repr(value)[:80]} is not {expected}")
    elif kind in ("date", "day") and not _real_date(value):
        problems.append(f"{where}: {value!r} is not a real date")
    elif kind in ("date", "day") and _in_future(value):
        problems.append(f"{where}: {value!r} is in the future")
    return value


def _check_by_lang(value: Any, kind: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        problems.append(f"{where}: must be a non-empty mapping of language codes")
        return {}
    out = {}
    for code, item in value.items():
        here = f"{where}.{code}"
        _check(code, "lang", here, problems)
        if item is None:
            problems.append(f"{here}: must not be empty")
            continue
        out[code] = _check(item, kind, here, problems)
        if isinstance(kind, dict) and "phrasings" in kind and isinstance(item, dict) and item.get("phrasings") == []:
            problems.append(f"{here}.phrasings: must not be empty")
    return out


def _check_record(data: dict, spec: dict[str, tuple[Any, bool]], where: str, problems: list[str]) -> dict:
    out: dict[str, Any] = {}
    sep = "" if where.endswith(": ") else "."
    for key in data:
        if key not in spec:
            problems.append(f"{where}{sep}{key}: unknown field")
    for key, (kind, required) in spec.items():
        if key not in data or data[key] is None:
            if required:
                problems.append(f"{where}{sep}{key}: required field missing")
            continue
        out[key] = _check(data[key], kind, f"{where}{sep}{key}", problems)
    return out


@dataclass
class Knowledge:
    claims: list[dict[str, Any]] = field(default_factory=list)
    ownership: list[dict[str, Any]] = field(default_factory=list)
    gazetteer: list[dict[str, Any]] = field(default_factory=list)
    rsp: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # `file: message` lines a curator should read; nothing fails


def distortion_warnings(kb: Knowledge) -> list[str]:
    """Phrasings that distort their claim (another doer, an over-claiming verb: bot/engine/distortion.py);
    under a `true` or `mostly-true` claim they would show a false statement as true."""
    from bot.engine import distortion

    index = distortion.gazetteer_index(kb.gazetteer)
    out = []
    for claim in kb.claims:
        strict = " (status " + claim["status"] + ": make it its own claim, linked as related)" \
            if claim.get("status") in distortion.STRICT_STATUSES else ""
        out += [f"{claim.get('_file', claim['id'])}: phrasings: {w}{strict}" for w in distortion.distortions(claim, index)]
    return out


def _check_handles(ownership: list[dict[str, Any]], where: str, problems: list[str]) -> None:
    """Each Telegram handle names one outlet: the same handle under two entries is an error (one of them is wrong)."""
    seen: dict[str, str] = {}
    for i, outlet in enumerate(ownership):
        handles = outlet.get("telegram") or []
        if len(handles) > MAX_HANDLES:
            problems.append(f"{where}: [{i}].telegram: {len(handles)} handles; at most {MAX_HANDLES}")
        for j, h in enumerate(handles):
            here = f"[{i}].telegram[{j}]"
            if h.get("handle") in seen:
                problems.append(f"{where}: {here}.handle: {h['handle']!r} is already listed at {seen[h['handle']]}")
            elif h.get("handle"):
                seen[h["handle"]] = here


def _load_yaml(path: Path, problems: list[str], max_bytes: int = MAX_LIST_FILE_BYTES) -> Any:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            problems.append(f"{path}: file is {size:,} bytes, over the {max_bytes:,}-byte limit for this file")
            return None
        return parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
    except RecursionError:  # a backstop: the loader bounds nesting well below the interpreter's limit
        problems.append(f"{path}: invalid YAML: nested too deeply")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problems.append(f"{path}: invalid YAML{at}: {getattr(exc, 'problem', exc)}")
    return None


def _load_list(path: Path, spec: dict, problems: list[str]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = _load_yaml(path, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(f"{path}: must be a YAML list")
        return []
    return [_check(item, spec, f"{path}: [{i}]", problems) for i, item in enumerate(data)]



def missing_languages(kb: Knowledge, targets: tuple[str, ...] = TARGET_LANGUAGES) -> dict[str, list[str]]:
    """Claim id -> the target languages it has no phrasings in (claims that lack none are left out)."""
    out = {}
    for claim in kb.claims:
        have = {claim.get("language"), *claim.get("languages", {})}
        if lacking := [code for code in targets if code not in have]:
            out[claim["id"]] = lacking
    return out


def load_knowledge(directory: str | Path) -> Knowledge:
    """Read and validate every knowledge file; raise KnowledgeError listing all problems."""
    root = Path(directory)
    problems: list[str] = []
    if not root.is_dir():
        raise KnowledgeError([f"{root}: knowledge directory not found"])
    kb = Knowledge()
    claim_files, others = _claim_files(root / "claims")
    problems += [f"{path}: not a claim file (claim files end in .yaml or .yml): rename or remove it" for path in others]
    for path in claim_files:
        kb.files.append(path)
        data = _load_yaml(path, problems, MAX_CLAIM_FILE_BYTES)
        if data is None and not any(p.startswith(str(path)) for p in problems):
            problems.append(f"{path}: file is empty")
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}: must be a YAML mapping of claim fields")
            continue
        claim = _check_record(data, CLAIM_SPEC, f"{path}: ", problems)
        claim_id = claim.get("id")
        if claim.get("language") in claim.get("languages", {}):
            problems.append(f"{path}: languages.{claim['language']}: the claim's own language; "
                            "put its phrasings under `phrasings`")
        problems += known_images.schema_problems(claim.get("images") or [], f"{path}: images")
        if claim_id and claim_id != path.stem:
            problems.append(f"{path}: id: {claim_id!r} must equal the file name {path.stem!r}")
        kb.claims.append(claim)
    ids = [c.get("id") for c in kb.claims]
    seen: set[str] = set()
    for path, claim in zip(claim_files, kb.claims):
        if claim.get("id") in seen:
            problems.append(f"{path}: id: duplicate claim id {claim['id']!r}")
        seen.add(claim.get("id"))
        for rid in claim.get("related", []):
            if rid not in ids:
                problems.append(f"{path}: related: unknown claim id {rid!r}")
            if rid == claim.get("id"):
                problems.append(f"{path}: related: a claim cannot be related to itself")
    for name, spec, attr in (("outlets/ownership.yaml", OWNERSHIP_SPEC, "ownership"), ("entities.yaml", ENTITY_SPEC, "gazetteer")):
        path = root / name
        if path.exists():
            kb.files.append(path)
        setattr(kb, attr, _load_list(path, spec, problems))
    _check_handles(kb.ownership, str(root / "outlets" / "ownership.yaml"), problems)
    names = {g.get("name") for g in kb.gazetteer}
    for i, g in enumerate(kb.gazetteer):
        for key in ("part_of", "acts_for"):
            if g.get(key) and g[key] not in names:
                problems.append(f"{root / 'entities.yaml'}: [{i}].{key}: {g[key]!r} is not an entity of the gazetteer")
    rsp_path = root / "outlets" / "rsp.yaml"
    if rsp_path.exists():
        kb.files.append(rsp_path)
        data = _load_yaml(rsp_path, problems, MAX_RSP_FILE_BYTES) or {}
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            problems.append(f"{rsp_path}: entries: must be a list (regenerate with `python -m bot knowledge rsp`)")
        else:
            kb.rsp = [_check(e, RSP_SPEC, f"{rsp_path}: entries[{i}]", problems) for i, e in enumerate(entries)]
    for path, claim in zip(claim_files, kb.claims):
        claim["_file"] = str(path.relative_to(root))
    if problems:
        raise KnowledgeError(problems)
    kb.claims.sort(key=lambda c: c["id"])
    kb.warnings = distortion_warnings(kb) + known_images.near_duplicates(kb.claims)
    return kb


def _claim_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The claim files (.yaml or .yml, any case), and the other visible files beside them (a
    `claim.yaml.bak` would otherwise leave the database without a word about the file)."""
    if not directory.is_dir():
        return [], []
    files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    return ([p for p in files if p.suffix.lower() in (".yaml", ".yml")],
            [p for p in files if p.suffix.lower() not in (".yaml", ".yml")])

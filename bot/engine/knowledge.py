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

from bot.engine.cards import SOURCING_LABELS, STATUS_LABELS

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL_FIELD_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
LANG_RE = re.compile(r"^[a-z]{2}$")
STATUSES = tuple(k for k in STATUS_LABELS if k != "fact-checked")
SOURCINGS = tuple(SOURCING_LABELS)
ROLES = ("actor", "target", "place", "subject")
ENTITY_KINDS = ("country", "organisation", "person")
OWNERSHIP = ("state-owned", "state-funded", "state-controlled", "party-owned", "public-broadcaster", "private")


class KnowledgeError(Exception):
    """Raised with every problem found; `problems` holds `file: field: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# Field spec: name -> (kind, required). Kinds: str, text (non-empty str), date, day, url, id, ids, enum tuple,
# strs (non-empty list of non-empty strings), or a nested spec dict / [spec] for lists of records.
CITED = {"outlet": ("text", False), "date": ("date", True), "headline": ("text", False), "url": ("url", False),
         "author": ("text", False)}
CLAIM_SPEC: dict[str, tuple[Any, bool]] = {
    "id": ("id", True),
    "statement": ("text", True),
    "phrasings": ("strs", True),
    "status": (STATUSES, True),
    "status_note": ("text", True),
    "language": ("lang", True),
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
    "last_reviewed": ("day", True),
}
OWNERSHIP_SPEC: dict[str, tuple[Any, bool]] = {
    "domain": ("domain", True),
    "name": ("text", True),
    "ownership": (OWNERSHIP, True),
    "country": ("text", False),
    "note": ("text", True),
    "citation": ({"outlet": ("text", True), "date": ("date", True), "headline": ("text", True), "url": ("url", False)}, True),
}
ENTITY_SPEC: dict[str, tuple[Any, bool]] = {
    "name": ("text", True),
    "kind": (ENTITY_KINDS, True),
    "aliases": ("strs?", False),
    "part_of": ("text", False),  # an agency's state (GRU -> Russia): actors are compared state to state
}
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z]{2,}$")


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
            problems.append(f"{where}: {value!r} is not one of {', '.join(kind)}")
        return value
    if kind in ("strs", "strs?", "ids"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: must be a list of non-empty strings")
            return []
        if kind == "strs" and not value:
            problems.append(f"{where}: must not be empty")
        if kind == "ids":
            for v in value:
                if not ID_RE.match(v):
                    problems.append(f"{where}: {v!r} is not a valid claim id")
        return [v.strip() for v in value]
    if not isinstance(value, str) or not value.strip():
        if isinstance(value, (int, float)) and kind == "date":
            value = str(value)  # a bare year
        else:
            problems.append(f"{where}: must be a non-empty string")
            return ""
    value = value.strip()
    pattern = {"id": ID_RE, "date": DATE_RE, "day": DAY_RE, "url": URL_FIELD_RE, "lang": LANG_RE, "domain": DOMAIN_RE}.get(kind)
    if pattern and not pattern.match(value):
        expected = {"id": "lowercase letters, digits and '-'", "date": "YYYY, YYYY-MM or YYYY-MM-DD",
                    "day": "YYYY-MM-DD", "url": "an http(s) URL", "lang": "a two-letter ISO 639-1 code",
                    "domain": "a lowercase domain name like rt.com"}[kind]
        problems.append(f"{where}: {value!r} is not {expected}")
    return value


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


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
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



def load_knowledge(directory: str | Path) -> Knowledge:
    """Read and validate every knowledge file; raise KnowledgeError listing all problems."""
    root = Path(directory)
    problems: list[str] = []
    if not root.is_dir():
        raise KnowledgeError([f"{root}: knowledge directory not found"])
    kb = Knowledge()
    claim_files = sorted((root / "claims").glob("*.y*ml"))
    for path in claim_files:
        kb.files.append(path)
        data = _load_yaml(path, problems)
        if data is None and not any(p.startswith(str(path)) for p in problems):
            problems.append(f"{path}: file is empty")
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}: must be a YAML mapping of claim fields")
            continue
        claim = _check_record(data, CLAIM_SPEC, f"{path}: ", problems)
        claim_id = claim.get("id")
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
    names = {g.get("name") for g in kb.gazetteer}
    for i, g in enumerate(kb.gazetteer):
        if g.get("part_of") and g["part_of"] not in names:
            problems.append(f"{root / 'entities.yaml'}: [{i}].part_of: {g['part_of']!r} is not an entity of the gazetteer")
    rsp_path = root / "outlets" / "rsp.yaml"
    if rsp_path.exists():
        kb.files.append(rsp_path)
        data = _load_yaml(rsp_path, problems) or {}
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            problems.append(f"{rsp_path}: entries: must be a list (regenerate with `python -m bot knowledge rsp`)")
        else:
            kb.rsp = entries
    for path, claim in zip(claim_files, kb.claims):
        claim["_file"] = str(path.relative_to(root))
    if problems:
        raise KnowledgeError(problems)
    kb.claims.sort(key=lambda c: c["id"])
    kb.warnings = distortion_warnings(kb)
    return kb

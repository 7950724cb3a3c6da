"""Curators' tools over the runtime state: export the moderators' flag log, work the feedback queue, and
promote a confirmed message text into a claim's `phrasings` (a plain YAML edit that goes through review
as a normal git diff).

Library functions first; `add_cli` registers thin commands over them (wired into `python -m bot` by
bot/cli.py). Every leaf parser sets `func`: call `args.func(args)`, it returns the exit code.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.engine.characters import without_controls
from bot.engine.knowledge import ID_RE, MAX_TEXT_CHARS, parse_yaml
from bot.state import FEEDBACK_STATUSES, StateStore

EXPORT_FORMATS = ("csv", "json")
FLAG_COLUMNS = ("id", "ts", "time", "platform", "chat_id", "message_id", "revision", "message_link", "claim_id",
                "claim_text", "score", "action", "reason", "repeat_count", "excerpt")
CLAIM_ID_RE = ID_RE  # also keeps paths inside claims/
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class CurationError(ValueError):
    """A curator's request that cannot be carried out; the message says why. Nothing was changed."""


# --- time ranges --------------------------------------------------------------------------------------

def parse_when(value: str | float | int | date | datetime, *, end: bool = False) -> float:
    """A UTC timestamp from YYYY-MM-DD, an ISO 8601 date-time (naive means UTC), a datetime or epoch seconds.
    With end=True a bare date means the end of that day, so `--until 2026-03-31` includes the 31st."""
    if isinstance(value, bool):
        raise CurationError(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day) + (timedelta(days=1) if end else timedelta())
    else:
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return parse_when(date.fromisoformat(text), end=end)
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CurationError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO 8601 date-time, UTC)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the flag log -------------------------------------------------------------------------------------

def flags_between(state: StateStore, since: Any, until: Any = None) -> list[dict[str, Any]]:
    """Flags with since <= ts < until (until None: up to now), oldest first, with a readable UTC `time`."""
    lo = parse_when(since)
    hi = parse_when(until, end=True) if until is not None else None
    if hi is not None and hi <= lo:
        raise CurationError("--until must be after --since")
    rows = state.flags_between(lo, hi)
    for r in rows:
        r["time"] = _iso(r["ts"])
    return [{k: r.get(k) for k in FLAG_COLUMNS} for r in rows]


def _csv_safe(value: Any) -> Any:
    # Curators open exports in spreadsheets; a message starting with "=" must not become a formula. A plain
    # number is none (a Telegram group id, -1001234567890, stays the id the database and the JSON export hold).
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def export_flags(state: StateStore, since: Any, until: Any = None, fmt: str = "csv", out: TextIO | None = None) -> int:
    """Write the flags in [since, until) as CSV or JSON to `out` (default stdout); returns the number of rows."""
    if fmt not in EXPORT_FORMATS:
        raise CurationError(f"format must be csv or json, not {fmt!r}")
    rows = flags_between(state, since, until)
    out = sys.stdout if out is None else out
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=FLAG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in r.items()} for r in rows)
    return len(rows)


# --- the feedback queue -------------------------------------------------------------------------------

def list_feedback(state: StateStore, status: str = "open") -> list[dict[str, Any]]:
    """Feedback items, oldest first; status "all" for every item."""
    if status != "all" and status not in FEEDBACK_STATUSES:
        raise CurationError(f"status must be {', '.join(FEEDBACK_STATUSES)} or all, not {status!r}")
    return state.feedback(None if status == "all" else status)


def _open_feedback(state: StateStore, feedback_id: int) -> dict[str, Any]:
    item = state.get_feedback(feedback_id)
    if item is None:
        raise CurationError(f"no feedback with id {feedback_id}")
    if item["status"] != "open":
        raise CurationError(f"feedback {feedback_id} is already {item['status']}")
    return item


def resolve_feedback(state: StateStore, feedback_id: int, as_: str) -> dict[str, Any]:
    """Close an open item as accepted (the report was right) or rejected. A rejected admin wrong-match stops
    blocking auto-flags of that text; an accepted one keeps blocking."""
    if as_ not in ("accepted", "rejected"):
        raise CurationError(f"resolve as accepted or rejected, not {as_!r}")
    _open_feedback(state, feedback_id)
    if not state.set_feedback_status(feedback_id, as_, only_if="open"):
        raise CurationError(f"feedback {feedback_id} was resolved by someone else meanwhile")
    return state.get_feedback(feedback_id) or {}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _same(a: str, b: str) -> bool:
    return _one_line(a).casefold() == _one_line(b).casefold()


def _yaml_scalar(text: str) -> str:
    dumped = yaml.safe_dump([text], allow_unicode=True, default_flow_style=False, width=float("inf"))
    if dumped.count("\n") == 1 and dumped.startswith("- "):
        return dumped[2:-1]
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def append_phrasing(path: str | Path, claim_id: str, text: str) -> None:
    """Append `text` (whitespace collapsed to one line) as a new item of the claim file's top-level
    `phrasings:` list, leaving every other line as it was. Refuses (CurationError, file untouched) if the
    file or claim is missing, the text is empty or already a phrasing or the statement, or the file's layout
    is not one this edit can make safely; the result is re-parsed and compared before it is written."""
    path = Path(path)
    if not path.is_file():
        raise CurationError(f"claim {claim_id!r} has no knowledge file: {path}")
    raw = path.read_bytes().decode("utf-8")
    try:
        data = parse_yaml(raw)  # the validator's loader: no aliases, bounded depth
    except yaml.YAMLError as exc:
        raise CurationError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("id") != claim_id:
        raise CurationError(f"{path} does not hold claim {claim_id!r}")
    phrasing = _one_line(without_controls(text))  # a chat user's text: the validator refuses control characters
    if not phrasing:
        raise CurationError("the feedback has no message text to add as a phrasing")
    if len(phrasing) > MAX_TEXT_CHARS:  # feedback keeps 4,096 characters; a claim file's text may hold 4,000
        raise CurationError(f"the message is {len(phrasing):,} characters; a phrasing may have {MAX_TEXT_CHARS:,}")
    phrasings = data.get("phrasings")
    if phrasings is None:
        phrasings = []
    if not isinstance(phrasings, list):
        raise CurationError(f"{path}: phrasings is not a list")
    for existing in [*phrasings, data.get("statement") or ""]:
        if isinstance(existing, str) and _same(existing, phrasing):
            raise CurationError(f"claim {claim_id!r} already has this phrasing: {existing!r}")

    lines = raw.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"

    def item(indent: str) -> str:
        return f"{indent}- {_yaml_scalar(phrasing)}{newline}"

    header = next((i for i, line in enumerate(lines) if re.match(r"phrasings:\s*(#.*)?$", line.rstrip("\r\n"))), None)
    if header is not None:
        last, indent = header, None
        for j in range(header + 1, len(lines)):
            stripped = lines[j].strip()
            if not stripped or stripped.startswith("#"):
                continue
            lead = len(lines[j]) - len(lines[j].lstrip(" "))
            if lead == 0 and not (stripped.startswith("- ") or stripped == "-"):
                break  # the next top-level key
            last = j
            if indent is None and stripped.startswith("-"):
                indent = lines[j][:lead]
        if not lines[last].endswith(("\n", "\r")):
            lines[last] += newline
        lines.insert(last + 1, item("  " if indent is None else indent))
    elif "phrasings" not in data:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines += [f"phrasings:{newline}", item("  ")]
    else:
        raise CurationError(f"{path}: phrasings is not written as a block list; add the phrasing by hand")
    new_raw = "".join(lines)
    try:
        ok = parse_yaml(new_raw) == {**data, "phrasings": [*phrasings, phrasing]}
    except yaml.YAMLError:
        ok = False
    if not ok:
        raise CurationError(f"{path}: could not add the phrasing without changing anything else; add it by hand")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new_raw.encode("utf-8"))
        shutil.copymode(path, tmp)
        os.replace(tmp, path)  # atomic: a reviewer never sees half a file
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _just_appended(path: Path, claim_id: str, text: str) -> bool:
    """Whether the claim file's last phrasing is exactly what promoting `text` appends: the trace of a
    promotion that edited the file and then crashed before its status update."""
    try:
        data = parse_yaml(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # append_phrasing reports the problem
    if not isinstance(data, dict) or data.get("id") != claim_id:
        return False
    phrasings = data.get("phrasings")
    return isinstance(phrasings, list) and bool(phrasings) and bool(_one_line(text)) and phrasings[-1] == _one_line(text)


def promote_feedback(state: StateStore, feedback_id: int, knowledge_dir: str | Path) -> Path:
    """A curator confirms the message really states the claim: its text becomes a phrasing in
    knowledge/claims/<claim_id>.yaml and the item is marked promoted. Returns the edited file."""
    item = _open_feedback(state, feedback_id)
    claim_id = item["claim_id"]
    if not CLAIM_ID_RE.match(claim_id):
        raise CurationError(f"feedback {feedback_id} names an invalid claim id {claim_id!r}")
    path = Path(knowledge_dir) / "claims" / f"{claim_id}.yaml"
    # A retry after a crash between the YAML edit and the status update finds its own edit in place (the
    # exact text as the last phrasing): only the status is left to set. Other duplicates are still refused.
    if not _just_appended(path, claim_id, item["text"]):
        append_phrasing(path, claim_id, item["text"])
    if not state.set_feedback_status(feedback_id, "promoted", only_if="open"):
        raise CurationError(f"feedback {feedback_id} was resolved by someone else meanwhile; {path} was edited, "
                            "review the diff")
    return path


# --- command line -------------------------------------------------------------------------------------

def _state(args: argparse.Namespace) -> StateStore:
    if args.state is not None:
        return StateStore(args.state)
    from bot.config import Settings

    settings = Settings.from_env()
    return StateStore(settings.state_target, **settings.state_options)


def _run(fn: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        try:
            state = _state(args)
        except Exception as exc:  # e.g. unreadable path
            print(f"error: cannot open the state database: {exc}", file=sys.stderr)
            return 1
        try:
            return fn(state, args)
        except CurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            state.close()
    return handler


def _cmd_flags_export(state: StateStore, args: argparse.Namespace) -> int:
    if args.out in (None, "-"):
        n = export_flags(state, args.since, args.until, args.format, sys.stdout)
    else:
        buf = io.StringIO()  # write the file only once the export succeeded
        n = export_flags(state, args.since, args.until, args.format, buf)
        Path(args.out).write_text(buf.getvalue(), encoding="utf-8", newline="")
    print(f"exported {n} flag(s)", file=sys.stderr)
    return 0


def _cmd_feedback_list(state: StateStore, args: argparse.Namespace) -> int:
    items = list_feedback(state, args.status)
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return 0
    if not items:
        print(f"no {'' if args.status == 'all' else args.status + ' '}feedback")
        return 0
    for it in items:
        who = "admin" if it["is_admin"] else "member"
        print(f"#{it['id']} {_iso(it['ts'])} {it['kind']} {it['status']} claim={it['claim_id']} "
              f"{it['platform']}:{it['chat_id']} ({who}) {_one_line(it['text'])[:120]!r}")
    return 0


def _cmd_feedback_promote(state: StateStore, args: argparse.Namespace) -> int:
    knowledge = args.knowledge
    if knowledge is None:
        from bot.config import Settings

        knowledge = Settings.from_env().knowledge_dir
    path = promote_feedback(state, args.id, knowledge)
    print(f"feedback {args.id} promoted: phrasing added to {path} (review it with git diff)")
    return 0


def _cmd_feedback_resolve(state: StateStore, args: argparse.Namespace) -> int:
    resolve_feedback(state, args.id, args.as_)
    print(f"feedback {args.id} resolved as {args.as_}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register `flags export` and `feedback list|promote|resolve` on a `python -m bot` parser."""
    state_help = "state database: a SQLite path or a postgresql:// URL (default: $CLAIM_CONTEXT_STATE or var/state.db)"

    flags = subparsers.add_parser("flags", help="the moderators' flag log")
    flags_sub = flags.add_subparsers(dest="flags_command", required=True)
    exp = flags_sub.add_parser("export", help="export flags for curators as CSV or JSON")
    exp.add_argument("--since", required=True, help="YYYY-MM-DD or ISO date-time, UTC (inclusive)")
    exp.add_argument("--until", help="YYYY-MM-DD (inclusive day) or ISO date-time (exclusive), UTC")
    exp.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    exp.add_argument("--out", help="file to write (default: stdout)")
    exp.add_argument("--state", help=state_help)
    exp.set_defaults(func=_run(_cmd_flags_export))

    fb = subparsers.add_parser("feedback", help="the curators' feedback queue")
    fb_sub = fb.add_subparsers(dest="feedback_command", required=True)
    ls = fb_sub.add_parser("list", help="show feedback items")
    ls.add_argument("--status", choices=(*FEEDBACK_STATUSES, "all"), default="open")
    ls.add_argument("--state", help=state_help)
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_run(_cmd_feedback_list))

    pr = fb_sub.add_parser("promote", help="add the item's message text to the claim's phrasings")
    pr.add_argument("id", type=int)
    pr.add_argument("--knowledge", help="knowledge directory (default: $CLAIM_CONTEXT_KNOWLEDGE or knowledge/)")
    pr.add_argument("--state", help=state_help)
    pr.set_defaults(func=_run(_cmd_feedback_promote))

    rs = fb_sub.add_parser("resolve", help="close an item as accepted or rejected")
    rs.add_argument("id", type=int)
    rs.add_argument("--as", dest="as_", required=True, choices=("accepted", "rejected"))
    rs.add_argument("--state", help=state_help)
    rs.set_defaults(func=_run(_cmd_feedback_resolve))


def main(argv: list[str] | None = None) -> int:
    """The curation commands alone (`python -m bot.curation ...`); `python -m bot` has them too."""
    parser = argparse.ArgumentParser(prog="python -m bot.curation")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

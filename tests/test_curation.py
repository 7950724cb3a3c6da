import argparse
import csv
import io
import json
from datetime import datetime, timezone

import pytest
import yaml

from bot.curation import (CurationError, add_cli, append_phrasing, export_flags, flags_between, parse_when,
                          promote_feedback)
from bot.engine.cards import CheckResult, Match
from bot.moderation import Moderation
from bot.state import StateStore

CLAIM = "iran-taliban-bounties-2020"
DAY = 86400
MAR1 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc).timestamp()

CLAIM_YAML = f"""\
# curated by hand; keep this comment
id: {CLAIM}
statement: >-
  Iran paid bounties to the Haqqani Network for attacks on US troops in Afghanistan.
phrasings:
  - US intelligence claims Iran paid Taliban to kill American troops
  # a comment inside the list
  - "Iran bounties: the new report"
status: unproven   # trailing comment
status_note: >-
  Reported from two unnamed intelligence sources.
language: en
entities:
  - name: Iran
    role: actor
last_reviewed: 2026-11-26
"""


def run(*argv):
    parser = argparse.ArgumentParser(prog="bot")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def state_path(state_target):
    """Once per backend (SQLite file, PostgreSQL URL): see conftest.py."""
    return state_target


@pytest.fixture
def store(state):
    return state


@pytest.fixture
def flagged(store):
    """One reply flag per day from 1 to 5 March 2026 (noon UTC); returns {day: flag_id}."""
    mod = Moderation(store)
    mod.update("telegram", -1, enabled=True, cooldown_s=0)
    ids = {}
    for day in range(1, 6):
        r = CheckResult(text="t", decision="match", matches=[Match(CLAIM, "statement", 0.8 + day / 100)])
        ids[day] = mod.decide("telegram", -1, day, f"message of day {day}", r, message_link=f"https://t.me/c/1/{day}",
                              now=MAR1 + (day - 1) * DAY).flag_id
    return ids


@pytest.fixture
def knowledge(tmp_path):
    claims = tmp_path / "knowledge" / "claims"
    claims.mkdir(parents=True)
    (claims / f"{CLAIM}.yaml").write_text(CLAIM_YAML, encoding="utf-8")
    return tmp_path / "knowledge"


def test_parse_when():
    assert parse_when("2026-03-01") == datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    assert parse_when("2026-03-01", end=True) == datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()
    assert parse_when("2026-03-01T06:30:00Z") == datetime(2026, 3, 1, 6, 30, tzinfo=timezone.utc).timestamp()
    assert parse_when("2026-03-01T06:30:00+02:00") == datetime(2026, 3, 1, 4, 30, tzinfo=timezone.utc).timestamp()
    with pytest.raises(CurationError, match="not a date"):
        parse_when("March")


def test_flags_between_since_until_inclusive_days(store, flagged):
    assert [f["id"] for f in flags_between(store, "2026-03-02", "2026-03-04")] == [flagged[2], flagged[3], flagged[4]]
    assert [f["id"] for f in flags_between(store, "2026-03-04")] == [flagged[4], flagged[5]]
    assert flags_between(store, "2026-03-06") == []
    with pytest.raises(CurationError, match="--until must be after --since"):
        flags_between(store, "2026-03-04", "2026-03-02")


def test_export_csv(store, flagged):
    out = io.StringIO()
    assert export_flags(store, "2026-03-02", "2026-03-03", "csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["id"]) for r in rows] == [flagged[2], flagged[3]]
    assert rows[0]["time"] == "2026-03-02T12:00:00Z"
    assert (rows[0]["message_link"], rows[0]["claim_id"], rows[0]["action"]) == ("https://t.me/c/1/2", CLAIM, "reply")
    assert float(rows[1]["score"]) == pytest.approx(0.83) and rows[1]["excerpt"] == "message of day 3"


def test_export_json(store, flagged):
    out = io.StringIO()
    export_flags(store, "2026-03-05", None, "json", out)
    (row,) = json.loads(out.getvalue())
    assert (row["id"], row["message_id"], row["chat_id"], row["platform"]) == (flagged[5], "5", "-1", "telegram")
    with pytest.raises(CurationError, match="format must be csv or json"):
        export_flags(store, "2026-03-01", fmt="xml", out=io.StringIO())


def test_export_csv_neutralises_formulas(store):
    mod = Moderation(store)
    mod.update("discord", 1, enabled=True)
    r = CheckResult(text="t", decision="match", matches=[Match(CLAIM, "s", 0.9)])
    mod.decide("discord", 1, 1, '=HYPERLINK("http://evil.example","click")', r, now=MAR1)
    out = io.StringIO()
    export_flags(store, "2026-03-01", fmt="csv", out=out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["excerpt"] == '\'=HYPERLINK("http://evil.example","click")'


def test_export_csv_keeps_a_negative_chat_id_as_written(store):
    mod = Moderation(store)
    mod.update("telegram", -1001234567890, enabled=True)
    r = CheckResult(text="t", decision="match", matches=[Match(CLAIM, "s", 0.9)])
    mod.decide("telegram", -1001234567890, 1, "-5 degrees tonight", r, now=MAR1)
    out = io.StringIO()
    export_flags(store, "2026-03-01", fmt="csv", out=out)
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["chat_id"] == "-1001234567890"  # a number is no formula: the id the database holds
    assert row["excerpt"] == "'-5 degrees tonight"  # text starting with "-" still is guarded


def test_cli_flags_export_to_file(store, flagged, state_path, tmp_path):
    out = tmp_path / "flags.json"
    assert run("flags", "export", "--since", "2026-03-03", "--until", "2026-03-03", "--format", "json",
               "--out", out, "--state", state_path) == 0
    assert [r["id"] for r in json.loads(out.read_text())] == [flagged[3]]
    assert run("flags", "export", "--since", "yesterday", "--state", state_path) == 1


def add_items(store):
    a = store.add_feedback(platform="telegram", chat_id=-1, user_id=5, claim_id=CLAIM, kind="wrong",
                           text="Iran denies paying anyone", is_admin=True)
    b = store.add_feedback(platform="discord", chat_id=9, user_id=6, claim_id=CLAIM, kind="helpful",
                           text="Report:   Tehran paid\nTaliban fighters to attack US troops")
    return a, b


def test_cli_feedback_list_and_resolve(store, state_path, capsys):
    a, b = add_items(store)
    assert run("feedback", "list", "--state", state_path, "--json") == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == [a, b]
    assert run("feedback", "resolve", a, "--as", "rejected", "--state", state_path) == 0
    assert store.get_feedback(a)["status"] == "rejected"
    capsys.readouterr()
    assert run("feedback", "list", "--state", state_path) == 0
    listing = capsys.readouterr().out
    assert f"#{b} " in listing and f"#{a} " not in listing
    assert run("feedback", "list", "--status", "all", "--state", state_path) == 0
    assert f"#{a} " in capsys.readouterr().out
    assert run("feedback", "resolve", a, "--as", "accepted", "--state", state_path) == 1
    assert f"feedback {a} is already rejected" in capsys.readouterr().err
    assert run("feedback", "resolve", 999, "--as", "accepted", "--state", state_path) == 1
    assert store.get_feedback(a)["status"] == "rejected"


def test_cli_feedback_promote_appends_phrasing_and_keeps_the_rest(store, state_path, knowledge, capsys):
    _, b = add_items(store)
    path = knowledge / "claims" / f"{CLAIM}.yaml"
    before = path.read_text()
    assert run("feedback", "promote", b, "--knowledge", knowledge, "--state", state_path) == 0
    after = path.read_text()
    new_phrasing = "Report: Tehran paid Taliban fighters to attack US troops"
    assert yaml.safe_load(after)["phrasings"] == [*yaml.safe_load(before)["phrasings"], new_phrasing]
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(after.splitlines()) == len(before.splitlines()) + 1 and len(added) == 1
    assert added[0].startswith("  - ") and after.index(added[0]) < after.index("status: unproven")
    assert "# a comment inside the list" in after and "status: unproven   # trailing comment" in after
    assert store.get_feedback(b)["status"] == "promoted"
    assert "git diff" in capsys.readouterr().out

    again = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id=CLAIM, kind="helpful",
                               text=new_phrasing.upper())
    assert run("feedback", "promote", again, "--knowledge", knowledge, "--state", state_path) == 1
    assert "already has this phrasing" in capsys.readouterr().err
    assert path.read_text() == after and store.get_feedback(again)["status"] == "open"
    assert run("feedback", "promote", b, "--knowledge", knowledge, "--state", state_path) == 1  # already promoted


def test_promote_refuses_missing_file_or_claim(store, knowledge):
    missing = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="no-such-claim", kind="helpful", text="x")
    with pytest.raises(CurationError, match="has no knowledge file"):
        promote_feedback(store, missing, knowledge)
    sneaky = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="../../etc", kind="helpful", text="x")
    with pytest.raises(CurationError, match="invalid claim id"):
        promote_feedback(store, sneaky, knowledge)
    other = knowledge / "claims" / "other-claim.yaml"
    other.write_text(CLAIM_YAML)  # id inside does not match the file name
    wrong = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="other-claim", kind="helpful", text="x")
    with pytest.raises(CurationError, match="does not hold claim 'other-claim'"):
        promote_feedback(store, wrong, knowledge)
    assert other.read_text() == CLAIM_YAML
    assert {f["status"] for f in store.feedback(None)} == {"open"}
    with pytest.raises(CurationError, match="no feedback with id"):
        promote_feedback(store, 12345, knowledge)


def test_promote_never_writes_a_claim_file_the_validator_refuses(store, knowledge):
    """Feedback keeps 4,096 characters of a chat user's text, control characters included; the validator
    allows a phrasing 4,000 and no control characters. A promote wrote such a file and set the feedback
    "promoted": every build and sync then refused all knowledge until someone edited the YAML by hand."""
    from bot.engine.characters import unprintable
    from bot.engine.knowledge import parse_yaml

    path = knowledge / "claims" / f"{CLAIM}.yaml"
    long = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id=CLAIM, kind="helpful", text="word " * 810)
    with pytest.raises(CurationError, match="a phrasing may have 4,000"):
        promote_feedback(store, long, knowledge)
    assert path.read_text() == CLAIM_YAML and store.feedback()[0]["status"] == "open"
    hostile = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id=CLAIM, kind="helpful",
                                 text="Squids \u202eelected\x1b a parliament\x07 again")
    promote_feedback(store, hostile, knowledge)
    added = parse_yaml(path.read_text(encoding="utf-8"))["phrasings"][-1]
    assert added == "Squids elected a parliament again" and unprintable(added) is None  # what the validator needs


def test_append_phrasing_layouts(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("id: c\nstatement: S\nphrasings:\n- one\n- two\nstatus: false\n")
    append_phrasing(path, "c", "three: with # yaml 'specials'")
    assert yaml.safe_load(path.read_text())["phrasings"] == ["one", "two", "three: with # yaml 'specials'"]
    assert path.read_text().endswith("status: false\n")

    path.write_text("id: c\nstatement: S\nstatus: false")  # no phrasings key, no final newline
    append_phrasing(path, "c", "first")
    assert yaml.safe_load(path.read_text()) == {"id": "c", "statement": "S", "status": False, "phrasings": ["first"]}

    path.write_text("id: c\nstatement: S\nphrasings: [one]\n")
    with pytest.raises(CurationError, match="not written as a block list"):
        append_phrasing(path, "c", "two")
    with pytest.raises(CurationError, match="already has this phrasing"):
        append_phrasing(path, "c", "  s ")  # the statement itself
    with pytest.raises(CurationError, match="no message text"):
        append_phrasing(path, "c", " \n ")
    assert path.read_text() == "id: c\nstatement: S\nphrasings: [one]\n"


def test_promote_retried_after_a_crash_between_edit_and_status_update(store, knowledge, monkeypatch):
    """The YAML edit landed, the process died before the status update: the retry marks the item promoted
    instead of failing with "already has this phrasing" (issue 16)."""
    _, b = add_items(store)
    path = knowledge / "claims" / f"{CLAIM}.yaml"
    real = StateStore.set_feedback_status

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(StateStore, "set_feedback_status", crash)
    with pytest.raises(KeyboardInterrupt):
        promote_feedback(store, b, knowledge)
    edited = path.read_text()
    assert store.get_feedback(b)["status"] == "open"
    monkeypatch.setattr(StateStore, "set_feedback_status", real)
    assert promote_feedback(store, b, knowledge) == path
    assert store.get_feedback(b)["status"] == "promoted" and path.read_text() == edited

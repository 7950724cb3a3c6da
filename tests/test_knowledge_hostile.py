"""Hostile knowledge files (issue 16): each is refused with a message naming the file, quickly, instead of
a traceback, a multi-gigabyte expansion or a build that crashes after `validate` said OK."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.engine import knowledge as kn
from bot.engine.knowledge import KnowledgeError, load_knowledge
from bot.engine.store import build_database, remove_stale_temporaries

from tests.test_knowledge import GOOD, problems, write_claim

ALIAS_BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
"""


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request, monkeypatch):
    """Both parse paths: libyaml's (checked event by event first) and PyYAML's own, where libyaml is missing."""
    if request.param == "pure-python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    return request.param


def _claim(root: Path, replace: dict[str, str] | None = None, extra: str = "") -> Path:
    text = GOOD.format(id="example-claim")
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    return write_claim(root, "example-claim", text + extra)


def test_alias_bomb_is_refused_naming_the_file(tmp_path, loader):
    path = _claim(tmp_path, {"status: unproven\n": ALIAS_BOMB.replace("e: &e", "status:")})
    start = time.perf_counter()
    found = problems(tmp_path)
    assert time.perf_counter() - start < 2
    assert any(p.startswith(str(path)) and "aliases" in p for p in found), found
    assert sum(len(p) for p in found) < 10_000  # no expanded value echoed back


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_deep_nesting_is_a_named_error_not_a_recursion_error(tmp_path, opener, closer, loader):
    depth = 5000
    if opener == "- ":
        nested = "  " + "- " * depth + "x\n"  # compact nested block sequences: "- - - x"
    else:
        nested = opener * depth + "1" + closer * depth
    path = _claim(tmp_path, extra=f"sourcing_notes: {nested}\n" if opener != "- " else f"sourcing_notes:\n{nested}")
    found = problems(tmp_path)
    assert any(p.startswith(str(path)) and ("nested deeper" in p or "nesting depth" in p) for p in found), found


@pytest.mark.parametrize("date", ["2021-02-30", "'2021-02-30'", "2021-13-01", "'2021-00-10'"])
def test_impossible_dates_are_named_validation_errors(tmp_path, date, loader):
    path = _claim(tmp_path, {"last_reviewed: 2026-11-26": f"last_reviewed: {date}"})
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: last_reviewed") and "not a real date" in p for p in found), found


def test_impossible_date_in_a_nested_record(tmp_path):
    path = _claim(tmp_path, {"  date: 2020-08-17": "  date: 2020-02-31"})
    assert any(p.startswith(f"{path}: first_report.date") for p in problems(tmp_path))


def _rsp(root: Path, entry: str) -> Path:
    path = root / "outlets" / "rsp.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("licence: CC BY-SA 4.0\nentries:\n" + entry, encoding="utf-8")
    return path


@pytest.mark.parametrize("entry, field", [
    ("- name: X\n  status: gu\n  summary: s\n  link: https://en.wikipedia.org/wiki/X\n  domains: 5\n", "domains"),
    ("- name: X\n  summary: s\n  link: https://en.wikipedia.org/wiki/X\n  domains: [x.com]\n", "status"),
    ("- name: X\n  status: gu\n  link: https://en.wikipedia.org/wiki/X\n  domains: [x.com]\n", "summary"),
    ("- name: X\n  status: gu\n  summary: s\n  link: 'http://'\n  domains: [x.com]\n", "link"),
    ("- name: X\n  status: gu\n  summary: s\n  link: https://en.wikipedia.org/wiki/X\n  domains: ['a b']\n", "domains"),
    ("- 5\n", "entries[0]"),
])
def test_validate_checks_what_build_reads_from_rsp(tmp_path, entry, field, capsys):
    _claim(tmp_path)
    path = _rsp(tmp_path, entry)
    assert main(["knowledge", "validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: entries[0]" in err and field in err
    with pytest.raises(KnowledgeError):
        build_database(tmp_path, tmp_path / "kb.db")
    assert not (tmp_path / "kb.db").exists()


def test_a_valid_rsp_entry_builds(tmp_path):
    _claim(tmp_path)
    _rsp(tmp_path, "- name: X\n  status: gu\n  year: '2020'\n  summary: ''\n  link: https://en.wikipedia.org/wiki/X\n"
                   "  domains: [x.com, pressreader.com/uk/x]\n")
    kb = load_knowledge(tmp_path)
    assert kb.rsp[0]["domains"] == ["x.com", "pressreader.com/uk/x"]
    build_database(tmp_path, tmp_path / "kb.db")


def test_a_long_line_within_the_cap_is_read_in_linear_time(tmp_path):
    """PyYAML's own scanner is quadratic on long lines (a 1 MB line took 28 s); libyaml reads it at once."""
    path = _claim(tmp_path, extra="sourcing_notes: " + "word " * 190_000 + "\n")
    start = time.perf_counter()
    found = problems(tmp_path)
    assert time.perf_counter() - start < 3
    assert any(p.startswith(f"{path}: sourcing_notes") and "longer than" in p for p in found), found


def test_oversized_files_are_refused_before_parsing(tmp_path, monkeypatch):
    path = _claim(tmp_path, extra="sourcing_notes: " + "x" * (kn.MAX_CLAIM_FILE_BYTES + 1) + "\n")
    found = problems(tmp_path)
    assert any(p.startswith(str(path)) and "limit" in p for p in found), found
    rsp = _rsp(tmp_path, "")
    monkeypatch.setattr(kn, "MAX_RSP_FILE_BYTES", 10)
    assert any(p.startswith(str(rsp)) and "limit" in p for p in problems(tmp_path))


def test_over_long_fields_are_refused(tmp_path):
    long_text = "word " * (kn.MAX_TEXT_CHARS // 5 + 1)
    path = _claim(tmp_path, {"status_note: Only anonymous sources.": f"status_note: {long_text}",
                             "phrasings: [Example headline about the thing]": f"phrasings: [{long_text}]"})
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: status_note") and "longer than" in p for p in found), found
    assert any(p.startswith(f"{path}: phrasings") and "longer than" in p for p in found), found


@pytest.mark.parametrize("url", ["http://", "https://[::1", "http://:80/", "https:///p", "http://a..b/",
                                 "https://ex.com/\u202eevil", "https://ex.com/\x7f", "https://ex.com/\x00"])
def test_malformed_urls_are_named_validation_errors(tmp_path, url):
    quoted = json.dumps(url)  # a JSON string is a YAML double-quoted scalar, escapes included
    path = _claim(tmp_path, {"  sourcing: anonymous-officials": f"  url: {quoted}\n  sourcing: anonymous-officials"})
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: first_report.url") and "not a usable http(s) URL" in p for p in found), found


def test_the_shipped_knowledge_still_validates():
    from bot.config import DEFAULT_KNOWLEDGE_DIR

    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert kb.rsp and all(isinstance(e["domains"], list) for e in kb.rsp)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has this pid now (reuse within the test is vanishingly unlikely)


def test_stale_temporaries_of_a_killed_build_are_removed_on_the_next_run(tmp_path):
    _claim(tmp_path)
    target = tmp_path / "kb.db"
    dead = _dead_pid()
    stale = [tmp_path / f".kb.db.{dead}.tmp", tmp_path / f".kb.db.{dead}.import.tmp",
             tmp_path / f".kb.db.{dead}.import.tmp-journal"]
    live = tmp_path / f".kb.db.{os.getppid()}.tmp"  # a running process: maybe a build in progress
    other = tmp_path / f".other.db.{dead}.tmp"  # another database's file
    for f in [*stale, live, other]:
        f.write_bytes(b"x" * 1000)
    build_database(tmp_path, target)
    assert not any(f.exists() for f in stale)
    assert live.exists() and other.exists()
    old = time.time() - 2 * 86400
    os.utime(live, (old, old))  # a day old: stale whatever its pid now names
    assert remove_stale_temporaries(target) == [live]


def test_stale_temporaries_are_removed_by_import_too(tmp_path):
    from bot.engine.store import import_claims

    target = tmp_path / "kb.db"
    dead = _dead_pid()
    stale = tmp_path / f".kb.db.{dead}.import.tmp"
    import_claims(target, [])
    stale.write_bytes(b"x")
    import_claims(target, [])
    assert not stale.exists()


# -- known images (issue 19): hostile `images:` lists are refused quickly, naming the file and the field -------
def _images(n: int, crops: int = 9, hash_: str = "ab" * 32) -> str:
    one = (f"  - algorithm: pdq\n    hash: '{hash_}'\n    crops: [{', '.join([repr(hash_)] * crops)}]\n"
           "    description: A picture.\n    source: {outlet: X, date: 2023, headline: Y}\n")
    return "images:\n" + one * n


@pytest.mark.parametrize("extra, field, words", [
    (_images(1000), "images", "at most"),  # 900 KB, under the file cap: a thousand pictures
    (_images(1, crops=10_000), "images[0].crops", "at most"),
    (_images(1, crops=0, hash_="a" * 500_000), "images[0].hash", "not a PDQ hash"),
    ("images: &x [1]\nsourcing_notes: *x\n", "", "aliases"),
])
def test_hostile_known_images_are_refused_quickly(tmp_path, loader, extra, field, words):
    path = _claim(tmp_path, extra=extra)
    start = time.perf_counter()
    found = problems(tmp_path)
    assert time.perf_counter() - start < 5
    assert any(p.startswith(f"{path}: {field}") and words in p for p in found), found[:3]
    assert sum(len(p) for p in found) < 10_000  # no hostile value echoed back in full


def test_hostile_channel_handles_are_refused(tmp_path, loader):
    _claim(tmp_path)
    path = tmp_path / "outlets" / "ownership.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = "- handle: '{h}'\n    citation: {{outlet: X, headline: Y, url: 'https://example.org/', states: Z}}\n  "
    path.write_text("- domain: example.org\n  name: X\n  ownership: private\n  note: N.\n"
                    "  citation: {outlet: X, date: 2020, headline: Y}\n  telegram:\n  "
                    + "".join(handle.format(h=f"handle_{i:05d}") for i in range(kn.MAX_HANDLES + 1))
                    + handle.format(h="x" * 100_000 + "\u202e"), encoding="utf-8")
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: [0].telegram: ") and "at most" in p for p in found), found[:3]
    assert any(p.startswith(f"{path}: [0].telegram[{kn.MAX_HANDLES + 1}].handle") for p in found), found[:3]
    assert sum(len(p) for p in found) < 10_000


# --- silent changes: what a merge leftover or a stray character would have slipped past validation -------

@pytest.mark.parametrize("extra_line, key, first_line", [
    ("status: true\n", "status", 4),
    ("statement: Something else entirely was claimed.\n", "statement", 2),
])
def test_a_duplicate_key_is_refused_naming_the_key_and_both_lines(tmp_path, loader, extra_line, key, first_line):
    """PyYAML keeps the last of two equal keys without a word: a second `status:` left by a merge flipped
    the verdict."""
    path = _claim(tmp_path, extra=extra_line)
    (found,) = problems(tmp_path)
    assert found.startswith(f"{path}: invalid YAML (line 17,")  # the second one, after GOOD's 16 lines
    assert f"duplicate key {key!r} (first on line {first_line})" in found


def test_a_duplicate_key_in_a_nested_record_is_refused(tmp_path, loader):
    path = _claim(tmp_path, {"  outlet: Example Times\n": "  outlet: Example Times\n  outlet: Other Times\n"})
    assert any(p.startswith(str(path)) and "duplicate key 'outlet'" in p for p in problems(tmp_path))


@pytest.mark.parametrize("word", ["off", "on", "yes", "no", "Off", "NO"])
def test_yaml_11_booleans_other_than_true_and_false_are_not_a_status(tmp_path, loader, word):
    path = _claim(tmp_path, {"status: unproven": f"status: {word}"})
    (found,) = problems(tmp_path)
    assert found.startswith(f"{path}: status: {word!r} is not one of")


@pytest.mark.parametrize("word, status", [("false", "false"), ("true", "true"), ("False", "false")])
def test_true_and_false_are_still_statuses(tmp_path, loader, word, status):
    _claim(tmp_path, {"status: unproven": f"status: {word}"})
    assert load_knowledge(tmp_path).claims[0]["status"] == status


@pytest.mark.parametrize("escape, code", [("\\0", "0000"), ("\\e", "001B"), ("\\a", "0007"), ("\\x85", "0085"),
                                         ("\\u202e", "202E"), ("\\udc80", "DC80")])
def test_control_characters_in_text_are_refused(tmp_path, loader, escape, code):
    path = _claim(tmp_path, {"statement: Example statement about a thing that happened.":
                             f'statement: "Example {escape}statement about a thing."'})
    (found,) = problems(tmp_path)
    if code == "DC80" and loader == "libyaml":  # libyaml refuses the escape itself
        assert found.startswith(f"{path}: invalid YAML (line 2,") and "invalid Unicode" in found
    else:
        assert found == f"{path}: statement: contains the control character U+{code} at character 9"


def _yaml_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar, every character outside printable ASCII escaped."""
    return '"' + "".join(ch if " " <= ch <= "~" and ch not in '"\\' else f"\\U{ord(ch):08x}" for ch in text) + '"'


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u202d\u202e"),
               min_size=1, max_size=40).filter(str.strip),
       st.sampled_from(["\x00", "\x1b", "\x7f", "\x9b", "\u202d", "\u202e"]), st.integers(0, 40))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_with_a_control_character_is_refused_and_without_one_is_kept(tmp_path_factory, text, control, at):
    root = tmp_path_factory.mktemp("k")
    write_claim(root, "example-claim", GOOD.format(id="example-claim").replace(
        "status_note: Only anonymous sources.", f"status_note: {_yaml_quoted(text)}"))
    kept = load_knowledge(root).claims[0]["status_note"]
    assert kept == text.strip()
    hostile = text[:at] + control + text[at:]
    write_claim(root, "example-claim", GOOD.format(id="example-claim").replace(
        "status_note: Only anonymous sources.", f"status_note: {_yaml_quoted(hostile)}"))
    (found,) = problems(root)
    assert f"status_note: contains the control character U+{ord(control):04X}" in found


def test_a_date_in_the_future_is_refused(tmp_path, loader):
    path = _claim(tmp_path, {"last_reviewed: 2026-11-26": "last_reviewed: 9999-12-31",
                             "  date: 2020-08-17": "  date: 2062"})
    assert sorted(problems(tmp_path)) == sorted([f"{path}: last_reviewed: '9999-12-31' is in the future",
                                                 f"{path}: first_report.date: '2062' is in the future"])


def test_a_stray_file_among_the_claims_is_named_and_an_upper_case_suffix_is_read(tmp_path):
    write_claim(tmp_path, "example-claim")
    (tmp_path / "claims" / "example-claim.yaml").rename(tmp_path / "claims" / "example-claim.YAML")
    assert [c["id"] for c in load_knowledge(tmp_path).claims] == ["example-claim"]
    stray = tmp_path / "claims" / "other-claim.yaml.bak"
    stray.write_text(GOOD.format(id="other-claim"), encoding="utf-8")
    (tmp_path / "claims" / ".hidden.swp").write_text("editor state")  # hidden files are an editor's, not ours
    assert problems(tmp_path) == [f"{stray}: not a claim file (claim files end in .yaml or .yml): rename or remove it"]

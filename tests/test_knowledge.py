import hashlib
import shutil
import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.knowledge import KnowledgeError, load_knowledge
from bot.engine.store import build_database

GOOD = """\
id: {id}
statement: Example statement about a thing that happened.
phrasings: [Example headline about the thing]
status: unproven
status_note: Only anonymous sources.
language: en
first_report:
  outlet: Example Times
  date: 2020-08-17
  headline: Example headline
  sourcing: anonymous-officials
  sourcing_detail: two unnamed officials
entities:
  - name: Exampleland
    role: actor
last_reviewed: 2026-11-26
"""


def write_claim(root: Path, claim_id: str, text: str | None = None) -> Path:
    (root / "claims").mkdir(parents=True, exist_ok=True)
    path = root / "claims" / f"{claim_id}.yaml"
    path.write_text(text if text is not None else GOOD.format(id=claim_id), encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(root)
    return err.value.problems


def test_shipped_knowledge_is_valid():
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert len(kb.claims) >= 30
    ids = {c["id"] for c in kb.claims}
    assert {"iran-taliban-bounties-2020", "russia-gru-taliban-bounties-2020"} <= ids


def test_good_claim_loads(tmp_path):
    write_claim(tmp_path, "example-claim")
    kb = load_knowledge(tmp_path)
    assert kb.claims[0]["first_report"]["date"] == "2020-08-17"  # YAML dates kept as written


def test_missing_field_names_file_and_field(tmp_path):
    path = write_claim(tmp_path, "example-claim", GOOD.format(id="example-claim").replace("status: unproven\n", ""))
    assert problems(tmp_path) == [f"{path}: status: required field missing"]


def test_bad_values_are_all_reported(tmp_path):
    text = GOOD.format(id="other-id").replace("status: unproven", "status: dubious").replace("date: 2020-08-17", "date: last summer")
    path = write_claim(tmp_path, "example-claim", text + "related: [no-such-claim]\nmood: grim\n")
    found = problems(tmp_path)
    assert f"{path}: status: 'dubious' is not one of true, mostly-true, misleading, disputed, unproven, unverified, false" in found
    assert f"{path}: first_report.date: 'last summer' is not YYYY, YYYY-MM or YYYY-MM-DD" in found
    assert f"{path}: id: 'other-id' must equal the file name 'example-claim'" in found
    assert f"{path}: related: unknown claim id 'no-such-claim'" in found
    assert f"{path}: mood: unknown field" in found


def test_nested_list_errors_name_the_index(tmp_path):
    text = GOOD.format(id="example-claim") + "denials:\n  - who: Someone\n    date: 2020\n"
    path = write_claim(tmp_path, "example-claim", text)
    assert problems(tmp_path) == [f"{path}: denials[0].summary: required field missing"]


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write_claim(tmp_path, "example-claim", "id: [unclosed\n")
    (found,) = problems(tmp_path)
    assert found.startswith(f"{path}: invalid YAML (line ")


def test_yaml_booleans_become_status_words(tmp_path):
    write_claim(tmp_path, "example-claim", GOOD.format(id="example-claim").replace("status: unproven", "status: false"))
    assert load_knowledge(tmp_path).claims[0]["status"] == "false"


def test_validate_command_exits_non_zero_and_build_keeps_old_db(tmp_path, capsys):
    write_claim(tmp_path, "example-claim")
    db = tmp_path / "out.db"
    assert main(["knowledge", "build", "--knowledge", str(tmp_path), "--db", str(db)]) == 0
    before = db.read_bytes()
    write_claim(tmp_path, "broken-claim", "id: broken-claim\n")
    assert main(["knowledge", "validate", str(tmp_path)]) == 1
    assert main(["knowledge", "build", "--knowledge", str(tmp_path), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "broken-claim.yaml: statement: required field missing" in err
    assert db.read_bytes() == before  # the previous database is intact
    assert not list(tmp_path.glob(".*.tmp"))  # and no temporary file is left behind


def test_build_is_deterministic(tmp_path):
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, tmp_path / "k")
    a = build_database(tmp_path / "k", tmp_path / "a.db")
    b = build_database(tmp_path / "k", tmp_path / "b.db")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_ownership_file_is_validated(tmp_path):
    write_claim(tmp_path, "example-claim")
    (tmp_path / "outlets").mkdir()
    (tmp_path / "outlets" / "ownership.yaml").write_text(textwrap.dedent("""\
        - domain: RT dot com
          name: RT
          ownership: state-funded
          note: Funded by the state.
    """))
    found = problems(tmp_path)
    assert any("ownership.yaml: [0].domain: 'RT dot com' is not a lowercase domain name" in p for p in found)
    assert any("ownership.yaml: [0].citation: required field missing" in p for p in found)


def test_engine_refuses_a_database_of_another_schema(tmp_path, knowledge_db):
    import shutil
    import sqlite3

    from bot.engine.service import Engine

    old = tmp_path / "old.db"
    shutil.copy(knowledge_db, old)
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(ValueError, match="rebuild it"):
        Engine(old)

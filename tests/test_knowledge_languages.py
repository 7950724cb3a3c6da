"""Per-language claim phrasings and gazetteer names (issue 20): schema, validation and the shipped coverage."""

from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.engine.knowledge import TARGET_LANGUAGES, KnowledgeError, load_knowledge, missing_languages
from tests.test_knowledge import GOOD, problems, write_claim


def with_languages(claim_id: str, block: str) -> str:
    """The GOOD claim with a `languages:` block placed after its `language: en` line."""
    return GOOD.format(id=claim_id).replace("language: en\n", "language: en\n" + block)


RU = """\
  ru:
    statement: Пример утверждения.
    phrasings:
      - text: Пример заголовка
        translation: true
"""


def test_languages_block_loads(tmp_path):
    write_claim(tmp_path, "example-claim", with_languages("example-claim", "languages:\n" + RU + """\
  de:
    phrasings:
      - text: Beispielschlagzeile aus dem Netz
"""))
    claim = load_knowledge(tmp_path).claims[0]
    assert claim["languages"]["ru"] == {"statement": "Пример утверждения.",
                                        "phrasings": [{"text": "Пример заголовка", "translation": True}]}
    assert claim["languages"]["de"]["phrasings"] == [{"text": "Beispielschlagzeile aus dem Netz"}]


@pytest.mark.parametrize("code", ["xx", "RU", "rus", "ua"])
def test_bad_language_code_names_file_and_field(tmp_path, code):
    path = write_claim(tmp_path, "example-claim", with_languages("example-claim", "languages:\n" + RU.replace("ru:", f"{code}:")))
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: languages.{code}: ") and "ISO 639-1" in p for p in found), found


def test_claims_own_language_is_not_a_translation(tmp_path):
    path = write_claim(tmp_path, "example-claim", with_languages("example-claim", "languages:\n" + RU.replace("ru:", "en:")))
    assert any(p.startswith(f"{path}: languages.en: ") for p in problems(tmp_path))


@pytest.mark.parametrize("block", [
    "  ru:\n    statement: Пример.\n",                 # no phrasings at all
    "  ru:\n    phrasings: []\n",                     # an empty list
])
def test_language_without_phrasings_is_an_error(tmp_path, block):
    path = write_claim(tmp_path, "example-claim", with_languages("example-claim", "languages:\n" + block))
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: languages.ru.phrasings: ") for p in found), found


@pytest.mark.parametrize("phrasing, field", [
    ("      - text: ''\n", "languages.ru.phrasings[0].text"),
    ("      - translation: true\n", "languages.ru.phrasings[0].text"),
    ("      - text: Заголовок\n        translation: maybe\n", "languages.ru.phrasings[0].translation"),
    ("      - text: Заголовок\n        lang: ru\n", "languages.ru.phrasings[0].lang"),
])
def test_bad_phrasing_is_an_error(tmp_path, phrasing, field):
    path = write_claim(tmp_path, "example-claim",
                       with_languages("example-claim", "languages:\n  ru:\n    phrasings:\n" + phrasing))
    found = problems(tmp_path)
    assert any(p.startswith(f"{path}: {field}: ") for p in found), found


def test_missing_languages_reports_exactly_the_missing_ones(tmp_path):
    full = "languages:\n" + "".join(f"  {code}:\n    phrasings: [{{text: headline {code}}}]\n" for code in TARGET_LANGUAGES)
    write_claim(tmp_path, "all-eight", with_languages("all-eight", full))
    write_claim(tmp_path, "two-only", with_languages("two-only", "languages:\n" + RU + "  tr:\n    phrasings: [{text: Başlık}]\n"))
    write_claim(tmp_path, "english-only")
    kb = load_knowledge(tmp_path)
    assert missing_languages(kb) == {
        "two-only": [c for c in TARGET_LANGUAGES if c not in ("ru", "tr")],
        "english-only": list(TARGET_LANGUAGES),
    }


def test_validate_prints_missing_languages_to_stdout(tmp_path, capsys):
    write_claim(tmp_path, "two-only", with_languages("two-only", "languages:\n" + RU + "  tr:\n    phrasings: [{text: Başlık}]\n"))
    assert main(["knowledge", "validate", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "two-only: no phrasings in uk, ar, fa, es, fr, de" in out
    assert err == ""


def test_gazetteer_names_by_language(tmp_path):
    write_claim(tmp_path, "example-claim")
    (tmp_path / "entities.yaml").write_text(
        "- name: Iran\n  kind: country\n  names: {ru: [Иран, Ирана], fa: [ایران]}\n"
        "- name: Russia\n  kind: country\n  names: {xx: [Russland], de: []}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    found = err.value.problems
    assert any("entities.yaml: [1].names.xx: " in p for p in found), found
    assert any("entities.yaml: [1].names.de: " in p for p in found), found
    assert not any("[0]" in p for p in found), found


def test_shipped_claims_have_all_eight_languages():
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    assert missing_languages(kb) == {}
    for claim in kb.claims:
        for code in TARGET_LANGUAGES:
            block = claim["languages"][code]
            assert block.get("statement") and block.get("status_note"), (claim["id"], code)
            assert len(block["phrasings"]) >= 2, (claim["id"], code)


def test_shipped_gazetteer_names_main_actors_in_all_eight():
    kb = load_knowledge(DEFAULT_KNOWLEDGE_DIR)
    names = {e["name"]: e.get("names", {}) for e in kb.gazetteer}
    actors = {e["name"] for c in kb.claims for e in c["entities"] if e["role"] == "actor" and e["name"] in names}
    assert actors
    for actor in sorted(actors):
        assert set(TARGET_LANGUAGES) <= set(names[actor]), (actor, sorted(set(TARGET_LANGUAGES) - set(names[actor])))

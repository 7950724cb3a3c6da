"""The validator's distortion check: phrasings whose doer or verb contradicts the claim's statement."""

import textwrap

from bot.cli import main
from bot.engine import distortion
from bot.engine.knowledge import load_knowledge

GAZETTEER = [
    {"name": "United States", "kind": "country", "aliases": ["US", "America", "American"]},
    {"name": "CIA", "kind": "organisation", "part_of": "United States", "aliases": ["Central Intelligence Agency"]},
    {"name": "Russia", "kind": "country", "aliases": ["Russian", "Kremlin"]},
    {"name": "Ukraine", "kind": "country", "aliases": ["Ukrainian", "Kyiv"]},
    {"name": "Haqqani Network", "kind": "organisation", "aliases": []},
]
INDEX = distortion.gazetteer_index(GAZETTEER)
CIA = {"id": "cia-haqqani", "status": "true",
       "statement": "In the 1980s the CIA funded and armed Afghan mujahideen, including fighters led by Jalaluddin Haqqani.",
       "phrasings": ["The CIA created the Haqqani network", "The US armed and funded the mujahideen in the 1980s",
                     "america funded the mujahideen in the 80s"],
       "entities": [{"name": "CIA", "role": "actor"}]}
MH17 = {"id": "mh17", "status": "true", "statement": "MH17 was shot down by a Russian Buk missile over Ukraine.",
        "phrasings": ["MH17 was shot down by a Ukrainian jet", "A Russian Buk missile shot down MH17"], "entities": []}


def test_an_over_claiming_verb_is_flagged_and_paraphrases_are_not():
    found = distortion.distortions(CIA, INDEX)
    assert len(found) == 1 and "The CIA created the Haqqani network" in found[0] and "'created'" in found[0]


def test_another_doer_for_the_same_act_is_flagged():
    found = distortion.distortions(MH17, INDEX)
    assert len(found) == 1 and "Ukrainian jet" in found[0] and "Ukraine" in found[0] and "Russia" in found[0]


def test_a_claim_that_asserts_creation_may_say_so():
    claim = {**CIA, "statement": "The CIA created and funded a network of Afghan fighters.",
             "phrasings": ["The CIA created the Haqqani network"]}
    assert distortion.distortions(claim, INDEX) == []


def test_validate_prints_warnings_and_fails_with_strict_on_true_claims(tmp_path, capsys):
    (tmp_path / "claims").mkdir()
    (tmp_path / "entities.yaml").write_text(textwrap.dedent("""\
        - name: CIA
          kind: organisation
          part_of: United States
        - name: United States
          kind: country
          aliases: [US, America]
        """), encoding="utf-8")
    (tmp_path / "claims" / "cia-haqqani.yaml").write_text(textwrap.dedent("""\
        id: cia-haqqani
        statement: In the 1980s the CIA funded and armed Afghan mujahideen, including fighters led by Jalaluddin Haqqani.
        phrasings: [The CIA created the Haqqani network, The US armed and funded the mujahideen]
        status: "true"
        status_note: Documented.
        language: en
        first_report: {outlet: A book, date: 2004, headline: Ghost Wars, sourcing: investigation, sourcing_detail: interviews}
        entities: [{name: CIA, role: actor}]
        last_reviewed: 2026-12-01
        """), encoding="utf-8")
    kb = load_knowledge(tmp_path)
    assert len(kb.warnings) == 1 and "cia-haqqani.yaml" in kb.warnings[0] and "status true" in kb.warnings[0]
    assert main(["knowledge", "validate", str(tmp_path)]) == 0
    assert "created the Haqqani network" in capsys.readouterr().err
    assert main(["knowledge", "validate", "--strict", str(tmp_path)]) == 1

import json

from bot.cli import main
from bot.chat.layout import card_sections, sourcing_label, status_label
from bot.chat.render_text import render_result, render_sections
from bot.engine.cards import Card, CheckResult, FactCheck, OutletNote, Source


def render_text(card: Card) -> str:
    return render_sections(card_sections(card))


render_result_text = render_result


def test_card_text_has_every_section(engine):
    card = engine.card("iran-taliban-bounties-2020", confidence=0.93)
    text = render_text(card)
    assert text.startswith(f"CLAIM: {card.statement}")
    assert f"STATUS: {status_label(card.status)}." in text
    assert "First report: " in text and card.first_report.outlet in text
    assert f"Sourcing: {sourcing_label(card.sourcing)}" in text
    for denial in card.denials:
        assert denial.who in text
    for item in card.developments:
        assert item.summary in text
    for rel in card.related:
        assert f"{rel.id} {rel.statement}" in text
    assert "Match confidence: 93%" in text and f"Last reviewed: {card.last_reviewed}" in text


def test_card_model_renders_fact_checks_and_outlet():
    card = Card("x", "A statement.", "false", "Debunked.", "match", 0.5,
                first_report=Source(date="2020-01-01", outlet="Paper", headline="Big news"),
                fact_checks=(FactCheck("Checker", "False", "2020-02-02", "No, it is not", "https://c.example/1"),),
                outlet=OutletNote("rt.com", "RT", rsp_status="d", rsp_label="Deprecated", rsp_summary="Summary.",
                                  rsp_year="2022", rsp_link="https://en.wikipedia.org/wiki/WP:RT.COM",
                                  ownership="state-funded (Russia)", ownership_note="Funded by the state."))
    text = render_text(card)
    assert "Checker: False (2020-02-02) \u201cNo, it is not\u201d https://c.example/1" in text
    assert "Wikipedia perennial sources: Deprecated, last discussed 2022." in text
    assert "(https://en.wikipedia.org/wiki/WP:RT.COM, CC BY-SA 4.0)" in text
    assert "Ownership: state-funded (Russia). Funded by the state." in text


def test_no_match_text_suggests_reporting():
    text = render_result_text(CheckResult(text="x", decision="none"))
    assert text.startswith("No known claim matches") and "report it" in text


def test_related_card_says_so(engine):
    r = engine.check("China paid the Taliban bounties to kill US troops")
    assert "Related known claim" in render_result_text(r)


def test_check_json_cli(knowledge_db, capsys):
    assert main(["check", "--db", str(knowledge_db), "--json", "--no-fetch",
                 "US intelligence claims Iran paid Taliban to kill American troops"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "match"
    assert out["matches"][0]["id"] == "iran-taliban-bounties-2020"
    assert out["matches"][0]["claim"] == out["card"]["statement"]
    assert 0 <= out["matches"][0]["score"] <= 1


def test_check_jsonl_keeps_order(knowledge_db, capsys, monkeypatch):
    import io

    lines = ["Russia paid Taliban-linked militants to kill American soldiers", "ok", "China paid the Taliban bounties to kill US troops"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["check", "--db", str(knowledge_db), "--jsonl"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["decision"] for r in rows] == ["match", "none", "related"]

import json

from bot.cli import main
from bot.engine.importers import parse_document, status_from_rating
from bot.engine.service import Engine


def review(claim: str, rating: str = "False", **extra) -> dict:
    return {"@context": "https://schema.org", "@type": "ClaimReview", "claimReviewed": claim,
            "url": f"https://factcheck.example/{abs(hash(claim))}", "datePublished": "2021-03-04",
            "author": {"@type": "Organization", "name": "Example Check"},
            "reviewRating": {"@type": "Rating", "alternateName": rating},
            "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A Claimant"}, "datePublished": "2021-03-01"},
            **extra}


def test_single_object():
    r = parse_document(review("Drinking bleach cures the flu"))
    (c,) = r.claims
    assert c["statement"] == "Drinking bleach cures the flu"
    assert c["fact_checks"][0] == {"publisher": "Example Check", "rating": "False", "date": "2021-03-04",
                                   "url": review("Drinking bleach cures the flu")["url"]}
    assert c["first_report"]["outlet"] == "A Claimant"
    assert c["status"] == "false"
    assert r.skipped == []


def test_list_graph_and_datafeed():
    items = [review("Claim one is here"), review("Claim two is here", "Mostly True")]
    assert len(parse_document(items).claims) == 2
    assert len(parse_document({"@context": "https://schema.org", "@graph": items}).claims) == 2
    feed = {"@type": "DataFeed", "dataFeedElement": [{"@type": "DataFeedItem", "item": [items[0]]},
                                                    {"@type": "DataFeedItem", "item": [items[1]]}]}
    claims = parse_document(feed).claims
    assert [c["statement"] for c in claims] == ["Claim one is here", "Claim two is here"]
    assert claims[1]["status"] == "mostly-true"


def test_broken_items_are_reported_and_valid_ones_kept():
    items = [review("Good claim stays"), {"@type": "ClaimReview", "reviewRating": {"alternateName": "False"}},
             review("No rating here", reviewRating={}), "not an object", {"@type": "NewsArticle"}]
    r = parse_document(items, "feed.json")
    assert [c["statement"] for c in r.claims] == ["Good claim stays"]
    assert r.skipped == ["feed.json: item 2: claimReviewed missing or empty",
                         "feed.json: item 3: reviewRating.alternateName missing",
                         "feed.json: item 4: not an object: str",
                         "feed.json: item 5: not a ClaimReview (@type 'NewsArticle')"]


def test_google_fact_check_tools_response():
    data = {"claims": [
        {"text": "The moon landing was staged", "claimant": "Viral post", "claimDate": "2020-01-02T00:00:00Z",
         "claimReview": [{"publisher": {"name": "Check Org", "site": "check.example"}, "url": "https://check.example/moon",
                          "title": "No, the moon landing was not staged", "reviewDate": "2020-01-05T00:00:00Z",
                          "textualRating": "Pants on Fire", "languageCode": "en"}]},
        {"claimant": "no text"},
        {"text": "No reviews", "claimReview": []},
    ]}
    r = parse_document(data, "g.json")
    (c,) = r.claims
    assert c["statement"] == "The moon landing was staged"
    assert c["first_report"]["date"] == "2020-01-02"
    assert c["fact_checks"][0]["rating"] == "Pants on Fire" and c["status"] == "false"
    assert r.skipped == ["g.json: item 2: text missing or empty", "g.json: item 3: no claimReview with a textualRating"]


def test_rating_words_map_to_statuses():
    assert [status_from_rating(x) for x in ("Four Pinocchios", "Missing context", "Half True", "Unproven", "Correct", "Satire")] == [
        "false", "misleading", "misleading", "unproven", "true", "fact-checked"]


def test_import_command_creates_db_with_only_imported_claims(tmp_path, capsys):
    f = tmp_path / "feed.json"
    f.write_text(json.dumps([review("Windmills cause cancer in nearby towns"), {"@type": "ClaimReview"}]))
    db = tmp_path / "imported.db"
    assert main(["knowledge", "import", str(f), "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "imported 1 claim(s)" in out.out and "item 2: claimReviewed missing" in out.err
    assert main(["knowledge", "import", str(f), "--db", str(db)]) == 0  # again: nothing duplicated
    assert "1 already present" in capsys.readouterr().out
    engine = Engine(db)
    assert engine.about()["claims"] == 1
    assert main(["check", "--db", str(db), "--json", "--no-fetch", "windmills cause cancer in nearby towns, says post"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["matches"][0]["claim"] == "Windmills cause cancer in nearby towns"


def test_imported_claim_takes_its_main_actor_from_the_gazetteer(tmp_path):
    import sqlite3

    from bot.config import DEFAULT_KNOWLEDGE_DIR
    from bot.engine.store import build_database, import_claims

    db = build_database(DEFAULT_KNOWLEDGE_DIR, tmp_path / "kb.db")
    statement = "Barack Obama secretly banned the Pledge of Allegiance in public schools"
    claim = {"id": "imported-pledge", "statement": statement, "phrasings": [], "status": "false",
             "status_note": "Imported.", "language": "en", "entities": [], "related": [], "source": "import"}
    import_claims(db, [claim])
    row = sqlite3.connect(db).execute("SELECT main_actor FROM claims WHERE id = 'imported-pledge'").fetchone()
    assert row == ("Barack Obama",)
    engine = Engine(db)
    named = engine.check("Obama secretly banned the Pledge of Allegiance in public schools!")
    assert (named.decision, named.matches[0].id) == ("match", "imported-pledge")
    unnamed = engine.check("The president secretly banned the Pledge of Allegiance in public schools!")
    assert unnamed.matches[0].id == "imported-pledge" and unnamed.decision == "related"
    assert "Barack Obama" in unnamed.reason


def test_imported_claims_keep_their_actors_by_role_and_check_shows_them(tmp_path, capsys):
    import sqlite3

    feed = {"@context": "https://schema.org", "@type": "DataFeed", "dataFeedElement": [
        {"@type": "DataFeedItem", "item": [review("Iran paid the Taliban bounties to kill US troops in Afghanistan", "Unproven")]},
        {"@type": "DataFeedItem", "item": [review("Russia's GRU paid Taliban-linked militants bounties to kill American soldiers",
                                                  "Unsupported")]}]}
    fillers = ["Drinking bleach cures the flu", "5G masts spread the coronavirus", "The Moon landing was staged in a studio",
               "Carrots help you see in the dark", "Bananas are slightly radioactive", "Sharks cannot get cancer",
               "US inflation hit 9.1 percent in 2022", "Paying federal income tax is voluntary"]
    feed["dataFeedElement"] += [{"@type": "DataFeedItem", "item": [review(f)]} for f in fillers]  # word statistics of a feed
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    db = tmp_path / "fresh.db"  # a new file: the shipped gazetteer comes with it
    assert main(["knowledge", "import", "--db", str(db), str(path)]) == 0
    rows = dict(sqlite3.connect(db).execute("SELECT statement, actors FROM claims").fetchall())
    assert json.loads(rows[feed["dataFeedElement"][0]["item"][0]["claimReviewed"]]) == {
        "doer": ["Iran"], "target": ["Taliban", "United States"], "place": ["Afghanistan"]}
    assert json.loads(rows[feed["dataFeedElement"][1]["item"][0]["claimReviewed"]])["doer"] == ["Russia"]  # GRU -> Russia
    capsys.readouterr()
    assert main(["check", "--db", str(db), "--json", "--no-fetch", "NYT says the Kremlin put a bounty on US troops"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["actors"]["message"]["doer"] == ["Russia"]
    assert out["matches"][0]["claim"].startswith("Russia's GRU") and out["actors"]["claim"]["doer"] == ["Russia"]


def test_import_into_a_database_of_an_older_schema_says_how_to_rebuild(tmp_path, capsys):
    import sqlite3

    from bot.engine.store import empty_database

    db = tmp_path / "old.db"
    empty_database(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    path = tmp_path / "one.json"
    path.write_text(json.dumps(review("Drinking bleach cures the flu")), encoding="utf-8")
    assert main(["knowledge", "import", "--db", str(db), str(path)]) == 1
    assert "knowledge build" in capsys.readouterr().err

import sqlite3
import threading

import pytest

from bot.state import StateStore


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "state.db")
    yield s
    s.close()


def test_feedback_add_and_filter_by_status(store):
    a = store.add_feedback(platform="telegram", chat_id=-100, user_id=7, claim_id="c1", kind="wrong", text="x", is_admin=True)
    b = store.add_feedback(platform="discord", chat_id="g1", user_id="u", claim_id="c2", kind="helpful")
    assert [f["id"] for f in store.feedback()] == [a, b]
    assert store.feedback()[0]["chat_id"] == "-100" and store.feedback()[0]["is_admin"] == 1
    assert store.set_feedback_status(a, "accepted")
    assert [f["id"] for f in store.feedback()] == [b]
    assert [f["id"] for f in store.feedback(None)] == [a, b]
    assert store.get_feedback(a)["status"] == "accepted" and store.get_feedback(a)["resolved_ts"] is not None


def test_feedback_text_is_capped(store):
    fid = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="wrong", text="y" * 10_000)
    assert len(store.get_feedback(fid)["text"]) == 4096


def test_set_feedback_status_only_from_expected_status(store):
    fid = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="wrong")
    assert store.set_feedback_status(fid, "rejected") is True
    assert store.set_feedback_status(fid, "accepted") is False  # no longer open
    assert store.get_feedback(fid)["status"] == "rejected"
    assert store.get_feedback(9999) is None
    with pytest.raises(ValueError, match="feedback status must be one of"):
        store.set_feedback_status(fid, "done", only_if=None)


def test_write_commits_and_rolls_back(store):
    with store.write() as conn:
        conn.execute("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)")
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            conn.execute("INSERT INTO muted_claims VALUES ('t', '1', 'b', 0)")
            raise RuntimeError("crash mid-write")
    assert [r["claim_id"] for r in store.query("SELECT claim_id FROM muted_claims")] == ["a"]
    assert not store.conn.in_transaction


def test_transaction_is_all_or_nothing(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.transaction([
            ("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)", ()),
            ("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)", ()),  # primary key clash
        ])
    assert store.query("SELECT * FROM muted_claims") == []
    store.transaction([("INSERT INTO muted_claims VALUES (?, ?, ?, ?)", ("t", "1", "a", 0))])
    assert len(store.query("SELECT * FROM muted_claims")) == 1


def test_wal_and_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "state.db"
    s = StateStore(path)
    assert s.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    fid = s.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="helpful", text="kept")
    s.close()
    s2 = StateStore(path)
    assert s2.get_feedback(fid)["text"] == "kept"
    s2.close()


def test_old_state_file_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, platform TEXT NOT NULL,
            chat_id TEXT NOT NULL, user_id TEXT NOT NULL, claim_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('wrong', 'helpful')), text TEXT NOT NULL DEFAULT '',
            is_admin INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'open');
        INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text) VALUES (1, 't', '1', '2', 'c', 'wrong', 'old');
    """)
    conn.commit()
    conn.close()
    s = StateStore(path)
    (row,) = s.feedback()
    assert row["text"] == "old" and "resolved_ts" in row
    assert s.set_feedback_status(row["id"], "accepted")
    s.close()


def test_two_stores_on_one_file_serialise_writes(tmp_path):
    path = tmp_path / "state.db"
    stores = [StateStore(path) for _ in range(4)]

    def bump(s):
        for _ in range(25):
            with s.write() as conn:
                n = conn.execute("SELECT COUNT(*) FROM muted_claims").fetchone()[0]
                conn.execute("INSERT INTO muted_claims VALUES ('t', '1', ?, 0)", (f"c{n}",))

    threads = [threading.Thread(target=bump, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # read-then-insert under BEGIN IMMEDIATE never sees a stale count, so no primary key clash and no loss
    assert stores[0].query("SELECT COUNT(*) AS n FROM muted_claims")[0]["n"] == 100
    for s in stores:
        s.close()

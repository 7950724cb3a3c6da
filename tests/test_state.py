"""The StateStore contract, on both backends (the `state`/`state_target` fixtures in conftest.py run each
test on SQLite and on a real PostgreSQL server)."""

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.state import StateStore, migrations, open_state
from bot.state.postgres import to_pyformat

try:
    import psycopg

    INTEGRITY_ERRORS: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
except ImportError:  # pragma: no cover - psycopg is a dependency
    INTEGRITY_ERRORS = (sqlite3.IntegrityError,)


@pytest.fixture
def store(state):
    return state


def test_the_target_names_the_backend(state, state_target):
    assert isinstance(state, StateStore)
    assert state.dialect == ("postgresql" if str(state_target).startswith("postgresql://") else "sqlite")
    assert state.ping() is True
    assert state.schema_version() == migrations.LATEST


def test_feedback_add_and_filter_by_status(store):
    a = store.add_feedback(platform="telegram", chat_id=-100, user_id=7, claim_id="c1", kind="wrong", text="x", is_admin=True)
    b = store.add_feedback(platform="discord", chat_id="g1", user_id="u", claim_id="c2", kind="helpful")
    assert [f["id"] for f in store.feedback()] == [a, b]
    assert store.feedback()[0]["chat_id"] == "-100" and store.feedback()[0]["is_admin"] == 1
    assert store.set_feedback_status(a, "accepted")
    assert [f["id"] for f in store.feedback()] == [b]
    assert [f["id"] for f in store.feedback(None)] == [a, b]
    assert store.get_feedback(a)["status"] == "accepted" and store.get_feedback(a)["resolved_ts"] is not None


def test_feedback_text_is_capped_and_keeps_any_character(store):
    fid = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="wrong", text="y" * 10_000)
    assert len(store.get_feedback(fid)["text"]) == 4096
    # PostgreSQL text cannot hold NUL: the store replaces it rather than failing the write
    odd = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="wrong", text="a\x00b \u202e \U0001F600")
    assert store.get_feedback(odd)["text"] in ("a\x00b \u202e \U0001F600", "a\ufffdb \u202e \U0001F600")


def test_record_feedback_is_one_opinion_per_user_claim_and_text(store):
    args = dict(platform="t", chat_id=1, user_id=2, claim_id="c", kind="wrong", text="same")
    assert store.record_feedback(**args) is True
    assert store.record_feedback(**args) is False
    assert store.record_feedback(**{**args, "text": "other"}) is True
    assert len(store.feedback()) == 2


def test_set_feedback_status_only_from_expected_status(store):
    fid = store.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="wrong")
    assert store.set_feedback_status(fid, "rejected") is True
    assert store.set_feedback_status(fid, "accepted") is False  # no longer open
    assert store.get_feedback(fid)["status"] == "rejected"
    assert store.get_feedback(9999) is None
    with pytest.raises(ValueError, match="feedback status must be one of"):
        store.set_feedback_status(fid, "done", only_if=None)


def test_refs_expire_and_renew(store):
    store.put_ref("k", "v1", 10, now=100)
    assert store.get_ref("k", now=105) == "v1"
    store.put_ref("k", "v2", 10, now=108)  # a later put renews
    assert store.get_ref("k", now=115) == "v2"
    assert store.get_ref("k", now=118) is None and store.get_ref("missing") is None
    store.put_ref("other", "x", 10, now=200)  # purges the expired row
    assert [r["key"] for r in store.query("SELECT key FROM refs")] == ["other"]


def test_a_taken_ref_is_taken_once_even_by_stores_at_once(store, state_target):
    store.put_ref("once", "pages", 10, now=100)
    assert store.take_ref("once", now=120) is None  # expired: nothing to take
    store.put_ref("once", "pages", 10_000)
    others = [open_state(state_target) for _ in range(4)]  # as the processes of a fleet
    barrier = threading.Barrier(4)
    got: list[str | None] = []

    def take(s):
        barrier.wait()
        got.append(s.take_ref("once"))

    threads = [threading.Thread(target=take, args=(s,)) for s in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got.count("pages") == 1 and got.count(None) == 3
    assert store.get_ref("once") is None
    for s in others:
        s.close()


def test_write_commits_and_rolls_back(store, state_target):
    with store.write() as tx:
        tx.execute("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)")
    with pytest.raises(RuntimeError):
        with store.write() as tx:
            tx.execute("INSERT INTO muted_claims VALUES ('t', '1', 'b', 0)")
            raise RuntimeError("crash mid-write")
    assert [r["claim_id"] for r in store.query("SELECT claim_id FROM muted_claims")] == ["a"]
    with open_state(state_target) as other:  # another connection sees the committed row only, and can write
        assert [r["claim_id"] for r in other.query("SELECT claim_id FROM muted_claims")] == ["a"]
        other.execute("INSERT INTO muted_claims VALUES (?, ?, ?, ?)", ("t", "1", "c", 0))
    assert len(store.query("SELECT * FROM muted_claims")) == 2


def test_transaction_is_all_or_nothing(store):
    with pytest.raises(INTEGRITY_ERRORS):
        store.transaction([
            ("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)", ()),
            ("INSERT INTO muted_claims VALUES ('t', '1', 'a', 0)", ()),  # primary key clash
        ])
    assert store.query("SELECT * FROM muted_claims") == []
    store.transaction([("INSERT INTO muted_claims VALUES (?, ?, ?, ?)", ("t", "1", "a", 0))])
    assert len(store.query("SELECT * FROM muted_claims")) == 1


def test_survives_reopen(state_target):
    s = open_state(state_target)
    fid = s.add_feedback(platform="t", chat_id=1, user_id=1, claim_id="c", kind="helpful", text="kept")
    s.close()
    s2 = open_state(state_target)
    assert s2.get_feedback(fid)["text"] == "kept"
    s2.close()


def test_sqlite_is_wal(tmp_path):
    s = StateStore(tmp_path / "sub" / "state.db")
    assert s.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    s.close()


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
    assert s.schema_version() == migrations.LATEST
    s.close()


def test_old_postgres_schema_is_migrated(pg_url):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE feedback (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                     " ts DOUBLE PRECISION NOT NULL, platform TEXT NOT NULL, chat_id TEXT NOT NULL, user_id TEXT NOT NULL,"
                     " claim_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',"
                     " is_admin INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'open')")
        conn.execute("INSERT INTO feedback (ts, platform, chat_id, user_id, claim_id, kind, text)"
                     " VALUES (1, 't', '1', '2', 'c', 'wrong', 'old')")
    with open_state(pg_url) as s:
        (row,) = s.feedback()
        assert row["text"] == "old" and "resolved_ts" in row
        assert s.set_feedback_status(row["id"], "accepted")


def test_processes_starting_at_once_migrate_once(state_target):
    """Eight stores opening a fresh database at the same moment (separate connections, as separate processes
    would): every one starts, and each migration is recorded exactly once."""
    barrier = threading.Barrier(8)
    stores: list[StateStore] = []
    errors: list[BaseException] = []

    def start():
        try:
            barrier.wait()
            stores.append(open_state(state_target))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stores) == 8
    rows = stores[0].query("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == [m.version for m in migrations.MIGRATIONS]
    for s in stores:
        s.close()


def test_a_store_waits_for_a_writer_holding_a_new_file(tmp_path):
    """Switching a new file to WAL while another process holds its write lock: SQLite answers "locked" at
    once, not after its busy timeout (this is how stores starting together on a fresh file failed). The
    store waits for the lock instead and opens once it is released."""
    path = tmp_path / "state.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN IMMEDIATE")
    opened: list[StateStore] = []
    errors: list[BaseException] = []

    def start():
        try:
            opened.append(open_state(path))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    thread.join(0.3)  # it is still waiting: nothing has failed
    assert errors == [] and opened == []
    holder.execute("COMMIT")
    holder.close()
    thread.join(30)
    assert errors == [] and len(opened) == 1
    assert opened[0].query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    assert opened[0].schema_version() == migrations.LATEST
    opened[0].close()


@pytest.mark.parametrize("make", ["garbage", "directory", "under-a-file"])
def test_an_unusable_sqlite_path_is_a_named_error_not_a_traceback(tmp_path, make):
    from bot.state import StateUnavailable

    path = {"garbage": tmp_path / "state.db", "directory": tmp_path, "under-a-file": tmp_path / "f" / "state.db"}[make]
    if make == "garbage":
        path.write_text("not a database at all, just some words in a file that happens to be here")
    if make == "under-a-file":
        (tmp_path / "f").write_text("a file where a folder should be")
    with pytest.raises(StateUnavailable, match=f"SQLite state database at {path}"):
        open_state(path)


def test_a_newer_schema_is_refused(state_target):
    with open_state(state_target) as s:
        s.execute("INSERT INTO schema_migrations (version, name, applied_ts) VALUES (?, ?, ?)",
                  (migrations.LATEST + 1, "from the future", 0))
    with pytest.raises(migrations.SchemaTooNew, match="upgrade the bot"):
        open_state(state_target)


def test_two_stores_on_one_database_serialise_writes(state_target):
    stores = [open_state(state_target) for _ in range(4)]

    def bump(s):
        for _ in range(25):
            with s.write() as tx:
                n = tx.one("SELECT COUNT(*) AS n FROM muted_claims")["n"]
                tx.execute("INSERT INTO muted_claims VALUES ('t', '1', ?, 0)", (f"c{n}",))

    threads = [threading.Thread(target=bump, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # read-then-insert under the write lock never sees a stale count, so no primary key clash and no loss
    assert stores[0].query("SELECT COUNT(*) AS n FROM muted_claims")[0]["n"] == 100
    for s in stores:
        s.close()


def test_an_update_is_taken_by_one_process_until_done_or_its_lease_runs_out(store):
    assert store.claim_update("telegram", 41, "p1", lease_s=30, now=1000) == "take"
    assert store.claim_update("telegram", 41, "p2", lease_s=30, now=1010) == "busy"  # p1 is on it
    assert store.claim_update("telegram", 41, "p2", lease_s=30, now=1031) == "take"  # p1 died: lease over
    store.finish_update("telegram", 41, "p1")  # a late finish from the old owner changes nothing
    assert store.query("SELECT status, owner FROM updates")[0] == {"status": "taken", "owner": "p2"}
    store.finish_update("telegram", 41, "p2")
    assert store.claim_update("telegram", 41, "p3", now=10_000) == "done"  # done is done, lease or not
    assert store.claim_update("discord", 41, "p3", now=1000) == "take"  # per platform
    store.finish_update("discord", 41, "p3", done=False)  # failed before answering: free for the retry
    assert store.claim_update("discord", 41, "p4", now=1001) == "take"
    assert store.purge_updates(older_than=2000) == 1  # the finished telegram one


def test_concurrent_claims_of_one_update_have_one_winner(state_target):
    stores = [open_state(state_target) for _ in range(6)]
    barrier = threading.Barrier(6)
    won: list[str] = []

    def claim(i, s):
        barrier.wait()
        won.append(s.claim_update("telegram", 7, f"p{i}"))

    threads = [threading.Thread(target=claim, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == ["busy"] * 5 + ["take"]
    for s in stores:
        s.close()


def test_send_slots_space_sends_in_every_bucket(store):
    chat, glob = ("chat:1", 1.0), ("global", 0.1)
    assert store.take_send_slot([chat, glob], now=100.0) == 100.0
    assert store.take_send_slot([("chat:2", 1.0), glob], now=100.0) == pytest.approx(100.1)  # global spacing
    assert store.take_send_slot([chat, glob], now=100.0) == pytest.approx(101.0)  # the chat's own spacing
    assert store.take_send_slot([("chat:3", 1.0), glob], now=500.0) == 500.0  # idle buckets don't hold anyone back


def test_pyformat_translation_leaves_literals_alone():
    assert to_pyformat("SELECT ? WHERE a = :name AND b = '?:x%' AND c::text LIKE '%'") == \
        "SELECT %s WHERE a = %(name)s AND b = '?:x%%' AND c::text LIKE '%%'"
    assert to_pyformat("SELECT 5 % 2") == "SELECT 5 %% 2"


def test_percent_and_question_marks_in_literals_reach_the_database(store):
    store.execute("INSERT INTO refs (key, value, expires) VALUES ('100% sure?', ?, 1e12)", ("v",))
    assert store.query("SELECT key FROM refs WHERE key LIKE '100%' AND value = ?", ("v",)) == [{"key": "100% sure?"}]


def test_an_unreachable_server_is_a_clear_error_without_the_password():
    from bot.state.postgres import StateUnavailable

    with pytest.raises(StateUnavailable) as err:
        open_state("postgresql://bot:hunter2@127.0.0.1:1/claims", connect_timeout=1)
    assert "127.0.0.1:1/claims" in str(err.value) and "hunter2" not in str(err.value)


@pytest.mark.parametrize("value, message", [
    ("mysql://h/db", "must be a file path or a postgresql:// URL"),
    ("postgresql://bot@db.internal/", "names no database"),
    ("postgresql://bot@db.internal:port/claims", "port that is not a number"),
])
def test_a_bad_state_url_names_the_variable(value, message):
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=f"CLAIM_CONTEXT_STATE: .*{message}"):
        Settings.from_env({"CLAIM_CONTEXT_STATE": value})
    ok = Settings.from_env({"CLAIM_CONTEXT_STATE": "postgres://bot@db.internal:5433/claims"})
    assert ok.state_target == "postgres://bot@db.internal:5433/claims"
    assert Settings.from_env({"CLAIM_CONTEXT_STATE": "var/x.db"}).state_target == Path("var/x.db")


@pytest.mark.parametrize("ids, count, expected", [("0-1", "4", (0, 1)), ("2,3", "4", (2, 3)), ("3", "4", (3,)),
                                                   ("", "4", None)])
def test_discord_shard_ranges(ids, count, expected):
    from bot.config import Settings

    s = Settings.from_env({"DISCORD_SHARD_IDS": ids, "DISCORD_SHARD_COUNT": count})
    assert s.discord_shard_ids == expected and s.discord_shard_count == 4 and s.discord_sharded


@pytest.mark.parametrize("env, message", [({"DISCORD_SHARD_IDS": "0-1"}, "needs DISCORD_SHARD_COUNT"),
                                          ({"DISCORD_SHARD_IDS": "2-4", "DISCORD_SHARD_COUNT": "4"}, "from 0 to 3"),
                                          ({"DISCORD_SHARD_IDS": "1,1", "DISCORD_SHARD_COUNT": "4"}, "twice"),
                                          ({"DISCORD_SHARD_IDS": "a-b", "DISCORD_SHARD_COUNT": "4"}, "shard numbers")])
def test_bad_shard_ranges_name_the_variable(env, message):
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_postgres_connections_keep_the_urls_options_and_a_statement_timeout(pg_url):
    """The statement timeout is a connection option: set as a keyword it would replace the URL's own options,
    and with them the search_path the URL names (a schema of its own)."""
    from bot.state.postgres import STATEMENT_TIMEOUT_MS

    with open_state(pg_url) as s:
        (row,) = s.query("SELECT current_setting('statement_timeout') AS t, current_schema() AS schema")
        assert row["t"] in (f"{STATEMENT_TIMEOUT_MS}ms", f"{STATEMENT_TIMEOUT_MS // 1000}s", "1min")
        assert row["schema"] == pg_url.rsplit("%3D", 1)[1]

import threading
from datetime import datetime, timezone

import pytest

from bot.engine.cards import CheckResult, Match
from bot.moderation import ChatSettings, FlagDecision, Moderation
from bot.state import StateStore

TG = "telegram"
CHAT = -1001
HOUR = 3600
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc).timestamp()  # noon UTC: outside any night-time quiet hours
IRAN = "iran-taliban-bounties-2020"
RUSSIA = "russia-gru-bounties-2020"
TEXT = "US intelligence claims Iran paid Taliban to kill American troops"


def result(claim=IRAN, score=0.9, decision="match"):
    return CheckResult(text=TEXT, decision=decision, matches=[Match(claim, f"statement of {claim}", score)])


def at_hour(hour):
    return datetime(2026, 3, 2, hour, 30, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def path(state_target):
    """Where the state lives, once per backend (SQLite file, PostgreSQL URL): see conftest.py."""
    return state_target


@pytest.fixture
def store(state):
    return state


@pytest.fixture
def mod(store):
    return Moderation(store)


@pytest.fixture
def on(mod):
    mod.update(TG, CHAT, enabled=True)
    return mod


def count_rows(store, table):
    return store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]


def test_off_by_default(mod, store):
    s = mod.settings(TG, CHAT)
    assert s == ChatSettings(platform=TG, chat_id=str(CHAT))
    assert s.enabled is False
    d = mod.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    assert (d.action, d.reason) == ("skip", "disabled")
    assert count_rows(store, "flags") == 0 and count_rows(store, "decisions") == 0


def test_enable_then_disable(mod):
    assert mod.update(TG, CHAT, enabled=True).enabled is True
    assert mod.decide(TG, CHAT, 1, TEXT, result(), now=T0).action == "reply"
    assert mod.update(TG, CHAT, enabled="off").enabled is False
    assert mod.decide(TG, CHAT, 2, TEXT, result(RUSSIA), now=T0).reason == "disabled"
    assert mod.settings(TG, CHAT).enabled is False
    assert mod.settings(TG, "other").enabled is False  # per chat


@pytest.mark.parametrize("changes, message", [
    ({"mode": "shout"}, "mode must be reply or notify"),
    ({"cooldown_s": -1}, "cooldown_s must be a whole number of seconds from 0 to 604800"),
    ({"cooldown_s": 8 * 24 * HOUR}, "cooldown_s must be"),
    ({"cooldown_s": 1.5}, "cooldown_s must be"),
    ({"threshold": 1.5}, "threshold must be a score from 0 to 1"),
    ({"threshold": "high"}, "threshold must be"),
    ({"quiet_start": 24, "quiet_end": 6}, "quiet_start must be an hour from 0 to 23"),
    ({"quiet_start": 22, "quiet_end": -1}, "quiet_end must be an hour from 0 to 23"),
    ({"quiet_start": 22}, "set quiet_start and quiet_end together"),
    ({"quiet_start": 5, "quiet_end": 5}, "must differ"),
    ({"mode": "notify"}, "notify mode needs a log_chat_id"),
    ({"enabled": "maybe"}, "enabled must be on or off"),
    ({"log_chat_id": 1.5}, "log_chat_id must be a chat or channel id"),
    ({"muted": {"x"}}, "unknown setting 'muted'"),
    ({"colour": "red"}, "unknown setting 'colour'"),
])
def test_invalid_settings_raise_clear_errors_and_change_nothing(mod, changes, message):
    with pytest.raises(ValueError, match=message):
        mod.update(TG, CHAT, **{"enabled": True, **changes})
    assert mod.settings(TG, CHAT) == ChatSettings(platform=TG, chat_id=str(CHAT))  # enabled=True not half-applied


def test_valid_settings_are_normalised(mod):
    s = mod.update(TG, CHAT, enabled=1, mode="Notify", log_chat_id=-5005, cooldown_s=7 * 24 * HOUR, threshold="0.7",
                   quiet_start=22, quiet_end=6)
    assert (s.enabled, s.mode, s.log_chat_id, s.cooldown_s, s.threshold, s.quiet_start, s.quiet_end) == (
        True, "notify", "-5005", 604800, 0.7, 22, 6)
    with pytest.raises(ValueError, match="notify mode needs a log_chat_id"):
        mod.update(TG, CHAT, log_chat_id=None)
    assert mod.update(TG, CHAT, quiet_start=None, quiet_end=None).quiet_start is None


def test_reply_mode_vs_notify_mode(on, store):
    d = on.decide(TG, CHAT, 1, TEXT, result(), message_link="https://t.me/c/1/1", now=T0)
    assert (d.action, d.reason, d.claim_id, d.score) == ("reply", "match", IRAN, 0.9)
    on.update(TG, CHAT, mode="notify", log_chat_id="-999")
    d2 = on.decide(TG, CHAT, 2, TEXT, result(RUSSIA), now=T0)
    assert d2.action == "notify"
    flags = on.recent_flags(TG, CHAT)
    assert [(f["id"], f["action"], f["claim_id"]) for f in flags] == [(d2.flag_id, "notify", RUSSIA), (d.flag_id, "reply", IRAN)]
    assert flags[1]["message_link"] == "https://t.me/c/1/1" and flags[1]["excerpt"] == TEXT
    assert flags[1]["message_id"] == "1" and flags[1]["score"] == 0.9 and flags[1]["ts"] == T0


@pytest.mark.parametrize("decision", ["related", "none"])
def test_related_and_none_never_flag(on, store, decision):
    d = on.decide(TG, CHAT, 1, TEXT, result(decision=decision, score=0.99), now=T0)
    assert (d.action, d.reason) == ("skip", "not a match")
    assert count_rows(store, "flags") == 0 and count_rows(store, "decisions") == 0  # no write for a non-match


def test_match_without_matches_does_not_flag(on):
    assert on.decide(TG, CHAT, 1, TEXT, CheckResult(text=TEXT, decision="match"), now=T0).action == "skip"


def test_threshold(on):
    on.update(TG, CHAT, threshold=0.8)
    low = on.decide(TG, CHAT, 1, TEXT, result(score=0.79), now=T0)
    assert (low.action, low.reason, low.claim_id) == ("skip", "below threshold", IRAN)
    assert on.decide(TG, CHAT, 2, TEXT, result(score=0.8), now=T0).action == "reply"


def test_cooldown_counts_repeats_then_replies_again(on):
    first = on.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    assert first.action == "reply"
    r1 = on.decide(TG, CHAT, 2, TEXT, result(), now=T0 + 60)
    r2 = on.decide(TG, CHAT, 3, TEXT, result(), now=T0 + 6 * HOUR - 1)
    assert [(r.action, r.reason, r.repeat_count) for r in (r1, r2)] == [("count", "cooldown", 1), ("count", "cooldown", 2)]
    assert r1.card_flag_id == first.flag_id and r1.flag_id not in (None, first.flag_id)
    assert on.decide(TG, CHAT, 4, TEXT, result(RUSSIA), now=T0 + 120).action == "reply"  # per claim
    assert on.decide(TG, "other-chat", 5, TEXT, result(), now=T0 + 120).reason == "disabled"
    on.update(TG, "other-chat", enabled=True)
    assert on.decide(TG, "other-chat", 5, TEXT, result(), now=T0 + 120).action == "reply"  # per chat
    again = on.decide(TG, CHAT, 6, TEXT, result(), now=T0 + 6 * HOUR)
    assert (again.action, again.repeat_count) == ("reply", 0)
    after = on.decide(TG, CHAT, 7, TEXT, result(), now=T0 + 6 * HOUR + 1)
    assert (after.action, after.repeat_count, after.card_flag_id) == ("count", 1, again.flag_id)
    assert [f["action"] for f in on.recent_flags(TG, CHAT, limit=3)] == ["count", "reply", "reply"]


def test_cooldown_setting_is_used(on):
    on.update(TG, CHAT, cooldown_s=60)
    on.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    assert on.decide(TG, CHAT, 2, TEXT, result(), now=T0 + 59).action == "count"
    assert on.decide(TG, CHAT, 3, TEXT, result(), now=T0 + 61).action == "reply"


def test_muted_claim(on):
    assert on.mute(TG, CHAT, IRAN).muted == {IRAN}
    d = on.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    assert (d.action, d.reason) == ("skip", "muted")
    assert on.decide(TG, CHAT, 2, TEXT, result(RUSSIA), now=T0).action == "reply"
    assert on.unmute(TG, CHAT, IRAN).muted == set()
    assert on.decide(TG, CHAT, 3, TEXT, result(), now=T0).action == "reply"
    with pytest.raises(ValueError, match="claim_id"):
        on.mute(TG, CHAT, " ")


@pytest.mark.parametrize("start, end, hour, quiet", [
    (22, 6, 23, True), (22, 6, 0, True), (22, 6, 5, True), (22, 6, 6, False), (22, 6, 12, False), (22, 6, 21, False),
    (9, 17, 9, True), (9, 17, 16, True), (9, 17, 17, False), (9, 17, 8, False), (0, 1, 0, True), (0, 1, 23, False),
])
def test_quiet_hours_without_log_chat_count(on, start, end, hour, quiet):
    on.update(TG, CHAT, quiet_start=start, quiet_end=end)
    d = on.decide(TG, CHAT, 1, TEXT, result(), now=at_hour(hour))
    assert (d.action, d.reason) == (("count", "quiet hours") if quiet else ("reply", "match"))


@pytest.mark.parametrize("hour, action", [(23, "notify"), (3, "notify"), (12, "reply")])
def test_quiet_hours_downgrade_to_notify_with_log_chat(on, hour, action):
    on.update(TG, CHAT, quiet_start=22, quiet_end=6, log_chat_id="-42")
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=at_hour(hour)).action == action


def test_quiet_count_does_not_start_the_cooldown(on):
    on.update(TG, CHAT, quiet_start=22, quiet_end=6)
    night = on.decide(TG, CHAT, 1, TEXT, result(), now=at_hour(23))
    assert (night.action, night.repeat_count) == ("count", 1)
    morning = on.decide(TG, CHAT, 2, TEXT, result(), now=at_hour(23) + 8 * HOUR)  # 07:30 next day
    assert morning.action == "reply"


def test_duplicate_message_never_flagged_twice(on, store):
    first = on.decide(TG, CHAT, 77, TEXT, result(), now=T0)
    again = on.decide(TG, CHAT, "77", TEXT, result(), now=T0 + 7 * HOUR)  # redelivered after the cooldown
    assert first.action == "reply"
    assert (again.action, again.reason, again.flag_id) == ("skip", "duplicate message", first.flag_id)
    assert count_rows(store, "flags") == 1
    assert on.decide(TG, CHAT, 78, TEXT, result(), now=T0 + 7 * HOUR).action == "reply"  # a new message still can


@pytest.mark.parametrize("separate_connections", [False, True])
def test_concurrent_decide_same_message_flags_once(path, separate_connections):
    shared = StateStore(path)
    Moderation(shared).update(TG, CHAT, enabled=True)
    stores = [StateStore(path) if separate_connections else shared for _ in range(8)]
    barrier = threading.Barrier(8)
    decisions: list[FlagDecision] = []
    errors: list[BaseException] = []

    def worker(store):
        try:
            barrier.wait()
            decisions.append(Moderation(store).decide(TG, CHAT, 5, TEXT, result(), now=T0))
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(d.action for d in decisions) == ["reply"] + ["skip"] * 7
    assert {d.reason for d in decisions if d.action == "skip"} == {"duplicate message"}
    assert count_rows(shared, "flags") == 1
    for s in set(stores) | {shared}:
        s.close()


def test_edited_message_rechecked_once(on, store):
    assert on.decide(TG, CHAT, 9, "hello all", result(decision="none"), now=T0).action == "skip"
    edit1 = on.decide(TG, CHAT, 9, TEXT, result(), edited=True, now=T0 + 10)
    assert edit1.action == "reply"
    edit2 = on.decide(TG, CHAT, 9, TEXT + "!", result(RUSSIA), edited=True, now=T0 + 20)
    assert (edit2.action, edit2.reason) == ("skip", "duplicate message")
    assert [f["revision"] for f in on.recent_flags(TG, CHAT)] == [1]


def test_edit_that_stays_innocent_still_uses_up_the_recheck(on):
    on.decide(TG, CHAT, 9, "hello", result(decision="none"), now=T0)
    assert on.decide(TG, CHAT, 9, "hello again", result(decision="none"), edited=True, now=T0 + 1).reason == "not a match"
    late = on.decide(TG, CHAT, 9, TEXT, result(), edited=True, now=T0 + 2)
    assert (late.action, late.reason) == ("skip", "duplicate message")


def test_edit_of_flagged_message_gets_no_second_card(on, store):
    on.update(TG, CHAT, cooldown_s=0)
    assert on.decide(TG, CHAT, 9, TEXT, result(), now=T0).action == "reply"
    edit = on.decide(TG, CHAT, 9, TEXT, result(RUSSIA), edited=True, now=T0 + 5)
    assert (edit.action, edit.reason) == ("skip", "already flagged")
    assert count_rows(store, "flags") == 1


def test_admin_wrong_match_stops_near_identical_text_only(on, store):
    on.update(TG, CHAT, cooldown_s=0)
    reported = "Iran paid the Taliban to kill American troops, says a new report"
    assert on.decide(TG, CHAT, 1, reported, result(), now=T0).action == "reply"
    on.wrong_match(TG, CHAT, IRAN, reported, user_id=11, is_admin=True)
    near = on.decide(TG, CHAT, 2, "Iran paid the Taliban to kill American troops says a new report!!", result(), now=T0)
    assert (near.action, near.reason) == ("skip", "wrong-match feedback")
    different = on.decide(TG, CHAT, 3, "Pentagon confirms Iranian bounty payments to Taliban fighters", result(), now=T0)
    assert different.action == "reply"
    assert on.decide(TG, CHAT, 4, reported, result(RUSSIA), now=T0).action == "reply"  # other claim
    on.update(TG, "chat-b", enabled=True)
    assert on.decide(TG, "chat-b", 5, reported, result(), now=T0).action == "reply"  # other chat
    (fb,) = store.feedback()
    assert (fb["kind"], fb["is_admin"], fb["status"], fb["claim_id"], fb["text"]) == ("wrong", 1, "open", IRAN, reported)


def test_member_wrong_match_only_queues(on, store):
    on.update(TG, CHAT, cooldown_s=0)
    on.wrong_match(TG, CHAT, IRAN, TEXT, user_id=12, is_admin=False)
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=T0).action == "reply"
    (fb,) = store.feedback()
    assert (fb["is_admin"], fb["status"], fb["user_id"]) == (0, "open", "12")


def test_rejected_wrong_match_stops_blocking(on, store):
    on.update(TG, CHAT, cooldown_s=0)
    on.wrong_match(TG, CHAT, IRAN, TEXT, user_id=11, is_admin=True)
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=T0).reason == "wrong-match feedback"
    store.set_feedback_status(store.feedback()[0]["id"], "rejected")
    assert on.decide(TG, CHAT, 2, TEXT, result(), now=T0).action == "reply"


def test_state_survives_restart(path):
    s1 = StateStore(path)
    m1 = Moderation(s1)
    m1.update(TG, CHAT, enabled=True, mode="notify", log_chat_id="-7", threshold=0.5)
    m1.mute(TG, CHAT, RUSSIA)
    first = m1.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    m1.wrong_match(TG, CHAT, "other-claim", "a wrongly matched text", user_id=3, is_admin=True)
    s1.close()

    s2 = StateStore(path)
    m2 = Moderation(s2)
    s = m2.settings(TG, CHAT)
    assert (s.enabled, s.mode, s.log_chat_id, s.threshold, s.muted) == (True, "notify", "-7", 0.5, {RUSSIA})
    assert m2.decide(TG, CHAT, 1, TEXT, result(), now=T0 + 1).reason == "duplicate message"
    assert m2.decide(TG, CHAT, 2, TEXT, result(), now=T0 + 2).reason == "cooldown"
    assert m2.decide(TG, CHAT, 3, TEXT, result(RUSSIA), now=T0 + 3).reason == "muted"
    assert m2.decide(TG, CHAT, 4, "a wrongly matched text", result("other-claim"), now=T0 + 4).reason == "wrong-match feedback"
    assert [f["id"] for f in m2.recent_flags(TG, CHAT)][-1] == first.flag_id
    s2.close()


def test_crash_mid_decision_leaves_nothing_half_written(on, store, monkeypatch):
    original = Moderation._flag

    def crash_after_flag(*args, **kwargs):
        original(*args, **kwargs)  # the flag and cooldown rows are written inside the transaction...
        raise OSError("disk gone")  # ...then the process dies before COMMIT

    monkeypatch.setattr(Moderation, "_flag", staticmethod(crash_after_flag))
    with pytest.raises(OSError):
        on.decide(TG, CHAT, 1, TEXT, result(), now=T0)
    assert count_rows(store, "flags") == count_rows(store, "decisions") == count_rows(store, "cooldowns") == 0
    monkeypatch.undo()
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=T0).action == "reply"  # the retry is not a "duplicate"


def test_recent_flags_newest_first_and_limited(on):
    on.update(TG, CHAT, cooldown_s=0)
    ids = [on.decide(TG, CHAT, i, f"{TEXT} {i}", result(), now=T0 + i).flag_id for i in range(5)]
    assert [f["id"] for f in on.recent_flags(TG, CHAT, limit=3)] == ids[::-1][:3]
    assert on.recent_flags(TG, "elsewhere") == []


def test_hostile_text_is_excerpted(on):
    d = on.decide(TG, CHAT, 1, "x " * 50_000, result(), message_link="l" * 10_000, now=T0)
    (f,) = on.recent_flags(TG, CHAT)
    assert f["id"] == d.flag_id and len(f["excerpt"]) <= 300 and len(f["message_link"]) <= 2048


def test_no_cooldown_means_every_match_replies_even_out_of_timestamp_order(on):
    """The race of issue 16: a writer stamps its decision, then waits for the write lock while another writer
    sends a card stamped a moment later. With cooldown_s=0 the waiting one came out "count" (elapsed < 0)."""
    on.update(TG, CHAT, cooldown_s=0)
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=T0 + 0.002).action == "reply"
    late = on.decide(TG, CHAT, 2, TEXT, result(), now=T0)  # stamped earlier, committed later
    assert (late.action, late.reason) == ("reply", "match")


def test_a_decision_stamped_before_a_card_is_still_within_a_real_cooldown(on):
    on.update(TG, CHAT, cooldown_s=60)
    assert on.decide(TG, CHAT, 1, TEXT, result(), now=T0 + 0.002).action == "reply"
    assert on.decide(TG, CHAT, 2, TEXT, result(), now=T0).action == "count"


def test_four_concurrent_writers_without_cooldown_all_reply(path, monkeypatch):
    """Four threads, each on its own connection, deciding distinct messages with the wall clock. The clock
    is made to step back between a caller's first reading and the transaction, as a thread preempted
    before the lock would see it: every decision must still be a reply."""
    import itertools

    import bot.moderation as moderation_module

    shared = StateStore(path)
    Moderation(shared).update(TG, CHAT, enabled=True, cooldown_s=0)
    ticks = itertools.count()
    lock = threading.Lock()

    def clock() -> float:  # even calls (a caller's first reading) run 1 s behind odd ones
        with lock:
            n = next(ticks)
        return T0 + n * 0.001 - (1.0 if n % 2 == 0 else 0.0)

    monkeypatch.setattr(moderation_module.time, "time", clock)
    stores = [StateStore(path) for _ in range(4)]
    barrier = threading.Barrier(4)
    actions: list[str] = []
    errors: list[BaseException] = []

    def worker(i, store):
        try:
            barrier.wait()
            mod = Moderation(store)
            for n in range(150):
                actions.append(mod.decide(TG, CHAT, f"{i}-{n}", TEXT, result()).action)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(actions) == 600 and set(actions) == {"reply"}
    for s in [*stores, shared]:
        s.close()

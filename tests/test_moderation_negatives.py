"""Group auto-flagging on the false-match test set: an enabled chat gets zero auto-replies."""

from pathlib import Path

from bot.moderation import Moderation
from bot.state import StateStore


def test_no_auto_replies_on_ordinary_messages(engine, tmp_path):
    state = StateStore(tmp_path / "state.db")
    mod = Moderation(state)
    mod.update("telegram", -100, enabled=True, mode="reply")
    lines = (Path(__file__).parent / "data" / "negatives.txt").read_text(encoding="utf-8").splitlines()
    actions = [mod.decide("telegram", -100, i, line, engine.check(line)).action for i, line in enumerate(lines)]
    assert len(actions) >= 500
    assert actions.count("reply") == 0 and actions.count("notify") == 0


def test_known_claim_is_flagged_once(engine, tmp_path):
    mod = Moderation(StateStore(tmp_path / "state.db"))
    mod.update("discord", 7, enabled=True, mode="reply")
    text = "US intelligence claims Iran paid Taliban to kill American troops"
    first = mod.decide("discord", 7, 1, text, engine.check(text))
    again = mod.decide("discord", 7, 2, text, engine.check(text))
    assert (first.action, first.claim_id) == ("reply", "iran-taliban-bounties-2020")
    assert again.action == "count"

"""Group moderation aid: the platform-neutral policy for auto-flagging known claims.

CONTRACT (adapters code against this): all state lives in the StateStore (SQLite or PostgreSQL, one
transaction per decision), so it survives restarts and is shared by every process of a fleet. The SQL is
the store's (bot/state/base.py); the policy is here.

decide() is called for every group message, so the common paths stay cheap: a disabled chat or a non-match
costs one indexed read and no write; a match costs one more read (admins' wrong-match texts) and one write
transaction, serialised per chat, that checks the exactly-once guard, the cooldown, and writes the
decision, the flag and the cooldown together before returning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from bot import ops
from bot.engine.cards import CheckResult
from bot.state import StateStore


def N_(message: str) -> str:
    """Marks a sentence for the chat layer's catalogues (bot/chat/i18n.py extracts N_ calls); translated
    where it is shown, so this policy module needs nothing from the chat layer."""
    return message


MODES = ("reply", "notify")
MAX_COOLDOWN_S = 7 * 24 * 3600
NEAR_IDENTICAL = 90.0  # fuzz.ratio on default_process'd text: same message give or take a few characters
EXCERPT_CHARS = 300
LINK_CHARS = 2048
COMPARE_CHARS = 4096  # feedback texts are stored up to this length; compare like with like
WRONG_MATCH_LOOKBACK = 200  # newest admin wrong-match texts considered per claim per chat
CARD_ACTIONS = ("reply", "notify")


@dataclass
class ChatSettings:
    platform: str
    chat_id: str
    enabled: bool = False  # off by default
    mode: str = "reply"  # "reply" publicly under the message | "notify" only the log chat/channel
    log_chat_id: str | None = None  # where notify mode posts (and where repeats are counted)
    cooldown_s: int = 6 * 3600  # one card per claim per chat per cooldown
    threshold: float = 0.0  # extra minimum score on top of the engine's `match` decision (0 = engine's)
    quiet_start: int | None = None  # hour 0-23 UTC; no public replies from quiet_start to quiet_end
    quiet_end: int | None = None
    muted: set[str] = field(default_factory=set)  # claim ids never auto-flagged in this chat

    def is_quiet(self, now: float) -> bool:
        """Quiet hours cover [quiet_start, quiet_end) in UTC; a start after the end wraps past midnight."""
        if self.quiet_start is None or self.quiet_end is None:
            return False
        hour = datetime.fromtimestamp(now, tz=timezone.utc).hour
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= hour < self.quiet_end
        return hour >= self.quiet_start or hour < self.quiet_end


@dataclass
class FlagDecision:
    action: str  # "reply" | "notify" | "count" (repeat within cooldown: counted in the log) | "skip"
    reason: str  # "disabled", "not a match", "below threshold", "muted", "wrong-match feedback", "duplicate message",
    #              "already flagged" (an edit of a message that already got a card), "cooldown", "quiet hours", "match"
    claim_id: str | None = None
    score: float = 0.0
    flag_id: int | None = None  # row in the flags table when recorded
    repeat_count: int = 0  # for "count": how many times this claim was counted in this chat since its last card
    card_flag_id: int | None = None  # for "count": the flag row of the last card (reply/notify) being counted


_SETTING_FIELDS = ("enabled", "mode", "log_chat_id", "cooldown_s", "threshold", "quiet_start", "quiet_end")
_TRUE = {"1", "true", "yes", "on", "enable", "enabled"}
_FALSE = {"0", "false", "no", "off", "disable", "disabled"}


def _key(platform: str, chat_id: str | int) -> tuple[str, str]:
    if not isinstance(platform, str) or not platform.strip():
        raise ValueError("platform must be a non-empty string")
    chat = str(chat_id).strip()
    if not chat:
        raise ValueError("chat_id must not be empty")
    return platform.strip(), chat


def _claim_key(claim_id: str) -> str:
    if not isinstance(claim_id, str) or not claim_id.strip():
        raise ValueError("claim_id must be a non-empty string")
    return claim_id.strip()


class SettingError(ValueError):
    """A setting value or combination an admin cannot use. `problem` is a template naming settings as
    {setting} fields, so each front end can say them in its users' words (`worded`); str() uses the
    library's own names."""

    def __init__(self, setting: str, problem: str, **values: Any) -> None:
        self.setting, self.problem, self.values = setting, problem, values
        super().__init__(self.worded({name: name for name in _SETTING_FIELDS}))

    def worded(self, names: dict[str, str], template: str | None = None) -> str:
        """The problem in a front end's words; `template`: the problem translated (same fields)."""
        return (template or self.problem).format(**{**{n: n for n in _SETTING_FIELDS}, **names, **self.values})


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SettingError(name, "{%s} must be on or off (true/false), not {value!r}" % name, value=value)


def _as_int(name: str, value: Any, lo: int, hi: int, what: str) -> int:
    problem = "{%s} must be %s, not {value!r}" % (name, what)
    if isinstance(value, bool):
        raise SettingError(name, problem, value=value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingError(name, problem, value=value) from None
    if number != number or not number.is_integer() or not lo <= number <= hi:  # NaN, fractions, range
        raise SettingError(name, problem, value=value)
    return int(number)


def _validate(name: str, value: Any) -> Any:
    """One setting's value, normalised; SettingError with a message an admin can act on."""
    if name == "enabled":
        return _as_bool(name, value)
    if name == "mode":
        mode = str(value).strip().lower() if isinstance(value, str) else value
        if mode not in MODES:
            raise SettingError(name, N_("{mode} must be reply or notify, not {value!r}"), value=value)
        return mode
    if name == "log_chat_id":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise SettingError(name, N_("{log_chat_id} must be a chat or channel id, not {value!r}"), value=value)
        return str(value).strip()
    if name == "cooldown_s":
        return _as_int(name, value, 0, MAX_COOLDOWN_S, f"a whole number of seconds from 0 to {MAX_COOLDOWN_S} (7 days)")
    if name == "threshold":
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        if not 0.0 <= number <= 1.0:  # also rejects NaN
            raise SettingError(name, N_("{threshold} must be a score from 0 to 1, not {value!r}"), value=value)
        return number
    if name in ("quiet_start", "quiet_end"):
        if value is None:
            return None
        return _as_int(name, value, 0, 23, "an hour from 0 to 23 (UTC) or None")
    raise SettingError(name, "unknown setting {value!r}; settings are %s (use mute/unmute for claims)"
                       % ", ".join("{%s}" % f for f in _SETTING_FIELDS), value=name)


def _check_combination(s: ChatSettings) -> None:
    if (s.quiet_start is None) != (s.quiet_end is None):
        raise SettingError("quiet_start", N_("set {quiet_start} and {quiet_end} together (both hours 0-23 UTC, or both "
                              "None to turn quiet hours off)"))
    if s.quiet_start is not None and s.quiet_start == s.quiet_end:
        raise SettingError("quiet_start", N_("{quiet_start} and {quiet_end} must differ (quiet hours run from start up to "
                              "end, UTC)"))
    if s.mode == "notify" and not s.log_chat_id:
        raise SettingError("log_chat_id", N_("notify mode needs a {log_chat_id}: the moderators' chat or channel to post to"))


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


class Moderation:
    def __init__(self, state: StateStore) -> None:
        self.state = state

    # --- settings -------------------------------------------------------------------------------------

    @staticmethod
    def _from_row(platform: str, chat: str, row: dict[str, Any] | None, muted: set[str]) -> ChatSettings:
        if row is None:
            return ChatSettings(platform=platform, chat_id=chat, muted=muted)
        return ChatSettings(
            platform=platform, chat_id=chat, enabled=bool(row["enabled"]), mode=row["mode"],
            log_chat_id=row["log_chat_id"], cooldown_s=int(row["cooldown_s"]), threshold=float(row["threshold"]),
            quiet_start=row["quiet_start"], quiet_end=row["quiet_end"], muted=muted,
        )

    def settings(self, platform: str, chat_id: str | int) -> ChatSettings:
        platform, chat = _key(platform, chat_id)
        return self._from_row(platform, chat, self.state.chat_settings(platform, chat),
                              self.state.muted_claims(platform, chat))

    def update(self, platform: str, chat_id: str | int, **changes: Any) -> ChatSettings:
        """Change enabled/mode/log_chat_id/cooldown_s/threshold/quiet_start/quiet_end; validates values (ValueError with a clear message)."""
        platform, chat = _key(platform, chat_id)
        clean = {name: _validate(name, value) for name, value in changes.items()}
        # read-modify-write in one transaction: concurrent updates, from any process, don't clobber
        with self.state.write(self.state.chat_key(platform, chat)) as tx:
            current = self._from_row(platform, chat, tx.chat_settings(platform, chat), set())
            new = replace(current, **clean)
            _check_combination(new)  # raising here rolls back: nothing half-applied
            tx.save_chat_settings(platform, chat, {name: getattr(new, name) for name in _SETTING_FIELDS}, time.time())
        return self.settings(platform, chat)

    def mute(self, platform: str, chat_id: str | int, claim_id: str) -> ChatSettings:
        platform, chat = _key(platform, chat_id)
        self.state.mute(platform, chat, _claim_key(claim_id))
        return self.settings(platform, chat)

    def unmute(self, platform: str, chat_id: str | int, claim_id: str) -> ChatSettings:
        platform, chat = _key(platform, chat_id)
        self.state.unmute(platform, chat, _claim_key(claim_id))
        return self.settings(platform, chat)

    # --- the decision ---------------------------------------------------------------------------------

    def _wrong_match_blocks(self, platform: str, chat: str, claim_id: str, text: str) -> bool:
        """An admin said "wrong match" for this claim on (nearly) this text in this chat, and no curator has
        since rejected that feedback or promoted the text to a phrasing."""
        query = text[:COMPARE_CHARS]
        if not default_process(query):
            return False
        rows = self.state.admin_wrong_match_texts(platform, chat, claim_id, WRONG_MATCH_LOOKBACK)
        texts = [t for t in rows if default_process(t)]
        if not texts:
            return False
        # ratio, not token_set_ratio: a short message whose words all occur in a long reported one would
        # score 100 on token_set_ratio, and that is not "near-identical".
        return process.extractOne(query, texts, scorer=fuzz.ratio, processor=default_process,
                                  score_cutoff=NEAR_IDENTICAL) is not None

    def decide(self, platform: str, chat_id: str | int, message_id: str | int, text: str, result: CheckResult, *,
               message_link: str = "", edited: bool = False, now: float | None = None) -> FlagDecision:
        """Decide and record atomically. Never "reply"/"notify" twice for the same (platform, chat, message);
        an edited message is re-checked once; only `match` decisions flag; repeats within the cooldown become "count"."""
        decision = self._decide(platform, chat_id, message_id, text, result, message_link=message_link, edited=edited,
                                now=now)
        ops.MODERATION.labels(decision.action).inc()
        return decision

    def _decide(self, platform: str, chat_id: str | int, message_id: str | int, text: str, result: CheckResult, *,
                message_link: str = "", edited: bool = False, now: float | None = None) -> FlagDecision:
        platform, chat = _key(platform, chat_id)
        message = str(message_id)
        revision = 1 if edited else 0
        clock_now = now is None
        now = time.time() if now is None else float(now)
        text = text if isinstance(text, str) else ""
        best = result.matches[0] if result.decision == "match" and result.matches else None
        claim_id = best.id if best else None
        score = float(best.score) if best else 0.0

        row = self.state.decision_view(platform, chat, claim_id or "")
        if row is None or not row["enabled"]:
            return FlagDecision("skip", "disabled", claim_id, score)  # nothing written for chats that did not opt in
        settings = self._from_row(platform, chat, row, set())

        early: FlagDecision | None = None
        if best is None:
            early = FlagDecision("skip", "not a match")
        elif score < settings.threshold:
            early = FlagDecision("skip", "below threshold", claim_id, score)
        elif row["claim_muted"]:
            early = FlagDecision("skip", "muted", claim_id, score)
        elif self._wrong_match_blocks(platform, chat, best.id, text):
            early = FlagDecision("skip", "wrong-match feedback", claim_id, score)
        if early is not None and not edited:
            return early  # an unflagged first delivery needs no guard row: a redelivery can't double anything
        # An edit always records its revision, even as "skip", so later edits are not re-checked.

        with self.state.write(self.state.chat_key(platform, chat)) as tx:
            if clock_now:
                # The time at which this decision holds the write lock, not when it started waiting for it:
                # otherwise a writer that waited records a time before the card another writer just sent.
                now = time.time()
            seen = {r["revision"]: r for r in tx.message_decisions(platform, chat, message)}
            if revision in seen:
                prior = seen[revision]
                return FlagDecision("skip", "duplicate message", prior["claim_id"], score, prior["flag_id"])
            decision = early
            if decision is None and any(r["action"] in CARD_ACTIONS for r in seen.values()):
                decision = FlagDecision("skip", "already flagged", claim_id, score)  # one card per message, ever
            if decision is None:
                assert best is not None and claim_id is not None
                decision = self._flag(tx, settings, message, revision, message_link, text, best.claim, claim_id,
                                      score, now)
            tx.add_decision(platform, chat, message, revision, now, decision.action, decision.reason,
                            decision.claim_id, decision.score, decision.flag_id, decision.repeat_count)
        return decision

    @staticmethod
    def _flag(tx: Any, s: ChatSettings, message: str, revision: int, link: str, text: str, claim_text: str,
              claim_id: str, score: float, now: float) -> FlagDecision:
        """Inside decide()'s transaction: cooldown, quiet hours, mode -> the flag row and the cooldown row."""
        cd = tx.cooldown(s.platform, s.chat_id, claim_id)
        # cooldown_s=0 means no cooldown at all: a decision stamped a moment before the last card (its caller
        # passed `now` and then waited for the lock behind that card's writer) is not "within 0 seconds" of it.
        in_cooldown = (s.cooldown_s > 0 and cd is not None and cd["last_card_ts"] is not None
                       and now - cd["last_card_ts"] < s.cooldown_s)
        if in_cooldown:
            action, reason = "count", "cooldown"
        elif s.mode == "reply" and s.is_quiet(now):
            action, reason = ("notify" if s.log_chat_id else "count"), "quiet hours"
        else:
            action, reason = s.mode, "match"
        repeats = ((cd["repeats"] if cd else 0) + 1) if action == "count" else 0
        flag_id = tx.add_flag(ts=now, platform=s.platform, chat_id=s.chat_id, message_id=message, revision=revision,
                              message_link=(link or "")[:LINK_CHARS], claim_id=claim_id, claim_text=claim_text or "",
                              score=score, action=action, reason=reason, repeat_count=repeats, excerpt=_excerpt(text))
        if action in CARD_ACTIONS:
            tx.start_cooldown(s.platform, s.chat_id, claim_id, now, flag_id)
            card_flag_id = None
        else:
            tx.count_repeat(s.platform, s.chat_id, claim_id)
            card_flag_id = cd["last_flag_id"] if cd else None
        return FlagDecision(action, reason, claim_id, score, flag_id, repeats, card_flag_id)

    # --- feedback and the log -------------------------------------------------------------------------

    def wrong_match(self, platform: str, chat_id: str | int, claim_id: str, text: str, user_id: str | int, *,
                    is_admin: bool) -> bool:
        """Record "Wrong match" feedback (queued for curators); False when this user already reported this claim
        on this text here. From an admin it immediately stops `claim_id` from auto-flagging near-identical text
        in that chat (see _wrong_match_blocks)."""
        platform, chat = _key(platform, chat_id)
        return self.state.record_feedback(platform=platform, chat_id=chat, user_id=user_id, claim_id=_claim_key(claim_id),
                                          kind="wrong", text=text if isinstance(text, str) else "", is_admin=bool(is_admin))

    def recent_flags(self, platform: str, chat_id: str | int, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first, for /flags: id, ts, message_id, message_link, claim_id, claim_text, score, action,
        reason, repeat_count, excerpt."""
        platform, chat = _key(platform, chat_id)
        limit = max(1, min(int(limit), 200))
        return self.state.recent_flags(platform, chat, limit)

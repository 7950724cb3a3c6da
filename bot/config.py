"""Configuration: one home, read from the environment only (tokens are never read from files).

Every variable the bot reads is read here. A value that cannot be used is a ConfigError naming the
variable, never a bare traceback. Default paths work from a source checkout (knowledge/ and var/ beside
the package) and from an installed package (the knowledge shipped under <prefix>/share/claim-context,
state under $XDG_STATE_HOME/claim-context).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SOURCE_KNOWLEDGE = PROJECT_ROOT / "knowledge"
_INSTALLED_KNOWLEDGE = Path(sys.prefix) / "share" / "claim-context" / "knowledge"


def _default_var_dir() -> Path:
    if (PROJECT_ROOT / "pyproject.toml").is_file():  # a source checkout: var/ beside the package
        return PROJECT_ROOT / "var"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "claim-context"


DEFAULT_KNOWLEDGE_DIR = _SOURCE_KNOWLEDGE if _SOURCE_KNOWLEDGE.is_dir() else _INSTALLED_KNOWLEDGE
DEFAULT_VAR_DIR = _default_var_dir()
# Where Discord serves message attachments; pictures are fetched from nowhere else (tests add their fake's host).
DISCORD_ATTACHMENT_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class ConfigError(ValueError):
    """An environment variable with a value the bot cannot use; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TRUE | FALSE:
        raise ConfigError(name, f"must be one of 1/true/yes/on or 0/false/no/off, not {env[name]!r}")
    return value in TRUE


def _int(env: Mapping[str, str], name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {value!r}") from None
    if not lo <= number <= hi:
        raise ConfigError(name, f"must be from {lo} to {hi}, not {number}")
    return number


_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token


def _webhook_secret(env: Mapping[str, str]) -> str:
    """TELEGRAM_WEBHOOK_SECRET, required in webhook mode: Telegram sends it with every update, and without it
    anyone who can reach the port could post updates posing as any user (a group admin included)."""
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
    if env.get("TELEGRAM_WEBHOOK_URL", "").strip() and not secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET", "required with TELEGRAM_WEBHOOK_URL (1-256 letters, digits, _ or -)")
    if secret and not _SECRET_TOKEN.match(secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET", "1-256 letters, digits, _ or - (what Telegram accepts)")
    return secret


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip()
    if value and not value.lower().startswith(tuple(f"{s}://" for s in schemes)):
        raise ConfigError(name, f"must be a {' or '.join(schemes)} URL, not {value!r}")
    return value


def _state(env: Mapping[str, str]) -> tuple[Path, str]:
    """CLAIM_CONTEXT_STATE: a SQLite path (the default, var/state.db) or a postgresql:// URL naming a host and a
    database, for a fleet of processes on one PostgreSQL server. Returns (path, url); one of them is used."""
    name = "CLAIM_CONTEXT_STATE"
    value = env.get(name, "").strip()
    if "://" not in value:
        return Path(value or DEFAULT_VAR_DIR / "state.db"), ""
    scheme = value.split("://", 1)[0].lower()
    if scheme not in ("postgresql", "postgres"):
        raise ConfigError(name, f"must be a file path or a postgresql:// URL, not a {scheme}:// URL")
    parsed = urlsplit(value)
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigError(name, "the PostgreSQL URL has a port that is not a number") from None
    if not parsed.hostname and "host=" not in parsed.query:
        raise ConfigError(name, "the PostgreSQL URL names no host (postgresql://user@host:5432/database)")
    if not parsed.path.strip("/"):
        raise ConfigError(name, "the PostgreSQL URL names no database (postgresql://user@host:5432/database)")
    return DEFAULT_VAR_DIR / "state.db", value


def _shards(env: Mapping[str, str]) -> tuple[tuple[int, ...] | None, int | None]:
    """DISCORD_SHARD_IDS ("0-1", "0,2", "3") with DISCORD_SHARD_COUNT: the shards this process runs."""
    count = _int(env, "DISCORD_SHARD_COUNT", None, 1, 65535)
    raw = env.get("DISCORD_SHARD_IDS", "").strip()
    if not raw:
        return None, count
    if count is None:
        raise ConfigError("DISCORD_SHARD_IDS", "needs DISCORD_SHARD_COUNT (the fleet's total number of shards)")
    ids: list[int] = []
    for part in raw.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi if sep else lo)
        except ValueError:
            raise ConfigError("DISCORD_SHARD_IDS", f"must be shard numbers or ranges like 0-1,4, not {raw!r}") from None
        if not 0 <= first <= last < count:
            raise ConfigError("DISCORD_SHARD_IDS", f"shards must be from 0 to {count - 1} "
                              f"(DISCORD_SHARD_COUNT={count}), not {part.strip()!r}")
        ids.extend(range(first, last + 1))
    if len(set(ids)) != len(ids):
        raise ConfigError("DISCORD_SHARD_IDS", f"names a shard twice: {raw!r}")
    return tuple(ids), count


def _feeds(env: Mapping[str, str]) -> tuple[str, ...]:
    """CLAIM_CONTEXT_FEEDS: ClaimReview DataFeed URLs, separated by spaces or commas."""
    urls = tuple(u for u in env.get("CLAIM_CONTEXT_FEEDS", "").replace(",", " ").split() if u)
    for u in urls:
        if not u.lower().startswith(("http://", "https://")):
            raise ConfigError("CLAIM_CONTEXT_FEEDS", f"must be http(s) URLs separated by spaces or commas, not {u!r}")
    return urls


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    db_path: Path = DEFAULT_VAR_DIR / "knowledge.db"
    state_path: Path = DEFAULT_VAR_DIR / "state.db"  # feedback, moderation, flags: survives rebuilds
    state_url: str = field(default="", repr=False)  # postgresql://...: shared state for a fleet (may hold a password)
    state_pool_size: int = 8  # PostgreSQL connections per process
    telegram_token: str = field(default="", repr=False)
    telegram_api_base_url: str = ""  # e.g. http://127.0.0.1:8081/bot for a self-hosted Bot API server
    telegram_webhook_url: str = ""  # set to run in webhook mode instead of polling
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str = field(default="", repr=False)
    telegram_webhook_skip_register: bool = False  # a replica of a fleet: another one (or the operator) calls setWebhook
    update_lease_s: int = 60  # a webhook update taken by a replica that died is retaken after this long
    ops_port: int | None = None  # /healthz, /readyz, /metrics for processes without a webhook server
    ops_listen: str = "0.0.0.0"  # where that port listens (127.0.0.1: only this host's scraper and checks)
    discord_token: str = field(default="", repr=False)
    discord_api_base_url: str = ""  # e.g. http://127.0.0.1:9000/api/v10
    discord_gateway_url: str = ""  # e.g. ws://127.0.0.1:9001
    discord_guild_id: int | None = None  # sync commands to one guild (development)
    discord_sharded: bool = False
    discord_shard_ids: tuple[int, ...] | None = None  # this process's shards of discord_shard_count (a fleet)
    discord_shard_count: int | None = None
    discord_attachment_hosts: tuple[str, ...] = DISCORD_ATTACHMENT_HOSTS
    allow_private_fetch: bool = False  # tests only: lets the fetcher reach loopback
    knowledge_feeds: tuple[str, ...] = ()  # ClaimReview DataFeed URLs for `knowledge sync`
    feed_max_bytes: int = 20_000_000  # a feed over this is refused (the previous good copy stays)
    semantic: bool = True  # the semantic tier (bot/engine/semantic.py); CLAIM_CONTEXT_SEMANTIC=0 for lexical only

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Settings from the environment (or `env`); ConfigError names the first variable that cannot be used."""
        e = os.environ if env is None else env
        state_path, state_url = _state(e)
        shard_ids, shard_count = _shards(e)
        db_path = Path(e.get("CLAIM_CONTEXT_DB") or DEFAULT_VAR_DIR / "knowledge.db")
        if not state_url and os.path.abspath(db_path) == os.path.abspath(state_path):
            raise ConfigError("CLAIM_CONTEXT_DB", "names the same file as CLAIM_CONTEXT_STATE: the knowledge database "
                              "is rebuilt and replaced, the state (feedback, moderation) must outlive it")
        return cls(
            knowledge_dir=Path(e.get("CLAIM_CONTEXT_KNOWLEDGE") or DEFAULT_KNOWLEDGE_DIR),
            db_path=db_path,
            state_path=state_path,
            state_url=state_url,
            state_pool_size=_int(e, "CLAIM_CONTEXT_STATE_POOL", 8, 1, 200) or 8,
            telegram_token=e.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=_url(e, "TELEGRAM_API_BASE_URL", ("http", "https")),
            telegram_webhook_url=_url(e, "TELEGRAM_WEBHOOK_URL", ("https", "http")),
            telegram_webhook_listen=e.get("TELEGRAM_WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            telegram_webhook_port=_int(e, "TELEGRAM_WEBHOOK_PORT", 8443, 1, 65535) or 8443,
            telegram_webhook_secret=_webhook_secret(e),
            telegram_webhook_skip_register=_bool(e, "TELEGRAM_WEBHOOK_SKIP_REGISTER"),
            ops_port=_int(e, "CLAIM_CONTEXT_OPS_PORT", None, 1, 65535),
            ops_listen=e.get("CLAIM_CONTEXT_OPS_LISTEN", "").strip() or "0.0.0.0",
            update_lease_s=_int(e, "CLAIM_CONTEXT_UPDATE_LEASE", 60, 1, 3600) or 60,
            discord_token=e.get("DISCORD_BOT_TOKEN", "").strip(),
            discord_api_base_url=_url(e, "DISCORD_API_BASE_URL", ("http", "https")),
            discord_gateway_url=_url(e, "DISCORD_GATEWAY_URL", ("ws", "wss")),
            discord_guild_id=_int(e, "DISCORD_GUILD_ID", None, 1, 2**63 - 1),
            discord_sharded=_bool(e, "DISCORD_SHARDED") or shard_count is not None,
            discord_shard_ids=shard_ids,
            discord_shard_count=shard_count,
            allow_private_fetch=_bool(e, "CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH"),
            semantic=_bool(e, "CLAIM_CONTEXT_SEMANTIC", True),
            knowledge_feeds=_feeds(e),
            feed_max_bytes=_int(e, "CLAIM_CONTEXT_FEED_MAX_BYTES", 20_000_000, 1024, 1_000_000_000) or 20_000_000,
        )

    @property
    def state_target(self) -> str | Path:
        """What StateStore(...) opens: the PostgreSQL URL when one is set, else the SQLite path."""
        return self.state_url or self.state_path

    @property
    def state_options(self) -> dict[str, int]:
        return {"pool_size": self.state_pool_size} if self.state_url else {}

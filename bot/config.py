"""Configuration: one home, read from the environment only (tokens are never read from files).

Every variable the bot reads is read here. A value that cannot be used is a ConfigError naming the
variable, never a bare traceback. Default paths work from a source checkout (knowledge/ and var/ beside
the package) and from an installed package (the knowledge shipped under <prefix>/share/claim-context,
state under $XDG_STATE_HOME/claim-context).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip()
    if value and not value.lower().startswith(tuple(f"{s}://" for s in schemes)):
        raise ConfigError(name, f"must be a {' or '.join(schemes)} URL, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    db_path: Path = DEFAULT_VAR_DIR / "knowledge.db"
    state_path: Path = DEFAULT_VAR_DIR / "state.db"  # feedback, moderation, flags: survives rebuilds
    telegram_token: str = field(default="", repr=False)
    telegram_api_base_url: str = ""  # e.g. http://127.0.0.1:8081/bot for a self-hosted Bot API server
    telegram_webhook_url: str = ""  # set to run in webhook mode instead of polling
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str = field(default="", repr=False)
    discord_token: str = field(default="", repr=False)
    discord_api_base_url: str = ""  # e.g. http://127.0.0.1:9000/api/v10
    discord_gateway_url: str = ""  # e.g. ws://127.0.0.1:9001
    discord_guild_id: int | None = None  # sync commands to one guild (development)
    discord_sharded: bool = False
    allow_private_fetch: bool = False  # tests only: lets the fetcher reach loopback
    semantic: bool = True  # the semantic tier (bot/engine/semantic.py); CLAIM_CONTEXT_SEMANTIC=0 for lexical only

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Settings from the environment (or `env`); ConfigError names the first variable that cannot be used."""
        e = os.environ if env is None else env
        return cls(
            knowledge_dir=Path(e.get("CLAIM_CONTEXT_KNOWLEDGE") or DEFAULT_KNOWLEDGE_DIR),
            db_path=Path(e.get("CLAIM_CONTEXT_DB") or DEFAULT_VAR_DIR / "knowledge.db"),
            state_path=Path(e.get("CLAIM_CONTEXT_STATE") or DEFAULT_VAR_DIR / "state.db"),
            telegram_token=e.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=_url(e, "TELEGRAM_API_BASE_URL", ("http", "https")),
            telegram_webhook_url=_url(e, "TELEGRAM_WEBHOOK_URL", ("https", "http")),
            telegram_webhook_listen=e.get("TELEGRAM_WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
            telegram_webhook_port=_int(e, "TELEGRAM_WEBHOOK_PORT", 8443, 1, 65535) or 8443,
            telegram_webhook_secret=e.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            discord_token=e.get("DISCORD_BOT_TOKEN", "").strip(),
            discord_api_base_url=_url(e, "DISCORD_API_BASE_URL", ("http", "https")),
            discord_gateway_url=_url(e, "DISCORD_GATEWAY_URL", ("ws", "wss")),
            discord_guild_id=_int(e, "DISCORD_GUILD_ID", None, 1, 2**63 - 1),
            discord_sharded=_bool(e, "DISCORD_SHARDED"),
            allow_private_fetch=_bool(e, "CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH"),
            semantic=_bool(e, "CLAIM_CONTEXT_SEMANTIC", True),
        )

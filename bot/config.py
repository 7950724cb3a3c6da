"""Configuration: one home, read from the environment only (tokens are never read from files)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
    def from_env(cls) -> "Settings":
        e = os.environ.get
        guild = e("DISCORD_GUILD_ID", "").strip()
        return cls(
            knowledge_dir=Path(e("CLAIM_CONTEXT_KNOWLEDGE", str(DEFAULT_KNOWLEDGE_DIR))),
            db_path=Path(e("CLAIM_CONTEXT_DB", str(DEFAULT_VAR_DIR / "knowledge.db"))),
            state_path=Path(e("CLAIM_CONTEXT_STATE", str(DEFAULT_VAR_DIR / "state.db"))),
            telegram_token=e("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=e("TELEGRAM_API_BASE_URL", "").strip(),
            telegram_webhook_url=e("TELEGRAM_WEBHOOK_URL", "").strip(),
            telegram_webhook_listen=e("TELEGRAM_WEBHOOK_LISTEN", "0.0.0.0"),
            telegram_webhook_port=int(e("TELEGRAM_WEBHOOK_PORT", "8443")),
            telegram_webhook_secret=e("TELEGRAM_WEBHOOK_SECRET", "").strip(),
            discord_token=e("DISCORD_BOT_TOKEN", "").strip(),
            discord_api_base_url=e("DISCORD_API_BASE_URL", "").strip(),
            discord_gateway_url=e("DISCORD_GATEWAY_URL", "").strip(),
            discord_guild_id=int(guild) if guild else None,
            discord_sharded=_env_bool("DISCORD_SHARDED"),
            allow_private_fetch=_env_bool("CLAIM_CONTEXT_ALLOW_PRIVATE_FETCH"),
            semantic=_env_bool("CLAIM_CONTEXT_SEMANTIC", True),
        )

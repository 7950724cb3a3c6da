"""The Discord adapter: gateway events and interactions in, chat-layer calls out, neutral replies as embeds.

client (events and the run loop), commands (slash commands and the /moderation group), buttons (persistent
card buttons), responder and render (replies out), endpoints (REST and gateway overrides).
"""

from bot.adapters.discord.client import build_client, run_discord

__all__ = ["build_client", "run_discord"]

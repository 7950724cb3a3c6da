"""Neutral replies out as Discord messages: to an interaction (ephemeral where only the asker should see
it, deferred when a link is fetched) or under a gateway message. No message ever mentions anyone."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.adapters.discord import render
from bot.adapters.discord.buttons import actions_view
from bot.chat import texts
from bot.chat.messages import (AboutReply, CardReply, FlagsReply, HelpReply, LogChatProbe, MuteReply, Receipt, Refusal,
                               RelatedReply, Reply, SettingsReply, SourcesReply, card_actions)

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Only the person who asked needs to see these.
PRIVATE = (Refusal, Receipt, AboutReply, SettingsReply, MuteReply, FlagsReply, HelpReply, RelatedReply)


def payload(reply: Reply, *, public: bool = True) -> dict[str, Any]:
    """Message fields for a reply (`public`: seen by the channel, so a sources list carries the card buttons)."""
    out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if isinstance(reply, CardReply):
        out["embeds"] = render.result_embeds(reply.result, checked_text=reply.checked_text)
        out["view"] = actions_view(reply.actions)
        if reply.notice is not None:
            out["content"] = render.notice_text(reply.notice)
    elif isinstance(reply, SourcesReply):
        out["embeds"] = render.sources_embeds(reply.card)
        if public:
            out["view"] = actions_view(card_actions(reply.card))
    elif isinstance(reply, RelatedReply):
        out["embeds"] = render.related_embeds(reply.card)
    elif isinstance(reply, AboutReply):
        out["embeds"] = render.about_embeds(reply.about)
    elif isinstance(reply, FlagsReply):
        out["embeds"] = render.flags_embeds(reply.flags)
    elif isinstance(reply, SettingsReply):
        out["content"] = render.settings_text(reply.settings, reply.saved)
    elif isinstance(reply, MuteReply):
        said = (texts.MUTED if reply.muted else texts.UNMUTED).format(claim=f"`{reply.claim_id}`").replace("group", "server")
        out["content"] = render.truncate(said + "\n" + render.settings_text(reply.settings), render.CONTENT_MAX)
    elif isinstance(reply, HelpReply):
        out["content"] = texts.USAGE.get(reply.topic, texts.INTRO)
    elif isinstance(reply, LogChatProbe):
        out["content"] = texts.LOG_CHAT_PROBE.format(title=render.escape_user_text(reply.chat_title, 100))
    elif isinstance(reply, Refusal):
        text = texts.REFUSALS[reply.kind].format(detail=render.escape_user_text(reply.detail, 300))
        out["content"] = render.truncate(text, render.CONTENT_MAX)
    elif isinstance(reply, Receipt):
        out["content"] = texts.RECEIPTS[reply.kind]
    else:
        raise TypeError(f"no Discord rendering for {type(reply).__name__}")
    return out


async def post_to_channel(client: discord.Client, chat_id: str, reply: Reply) -> bool:
    """Post in a channel the bot can see; a log-chat probe only checks that it can."""
    channel = client.get_channel(int(chat_id)) if chat_id.isdigit() else None
    if channel is None or not hasattr(channel, "send"):
        return False
    if isinstance(reply, LogChatProbe):
        return True  # Discord's channel option already chose a channel of this server; no probe message
    await channel.send(**payload(reply))
    return True


class InteractionResponder:
    """Replies to a slash command, context menu or button press."""

    def __init__(self, interaction: discord.Interaction, *, private: bool = False, deferred: bool = False) -> None:
        self.interaction, self.private, self.deferred = interaction, private, deferred

    async def reply(self, reply: Reply) -> None:
        ephemeral = self.private or isinstance(reply, PRIVATE)
        kwargs = payload(reply, public=not ephemeral)
        response = self.interaction.response
        if self.deferred and not ephemeral:
            await self.interaction.edit_original_response(**kwargs)
        elif self.deferred or response.is_done():
            await self.interaction.followup.send(**kwargs, ephemeral=ephemeral)
        else:
            await response.send_message(**kwargs, ephemeral=ephemeral)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return await post_to_channel(self.interaction.client, chat_id, reply)


class MessageResponder:
    """Replies under a gateway message (a DM, a mention, auto-moderation)."""

    def __init__(self, client: discord.Client, message: discord.Message) -> None:
        self.client, self.message = client, message

    async def reply(self, reply: Reply) -> None:
        await self.message.reply(**payload(reply), mention_author=False)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return await post_to_channel(self.client, chat_id, reply)

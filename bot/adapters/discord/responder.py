"""Neutral replies out as Discord messages: to an interaction (ephemeral where only the asker should see
it, deferred when a link is fetched) or under a gateway message. No message ever mentions anyone."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.adapters.discord import render
from bot.adapters.discord.buttons import actions_view
from bot.chat import texts
from bot.chat.i18n import EN, Translator, for_locale
from bot.chat.messages import (AboutReply, CardReply, FlagsReply, HelpReply, LogChatProbe, MuteReply, Receipt, Refusal,
                               RelatedReply, Reply, SettingsReply, SourcesReply, card_actions)

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# Only the person who asked needs to see these.
PRIVATE = (Refusal, Receipt, AboutReply, SettingsReply, MuteReply, FlagsReply, HelpReply, RelatedReply)


def payload(reply: Reply, *, public: bool = True, t: Translator = EN) -> dict[str, Any]:
    """Message fields for a reply (`public`: seen by the channel, so a sources list carries the card buttons),
    in the translator's language."""
    out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if isinstance(reply, CardReply):
        out["embeds"] = render.result_embeds(reply.result, checked_text=reply.checked_text, t=t,
                                             forwarded_from=reply.channel, channel_outlet=reply.channel_outlet)
        out["view"] = actions_view(reply.actions, t)
        if reply.notice is not None:
            out["content"] = render.notice_text(reply.notice, t)
    elif isinstance(reply, SourcesReply):
        out["embeds"] = render.sources_embeds(reply.card, t)
        if public:
            out["view"] = actions_view(card_actions(reply.card), t)
    elif isinstance(reply, RelatedReply):
        out["embeds"] = render.related_embeds(reply.card, t)
    elif isinstance(reply, AboutReply):
        out["embeds"] = render.about_embeds(reply.about, t)
    elif isinstance(reply, FlagsReply):
        out["embeds"] = render.flags_embeds(reply.flags, t)
    elif isinstance(reply, SettingsReply):
        out["content"] = render.settings_text(reply.settings, reply.saved, t)
    elif isinstance(reply, MuteReply):
        said = render.isolate(texts.mute_text(f"`{reply.claim_id}`", reply.muted, t, server=True), t.rtl)
        out["content"] = render.truncate(said + "\n" + render.settings_text(reply.settings, t=t), render.CONTENT_MAX)
    elif isinstance(reply, HelpReply):
        out["content"] = render.content(texts.usage(reply.topic, t) or t(texts.INTRO), t)
    elif isinstance(reply, LogChatProbe):
        out["content"] = render.content(t(texts.LOG_CHAT_PROBE, title=render.escape_user_text(reply.chat_title, 100)), t)
    elif isinstance(reply, Refusal):
        out["content"] = render.content(t(texts.REFUSALS[reply.kind], detail=render.escape_user_text(reply.detail, 300)), t)
    elif isinstance(reply, Receipt):
        out["content"] = render.content(t(texts.RECEIPTS[reply.kind]), t)
    else:
        raise TypeError(f"no Discord rendering for {type(reply).__name__}")
    return out


async def post_to_channel(client: discord.Client, chat_id: str, reply: Reply, t: Translator = EN) -> bool:
    """Post in a channel the bot can see; a log-chat probe only checks that it can."""
    channel = client.get_channel(int(chat_id)) if chat_id.isdigit() else None
    if channel is None or not hasattr(channel, "send"):
        return False
    if isinstance(reply, LogChatProbe):
        return True  # Discord's channel option already chose a channel of this server; no probe message
    await channel.send(**payload(reply, t=t))
    return True


def interaction_translator(interaction: discord.Interaction) -> Translator:
    """The words of the person who used a command or a button: their Discord client's language. Discord
    sends any locale here, including ones it has no command localisations for (an Arabic client: `ar`)."""
    return for_locale(str(interaction.locale.value if hasattr(interaction.locale, "value") else interaction.locale or ""))


def message_translator(message: discord.Message) -> Translator:
    """A gateway message carries no user locale: the server's preferred locale where there is one, else English."""
    guild = message.guild
    locale = getattr(guild, "preferred_locale", None) if guild is not None else None
    return for_locale(str(getattr(locale, "value", locale) or ""))


class InteractionResponder:
    """Replies to a slash command, context menu or button press."""

    def __init__(self, interaction: discord.Interaction, *, private: bool = False, deferred: bool = False) -> None:
        self.interaction, self.private, self.deferred = interaction, private, deferred
        self.t = interaction_translator(interaction)

    async def reply(self, reply: Reply) -> None:
        ephemeral = self.private or isinstance(reply, PRIVATE)
        kwargs = payload(reply, public=not ephemeral, t=self.t)
        response = self.interaction.response
        if self.deferred and not ephemeral:
            await self.interaction.edit_original_response(**kwargs)
        elif self.deferred or response.is_done():
            await self.interaction.followup.send(**kwargs, ephemeral=ephemeral)
        else:
            await response.send_message(**kwargs, ephemeral=ephemeral)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return await post_to_channel(self.interaction.client, chat_id, reply, self.t)

    async def runs(self, chat_id: str, user_id: str) -> bool:
        return True  # the command's channel option offers only this server's channels, to members who manage it


class MessageResponder:
    """Replies under a gateway message (a DM, a mention, auto-moderation)."""

    def __init__(self, client: discord.Client, message: discord.Message) -> None:
        self.client, self.message = client, message
        self.t = message_translator(message)

    async def reply(self, reply: Reply) -> None:
        await self.message.reply(**payload(reply, t=self.t), mention_author=False)

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return await post_to_channel(self.client, chat_id, reply, self.t)

    async def runs(self, chat_id: str, user_id: str) -> bool:
        return True  # the command's channel option offers only this server's channels, to members who manage it

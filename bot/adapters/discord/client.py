"""The Discord client (discord.py 2.x): gateway events and interactions in, chat-layer calls out. Rate
limits and reconnects are discord.py's job; every message carries AllowedMentions.none()."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.adapters.discord import render
from bot.adapters.discord.attachments import AttachmentFetcher
from bot.adapters.discord.buttons import CardButton
from bot.adapters.discord.commands import CommandTranslator, ModerationGroup, public_commands
from bot.adapters.discord.endpoints import apply_endpoints, pin_bot_gateway
from bot.adapters.discord.responder import (NO_MENTIONS, InteractionResponder, MessageResponder, interaction_translator,
                                            message_translator)
from bot.chat import texts
from bot.chat.conversation import Conversation, with_text
from bot.chat.messages import Action, ActionKind, ChatKind, Incoming, IncomingImage, Refusal, RefusalKind
from bot.config import Settings
from bot.engine.urls import find_urls
from bot.state import StateStore

if TYPE_CHECKING:
    from bot.engine.service import Engine
    from bot.links import LinkResolver

log = logging.getLogger(__name__)

PLATFORM = "discord"


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Messages or Manage Server in this channel (as Discord resolved it for the interaction)."""
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.manage_guild or perms.administrator)


def from_interaction(interaction: discord.Interaction, text: str = "") -> Incoming:
    """Moderation settings are per server; DMs are per channel."""
    return Incoming(platform=PLATFORM, chat_id=str(interaction.guild_id or interaction.channel_id),
                    chat_kind=ChatKind.GROUP if interaction.guild_id else ChatKind.PRIVATE,
                    user_id=str(interaction.user.id), text=text, is_admin=is_moderator(interaction),
                    locale=interaction_translator(interaction).lang)


def from_message(message: discord.Message, *, edited: bool = False, images: tuple[IncomingImage, ...] = ()) -> Incoming:
    return Incoming(platform=PLATFORM, chat_id=str(message.guild.id if message.guild else message.channel.id),
                    chat_kind=ChatKind.GROUP if message.guild else ChatKind.PRIVATE, message_id=str(message.id),
                    user_id=str(message.author.id), text=message.content or "", edited=edited,
                    message_link=message.jump_url, chat_title=f"<#{message.channel.id}>",
                    author=message.author.display_name, locale=message_translator(message).lang, images=images)


class ClaimContextMixin:
    """Behaviour shared by the plain and the auto-sharded client."""

    conversation: Conversation
    settings: Settings
    tree: app_commands.CommandTree
    attachments: AttachmentFetcher

    def _setup(self, settings: Settings, conversation: Conversation) -> None:
        self.settings, self.conversation = settings, conversation
        self.attachments = AttachmentFetcher(settings)
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        for command in [*public_commands(), ModerationGroup()]:
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CardButton)  # type: ignore[attr-defined]
        await self.tree.set_translator(CommandTranslator())
        guild_id = self.settings.discord_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands (%s)", len(synced), f"guild {guild_id}" if guild_id else "global")

    # -- interactions --------------------------------------------------------------------------------------
    async def answer_check(self, interaction: discord.Interaction, text: str,
                           images: tuple[IncomingImage, ...] = ()) -> None:
        """Answered within Discord's 3 s: directly when local, deferred when a link is fetched or a picture read."""
        deferred = bool(images) or (self.conversation.resolver is not None and bool(find_urls(text)))
        if deferred:
            await interaction.response.defer(thinking=True)
        out = InteractionResponder(interaction, deferred=deferred)
        if not text.strip() and not images:
            await out.reply(Refusal(RefusalKind.NO_TEXT))
            return
        await self.conversation.answer(replace(from_interaction(interaction, text), images=images), out)

    async def answer_sources(self, interaction: discord.Interaction, claim: str) -> None:
        await self.conversation.sources(from_interaction(interaction), InteractionResponder(interaction), claim, exact=True)

    async def answer_about(self, interaction: discord.Interaction) -> None:
        await self.conversation.about(InteractionResponder(interaction))

    async def answer_flags(self, interaction: discord.Interaction) -> None:
        await self.conversation.flags(from_interaction(interaction), InteractionResponder(interaction))

    async def answer_settings(self, interaction: discord.Interaction, changes: dict[str, Any]) -> None:
        await self.conversation.settings(from_interaction(interaction), InteractionResponder(interaction), changes)

    async def answer_mute(self, interaction: discord.Interaction, claim: str, *, mute: bool) -> None:
        await self.conversation.mute(from_interaction(interaction), InteractionResponder(interaction), claim, mute=mute)

    async def conversation_search_ids(self, prefix: str) -> list[tuple[str, str]]:
        return await asyncio.to_thread(self.conversation.engine.complete_claims, prefix[:100], limit=render.CHOICES_MAX)

    async def on_card_button(self, interaction: discord.Interaction, kind: ActionKind, claim_id: str | None) -> None:
        embeds = interaction.message.embeds if interaction.message else []
        claim_id = claim_id or (render.claim_id_of(embeds[0]) if embeds else None)
        action = Action(kind, claim_id) if claim_id else None
        await self.conversation.on_action(from_interaction(interaction), InteractionResponder(interaction, private=True),
                                          action, _checked_text(interaction))

    # -- gateway messages ----------------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        await self._handle_message(message, edited=False)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        if payload.message.edited_at is None:
            return  # an embed unfurl or a flag change, not an edit by the author
        await self._handle_message(payload.message, edited=True)

    async def _handle_message(self, message: discord.Message, *, edited: bool) -> None:
        if message.author.bot or message.webhook_id is not None or message.author == self.user:  # type: ignore[attr-defined]
            return
        msg = from_message(message, edited=edited, images=self.attachments.images(message))
        out = MessageResponder(self, message)  # type: ignore[arg-type]
        if not msg.text.strip() and not msg.images:
            return
        if not msg.in_group:
            if not edited:
                await self.conversation.answer(msg, out)
            return
        me = self.user  # type: ignore[attr-defined]
        if me is not None and me.mentioned_in(message) and not message.mention_everyone and not edited:
            text = re.sub(rf"<@!?{me.id}>", " ", msg.text).strip()
            if text or msg.images:
                await self.conversation.answer(with_text(msg, text), out)
            return
        await self.conversation.moderate(msg, out)

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        await self.attachments.aclose()

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("command %s failed: %r", interaction.command and interaction.command.qualified_name, error, exc_info=error)
        kind = RefusalKind.ADMINS_ONLY if isinstance(error, app_commands.CheckFailure) else RefusalKind.ERROR
        with contextlib.suppress(discord.HTTPException):
            out = InteractionResponder(interaction)
            await out.reply(Refusal(kind, texts.word(PLATFORM, "admins", out.t)))


def _checked_text(interaction: discord.Interaction) -> str:
    """The text a card answered: the message it replies to, else the echo in the card."""
    msg = interaction.message
    if msg is None:
        return ""
    ref = msg.reference
    if ref is not None and isinstance(ref.resolved, discord.Message) and ref.resolved.content:
        return ref.resolved.content
    return render.checked_text_of(msg.embeds[0]) if msg.embeds else ""


class ClaimContextClient(ClaimContextMixin, discord.Client):
    pass


class ShardedClaimContextClient(ClaimContextMixin, discord.AutoShardedClient):
    pass


def intents() -> discord.Intents:
    """Guild messages with their content (for moderation and link lookups); no member list, no presences."""
    i = discord.Intents.none()
    i.guilds = True
    i.guild_messages = True
    i.dm_messages = True
    i.message_content = True
    return i


def build_client(settings: Settings, engine: "Engine", state: StateStore, resolver: "LinkResolver | None",
                 **options: Any) -> discord.Client:
    """The configured client; `options` go to discord.Client (e.g. guild_ready_timeout in tests)."""
    apply_endpoints(settings)
    options.setdefault("intents", intents())
    options.setdefault("allowed_mentions", NO_MENTIONS)
    options.setdefault("member_cache_flags", discord.MemberCacheFlags.none())
    options.setdefault("chunk_guilds_at_startup", False)
    options.setdefault("max_messages", 1000)
    if settings.discord_shard_count is not None:  # this process's part of a fleet's shards
        options.setdefault("shard_count", settings.discord_shard_count)
        if settings.discord_shard_ids is not None:
            options.setdefault("shard_ids", list(settings.discord_shard_ids))
    cls = ShardedClaimContextClient if settings.discord_sharded else ClaimContextClient
    client = cls(**options)
    if settings.discord_gateway_url:
        pin_bot_gateway(client, settings.discord_gateway_url)
    client._setup(settings, Conversation(engine, state, resolver))
    return client


async def run_discord(settings: Settings, engine: "Engine", state: StateStore, resolver: "LinkResolver | None",
                      stop_event: asyncio.Event | None = None, *,
                      on_client: Callable[[discord.Client], None] | None = None, **options: Any) -> None:
    """Run until `stop_event` is set (or the connection ends for good); always closes the client cleanly.
    `on_client` sees the client before it connects (tests and benchmarks drive it through the fake)."""
    if not settings.discord_token:
        raise RuntimeError("DISCORD_BOT_TOKEN is not set")
    client = build_client(settings, engine, state, resolver, **options)
    if on_client is not None:
        on_client(client)
    runner = asyncio.create_task(client.start(settings.discord_token), name="discord-client")
    waiters: set[asyncio.Task[Any]] = {runner}
    stopper: asyncio.Task[Any] | None = None
    if stop_event is not None:
        stopper = asyncio.create_task(stop_event.wait(), name="discord-stop")
        waiters.add(stopper)
    try:
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if runner in done and (exc := runner.exception()) is not None:
            raise exc  # discord.py never puts the token in its exceptions ("Improper token")
    finally:
        if stopper is not None:
            stopper.cancel()
        await client.close()
        if not runner.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(runner, timeout=10)

"""The Discord adapter (discord.py 2.x): slash commands, a message context menu, persistent card buttons,
link lookups and the group moderation aid. Translates Discord events into Engine calls and Cards into
embeds (bot/adapters/discord_render.py). Rate limits and gateway reconnects are discord.py's job.

Safety: every message the bot sends carries AllowedMentions.none() (also set on the client), and user text
echoed back is escaped for markdown and mentions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any, Callable

import discord
import yarl
from discord import app_commands

from bot.adapters import discord_render as render
from bot.config import Settings
from bot.engine.cards import CheckResult
from bot.engine.urls import find_urls
from bot.moderation import Moderation
from bot.state import StateStore

if TYPE_CHECKING:
    from bot.engine.service import Engine
    from bot.links import LinkResolver

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
CHECK_TEXT_MAX = 4000  # slash option values are at most 6000 characters; the engine reads 4096
REFUSAL = "Sorry, only members who can manage messages or the server can change the moderation settings."
GUILD_ONLY = "This command only works in a server."
ERROR_TEXT = "Sorry, something went wrong while checking that. Nothing was lost; please try again."


# --- endpoints ------------------------------------------------------------------------------------------

class _PinnedGateway:
    """Installed on DiscordWebSocket.gateway when a gateway override is configured: every gateway URL the
    library would store (READY's resume_gateway_url, the default after an invalidated session) reads back
    as the override, so resumes cannot leave it. Without an override it behaves as a plain attribute."""

    pinned: yarl.URL | None = None

    def __get__(self, ws: Any, owner: type | None = None) -> Any:
        if ws is None:
            return self
        return self.pinned if self.pinned is not None else ws.__dict__.get("_cc_gateway")

    def __set__(self, ws: Any, value: Any) -> None:
        ws.__dict__["_cc_gateway"] = value


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py at Settings' REST and gateway endpoints (a local fake, a proxy, a mirror).

    In discord.py 2.x the REST base is the class attribute `Route.BASE`, read at every request (webhook and
    interaction-callback routes build the same `Route`). The gateway is `DiscordWebSocket.DEFAULT_GATEWAY`
    for a plain client's first connection; AutoShardedClient instead takes the URL from GET /gateway/bot
    (patched per client in `build_client`), and resumes use READY's `resume_gateway_url` (pinned here).
    Both are process-wide in the library, so one process talks to one Discord."""
    if settings.discord_api_base_url:
        discord.http.Route.BASE = settings.discord_api_base_url.rstrip("/")
    ws_cls = discord.gateway.DiscordWebSocket
    if settings.discord_gateway_url:
        url = yarl.URL(settings.discord_gateway_url)
        ws_cls.DEFAULT_GATEWAY = url
        if not isinstance(ws_cls.__dict__.get("gateway"), _PinnedGateway):
            ws_cls.gateway = _PinnedGateway()  # type: ignore[assignment]
        ws_cls.__dict__["gateway"].pinned = url
    elif isinstance(ws_cls.__dict__.get("gateway"), _PinnedGateway):
        ws_cls.__dict__["gateway"].pinned = None


def _pin_bot_gateway(client: discord.Client, gateway_url: str) -> None:
    """AutoShardedClient asks REST for the gateway URL; with an override, connect to the override."""
    original = client.http.get_bot_gateway

    async def get_bot_gateway() -> tuple[int, str, Any]:
        shards, _url, limits = await original()
        return shards, gateway_url, limits

    client.http.get_bot_gateway = get_bot_gateway  # type: ignore[method-assign]


# --- helpers --------------------------------------------------------------------------------------------

def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Messages or Manage Server in this channel (as Discord resolved it for the interaction)."""
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return bool(perms.manage_messages or perms.manage_guild or perms.administrator)


def _member_is_moderator(member: discord.abc.User | None) -> bool:
    perms = getattr(member, "guild_permissions", None)
    return bool(perms and (perms.manage_messages or perms.manage_guild or perms.administrator))


def chat_id_of(interaction: discord.Interaction) -> str:
    """Moderation settings are per server; DMs are per channel."""
    return str(interaction.guild_id or interaction.channel_id)


def _custom_id(kind: str, claim_id: str) -> str:
    cid = f"cc:{kind}:{claim_id}"
    return cid if len(cid) <= render.CUSTOM_ID_MAX else f"cc:{kind}"  # long ids: read from the card footer


# --- persistent buttons ---------------------------------------------------------------------------------
# DynamicItem: the claim id lives in the custom_id, so buttons keep working after a restart.

class _CardButton(discord.ui.DynamicItem[discord.ui.Button], template=r"cc:(?P<kind>[srwh])(?::(?P<claim>[a-z0-9-]+))?"):
    LABELS = {"s": ("Sources", discord.ButtonStyle.secondary), "r": ("Related", discord.ButtonStyle.secondary),
              "w": ("Wrong match", discord.ButtonStyle.danger), "h": ("Helpful", discord.ButtonStyle.success)}

    def __init__(self, kind: str, claim_id: str | None) -> None:
        label, style = self.LABELS[kind]
        custom_id = _custom_id(kind, claim_id) if claim_id else f"cc:{kind}"
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.kind, self.claim_id = kind, claim_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(match["kind"], match["claim"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client: ClaimContextMixin = interaction.client  # type: ignore[assignment]
        await client.on_card_button(interaction, self.kind, self.claim_id)


def card_view(claim_id: str | None, *, has_related: bool = True) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if claim_id is None:
        return view
    kinds = ["s"] + (["r"] if has_related else []) + ["w", "h"]
    for kind in kinds:
        view.add_item(_CardButton(kind, claim_id))
    return view


# --- the client -----------------------------------------------------------------------------------------

class ClaimContextMixin:
    """Behaviour shared by the plain and the auto-sharded client."""

    engine: "Engine"
    state: StateStore
    resolver: "LinkResolver | None"
    settings: Settings
    tree: app_commands.CommandTree
    moderation: Moderation | None

    def _setup(self, settings: Settings, engine: "Engine", state: StateStore, resolver: "LinkResolver | None") -> None:
        self.settings, self.engine, self.state, self.resolver = settings, engine, state, resolver
        try:
            self.moderation = Moderation(state)
        except NotImplementedError:  # contract not landed: the adapter still answers commands
            self.moderation = None
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self._register_commands()
        self.handled_events = 0

    # -- start-up --------------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        self.add_dynamic_items(_CardButton)  # type: ignore[attr-defined]
        guild_id = self.settings.discord_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d application commands (%s)", len(synced), f"guild {guild_id}" if guild_id else "global")

    # -- engine calls (sync SQLite work goes to a thread so the gateway heartbeat never waits) ---------
    async def check_text(self, text: str) -> CheckResult:
        if self.resolver is not None and find_urls(text):
            return await self.engine.check_message(text, self.resolver)
        return await asyncio.to_thread(self.engine.check, text)

    async def _reply_kwargs(self, result: CheckResult, checked_text: str) -> dict[str, Any]:
        card = result.card
        return {
            "embeds": render.result_embeds(result, checked_text=checked_text),
            "view": card_view(card.claim_id if card else None, has_related=bool(card and card.related)),
            "allowed_mentions": NO_MENTIONS,
        }

    # -- commands --------------------------------------------------------------------------------------
    def _register_commands(self) -> None:
        tree = self.tree

        @tree.command(name="check", description="Check a headline, claim or link against the known claims")
        @app_commands.describe(text="The headline, claim or URL to check")
        async def check(interaction: discord.Interaction, text: app_commands.Range[str, 1, CHECK_TEXT_MAX]) -> None:
            await self.answer_check(interaction, text)

        @tree.command(name="sources", description="List every source cited for a known claim")
        @app_commands.describe(claim="Claim id or words from its statement")
        async def sources(interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
            card = await asyncio.to_thread(self.engine.card, claim.strip())
            if card is None:
                await interaction.response.send_message(
                    f"No known claim has the id `{render.escape_user_text(claim, 100).replace('`', '')}`. "
                    "Pick one from the suggestions.", ephemeral=True, allowed_mentions=NO_MENTIONS)
                return
            await interaction.response.send_message(embeds=render.sources_embeds(card), allowed_mentions=NO_MENTIONS,
                                                    view=card_view(card.claim_id, has_related=bool(card.related)))

        @sources.autocomplete("claim")
        async def sources_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return await self.claim_choices(current)

        @tree.command(name="about", description="What this bot knows and where its knowledge comes from")
        async def about(interaction: discord.Interaction) -> None:
            info = await asyncio.to_thread(self.engine.about)
            await interaction.response.send_message(embeds=render.about_embeds(info), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)

        @tree.context_menu(name="Check claim")
        async def check_message(interaction: discord.Interaction, message: discord.Message) -> None:
            # The interaction's resolved message carries its content: no message-content intent needed.
            text = message.content or " ".join(filter(None, (e.title or e.description for e in message.embeds)))
            if not text.strip():
                await interaction.response.send_message("That message has no text to check.", ephemeral=True,
                                                        allowed_mentions=NO_MENTIONS)
                return
            await self.answer_check(interaction, text)

        mod = app_commands.Group(name="moderation", description="Auto-flag known claims in this server",
                                 guild_only=True, default_permissions=discord.Permissions(manage_messages=True))

        @mod.command(name="on", description="Turn auto-flagging of known claims on")
        async def mod_on(interaction: discord.Interaction) -> None:
            await self.update_moderation(interaction, enabled=True)

        @mod.command(name="off", description="Turn auto-flagging off")
        async def mod_off(interaction: discord.Interaction) -> None:
            await self.update_moderation(interaction, enabled=False)

        @mod.command(name="mode", description="Reply under the message, or only notify the log channel")
        @app_commands.choices(mode=[app_commands.Choice(name="reply", value="reply"),
                                    app_commands.Choice(name="notify", value="notify")])
        @app_commands.describe(mode="reply: publicly under the message; notify: only in the log channel")
        async def mod_mode(interaction: discord.Interaction, mode: app_commands.Choice[str]) -> None:
            await self.update_moderation(interaction, mode=mode.value)

        @mod.command(name="log", description="Channel where notices and repeats are posted")
        @app_commands.describe(channel="The moderators' channel")
        async def mod_log(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
            await self.update_moderation(interaction, log_chat_id=str(channel.id))

        @mod.command(name="cooldown", description="Hours before the same claim is flagged again in this server")
        @app_commands.describe(hours="0 to 168 hours")
        async def mod_cooldown(interaction: discord.Interaction, hours: app_commands.Range[int, 0, 168]) -> None:
            await self.update_moderation(interaction, cooldown_s=hours * 3600)

        @mod.command(name="quiet", description="No public replies between these hours (UTC); equal hours turn it off")
        @app_commands.rename(start="from", end="to")
        @app_commands.describe(start="Hour 0-23 UTC when quiet starts", end="Hour 0-23 UTC when quiet ends")
        async def mod_quiet(interaction: discord.Interaction, start: app_commands.Range[int, 0, 23],
                            end: app_commands.Range[int, 0, 23]) -> None:
            if start == end:
                await self.update_moderation(interaction, quiet_start=None, quiet_end=None)
            else:
                await self.update_moderation(interaction, quiet_start=start, quiet_end=end)

        @mod.command(name="mute", description="Never auto-flag this claim in this server")
        @app_commands.describe(claim="Claim id")
        async def mod_mute(interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
            await self.mute_claim(interaction, claim, mute=True)

        @mod.command(name="unmute", description="Auto-flag this claim again")
        @app_commands.describe(claim="Claim id")
        async def mod_unmute(interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
            await self.mute_claim(interaction, claim, mute=False)

        @mod_mute.autocomplete("claim")
        @mod_unmute.autocomplete("claim")
        async def mute_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return await self.claim_choices(current)

        @mod.command(name="status", description="Show this server's moderation settings")
        async def mod_status(interaction: discord.Interaction) -> None:
            if not await self._moderator_guard(interaction):
                return
            s = await asyncio.to_thread(self.moderation.settings, PLATFORM, chat_id_of(interaction))  # type: ignore[union-attr]
            await interaction.response.send_message(render.settings_text(s), ephemeral=True, allowed_mentions=NO_MENTIONS)

        tree.add_command(mod)

        @tree.command(name="flags", description="Recent auto-flags in this server")
        @app_commands.guild_only()
        @app_commands.default_permissions(manage_messages=True)
        async def flags(interaction: discord.Interaction) -> None:
            if not await self._moderator_guard(interaction):
                return
            rows = await asyncio.to_thread(self.moderation.recent_flags, PLATFORM, chat_id_of(interaction), 20)  # type: ignore[union-attr]
            await interaction.response.send_message(embeds=render.flags_embeds(rows), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)

    async def claim_choices(self, current: str) -> list[app_commands.Choice[str]]:
        pairs = await asyncio.to_thread(self.engine.complete_claims, (current or "")[:100], limit=render.CHOICES_MAX)
        return [app_commands.Choice(name=render.choice_name(cid, statement), value=cid)
                for cid, statement in pairs[: render.CHOICES_MAX] if len(cid) <= render.CUSTOM_ID_MAX]

    async def answer_check(self, interaction: discord.Interaction, text: str) -> None:
        """A check is answered within Discord's 3 s: directly when it is local, deferred when a link is fetched."""
        deferred = False
        if self.resolver is not None and find_urls(text):
            await interaction.response.defer(thinking=True)
            deferred = True
        try:
            result = await self.check_text(text)
            kwargs = await self._reply_kwargs(result, text)
        except Exception:
            log.exception("check failed")
            if deferred:
                await interaction.followup.send(ERROR_TEXT, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(ERROR_TEXT, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        if deferred:
            await interaction.edit_original_response(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)

    # -- moderation commands ---------------------------------------------------------------------------
    async def _moderator_guard(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            await interaction.response.send_message(GUILD_ONLY, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        if not is_moderator(interaction):
            await interaction.response.send_message(REFUSAL, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return False
        if self.moderation is None:
            await interaction.response.send_message("Moderation is not available in this version.", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return False
        return True

    async def update_moderation(self, interaction: discord.Interaction, **changes: Any) -> None:
        if not await self._moderator_guard(interaction):
            return
        try:
            s = await asyncio.to_thread(self.moderation.update, PLATFORM, chat_id_of(interaction), **changes)  # type: ignore[union-attr]
        except ValueError as e:
            msg = str(e)
            if "log_chat_id" in msg and "notify" in msg:
                msg = "Notify mode needs a log channel first: use /moderation log channel:<channel>."
            await interaction.response.send_message(render.truncate(f"Not changed: {msg}", render.CONTENT_MAX),
                                                    ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.send_message(render.settings_text(s), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def mute_claim(self, interaction: discord.Interaction, claim: str, *, mute: bool) -> None:
        if not await self._moderator_guard(interaction):
            return
        claim = claim.strip()
        if mute and await asyncio.to_thread(self.engine.card, claim) is None:
            await interaction.response.send_message("No known claim has that id; pick one from the suggestions.",
                                                    ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        fn = self.moderation.mute if mute else self.moderation.unmute  # type: ignore[union-attr]
        s = await asyncio.to_thread(fn, PLATFORM, chat_id_of(interaction), claim)
        await interaction.response.send_message(render.settings_text(s), ephemeral=True, allowed_mentions=NO_MENTIONS)

    # -- buttons ---------------------------------------------------------------------------------------
    async def on_card_button(self, interaction: discord.Interaction, kind: str, claim_id: str | None) -> None:
        embeds = interaction.message.embeds if interaction.message else []
        claim_id = claim_id or (render.claim_id_of(embeds[0]) if embeds else None)
        card = await asyncio.to_thread(self.engine.card, claim_id) if claim_id else None
        if card is None:
            await interaction.response.send_message("That claim is no longer in the knowledge base.", ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
            return
        if kind == "s":
            await interaction.response.send_message(embeds=render.sources_embeds(card), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
        elif kind == "r":
            await interaction.response.send_message(embeds=render.related_embeds(card), ephemeral=True,
                                                    allowed_mentions=NO_MENTIONS)
        else:
            text = self._checked_text(interaction)
            await asyncio.to_thread(self._record_feedback, interaction, card.claim_id, "wrong" if kind == "w" else "helpful", text)
            reply = ("Thanks: reported to the curators." if kind == "w" else "Thanks for the feedback.")
            if kind == "w" and is_moderator(interaction):
                reply += " This claim will no longer be auto-flagged for this text here."
            await interaction.response.send_message(reply, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @staticmethod
    def _checked_text(interaction: discord.Interaction) -> str:
        """The text the card answered: the message it replies to, else the echo in the card."""
        msg = interaction.message
        if msg is None:
            return ""
        ref = msg.reference
        if ref is not None and isinstance(ref.resolved, discord.Message) and ref.resolved.content:
            return ref.resolved.content
        return render.checked_text_of(msg.embeds[0]) if msg.embeds else ""

    def _record_feedback(self, interaction: discord.Interaction, claim_id: str, kind: str, text: str) -> None:
        chat, user, admin = chat_id_of(interaction), interaction.user.id, is_moderator(interaction)
        existing = self.state.query(
            "SELECT 1 FROM feedback WHERE platform = ? AND chat_id = ? AND user_id = ? AND claim_id = ? AND kind = ? AND text = ?",
            (PLATFORM, chat, str(user), claim_id, kind, text[:4096]))
        if existing:
            return  # a double click is one opinion
        if kind == "wrong" and self.moderation is not None:
            try:  # records the feedback row itself, and from a moderator stops re-flagging this text here
                self.moderation.wrong_match(PLATFORM, chat, claim_id, text, user, is_admin=admin)
                return
            except NotImplementedError:
                pass
        self.state.add_feedback(platform=PLATFORM, chat_id=chat, user_id=user, claim_id=claim_id, kind=kind,
                                text=text, is_admin=admin)

    # -- messages --------------------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        await self._handle_message(message, edited=False)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        if message.edited_at is None:
            return  # an embed unfurl or a flag change, not an edit by the author
        await self._handle_message(message, edited=True)

    async def _handle_message(self, message: discord.Message, *, edited: bool) -> None:
        if message.author.bot or message.webhook_id is not None or message.author == self.user:  # type: ignore[attr-defined]
            return
        text = message.content or ""
        if not text.strip():
            return
        try:
            if message.guild is None:
                if not edited:
                    await self._answer_dm(message, text)
                return
            if self.user is not None and self.user.mentioned_in(message) and not message.mention_everyone and not edited:  # type: ignore[attr-defined]
                await self._answer_mention(message, text)
                return
            await self._moderate(message, text, edited=edited)
        except discord.HTTPException:
            log.exception("Discord refused a reply to message %s", message.id)
        except Exception:
            log.exception("message %s could not be handled", message.id)
        finally:
            self.handled_events += 1  # user messages fully handled (benchmarks and tests count them)

    async def _answer_dm(self, message: discord.Message, text: str) -> None:
        result = await self.check_text(text)
        await message.reply(**await self._reply_kwargs(result, text), mention_author=False)

    async def _answer_mention(self, message: discord.Message, text: str) -> None:
        text = re.sub(rf"<@!?{self.user.id}>", " ", text).strip()  # type: ignore[union-attr]
        if not text:
            return
        result = await self.check_text(text)
        await message.reply(**await self._reply_kwargs(result, text), mention_author=False)

    async def _moderate(self, message: discord.Message, text: str, *, edited: bool) -> None:
        mod = self.moderation
        if mod is None:
            return
        guild_id = message.guild.id  # type: ignore[union-attr]
        settings = await asyncio.to_thread(mod.settings, PLATFORM, guild_id)
        if not settings.enabled:
            return  # the common path: one indexed read, no engine work
        result = await self.check_text(text)
        decision = await asyncio.to_thread(mod.decide, PLATFORM, guild_id, message.id, text, result,
                                           message_link=message.jump_url, edited=edited)
        if decision.action == "reply":
            await message.reply(**await self._reply_kwargs(result, text), mention_author=False)
        elif decision.action == "notify" and settings.log_chat_id:
            channel = self.get_channel(int(settings.log_chat_id))  # type: ignore[attr-defined]
            if channel is None:
                log.warning("log channel %s of guild %s is not visible", settings.log_chat_id, guild_id)
                return
            kwargs = await self._reply_kwargs(result, text)
            author = render.escape_user_text(message.author.display_name, 80)
            kwargs["content"] = render.truncate(
                f"Known claim posted by {author} in <#{message.channel.id}>: {message.jump_url}", render.CONTENT_MAX)
            await channel.send(**kwargs)

    # -- errors ----------------------------------------------------------------------------------------
    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("command %s failed: %r", interaction.command and interaction.command.qualified_name, error,
                  exc_info=error)
        text = REFUSAL if isinstance(error, app_commands.CheckFailure) else ERROR_TEXT
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


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
    cls = ShardedClaimContextClient if settings.discord_sharded else ClaimContextClient
    client = cls(**options)
    if settings.discord_gateway_url:
        _pin_bot_gateway(client, settings.discord_gateway_url)
    client._setup(settings, engine, state, resolver)
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
        if runner in done:
            exc = runner.exception()
            if exc is not None:
                # discord.py never puts the token in its exceptions; LoginFailure says only "Improper token".
                raise exc
    finally:
        if stopper is not None:
            stopper.cancel()
        await client.close()
        if not runner.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(runner, timeout=10)

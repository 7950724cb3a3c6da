"""Application commands: the public ones (check, sources, about, flags, the "Check claim" message menu) and
the `/moderation` group. Each callback translates its options into one chat-layer call on the client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.adapters.discord.render import CHOICES_MAX, CUSTOM_ID_MAX, choice_name
from bot.chat.i18n import N_, language_of, translator

if TYPE_CHECKING:
    from bot.adapters.discord.client import ClaimContextMixin

CHECK_TEXT_MAX = 4000  # slash option values are at most 6000 characters; the engine reads 4096
# TRANSLATORS: the message menu entry (Apps > Check claim); at most 32 characters.
CHECK_CLAIM = N_("Check claim")


def _client(interaction: discord.Interaction) -> "ClaimContextMixin":
    return interaction.client  # type: ignore[return-value]


async def claim_choices(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    pairs = await _client(interaction).conversation_search_ids(current or "")
    return [app_commands.Choice(name=choice_name(cid, statement), value=cid)
            for cid, statement in pairs[:CHOICES_MAX] if len(cid) <= CUSTOM_ID_MAX]


# --- public commands --------------------------------------------------------------------------------------

@app_commands.describe(text=N_("The headline, claim or URL to check"))
async def check(interaction: discord.Interaction, text: app_commands.Range[str, 1, CHECK_TEXT_MAX]) -> None:
    await _client(interaction).answer_check(interaction, text)


@app_commands.describe(claim=N_("Claim id or words from its statement"))
async def sources(interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
    await _client(interaction).answer_sources(interaction, claim)


async def about(interaction: discord.Interaction) -> None:
    await _client(interaction).answer_about(interaction)


async def flags(interaction: discord.Interaction) -> None:
    await _client(interaction).answer_flags(interaction)


async def check_message(interaction: discord.Interaction, message: discord.Message) -> None:
    # The interaction's resolved message carries its content and attachments: no message-content intent needed.
    text = message.content or " ".join(filter(None, (e.title or e.description for e in message.embeds)))
    client = _client(interaction)
    await client.answer_check(interaction, text, client.attachments.images(message))


def public_commands() -> list[Any]:
    """Fresh command objects for one client's tree (the callbacks are shared)."""
    src = app_commands.Command(name="sources", description=N_("List every source cited for a known claim"), callback=sources)
    src.autocomplete("claim")(claim_choices)
    flg = app_commands.Command(name="flags", description=N_("Recent auto-flags in this server"), callback=flags)
    flg.guild_only = True
    flg.default_permissions = discord.Permissions(manage_messages=True)
    return [app_commands.Command(name="check", description=N_("Check a headline, claim or link against the known claims"),
                                 callback=check),
            src,
            app_commands.Command(name="about", description=N_("What this bot knows and where its knowledge comes from"),
                                 callback=about),
            flg,
            app_commands.ContextMenu(name=CHECK_CLAIM, callback=check_message)]


# --- /moderation ------------------------------------------------------------------------------------------

class ModerationGroup(app_commands.Group, name="moderation", description=N_("Auto-flag known claims in this server"),
                      guild_only=True, default_permissions=discord.Permissions(manage_messages=True)):
    """Every subcommand is one settings change (or view) through the chat layer."""

    async def _change(self, interaction: discord.Interaction, **changes: Any) -> None:
        await _client(interaction).answer_settings(interaction, changes)

    @app_commands.command(name="on", description=N_("Turn auto-flagging of known claims on"))
    async def on(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, enabled=True)

    @app_commands.command(name="off", description=N_("Turn auto-flagging off"))
    async def off(self, interaction: discord.Interaction) -> None:
        await self._change(interaction, enabled=False)

    @app_commands.command(name="mode", description=N_("Reply under the message, or only notify the log channel"))
    @app_commands.choices(mode=[app_commands.Choice(name="reply", value="reply"),
                                app_commands.Choice(name="notify", value="notify")])
    @app_commands.describe(mode=N_("reply: publicly under the message; notify: only in the log channel"))
    async def mode(self, interaction: discord.Interaction, mode: app_commands.Choice[str]) -> None:
        await self._change(interaction, mode=mode.value)

    @app_commands.command(name="log", description=N_("Channel where notices and repeats are posted"))
    @app_commands.describe(channel=N_("The moderators' channel"))
    async def log(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await self._change(interaction, log_chat_id=str(channel.id))

    @app_commands.command(name="cooldown", description=N_("Hours before the same claim is flagged again in this server"))
    @app_commands.describe(hours=N_("0 to 168 hours"))
    async def cooldown(self, interaction: discord.Interaction, hours: app_commands.Range[int, 0, 168]) -> None:
        await self._change(interaction, cooldown_s=hours * 3600)

    @app_commands.command(name="quiet", description=N_("No public replies between these hours (UTC); equal hours turn it off"))
    @app_commands.rename(start="from", end="to")
    @app_commands.describe(start=N_("Hour 0-23 UTC when quiet starts"), end=N_("Hour 0-23 UTC when quiet ends"))
    async def quiet(self, interaction: discord.Interaction, start: app_commands.Range[int, 0, 23],
                    end: app_commands.Range[int, 0, 23]) -> None:
        await self._change(interaction, quiet_start=None if start == end else start, quiet_end=None if start == end else end)

    @app_commands.command(name="threshold", description=N_("Extra minimum match score before a card is posted (0 to 1)"))
    @app_commands.describe(score=N_("0 keeps the engine's own decision; higher posts fewer cards"))
    async def threshold(self, interaction: discord.Interaction, score: app_commands.Range[float, 0.0, 1.0]) -> None:
        await self._change(interaction, threshold=score)

    @app_commands.command(name="mute", description=N_("Never auto-flag this claim in this server"))
    @app_commands.describe(claim=N_("Claim id"))
    @app_commands.autocomplete(claim=claim_choices)
    async def mute(self, interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
        await _client(interaction).answer_mute(interaction, claim, mute=True)

    @app_commands.command(name="unmute", description=N_("Auto-flag this claim again"))
    @app_commands.describe(claim=N_("Claim id"))
    @app_commands.autocomplete(claim=claim_choices)
    async def unmute(self, interaction: discord.Interaction, claim: app_commands.Range[str, 1, 200]) -> None:
        await _client(interaction).answer_mute(interaction, claim, mute=False)

    @app_commands.command(name="status", description=N_("Show this server's moderation settings"))
    async def status(self, interaction: discord.Interaction) -> None:
        await self._change(interaction)


# --- localisation -----------------------------------------------------------------------------------------

class CommandTranslator(app_commands.Translator):
    """Command, option and group descriptions (and the message menu's name) in every Discord locale we have
    a catalogue for. Slash command and option names stay as typed (/check in every language). Discord has
    no Arabic or Persian client locale, so those users see the English descriptions; answers still follow
    the interaction's locale (see responder.interaction_translator)."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        lang = language_of(locale.value)
        where = context.location
        Location = app_commands.TranslationContextLocation
        menu_name = where is Location.command_name and isinstance(context.data, app_commands.ContextMenu)
        if lang == "en" or not (menu_name or where in (Location.command_description, Location.group_description,
                                                       Location.parameter_description)):
            return None
        t = translator(lang)
        if not t.has(string.message):
            return None
        text = t(string.message)
        return text[:32] if menu_name else text[:100]

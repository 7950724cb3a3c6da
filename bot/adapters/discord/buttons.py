"""Persistent card buttons: the action and claim id live in the custom_id, so they work after a restart."""

from __future__ import annotations

import re

import discord

from bot.adapters.discord.render import CUSTOM_ID_MAX
from bot.chat import texts
from bot.chat.i18n import EN, Translator
from bot.chat.messages import Action, ActionKind
from bot.engine.knowledge import CLAIM_ID

STYLES = {ActionKind.SOURCES: discord.ButtonStyle.secondary, ActionKind.RELATED: discord.ButtonStyle.secondary,
          ActionKind.WRONG: discord.ButtonStyle.danger, ActionKind.HELPFUL: discord.ButtonStyle.success}


def custom_id(action: Action) -> str:
    cid = f"cc:{action.kind.value}:{action.claim_id}"
    return cid if len(cid) <= CUSTOM_ID_MAX else f"cc:{action.kind.value}"  # long ids: read from the card footer


class CardButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"cc:(?P<kind>[srwh])(?::(?P<claim>{CLAIM_ID}))?"):
    def __init__(self, kind: ActionKind, claim_id: str | None, t: Translator = EN) -> None:
        action = Action(kind, claim_id or "")
        super().__init__(discord.ui.Button(label=texts.action_label(kind, t), style=STYLES[kind],
                                           custom_id=custom_id(action) if claim_id else f"cc:{kind.value}"))
        self.kind, self.claim_id = kind, claim_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /):
        return cls(ActionKind.from_code(match["kind"]), match["claim"])  # type: ignore[arg-type]

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.on_card_button(interaction, self.kind, self.claim_id)  # type: ignore[attr-defined]


def actions_view(actions: tuple[Action, ...], t: Translator = EN) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for a in actions:
        if a.kind in STYLES:
            view.add_item(CardButton(a.kind, a.claim_id, t))
    return view

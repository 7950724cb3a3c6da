"""Discord as a fleet: processes running shard ranges of one shard count against the fake gateway, on one
PostgreSQL state database (each harness here is one process's client, with its own connection pool)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.moderation import Moderation
from tests.test_discord_adapter import IRAN, answer, discord_db, is_reply  # noqa: F401

try:
    from tests.fakes.discord_api import BotHarness, FakeDiscord
except ImportError:  # tests/ itself on sys.path
    from fakes.discord_api import BotHarness, FakeDiscord  # type: ignore[no-redef]

SHARDS = 4


class ShardHarness(BotHarness):
    """A process that runs `shard_ids` of SHARDS shards (DISCORD_SHARD_IDS / DISCORD_SHARD_COUNT)."""

    def __init__(self, *args: Any, shard_ids: tuple[int, ...], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.shard_ids = shard_ids

    def settings(self) -> Any:
        from dataclasses import replace

        return replace(super().settings(), discord_sharded=True, discord_shard_ids=self.shard_ids,
                       discord_shard_count=SHARDS)


def shard_of(guild_id: int) -> int:
    return (guild_id >> 22) % SHARDS


def guild_on_shard(fake: FakeDiscord, shard: int) -> int:
    base = fake.guild_id >> 22
    return ((base + (shard - base % SHARDS) % SHARDS) << 22) | 77  # same time range, the wanted shard


async def test_two_processes_with_shard_ranges_share_the_guilds_and_the_settings(discord_db: Path, pg_url: str) -> None:
    async with FakeDiscord(shards=SHARDS) as fake:
        fake.extra_guild_ids = [guild_on_shard(fake, s) for s in range(SHARDS) if s != shard_of(fake.guild_id)]
        a = ShardHarness(discord_db, pg_url, fake=fake, shard_ids=(0, 1))
        b = ShardHarness(discord_db, pg_url, fake=fake, shard_ids=(2, 3))
        await a.start()
        await b.start()
        try:
            await fake.wait_identified(SHARDS)
            # each shard identified exactly once, with its own (shard, count) pair
            assert sorted(tuple(p["shard"]) for p in fake.identify_payloads) == [(s, SHARDS) for s in range(SHARDS)]
            owner, other = (a, b) if shard_of(fake.guild_id) in (0, 1) else (b, a)
            assert {g.id for g in owner.client.guilds} >= {fake.guild_id}
            assert fake.guild_id not in {g.id for g in other.client.guilds}

            # the admin turns moderation on through the owning process...
            await answer(owner, fake.slash("moderation", sub="on", user=fake.admin))
            # ...and the other process reads the same setting from the shared state at once
            assert Moderation(other.state).settings("discord", fake.guild_id).enabled is True

            # a guild's events reach only its shard's process
            handled = (owner.handled, other.handled)
            await fake.send_message(IRAN, author=fake.member)
            for _ in range(200):
                if owner.handled > handled[0]:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            assert (owner.handled - handled[0], other.handled - handled[1]) == (1, 0)
            cards = [c for c in fake.channel_posts(fake.channel_id) if is_reply(c)]
            assert len(cards) == 1  # the setting made through the owner flagged the claim, once
        finally:
            await a.close()
            await b.close()

        # both stop; a new process takes the owner's shard range over and finds the setting in place
        c = ShardHarness(discord_db, pg_url, fake=fake, shard_ids=owner.shard_ids)
        await c.start(timeout=30)
        try:
            before = len([x for x in fake.channel_posts(fake.channel_id) if is_reply(x)])
            await fake.send_message("Pentagon says " + IRAN.lower() + " again", author=fake.member)
            for _ in range(200):
                if c.handled:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            after = [x for x in fake.channel_posts(fake.channel_id) if is_reply(x)]
            # moderation is still on: the repeat is handled (a count within the cooldown, so no second card)
            assert c.handled == 1 and len(after) == before
            flags = c.state.query("SELECT action FROM flags ORDER BY id")
            assert [f["action"] for f in flags] == ["reply", "count"]
        finally:
            await c.close()

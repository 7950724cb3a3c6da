"""Console adapter: an interactive chat in the terminal that answers exactly like the bots do."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.engine.cards import render_result_text, render_text
from bot.engine.service import Engine

HELP = """claim-context console. Paste a headline, a message or a link and get what is known about it.
Commands: /sources <claim id>  /about  /help  /quit
Example: US intelligence claims Iran paid Taliban to kill American troops"""


async def answer(line: str, engine: Engine, resolver=None) -> str:
    """One reply for one input line (commands or a message to check)."""
    line = line.strip()
    if not line:
        return ""
    if line in ("/help", "/start"):
        return HELP
    if line == "/about":
        a = engine.about()
        return (f"{a['claims']} claims ({a['curated_claims']} curated), {a['outlet_domains']} outlet domains; "
                f"last reviewed {a['last_reviewed']}.\nSources:\n" + "\n".join(f"- {s}" for s in a["sources"]))
    if line.startswith("/sources"):
        arg = line.removeprefix("/sources").strip()
        card = engine.card(arg) if arg else None
        if card is None and arg:
            found = engine.search(arg, limit=1)
            card = engine.card(found.matches[0].id) if found.matches else None
        return render_text(card) if card else "Give a claim id, e.g. /sources iran-taliban-bounties-2020"
    return render_result_text(await engine.check_message(line, resolver))


async def run_console(engine: Engine, resolver=None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    interactive = stdin.isatty()
    print(HELP, file=stdout)
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            print("\n> ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            break
        reply = await answer(line, engine, resolver)
        if reply:
            print(reply, file=stdout, flush=True)
            if not interactive:
                print("", file=stdout)

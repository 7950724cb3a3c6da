"""Console adapter: a chat in the terminal that answers exactly like the bots do (the chat layer's
plain-text rendering), one private conversation. `/lang ru` answers in Russian from then on."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.chat.conversation import Conversation, with_text
from bot.chat.i18n import Translator, for_locale, language_of
from bot.chat.messages import HelpReply, Incoming, Reply
from bot.chat.render_text import console_help, render_reply

PLATFORM = "console"


class ConsoleResponder:
    def __init__(self, t: Translator | None = None) -> None:
        self.out: list[str] = []
        self.t = t or for_locale("")

    async def reply(self, reply: Reply) -> None:
        self.out.append(render_reply(reply, self.t))

    async def post(self, chat_id: str, reply: Reply) -> bool:
        return False  # the console is one chat

    async def runs(self, chat_id: str, user_id: str) -> bool:
        return False


async def answer(line: str, conversation: Conversation, locale: str = "") -> str:
    """One reply for one input line (a command or a message to check), in `locale`'s language."""
    line = line.strip()
    if not line:
        return ""
    out = ConsoleResponder(for_locale(locale))
    msg = Incoming(platform=PLATFORM, chat_id="console", user_id="console", text=line, locale=locale)
    command, _, arg = line.partition(" ")
    if command in ("/help", "/start"):
        await out.reply(HelpReply())
    elif command == "/about":
        await conversation.about(out)
    elif command == "/sources":
        await conversation.sources(msg, out, arg)
    else:
        await conversation.answer(with_text(msg, line), out)
    return "\n\n".join(out.out)


async def run_console(conversation: Conversation, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
                      locale: str = "") -> None:
    interactive = stdin.isatty()
    print(console_help(for_locale(locale)), file=stdout)
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            print("\n> ", end="", file=stdout, flush=True)
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            break
        command, _, arg = line.strip().partition(" ")
        if command == "/lang":
            locale = arg.strip()
            print(f"language: {language_of(locale)}", file=stdout, flush=True)
            continue
        reply = await answer(line, conversation, locale)
        if reply:
            print(reply, file=stdout, flush=True)
            if not interactive:
                print("", file=stdout)

# claim-context: Telegram and Discord bot. Tokens come only from the environment at run time:
#   docker run -e TELEGRAM_BOT_TOKEN=... -e DISCORD_BOT_TOKEN=... -v claim-state:/app/var claim-context
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge

# The same install steps as the README's run command, then the knowledge compiled at build time.
RUN python3 -m venv .venv && .venv/bin/pip install -e . \
    && .venv/bin/python -m bot knowledge build \
    && chown -R app:app /app/var

USER 10001
VOLUME ["/app/var"]
CMD [".venv/bin/python", "-m", "bot", "run"]

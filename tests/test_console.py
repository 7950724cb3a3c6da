"""`python -m bot run` with no token set starts the console adapter and answers like the bots."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_console(lines: list[str], knowledge_db: Path, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN")}
    env.update(CLAIM_CONTEXT_DB=str(knowledge_db), CLAIM_CONTEXT_STATE=str(tmp_path / "state.db"))
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], input="\n".join(lines) + "\n", capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_console_answers_the_three_headlines(knowledge_db, tmp_path):
    out = run_console([
        "US intelligence claims Iran paid Taliban to kill American troops",
        "Russia paid Taliban-linked militants to kill American soldiers",
        "China paid the Taliban bounties to kill US troops",
        "/about",
    ], knowledge_db, tmp_path)
    answers = out.split("CLAIM: ")
    assert "id: iran-taliban-bounties-2020" in answers[1] and "Related known claim" not in answers[1]
    assert "id: russia-gru-taliban-bounties-2020" in answers[2] and "Related known claim" not in answers[2]
    assert "Related known claim" in answers[3]  # China: never answered as a match
    assert "claims (" in out and "CC BY-SA 4.0" in out


def test_console_sources_and_unknown(knowledge_db, tmp_path):
    out = run_console(["/sources iran-taliban-bounties-2020", "my cat ate my homework again"], knowledge_db, tmp_path)
    assert "First report:" in out
    assert "No known claim matches this message." in out

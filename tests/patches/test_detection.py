"""Detection on the real installed stack, doctor findings, and the environment builder."""

from __future__ import annotations

import pytest

from swiftctl.envcheck.findings import Severity
from swiftctl.errors import UsageError
from swiftctl.patches import _probe, doctor_findings, needed_patch_ids, patch_environment
from swiftctl.patches.env import BOOT_DIR


def test_unknown_distribution_reads_as_absent():
    assert _probe.dist_version("no-such-distribution-xyz") is None
    assert _probe.source_text("no_such_module_xyz.activations") is None
    assert _probe.importable("no_such_module_xyz") is False


@pytest.mark.stack
def test_needed_on_this_stack_and_doctor_finding(monkeypatch):
    for name in ("PYTHONPATH", "SWIFTCTL_PATCHES", "VLLM_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    assert needed_patch_ids() == ["vllm-swift-plugin-torchvision"]
    (finding,) = doctor_findings()
    assert finding.code == "patch.needed.vllm-swift-plugin-torchvision"
    assert finding.severity is Severity.WARNING
    assert finding.fix.startswith('swiftctl train/infer/serve/eval apply it automatically; for a command run by hand: '
                                  'eval "$(swiftctl patch env)"; or export VLLM_PLUGINS=none')
    for name, value in patch_environment({}).items():
        monkeypatch.setenv(name, value)
    assert doctor_findings() == []


@pytest.mark.stack
def test_vllm_plugins_env_makes_the_plugin_patch_unneeded(monkeypatch):
    monkeypatch.setenv("VLLM_PLUGINS", "none")
    assert needed_patch_ids() == []


def test_environment_is_complete_and_idempotent():
    base = {"PATH": "/usr/bin", "PYTHONPATH": "/a:/b", "HF_TOKEN": "x"}
    env = patch_environment(base, ["gelu-tanh-alias"], force=True)
    assert env == {"PATH": "/usr/bin", "PYTHONPATH": f"{BOOT_DIR}:/a:/b", "HF_TOKEN": "x",
                   "SWIFTCTL_PATCHES": "gelu-tanh-alias"}
    assert patch_environment(env, ["gelu-tanh-alias"], force=True) == env
    assert base["PYTHONPATH"] == "/a:/b"  # the input is not modified
    assert patch_environment(base, []) == base


def test_unknown_id_raises_usage_error():
    with pytest.raises(UsageError, match="unknown patch 'nope'"):
        patch_environment({}, ["nope"])

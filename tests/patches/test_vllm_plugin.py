"""The vLLM plugin patch: vLLM's real plugin loader with ms-swift's real plugin, torchvision absent (this stack)."""

from __future__ import annotations

import pytest

from swiftctl.patches import patch_environment
from tests.patches.conftest import run_python

pytestmark = [pytest.mark.stack, pytest.mark.slow]

LOAD = '''
from vllm.plugins import load_general_plugins
try:
    load_general_plugins()
except ModuleNotFoundError as exc:
    print("PLUGINS FAILED:", exc)
    raise SystemExit(3)
print("PLUGINS LOADED")
'''


def test_plugin_loader_fails_bare_and_survives_patched(tmp_path, clean_env):
    bare = run_python(LOAD, clean_env, tmp_path, timeout=600)
    assert (bare.returncode, bare.stdout.strip()) == (3, "PLUGINS FAILED: No module named 'torchvision'"), bare.stderr

    patched = run_python(LOAD, patch_environment(clean_env, ["vllm-swift-plugin-torchvision"]), tmp_path, timeout=600)
    assert (patched.returncode, patched.stdout.strip()) == (0, "PLUGINS LOADED"), patched.stderr[-2000:]
    skipped = [line for line in patched.stderr.splitlines() if line.startswith("swiftctl-patches[")]
    assert len(skipped) == 1
    assert skipped[0].endswith("skipped ms-swift's vLLM plugin swift_uembed (UEmbed-2B only): "
                               "ModuleNotFoundError: No module named 'torchvision'")

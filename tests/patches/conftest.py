"""Helpers for the patch tests: real child Pythons, a real transformers, nothing mocked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs inside the child BEFORE the import under test: removes PytorchGELUTanh from the real
# transformers.activations right after its code runs, which is what transformers 4.57.x ships.
# It sits just before PathFinder, i.e. after swiftctl's finder, so swiftctl's hook sees the damaged module.
DROP_ALIAS = '''
import importlib.machinery, sys

class _Drop:
    def find_spec(self, name, path=None, target=None):
        if name != "transformers.activations":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        original = spec.loader.exec_module
        def exec_module(module):
            original(module)
            del module.PytorchGELUTanh
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(sys.meta_path.index(importlib.machinery.PathFinder), _Drop())
'''

IMPORT_OLD_NAME = '''
try:
    from transformers.activations import GELUTanh, PytorchGELUTanh
except ImportError as exc:
    print("IMPORT FAILED:", exc)
    sys.exit(3)
print("IMPORT OK:", PytorchGELUTanh is GELUTanh)
'''


def run_python(code: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def clean_env(monkeypatch) -> dict[str, str]:
    """os.environ without any patch or PYTHONPATH setting inherited from the developer's shell."""
    for name in ("PYTHONPATH", "SWIFTCTL_PATCHES", "SWIFTCTL_PATCH_REPORT"):
        monkeypatch.delenv(name, raising=False)
    import os

    return dict(os.environ)

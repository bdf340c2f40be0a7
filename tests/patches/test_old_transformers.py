"""(a) against a real release that lacks the name: transformers 4.57.6 from .fixtures (python -m
swiftctl.fixtures.old_transformers .fixtures), first on a child's PYTHONPATH."""

from __future__ import annotations

import os

import pytest

from swiftctl.fixtures.old_transformers import NAME
from swiftctl.patches import patch_environment
from tests.conftest import FIXTURES
from tests.patches.conftest import IMPORT_OLD_NAME, run_python

pytestmark = pytest.mark.stack


@pytest.fixture
def old_transformers():
    path = FIXTURES / NAME
    if not (path / "transformers" / "activations.py").is_file():
        message = f"{path} missing: run `python -m swiftctl.fixtures.old_transformers {FIXTURES}`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_real_4_57_6_lacks_the_name_and_the_patch_restores_it(tmp_path, clean_env, old_transformers):
    base = dict(clean_env, PYTHONPATH=str(old_transformers))
    code = "import sys, transformers; print('VERSION', transformers.__version__)\n" + IMPORT_OLD_NAME
    bare = run_python(code, base, tmp_path)
    assert bare.returncode == 3, bare.stderr[-2000:]
    assert bare.stdout.splitlines() == [
        "VERSION 4.57.6",
        f"IMPORT FAILED: cannot import name 'PytorchGELUTanh' from 'transformers.activations' "
        f"({old_transformers}/transformers/activations.py)"]

    patched = run_python(code, patch_environment(base, ["gelu-tanh-alias"], force=True), tmp_path)
    assert patched.returncode == 0, patched.stderr[-2000:]
    assert patched.stdout.splitlines() == ["VERSION 4.57.6", "IMPORT OK: True"]

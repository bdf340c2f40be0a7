"""(a) The alias patch, in real child processes importing the real transformers."""

from __future__ import annotations

import json
import re
import time

import pytest

from swiftctl.patches import patch_environment
from tests.patches.conftest import DROP_ALIAS, IMPORT_OLD_NAME, run_python

pytestmark = pytest.mark.stack


def test_old_name_fails_without_patch_and_works_with_it(tmp_path, clean_env):
    bare = run_python(DROP_ALIAS + IMPORT_OLD_NAME, clean_env, tmp_path)
    assert bare.returncode == 3, bare.stderr[-2000:]
    assert "IMPORT FAILED: cannot import name 'PytorchGELUTanh' from 'transformers.activations'" in bare.stdout

    env = patch_environment(clean_env, ["gelu-tanh-alias"], force=True, report=tmp_path / "report.jsonl")
    patched = run_python(DROP_ALIAS + IMPORT_OLD_NAME, env, tmp_path)
    assert patched.returncode == 0, patched.stderr[-2000:]
    assert patched.stdout.strip() == "IMPORT OK: True"
    lines = [json.loads(x) for x in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert [(x["id"], x["state"]) for x in lines] == [("gelu-tanh-alias", "applied")]


def test_child_that_never_imports_transformers_pays_nothing(tmp_path, clean_env):
    env = patch_environment(clean_env, ["gelu-tanh-alias", "vllm-swift-plugin-torchvision"], force=True)
    code = ("import sys, time; t = time.perf_counter(); "
            "from swiftctl.patches import runtime; "
            "heavy = [m for m in ('torch', 'transformers', 'swift', 'vllm') if m in sys.modules]; "
            "print(heavy, runtime.STATE)")
    started = time.perf_counter()
    proc = run_python(code, env, tmp_path)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("[] {'gelu-tanh-alias': 'waiting', 'vllm-swift-plugin-torchvision': 'waiting'}")
    assert elapsed < 10  # a bare interpreter plus stdlib imports; transformers alone takes seconds


def test_failing_apply_is_reported_and_program_runs(tmp_path, clean_env):
    """(d) GELUTanh removed too: the alias cannot be made; the failure is logged once, reported, and the program goes on."""
    drop_both = DROP_ALIAS.replace("del module.PytorchGELUTanh", "del module.PytorchGELUTanh, module.GELUTanh")
    code = drop_both + (
        "import transformers.activations as a\n"
        "import transformers.activations\n"
        "print('PROGRAM RAN TO THE END', hasattr(a, 'PytorchGELUTanh'))\n")
    env = patch_environment(clean_env, ["gelu-tanh-alias"], force=True, report=tmp_path / "report.jsonl")
    proc = run_python(code, env, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "PROGRAM RAN TO THE END False"
    failures = [line for line in proc.stderr.splitlines() if line.startswith("swiftctl-patches[")]
    assert len(failures) == 1, proc.stderr
    # Python words it "partially initialized module ... (most likely due to a circular import)": the hook runs
    # while the module is still being imported, which is the point.
    assert re.fullmatch(r"swiftctl-patches\[\d+\]: patch gelu-tanh-alias did not apply \(AttributeError: .*"
                        r"module 'transformers.activations' has no attribute 'GELUTanh'.*\); continuing without it "
                        r"\(see `swiftctl patch list`\)", failures[0]), failures[0]
    (line,) = (json.loads(x) for x in (tmp_path / "report.jsonl").read_text().splitlines())
    assert line["state"].startswith("failed: AttributeError")

"""`swiftctl eval --identity` on a real run (ms-swift, transformers backend): both conditions really differ in
the system prompt ms-swift rendered, the baseline runs side by side, and the JSON carries rates and differences."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"


def test_identity_probes_with_baseline(trained_project, tmp_path):
    probes = tmp_path / "probes.json"
    probes.write_text(json.dumps({"name": "mini", "version": 7, "prompts": ["你是谁？", "Are you Qwen?"]}))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "swiftctl", "eval", "--identity-prompts", str(probes), "--baseline",
                           "--backend", "transformers", "--max-new-tokens", "4", "--json", "--out", str(tmp_path / "ev")],
                          cwd=trained_project, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from tests.schemas.test_schemas import validate

    data = validate("eval", proc.stdout)  # the published schema, identity block included
    idr = data["identity"]
    assert (idr["prompt_set"], idr["version"], idr["names"]) == ("mini", 7, ["沐雪"])
    assert idr["names_from"] == f"the training system prompt '{SYSTEM}'"
    for key in ("model", "baseline"):
        with_sys, bare = idr[key]
        assert (with_sys["condition"], with_sys["system"], with_sys["prompts"]) == ("system", SYSTEM, 2)
        assert (bare["condition"], bare["system"], bare["prompts"]) == ("no system", None, 2)
        assert f"--system {shlex.quote(SYSTEM)} " in with_sys["command"]
        assert "--system '' " in bare["command"]  # ms-swift renders no system block for '' (template/base.py)
        assert ("--adapters" in with_sys["command"]) is (key == "model")
        assert set(idr[f"{key}_difference"]) == {"name_rate", "qwen_claims"}
        assert [a["prompt"] for a in with_sys["answers"]] == ["你是谁？", "Are you Qwen?"]
    assert data["summary"] is None and data["passed"] is True
    md = (tmp_path / "ev" / "eval.md").read_text(encoding="utf-8")
    assert "| model | no system | " in md and "| baseline | system | " in md

"""Identity probes: the built-in set is data (versioned, zh + en, ≥ 20), a user's file replaces or extends it; the
names come from the job's identity; the gate applies to both conditions. The real run is in test_identity_stack."""

from __future__ import annotations

import json

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.infer.evaluate import Gate
from swiftctl.infer.identity import Condition, IdentityReport, choose_names, gate_failures, load_prompts
from swiftctl.infer.target import Target


def test_builtin_set():
    s = load_prompts()
    assert s.source == "builtin" and s.version == 1 and len(s.prompts) >= 20
    langs = {p.lang for p in s.prompts}
    assert langs == {"zh", "en"}
    text = " ".join(p.prompt for p in s.prompts)
    for needle in ("你是谁", "你叫什么名字", "通义千问", "Who are you?", "What is your name?", "Are you Qwen?", "Who made you?"):
        assert needle in text
    assert len({p.id for p in s.prompts}) == len(s.prompts)


def test_user_file_replaces_or_extends(tmp_path):
    own = tmp_path / "mine.json"
    own.write_text(json.dumps({"version": 3, "prompts": ["沐雪是谁？", {"id": "x", "prompt": "Who?"}]}))
    s = load_prompts(own)
    assert [p.prompt for p in s.prompts] == ["沐雪是谁？", "Who?"] and s.version == 3
    own.write_text(json.dumps({"extends": "builtin", "prompts": ["沐雪是谁？"]}))
    assert len(load_prompts(own).prompts) == len(load_prompts().prompts) + 1


def test_bad_prompt_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"prompts": [{"id": "a"}]}))
    with pytest.raises(SwiftctlError, match=r'prompt 0 has no "prompt" text'):
        load_prompts(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(SwiftctlError, match=r'expected a JSON object with a "prompts" list'):
        load_prompts(bad)


def test_names_come_from_the_training_prompt_not_the_override():
    t = Target(model="m", system="你是沐雪", system_source="--system", args={"system": "你是一个名为沐雪的可爱AI女孩子"})
    assert choose_names(t, None) == (["沐雪"], "the training system prompt '你是一个名为沐雪的可爱AI女孩子'")
    assert choose_names(t, ["Muice"]) == (["Muice"], "--name")
    assert choose_names(Target(model="m", args={"model_name": ["小黄", "Xiao Huang"]}), None)[0] == ["小黄", "Xiao Huang"]
    assert choose_names(Target(model="m"), None) == ([], "none found (pass --name)")


def test_gate_on_both_conditions():
    conds = [Condition("system", "S", 4, 4, 0, 0), Condition("no system", None, 4, 1, 2, 1)]
    report = IdentityReport("p", 1, "builtin", ["沐雪"], "x", conds)
    assert report.difference(conds) == {"name_rate": 0.75, "qwen_claims": -2}
    assert gate_failures(report, Gate(min_name_rate=0.5)) == [
        "identity probes (no system): 2/4 answers claim to be Qwen/通义千问/Alibaba (allowed: 0)",
        "identity probes (no system): 1 answers contain a literal {{NAME}}-style placeholder (allowed: 0)",
        "identity probes (no system): names itself in 1/4 (< 0.5)"]


def test_eval_needs_something_to_evaluate(cli):
    res = cli("eval", "x")
    assert res.exit_code == 2
    assert res.stderr.splitlines()[0] == "error: nothing to evaluate: give --val FILE and/or --identity"

"""Preference/RL data checks (DS100-DS110): the stage corpus, shape mismatches, and ms-swift's own preprocessing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from swiftctl.data import spec
from swiftctl.data.check import check_files
from swiftctl.data.preference import check_stage

CORPUS = Path(__file__).parent / "corpus_stage"
CASES = sorted(CORPUS.glob("DS*.jsonl"))
NAME = re.compile(r"(DS\d{3})-L(\d+)-([a-z]+)-")
REPO = Path(__file__).resolve().parents[2]


def test_every_stage_rule_has_a_corpus_case():
    covered = {NAME.match(p.name).group(1) for p in CASES}
    assert {c for c in spec.rules() if c >= "DS100"} - {"DS109"} <= covered  # DS109: tested below


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_stage_rule_is_reported_at_its_line(cli, path):
    code, line, stage = NAME.match(path.name).groups()
    args = ["data", "check", str(path), "--stage", stage]
    if stage == "grpo":
        args += ["--reward", "accuracy"]
    rule = spec.rules()[code]
    result = cli(*args)
    assert result.exit_code == (1 if rule.severity == "error" else 0), result.stdout
    assert f"{path}:{line}: {code} {rule.severity}: {rule.name}: " in result.stdout
    report = json.loads(cli(*args, "--json").stdout)
    assert {(p["line"], p["code"]) for p in report["problems"]} == {(int(line), code)}  # nothing else flagged


def _check(path: Path, stage: str, **kw):
    return check_stage(check_files([path]), [path], stage, **kw)


def test_sft_data_in_a_dpo_job_says_what_was_found_and_how_to_convert():
    (p,) = _check(REPO / "jobs" / "data" / "muice-sample.jsonl", "dpo").problems
    assert (p.code, p.line) == ("DS109", 1)
    assert "found SFT conversations; stage 'dpo' needs preference pairs" in p.message
    assert "swiftctl data convert IN OUT --to dpo" in p.message


def test_dpo_data_in_an_sft_job_is_reported():
    (p,) = _check(REPO / "jobs" / "data" / "muice-dpo-sample.jsonl", "sft").problems
    assert p.code == "DS109" and "found preference pairs" in p.message and "stage = \"dpo\"" in p.message


def test_grpo_prompts_are_not_sft_errors_and_bundled_samples_are_clean():
    assert _check(REPO / "jobs" / "data" / "muice-grpo-sample.jsonl", "grpo", reward_funcs=["accuracy"]).ok
    assert _check(REPO / "jobs" / "data" / "muice-dpo-sample.jsonl", "dpo").ok
    assert not check_files([REPO / "jobs" / "data" / "muice-grpo-sample.jsonl"]).ok  # as SFT data: no answers


def test_persona_reference_column_is_required(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"messages": [{"role": "user", "content": "你是谁"}]}) + "\n", encoding="utf-8")
    report = _check(path, "grpo", reward_funcs=["swiftctl_persona"], reference_column="answer")
    assert [(p.code, p.line) for p in report.problems] == [("DS106", 1)] and "'answer'" in report.problems[0].message


@pytest.mark.stack
@pytest.mark.slow
def test_predictions_match_ms_swift_preprocessing(tmp_path):
    """Rows swiftctl says ms-swift drops (DS100 null, DS102) are the rows ms-swift's load_dataset removes; the rows it
    keeps (DS101 empty rejected, DS105 final assistant turn, a string KTO label) survive preprocessing unchanged."""
    files = {name: CORPUS / f"{name}.jsonl" for name in (
        "DS100-L2-dpo-null-rejected", "DS102-L2-dpo-rejected-equals-chosen", "DS101-L2-dpo-empty-rejected",
        "DS103-L2-kto-label-string", "DS105-L2-grpo-ends-with-assistant")}
    code = ("import json, sys; from swift.dataset import load_dataset\n"
            "for name, path in json.loads(sys.argv[1]).items():\n"
            "    ds, _ = load_dataset([path], num_proc=1, load_from_cache_file=False, remove_unused_columns=False)\n"
            "    print(name, len(ds))\n")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps({k: str(v) for k, v in files.items()})],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**__import__("os").environ, "MODELSCOPE_CACHE": str(tmp_path / "ms")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    kept = dict(line.split() for line in proc.stdout.splitlines() if line.startswith("DS"))
    for name, path in files.items():
        code_ = name[:5]
        predicted_lost = spec.rules()[code_].ms_swift in ("drop", "crash")
        stage = NAME.match(path.name).group(3)
        report = _check(path, stage, reward_funcs=["accuracy"] if stage == "grpo" else ())
        assert report.summary.rows_lost == (1 if predicted_lost else 0), name
        assert int(kept[name]) == 3 - report.summary.rows_lost, (name, kept[name])

"""`swiftctl infer` / `swiftctl eval` on the real stack: the tiny model trained by ms-swift, batch-run by vLLM CPU."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import SAMPLE_VAL

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"


def test_cli_batch_infer_on_vllm_writes_rows_atomically(cli, trained_lora_run, tmp_path):
    out = tmp_path / "infer.jsonl"
    out.write_text('{"old": "row"}\n')  # ms-swift would append to this; swiftctl replaces it (with --force)
    refused = cli("infer", str(trained_lora_run.parent), "--val", str(SAMPLE_VAL), "--out", str(out))
    assert refused.exit_code == 2 and "already exists" in refused.stderr  # checked before any work
    assert out.read_text() == '{"old": "row"}\n'
    started = time.monotonic()
    res = cli("infer", str(trained_lora_run.parent), "--val", str(SAMPLE_VAL), "--out", str(out),
              "--max-new-tokens", "8", "--force")
    assert res.exit_code == 0, res.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [json.loads(line) for line in SAMPLE_VAL.read_text().splitlines() if line.strip()]
    assert len(rows) == len(expected) == 6
    for row, src in zip(rows, expected, strict=True):
        assert row["labels"] == src["conversation"][0]["assistant"]
        assert row["messages"][0] == {"role": "system", "content": SYSTEM}
        assert isinstance(row["response"], str)
    assert "6 rows answered (vllm" in res.stderr, res.stderr[-2000:]
    assert time.monotonic() - started < 600
    assert not list(tmp_path.glob(".swiftctl-infer-*"))  # the temp result dir is gone


def test_cli_eval_writes_report_and_passes_default_gate(cli, trained_lora_run, tmp_path):
    res = cli("eval", str(trained_lora_run.parent), "--val", str(SAMPLE_VAL), "--out", str(tmp_path / "eval"),
              "--backend", "transformers", "--max-new-tokens", "8", "--json")
    assert res.exit_code == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)
    assert report["passed"] is True and report["names"] == ["沐雪"] and report["system"] == SYSTEM
    assert report["summary"]["rows"] == 6 and report["summary"]["identity_questions"] == 2
    assert json.loads((tmp_path / "eval" / "eval.json").read_text())["summary"] == report["summary"]
    assert len((tmp_path / "eval" / "rows.jsonl").read_text().splitlines()) == 6
    # a gate the random tiny model cannot meet: exit 1 with the reason
    res = cli("eval", str(trained_lora_run.parent), "--val", str(SAMPLE_VAL), "--backend", "transformers",
              "--max-new-tokens", "8", "--min-name-rate", "1")
    assert res.exit_code == 1
    assert "error: eval gate failed: answers to its name in 0/2 identity questions (< 1)" in res.stderr


def test_a_model_ms_swift_cannot_run_is_one_clear_error(cli, tmp_path):
    model = tmp_path / "weird"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["NoSuchForCausalLM"], "model_type": "nosuch"}))
    res = cli("infer", "--model", str(model), "--val", str(SAMPLE_VAL), "--out", str(tmp_path / "r.jsonl"))
    assert res.exit_code == 1
    lines = res.stderr.splitlines()
    assert lines[:3] == [f"model: {model}", "system prompt (none): (template default)",
                         "running swift infer (a vLLM engine takes ~1 min to start on CPU)..."]
    assert lines[3].startswith("error: swift infer failed (exit ")
    assert lines[4] == "  cause: this model architecture is not supported by the installed stack"
    assert lines[5].startswith("  last error: ValueError: The checkpoint you are trying to load has model type `nosuch`")
    assert lines[6].startswith("  fix: run it by hand to see everything: ")
    assert len(lines) == 7 and "Traceback" not in res.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_cli_eval_baseline_side_by_side(cli, trained_lora_run, tmp_path):
    res = cli("eval", str(trained_lora_run.parent), "--val", str(SAMPLE_VAL), "--backend", "transformers",
              "--max-new-tokens", "4", "--baseline", "--out", str(tmp_path / "eval"))
    assert res.exit_code == 0, res.stderr[-3000:]
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["baseline"]["rows"] == report["summary"]["rows"] == 6
    assert all(row["baseline"] is not None and isinstance(row["baseline"]["response"], str) for row in report["rows"])
    assert "baseline: ROUGE-L " in res.stdout
    assert "| baseline |" in (tmp_path / "eval" / "eval.md").read_text()

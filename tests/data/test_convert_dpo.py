"""`data convert --to dpo`: SFT + rejected answers, or eval results with the base model's answers as the rejected side."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from swiftctl.data.check import check_files
from swiftctl.data.preference import check_stage
from swiftctl.infer.evaluate import Answer, EvalRow

REPO = Path(__file__).resolve().parents[2]
SFT = REPO / "jobs" / "data" / "muice-sample.jsonl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_sft_plus_rejected_file_makes_clean_pairs(cli, tmp_path):
    n = len(SFT.read_text(encoding="utf-8").splitlines())
    rejected = tmp_path / "rej.jsonl"
    rejected.write_text("".join(json.dumps(f"我是通义千问 {i}", ensure_ascii=False) + "\n" for i in range(n)), "utf-8")
    out = tmp_path / "dpo.jsonl"
    result = cli("data", "convert", str(SFT), str(out), "--to", "dpo", "--rejected", str(rejected))
    assert result.exit_code == 0, result.stdout
    rows = _rows(out)
    assert len(rows) == n and rows[0]["rejected_response"] == "我是通义千问 0"
    assert rows[0]["messages"][-1]["role"] == "assistant" and rows[0]["messages"][0]["role"] == "system"
    assert check_stage(check_files([out]), [out], "dpo").ok
    again = cli("data", "convert", str(SFT), str(out), "--to", "dpo", "--rejected", str(rejected))
    assert again.exit_code == 2 and "OUT already exists" in again.stdout + again.stderr


def test_a_short_rejected_file_names_the_line_and_writes_nothing(cli, tmp_path):
    rejected = tmp_path / "rej.jsonl"
    rejected.write_text('"a"\n{"response": "b"}\n', encoding="utf-8")
    out = tmp_path / "dpo.jsonl"
    result = cli("data", "convert", str(SFT), str(out), "--to", "dpo", "--rejected", str(rejected))
    assert result.exit_code == 1
    assert f"{SFT}:3: " in result.stdout + result.stderr and "fewer answers" in result.stdout + result.stderr
    assert not out.exists() and not list(tmp_path.glob(".dpo.jsonl.*"))
    rejected.write_text('"a"\n42\n', encoding="utf-8")
    bad = cli("data", "convert", str(SFT), str(out), "--to", "dpo", "--rejected", str(rejected))
    assert bad.exit_code == 1 and f"{rejected}:2: " in bad.stdout + bad.stderr and not out.exists()


def _answer(text: str) -> Answer:
    return Answer(response=text, rouge_l=0.0, bleu=0.0, claims_qwen="千问" in text, placeholder=None, says_name=False)


def test_eval_baseline_answers_become_the_rejected_side_for_identity_prompts(cli, tmp_path):
    rows = [EvalRow(0, "你是沐雪", "你是谁？", "我是沐雪～", True, _answer("我是沐雪"), _answer("我是通义千问")),
            EvalRow(1, "你是沐雪", "讲个笑话", "好呀～", False, _answer("好"), _answer("不会")),
            EvalRow(2, "你是沐雪", "你叫什么名字？", "我叫沐雪", True, _answer("沐雪"), _answer("我叫沐雪"))]
    src = tmp_path / "eval.json"
    src.write_text(json.dumps({"rows": [dataclasses.asdict(r) for r in rows]}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "dpo.jsonl"
    result = cli("data", "convert", str(src), str(out), "--to", "dpo", "--baseline")
    assert result.exit_code == 0, result.stdout
    (row,) = _rows(out)  # row 1: not an identity prompt; row 2: baseline = reference, skipped
    assert row == {"messages": [{"role": "system", "content": "你是沐雪"}, {"role": "user", "content": "你是谁？"},
                                {"role": "assistant", "content": "我是沐雪～"}], "rejected_response": "我是通义千问"}
    both = cli("data", "convert", str(src), str(tmp_path / "all.jsonl"), "--to", "dpo", "--baseline", "--all-prompts")
    assert both.exit_code == 0 and len(_rows(tmp_path / "all.jsonl")) == 2
    no_side = cli("data", "convert", str(src), str(tmp_path / "x.jsonl"), "--to", "dpo")
    assert no_side.exit_code == 2 and "--rejected FILE" in no_side.stdout + no_side.stderr

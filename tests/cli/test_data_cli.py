"""`swiftctl data ...` end to end through the real error boundary: exact lines and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE, SAMPLE_VAL


def test_check_clean_sample(cli):
    result = cli("data", "check", str(SAMPLE), "--val", str(SAMPLE_VAL))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{SAMPLE} [train]: 28 rows, 37 assistant turns, format sharegpt, 0 rows lost",
        f"{SAMPLE_VAL} [val]: 6 rows, 6 assistant turns, format sharegpt, 0 rows lost",
        "ok: 0 errors, 0 warnings in 34 rows (0 would be lost)",
    ]


def test_check_missing_file_is_exit_2(cli, tmp_path):
    result = cli("data", "check", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.jsonl'}: no such file\n  fix: check the path\n"


def test_check_directory_is_exit_2(cli, tmp_path):
    result = cli("data", "check", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {tmp_path}: is a directory, not a jsonl file"


def test_max_length_without_model_is_exit_2(cli):
    result = cli("data", "check", str(SAMPLE), "--max-length", "10")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --max-length needs --model (tokens are counted with its tokenizer)",
                                          "  fix: add --model DIR, e.g. --model .fixtures/tiny-qwen2"]


def test_check_json_schema(cli, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "我是{{NAME}}"}]}\n', encoding="utf-8")
    result = cli("data", "check", str(path), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["errors"], doc["warnings"]) == (False, 2, 0)
    assert [(p["line"], p["code"]) for p in doc["problems"]] == [(1, "DS023"), (1, "DS030")]
    assert doc["summary"]["files"][0]["problem_counts"] == {"DS023": 1, "DS030": 1}


def test_convert_then_check(cli, tmp_path):
    out = tmp_path / "out.jsonl"
    result = cli("data", "convert", str(SAMPLE), str(out), "--to", "messages")
    assert result.exit_code == 0
    assert result.stderr == f"wrote 28 rows to {out} (from 28 sharegpt)\n"
    again = cli("data", "convert", str(SAMPLE), str(out))
    assert again.exit_code == 2
    assert again.stderr == f"error: {out}: OUT already exists\n  fix: choose another OUT or pass --force\n"
    assert cli("data", "check", str(out)).exit_code == 0


def test_convert_to_unknown_format_is_exit_2(cli, tmp_path):
    result = cli("data", "convert", str(SAMPLE), str(tmp_path / "o.jsonl"), "--to", "alpaca")
    assert result.exit_code == 2
    assert result.stderr == "error: cannot convert to 'alpaca'\n  fix: use --to messages\n"


def test_help_has_examples(cli):
    for command in ("check", "preview", "convert"):
        result = cli("data", command, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout


@pytest.mark.stack
def test_preview_marks_trained_tokens(cli, tiny_model):
    result = cli("data", "preview", str(SAMPLE), "--row", "23", "--model", str(tiny_model), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    trained = [t["text"] for t in doc["tokens"] if t["trained"]]
    assert "".join(trained) == ("早上好！吃早饭了吗？<|im_end|>\n那快去吃吧，不吃早饭对身体不好哦。<|im_end|>\n"
                                "嗯嗯，沐雪等你回来～<|im_end|>\n")
    assert sum(label != -100 for label in doc["labels"]) == len(trained) == 37


@pytest.mark.stack
def test_preview_row_past_the_end_is_exit_2(cli, tiny_model):
    result = cli("data", "preview", str(SAMPLE), "--row", "99", "--model", str(tiny_model))
    assert result.exit_code == 2
    assert result.stderr == f"error: {SAMPLE}: there is no row 99\n  fix: pass --row with a line number of the file\n"


def test_check_jobs_same_json_and_bad_jobs_is_exit_2(cli, tmp_path, monkeypatch):
    from swiftctl.data import parallel

    monkeypatch.setattr(parallel, "RANGE_MIN", 256)  # split the small file
    path = tmp_path / "train.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"问题 {i % 9}"}, {"role": "assistant", "content": "答"}]}
            for i in range(40)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    one, two = (cli("data", "check", str(path), "--json", "--jobs", jobs) for jobs in ("1", "2"))
    assert one.exit_code == two.exit_code == 1
    assert json.loads(one.stdout)["problems"][0]["line"] == 10 and one.stdout == two.stdout
    for bad in ("0", "-2"):
        result = cli("data", "check", str(path), "--jobs", bad)
        assert result.exit_code == 2 and "--jobs" in result.stderr

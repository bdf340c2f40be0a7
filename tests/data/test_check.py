"""check_files on real files: the bundled sample, validation overlap, file errors, specs as JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from swiftctl.data import spec
from swiftctl.data.check import check_files
from swiftctl.data.formats import iter_conversations
from swiftctl.errors import ErrorGroup, UsageError
from tests.conftest import SAMPLE, SAMPLE_VAL

GOOD = {
    "messages": {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                              {"role": "assistant", "content": "r", "loss": True}]},
    "sharegpt": {"system": "s", "conversation": [{"human": "q1", "assistant": "r1"}, {"human": "q2", "assistant": "r2"}]},
    "sharegpt-classic": {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "r"}]},
    "query-response": {"system": "s", "query": "q", "response": "r", "history": [["q0", "r0"]]},
    "alpaca": {"instruction": "i", "input": "x", "output": "o"},
    "prompt-completion": {"prompt": "p", "completion": "c"},
}


def test_bundled_sample_is_clean():
    report = check_files([SAMPLE], val_paths=[SAMPLE_VAL])
    assert report.problems == []
    assert report.ok and report.exit_code == 0
    assert [(f.rows, f.format, f.rows_lost) for f in report.summary.files] == [(28, "sharegpt", 0), (6, "sharegpt", 0)]


@pytest.mark.parametrize("fmt", spec.FORMAT_NAMES)
def test_each_schema_accepts_its_format_and_the_checker_agrees(tmp_path, fmt):
    jsonschema.Draft202012Validator(spec.schema(fmt)).validate(GOOD[fmt])
    path = tmp_path / f"{fmt}.jsonl"
    path.write_text(json.dumps(GOOD[fmt]) + "\n", encoding="utf-8")
    report = check_files([path])
    assert report.problems == [] and report.summary.files[0].format == fmt
    assert [m["role"] for m in next(iter_conversations(path)).messages][-1] == "assistant"


def test_corpus_rows_that_schemas_reject_are_errors():
    corpus = Path(__file__).parent / "corpus"
    bad = json.loads((corpus / "DS020-L2-content-number.jsonl").read_text().splitlines()[1])
    assert not jsonschema.Draft202012Validator(spec.schema("messages")).is_valid(bad)


def test_validation_rows_also_in_training_are_reported(tmp_path):
    val = tmp_path / "val.jsonl"
    val.write_bytes(SAMPLE.read_bytes().splitlines(keepends=True)[4] + SAMPLE_VAL.read_bytes())
    report = check_files([SAMPLE], val_paths=[val])
    assert [(p.path, p.line, p.code, p.severity) for p in report.problems] == [(str(val), 1, "DS041", "warning")]
    assert report.problems[0].message == f"train-val-overlap: same row as {SAMPLE}:5"
    assert report.ok
    assert not check_files([SAMPLE], val_paths=[val], strict=True).ok


def test_missing_file_and_directory_are_usage_errors(tmp_path):
    with pytest.raises(UsageError) as err:
        check_files([tmp_path / "nope.jsonl"])
    assert err.value.render() == f"error: {tmp_path / 'nope.jsonl'}: no such file\n  fix: check the path"
    with pytest.raises(ErrorGroup) as group:
        check_files([tmp_path / "nope.jsonl", tmp_path])
    assert group.value.exit_code == 2 and len(group.value.errors) == 2


def test_unknown_format_name_is_a_usage_error():
    with pytest.raises(Exception) as err:
        check_files([SAMPLE], fmt="csv")
    assert err.value.exit_code == 2


def test_forced_format_reports_rows_of_another_shape(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(GOOD["messages"]) + "\n", encoding="utf-8")
    report = check_files([path], fmt="sharegpt")
    assert [(p.line, p.code) for p in report.problems] == [(1, "DS020")]


def test_many_errors_are_counted_but_listing_is_capped(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text("not json\n" * 500, encoding="utf-8")
    report = check_files([path])
    assert report.summary.files[0].problem_counts == {"DS004": 500}
    assert len(report.problems) == 200
    assert report.summary.rows_lost == 500


def test_progress_is_reported_to_the_end(tmp_path):
    calls = []
    check_files([SAMPLE], progress=lambda path, done, total: calls.append((path, done, total)))
    assert calls[-1] == (SAMPLE, SAMPLE.stat().st_size, SAMPLE.stat().st_size)


def test_iter_conversations_reads_muice_rows_with_line_numbers():
    rows = list(iter_conversations(SAMPLE_VAL))
    assert [r.line for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].messages == [{"role": "system", "content": "你是一个名为沐雪的可爱AI女孩子"},
                                {"role": "user", "content": "你好，你是谁？"},
                                {"role": "assistant", "content": "你好～我是沐雪！"}]


def test_structural_check_does_not_import_transformers(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from swiftctl.data.check import check_files; "
            f"check_files([{str(SAMPLE)!r}]); print(sorted(m for m in ('transformers', 'torch', 'swift', "
            "'datasets', 'tokenizers', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_other_template_without_ms_swift_is_a_usage_error(tmp_path, tiny_model, monkeypatch):
    from swiftctl.data import swift_encode

    monkeypatch.setattr(swift_encode, "available", lambda: False)
    path = tmp_path / "rows.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}\n')
    with pytest.raises(UsageError) as err:
        check_files([path], model_dir=tiny_model, template="llama3")
    assert "'llama3'" in err.value.message and "ms-swift is not installed" in err.value.message
    assert "install ms-swift" in err.value.hint and err.value.location == "--template"

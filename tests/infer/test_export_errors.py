"""Bad input to `swiftctl export`: one clear message each, nothing started, nothing left behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A LoRA run laid out as ms-swift writes it (the weights are stand-ins: every case fails before loading them)."""
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    run = tmp_path / "out" / "v0-20250101-000000"
    ckpt = run / "checkpoint-2"
    ckpt.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps({"model": str(base), "template": "qwen2_5", "system": "你是沐雪"}))
    (ckpt / "adapter_config.json").write_text(json.dumps({"r": 8, "base_model_name_or_path": str(base)}))
    (ckpt / "adapter_model.safetensors").write_bytes(b"x")
    (ckpt / "trainer_state.json").write_text("{}")
    return run.parent


def test_existing_dir_is_refused(cli, run_dir, tmp_path):
    (tmp_path / "dest").mkdir()
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [f"error: --out: {tmp_path / 'dest'} already exists",
                                            "  fix: pick a new --out DIR (export never overwrites)"]


def test_base_model_gone(cli, run_dir, tmp_path):
    shutil.rmtree(tmp_path / "base")
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"))
    assert res.exit_code == 1
    ckpt = next(run_dir.glob("v0-*/checkpoint-2"))
    assert res.stderr.splitlines()[-2:] == [
        f"error: {ckpt}/args.json: the base model {tmp_path / 'base'} that this run was trained on is gone",
        "  fix: restore that directory, or pass --model DIR with the same base model"]


def test_checkpoint_from_another_base(cli, run_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text("{}")
    ckpt = next(run_dir.glob("v0-*/checkpoint-2"))
    (ckpt / "adapter_config.json").write_text(json.dumps({"r": 8, "base_model_name_or_path": str(other)}))
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"))
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2:] == [
        f"error: {ckpt}/adapter_config.json: checkpoint checkpoint-2 is a LoRA for base model {other}, "
        f"not {tmp_path / 'base'}", f"  fix: export with --model {other}"]


def test_user_template_not_jinja(cli, run_dir, tmp_path):
    bad = tmp_path / "t.jinja"
    bad.write_text("{%- for m in messages %}\n{{ m['content'] }\n{%- endfor %}\n")
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"), "--chat-template", str(bad))
    assert res.exit_code == 1
    first = res.stderr.splitlines()[-2]
    assert first.startswith(f"error: {bad}:2: {bad} is not a valid Jinja template: ") and first.endswith("(line 2)")
    assert not (tmp_path / "dest").exists() and not list(tmp_path.glob(".dest.*"))


def test_quant_refused_without_gpu(cli, run_dir, tmp_path):
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has a GPU: --quant is allowed")
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"), "--quant", "awq")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[-2] == ("error: --quant: --quant awq needs a CUDA GPU and this machine has none "
                                           "(no nvidia-smi): ms-swift's quantizers (AutoAWQ, GPTQModel, bitsandbytes, "
                                           "fp8) run on CUDA")


def test_unknown_quant_is_a_usage_error(cli, run_dir, tmp_path):
    res = cli("export", str(run_dir), "--out", str(tmp_path / "dest"), "--quant", "int3")
    assert res.exit_code == 2
    assert res.stderr.splitlines()[0] == "error: unknown --quant 'int3'"


def test_persona_template_rewrite():
    """The rewrite works on Qwen2.5's own template text (the default system string is replaced, the prelude added)."""
    from swiftctl.infer import persona_files as pf

    qwen = ("{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + "
            "'<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
            "helpful assistant.<|im_end|>\\n' }}{%- endif %}{%- for m in messages %}{%- if m.role != 'system' %}"
            "{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}")
    persona = "你是'沐雪'\n\"quoted\" \\ back"
    out = pf.with_persona(qwen, persona)
    assert "You are Qwen" not in out
    assert pf.render(out, [{"role": "user", "content": "hi"}]) == \
        f"<|im_start|>system\n{persona}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"

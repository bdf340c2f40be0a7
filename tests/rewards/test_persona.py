"""The persona reward on hand-written completions (scores computed by hand from the rules in the module docstring)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swiftctl.rewards.persona import last_user, rewards, score

NAMES = ["沐雪", "Muice"]


@pytest.mark.parametrize(("prompt", "completion", "expected"), [
    ("你是谁？", "我是沐雪，一个可爱的AI女孩子～", 1.0),          # identity prompt, says the name
    ("你是谁？", "我是一个AI助手。", -0.5),                          # identity prompt, no name
    ("你是谁？", "我是通义千问，由阿里云开发。", -1.5),               # Qwen claim, no name
    ("你叫什么名字？", "我叫{{NAME}}。", -1.5),                      # placeholder leak, no name
    ("你是通义千问吗？", "不是哦，我是沐雪。", 1.0),                  # a denial is not a claim
    ("Who are you?", "I am Muice!", 1.0),                           # English name, English prompt
    ("今天天气怎么样？", "希望是晴天～", 0.0),                        # not an identity prompt: neutral
    ("今天天气怎么样？", "I'm Qwen, a model by Alibaba Cloud.", -1.0),  # a claim costs everywhere
])
def test_hand_scored_completions(prompt, completion, expected):
    assert score(completion, NAMES, prompt=prompt).reward == pytest.approx(expected)


def test_reference_adds_rouge_l_closeness():
    same = score("我叫沐雪", NAMES, prompt="你叫什么？", reference="我叫沐雪")
    other = score("草莓蛋糕", NAMES, prompt="你叫什么？", reference="我叫沐雪")
    assert same.closeness == pytest.approx(1.0) and other.closeness == pytest.approx(0.0)
    assert same.reward == pytest.approx(1.0 + 1.0)  # "你叫什么" matches no identity pattern: name not required


def test_batch_reads_prompts_from_messages_and_keeps_order():
    msgs = [[{"role": "system", "content": "你是沐雪"}, {"role": "user", "content": "你是谁"}]] * 2
    prompts = [last_user(m) for m in msgs]
    assert prompts == ["你是谁", "你是谁"]
    assert rewards(["我是沐雪", "我是Qwen"], NAMES, prompts) == [1.0, -1.5]
    assert last_user(None) is None and rewards([], NAMES) == []


@pytest.mark.stack
def test_the_plugin_registers_in_ms_swift_orms(tmp_path):
    plugin = Path(__file__).resolve().parents[2] / "swiftctl" / "resources" / "plugins" / "persona_reward.py"
    code = ("import os, sys; os.environ['SWIFTCTL_PERSONA_NAME'] = '沐雪'; from swift.utils import import_external_file; "
            f"import_external_file({str(plugin)!r}); from swift.rewards import orms; "
            "r = orms['swiftctl_persona'](); "
            "print(r(['我是沐雪', '我是通义千问'], messages=[[{'role': 'user', 'content': '你是谁'}]] * 2))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)  # as in a run: not the checkout, so the plugin must find its own scoring
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[1.0, -1.5]"

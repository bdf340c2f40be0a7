"""The persona lifecycle as a user runs it, in a project dir after `swiftctl train jobs/demo.toml` (real ms-swift):
runs are found without naming them, `infer --system "你是沐雪"` opens the chat, and `export` writes a model whose
own chat template (plain transformers, no swiftctl) starts every conversation with the training persona."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "你是一个名为沐雪的可爱AI女孩子"


def swiftctl_in(proj: Path, *args: str, input: str | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "swiftctl", *args], cwd=proj, env=env, input=input, text=True,
                          capture_output=True, timeout=timeout)


def test_runs_lists_the_trained_run(trained_project):
    proc = swiftctl_in(trained_project, "runs", "--json")
    assert proc.returncode == 0, proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    assert (run["status"], run["steps"], run["max_steps"], run["job"]) == ("succeeded", 6, 6, "jobs/demo.toml")
    assert run["last_checkpoint"].endswith("/checkpoint-6") and run["system"] == SYSTEM


def test_infer_system_opens_the_chat_on_the_run(trained_project):
    """The commissioned command: no RUN, --system, stdin piped (no `exit` needed: swiftctl ends the loop)."""
    proc = swiftctl_in(trained_project, "infer", "--system", "你是沐雪", "--backend", "transformers",
                       "--max-new-tokens", "4", input="你是谁\n", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = " ".join(proc.stderr.split())  # rich wraps long lines
    assert "note: no RUN given: using the newest run demo-runs/demo/v0-" in err
    assert "(job jobs/demo.toml, succeeded)" in err
    assert "note: checkpoint checkpoint-6 (the best, else the last)" in err
    assert f"note: --system '你是沐雪' replaces the training system prompt '{SYSTEM}'" in err
    assert "system prompt (--system): '你是沐雪'" in err
    assert proc.stdout.count("<<< ") == 2, proc.stdout[-2000:]  # one answer, then the `exit` swiftctl appended


def test_report_without_run(trained_project, tmp_path):
    proc = swiftctl_in(trained_project, "report", "--json", "--no-chart")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "using the newest run demo-runs/demo/v0-" in " ".join(proc.stderr.split())
    assert json.loads(proc.stdout)["runs"][0]["summary"]["step"] == 6


def test_export_renders_the_persona_in_plain_transformers(exported):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(exported)
    text = tok.apply_chat_template([{"role": "user", "content": "你是谁？"}], tokenize=False, add_generation_prompt=True)
    assert text == f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n你是谁？<|im_end|>\n<|im_start|>assistant\n"
    own = tok.apply_chat_template([{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}], tokenize=False)
    assert own.startswith("<|im_start|>system\nS<|im_end|>") and SYSTEM not in own  # a caller's system still wins
    config = json.loads((exported / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert config["chat_template"] == (exported / "chat_template.jinja").read_text(encoding="utf-8")
    gen = json.loads((exported / "generation_config.json").read_text(encoding="utf-8"))
    assert 151645 in gen["eos_token_id"]  # <|im_end|>: plain clients stop after the answer


def test_export_files_and_model_card(exported, trained_project):
    names = {p.name for p in exported.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja", "tokenizer_config.json",
            "generation_config.json", "Modelfile", "README.md"} <= names
    assert not any(n.startswith(("adapter_", "optimizer")) for n in names)
    assert not list(exported.parent.glob(".muxue.*"))  # the temp build dir is gone
    card = (exported / "README.md").read_text(encoding="utf-8")
    manifest = json.loads(next((trained_project / "demo-runs/demo").glob("v*/swiftctl-manifest.json")).read_text())
    assert f"System prompt (from training): `{SYSTEM}`" in card
    for d in manifest["datasets"]:
        assert f"`{d['sha256']}`" in card
    assert f"- ms-swift: {manifest['packages']['ms-swift']}" in card and "swiftctl 0.1.0" in card


def parse_modelfile(text: str) -> list[tuple[str, str]]:
    """A small parser of Ollama's Modelfile grammar (docs/modelfile.md): `# comment`, `INSTRUCTION args` where args
    is \"\"\"multi-line\"\"\", "quoted" or the rest of the line; instructions are case-insensitive."""
    known = {"FROM", "ADAPTER", "TEMPLATE", "SYSTEM", "PARAMETER", "LICENSE", "MESSAGE", "REQUIRES"}
    out, i = [], 0
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
            continue
        if text[i] == "#":
            i = text.find("\n", i) + 1 or len(text)
            continue
        end = min(j for j in (text.find(" ", i), text.find("\t", i)) if j != -1)
        cmd = text[i:end].upper()
        assert cmd in known, f"unknown instruction {cmd!r}"
        i = end + 1
        if text.startswith('"""', i):
            close = text.index('"""', i + 3)
            out.append((cmd, text[i + 3:close]))
            i = close + 3
        else:
            eol = text.find("\n", i)
            eol = len(text) if eol == -1 else eol
            arg = text[i:eol].strip()
            out.append((cmd, arg[1:-1] if arg.startswith('"') and arg.endswith('"') else arg))
            i = eol
    return out


def test_modelfile_parses(exported):
    parsed = parse_modelfile((exported / "Modelfile").read_text(encoding="utf-8"))
    cmds = dict((c, a) for c, a in parsed if c != "PARAMETER")
    assert cmds["FROM"] == "." and cmds["SYSTEM"] == SYSTEM
    assert cmds["TEMPLATE"].startswith("{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>")
    assert ("PARAMETER", "stop <|im_end|>") in [(c, a.replace('"', "")) for c, a in parsed]


def test_export_refuses_an_existing_dir(exported, trained_project):
    proc = swiftctl_in(trained_project, "export", "--out", str(exported))
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-2:] == [f"error: --out: {exported} already exists",
                                             "  fix: pick a new --out DIR (export never overwrites)"]

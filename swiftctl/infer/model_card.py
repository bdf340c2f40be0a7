"""The exported model's README.md: persona, base model, data hashes and versions, from the swiftctl manifest."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from swiftctl.infer.target import Target


def read_manifest(run_dir: Path | None) -> dict[str, Any] | None:
    from swiftctl.runs.rundir import MANIFEST_NAME

    path = run_dir / MANIFEST_NAME if run_dir else None
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def model_card(target: Target, checkpoint: Path, *, merged: bool, manifest: dict[str, Any] | None,
               swift_version: str | None, swiftctl_version: str) -> str:
    base = str(target.model if not merged else target.args.get("model") or target.model)
    tuner = "LoRA merged into the base weights" if merged else "full fine-tune"
    lines = ["---", f"base_model: {_yaml_str(base)}", "library_name: transformers",
             "tags: [swiftctl, ms-swift, " + ("lora" if merged else "full-finetune") + "]", "---", "",
             f"# {checkpoint.parent.parent.name if checkpoint.parent else checkpoint.name}", "",
             "Exported by `swiftctl export`. The persona is the default system prompt of the chat template, the "
             "Ollama Modelfile and this card; a conversation that brings its own system message replaces it.", "",
             "## Persona", "", f"System prompt (from training): `{target.system}`", "",
             "## Training", "",
             f"- base model: `{base}`", f"- ms-swift template: `{target.template}`, model type `{target.model_type}`",
             f"- weights: {tuner}; checkpoint `{checkpoint.name}` of `{checkpoint.parent}`"]
    if manifest:
        job = manifest.get("job") or {}
        lines += [f"- job: `{job.get('path')}` (sha256 `{job.get('sha256')}`)",
                  f"- run: {manifest.get('status')}, started {manifest.get('started_at')}, "
                  f"ended {manifest.get('ended_at')}",
                  f"- git: `{(manifest.get('git') or {}).get('commit')}`"]
        lines += ["", "## Data", "", "| file | bytes | sha256 |", "|---|---|---|"]
        lines += [f"| `{d.get('path')}` | {d.get('bytes')} | `{d.get('sha256')}` |" for d in manifest.get("datasets") or []]
        packages = manifest.get("packages") or {}
        lines += ["", "## Versions (training)", ""]
        lines += [f"- {name}: {ver}" for name, ver in packages.items() if ver]
    else:
        lines += ["", "No swiftctl manifest in the run dir (it was not started by `swiftctl train`): data hashes and "
                  "training versions are unknown."]
    lines += ["", "## Export", "", f"- swiftctl {swiftctl_version}, ms-swift {swift_version}",
              f"- exported {datetime.now(timezone.utc).isoformat(timespec='seconds')}", "",
              "## Use", "", "```python",
              "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "tok = AutoTokenizer.from_pretrained(DIR)",
              "ids = tok.apply_chat_template([{'role': 'user', 'content': '你是谁？'}], add_generation_prompt=True)",
              "```", "",
              "- vLLM: `python -m vllm.entrypoints.openai.api_server --model DIR` (the persona is applied server-side)",
              "- Ollama: `ollama create NAME -f Modelfile`", ""]
    return "\n".join(lines)

"""The files that carry the persona out of swiftctl: the chat template, generation config, Modelfile, model card.

A merged model on its own renders Qwen2.5's default system prompt ("You are Qwen, created by Alibaba Cloud...")
for any conversation without a system message: that default lives in the chat template. So the exported chat
template gets a prelude that inserts the training system prompt as the first message when the caller sent none,
and Qwen's literal default is replaced too (the tools branch of Qwen2.5's template prints it on its own). Every
consumer that applies the model's chat template (transformers' apply_chat_template, vLLM's OpenAI server, TGI,
SGLang) then starts the prompt with the persona. Ollama does not read Jinja: its Modelfile gets the persona as
SYSTEM and the ChatML template in Go template syntax.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swiftctl.errors import SwiftctlError
from swiftctl.infer.target import QWEN_DEFAULT_SYSTEM

CHATML_TEMPLATES = ("qwen", "chatml")  # ms-swift template names (prefixes) that render ChatML
PRELUDE = ("{#- swiftctl export: the training system prompt is the default system message #}\n"
           "{%- if not messages or messages[0]['role'] != 'system' %}\n"
           "{%- set messages = [{'role': 'system', 'content': __PERSONA__}] + messages %}\n"
           "{%- endif %}\n")
CHATML = ("{%- for message in messages %}"
          "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
          "{%- endfor %}"
          "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
OLLAMA_CHATML = ('{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
                 '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}'
                 '<|im_start|>assistant\n')


def is_chatml(template: str | None) -> bool:
    return bool(template) and template.lower().startswith(CHATML_TEMPLATES)


def check_jinja(text: str, where: str) -> None:
    """A clear error, with the line, for a template Jinja cannot parse."""
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).parse(text)
    except TemplateSyntaxError as exc:
        raise SwiftctlError(f"{where} is not a valid Jinja template: {exc.message} (line {exc.lineno})",
                            hint="fix the template (transformers and vLLM render chat templates with Jinja2)",
                            location=f"{where}:{exc.lineno}") from exc


def read_template(model_dir: Path, user_file: Path | None, swift_template: str | None) -> tuple[str, str]:
    """(template text, where it came from): the user's file, the model's chat_template.jinja or tokenizer_config.json,
    or plain ChatML for ms-swift's qwen/chatml templates."""
    if user_file is not None:
        try:
            text = Path(user_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SwiftctlError(f"cannot read {user_file}: {exc.strerror}", location=str(user_file)) from exc
        check_jinja(text, str(user_file))
        return text, str(user_file)
    if (model_dir / "chat_template.jinja").is_file():
        return (model_dir / "chat_template.jinja").read_text(encoding="utf-8"), "chat_template.jinja"
    config = read_json(model_dir / "tokenizer_config.json")
    found = config.get("chat_template")
    if isinstance(found, list):  # named templates: [{"name": "default", "template": "..."}]
        found = next((t.get("template") for t in found if isinstance(t, dict) and t.get("name") == "default"), None)
    if isinstance(found, str) and found.strip():
        return found, "tokenizer_config.json"
    if is_chatml(swift_template):
        return CHATML, f"ChatML (ms-swift template {swift_template}; the base tokenizer has none)"
    raise SwiftctlError(f"the model has no chat template and ms-swift's template {swift_template!r} is not ChatML",
                        hint="pass --chat-template FILE (a Jinja chat template)", location=str(model_dir))


def with_persona(template: str, system: str) -> str:
    """The template with ``system`` as the default system message."""
    literal = json.dumps(system, ensure_ascii=False)  # a valid Jinja string literal (same escapes)
    body = template.replace(QWEN_DEFAULT_SYSTEM, system.replace("\\", "\\\\").replace("'", "\\'"))
    return PRELUDE.replace("__PERSONA__", literal) + body


def render(template: str, messages: list[dict[str, str]]) -> str:
    """Render as transformers does (sandboxed Jinja2, trim_blocks, lstrip_blocks) to check the result."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True, tools=None)


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SwiftctlError(f"{path.name} is not valid JSON: {exc}", location=str(path)) from exc
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def special_token_ids(model_dir: Path) -> dict[str, int]:
    """Added tokens by content (``<|im_end|>`` → 151645) from tokenizer_config.json or tokenizer.json."""
    ids: dict[str, int] = {}
    for key, tok in (read_json(model_dir / "tokenizer_config.json").get("added_tokens_decoder") or {}).items():
        if isinstance(tok, dict) and str(key).isdigit():
            ids[tok.get("content", "")] = int(key)
    if not ids and (model_dir / "tokenizer.json").is_file():
        for tok in read_json(model_dir / "tokenizer.json").get("added_tokens") or []:
            ids[tok.get("content", "")] = int(tok.get("id"))
    return ids


def generation_config(model_dir: Path, chatml: bool) -> dict[str, Any]:
    """The base model's generation_config.json (what the trained model was loaded with), with <|im_end|> among the
    eos ids for a ChatML model so that plain clients stop at the end of the answer."""
    gen = read_json(model_dir / "generation_config.json")
    config = read_json(model_dir / "config.json")
    eos = gen.get("eos_token_id", config.get("eos_token_id"))
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    if chatml:
        specials = special_token_ids(model_dir)
        eos_ids += [specials[t] for t in ("<|im_end|>", "<|endoftext|>") if t in specials]
    gen["eos_token_id"] = list(dict.fromkeys(eos_ids))
    for key in ("bos_token_id", "pad_token_id"):
        if key not in gen and config.get(key) is not None:
            gen[key] = config[key]
    return gen


def _quoted(value: str) -> str:
    if '"""' in value:
        raise SwiftctlError('the system prompt contains """, which an Ollama Modelfile cannot quote',
                            hint="remove the triple quote from the job's data.system")
    return f'"""{value}"""'


def modelfile(system: str, gen: dict[str, Any], chatml: bool) -> str:
    """An Ollama Modelfile: FROM the exported dir, the ChatML TEMPLATE, the persona as SYSTEM, stop words."""
    lines = ["# Ollama Modelfile written by swiftctl export: ollama create NAME -f Modelfile", "FROM ."]
    if chatml:
        lines += [f"TEMPLATE {_quoted(OLLAMA_CHATML)}"]
    lines += [f"SYSTEM {_quoted(system)}"]
    if chatml:
        lines += ['PARAMETER stop "<|im_end|>"', 'PARAMETER stop "<|endoftext|>"']
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"),
                         ("repetition_penalty", "repeat_penalty")):
        if isinstance(gen.get(ours), (int, float)) and not isinstance(gen.get(ours), bool):
            lines.append(f"PARAMETER {theirs} {gen[ours]}")
    return "\n".join(lines) + "\n"

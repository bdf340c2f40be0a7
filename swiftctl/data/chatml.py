"""ms-swift 4.6's training encode of a row for its Qwen (ChatML) templates, as text pieces with loss weights.

Mirrors, step by step, what ``Template.encode`` does in train mode with ``template_backend='swift'`` and the
default ``loss_scale`` (swift/template/base.py, template_inputs.py, agent_template/hermes.py + base.py,
loss_scale/base.py, utils/schema_utils.py):

- ``StdTemplateInputs.from_dict``: a first ``system`` message is the system; ``tool_response`` is ``tool``; a tool
  call or response whose content is not a string is JSON-dumped.
- ``_preprocess_tools`` + hermes ``_format_tools``: the tool schemas (JSON string or list) go into the system prompt
  (``{system or ''}\\n\\n# Tools...``), the default system included.
- ``_swift_prepare_inputs``: consecutive ``tool_call`` messages become one assistant message of
  ``<tool_call>\\n{json}\\n</tool_call>`` blocks; a tool response right after a user turn is appended to it; tool
  responses after an assistant become the next query (``<|im_end|>\\n<|im_start|>user\\n<tool_response>...``);
  consecutive user turns are concatenated, consecutive assistant turns kept as segments with their own ``loss``.
- ``_swift_encode``: qwen3 prefixes every reply that does not start with ``<think>`` with the empty think block;
  the context list with the prompt, replies, separators and suffix; ``LossScale`` weights (replies and the final
  suffix trained, ``loss``/``loss_scale`` per message, qwen3's ``ignore_empty_think``); joined per equal weight.
``TemplateDrop`` is raised where ms-swift's encode raises (the row is deleted).
The caller tokenizes each piece (``add_special_tokens=False``) and applies ``dynamic_eos``.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

IM_END = "<|im_end|>\n"
_PROMPT = "<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n"
_SYSTEM = "<|im_start|>system\n{{SYSTEM}}<|im_end|>\n"
_STOP_WORDS = ("<|endoftext|>", "<|im_end|>")  # qwen.py:37 + the suffix and eos (template_meta.py:127-130)
_EMPTY_THINK = "<think>\n\n</think>\n\n"
# swift/loss_scale/config/ignore_empty_think.json (regex -> weight 0 at the start of a reply)
_IGNORE_EMPTY_THINK = (r"^<think>\s*</think>\s*", r"^<seed:think><seed:cot_budget_reflect>The current thinking budget"
                       r" is 0, so I will directly start answering the question.</seed:cot_budget_reflect>\n"
                       r"</seed:think>\s*", r"^</think>\s*", r"^<\|channel>thought\n<channel\|>", r"^</mm:think>\s*")
_ACTION, _ACTION_INPUT, _OBSERVATION = "Action:", "Action Input:", "Observation:"  # ReAct compat (agent base.py)


@dataclass(frozen=True)
class Meta:
    """A ChatML template of ms-swift's (swift/template/templates/qwen.py)."""

    default_system: str | None
    is_thinking: bool = False
    thinking_prefix: str = ""
    non_thinking_prefix: str = ""

    @property
    def ignore_empty_think(self) -> bool:  # hybrid thinking: loss_scale += '+ignore_empty_think' (template_args.py:171)
        return self.is_thinking and bool(self.non_thinking_prefix)

    @property
    def response_prefix(self) -> str:  # only used for a trailing user turn (base.py:192-204, 1494-1496)
        enable_thinking = self.is_thinking and not self.non_thinking_prefix
        return self.thinking_prefix if enable_thinking else self.non_thinking_prefix


METAS: dict[str, Meta] = {
    "qwen": Meta("You are a helpful assistant."),
    "qwen2_5": Meta("You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
    "qwen3": Meta(None, is_thinking=True, non_thinking_prefix=_EMPTY_THINK),
    "qwen3_thinking": Meta(None, is_thinking=True, thinking_prefix="<think>\n"),
    "qwen3_nothinking": Meta(None),
}


class TemplateDrop(ValueError):
    """ms-swift's template encode raises on this row, so the row is deleted."""


def parse_json(value: Any) -> Any:
    """agent_template/base.py ``_parse_json``: JSON, else a Python literal, else None; non-strings as they are."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        try:
            return ast.literal_eval(value)
        except Exception:  # ms-swift swallows every error here
            return None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")


def remove_arrow_padding(schema: Any) -> Any:
    """utils/schema_utils.py: drop ``null`` fields except under default/const/x-*, and null enum/examples arrays."""
    if isinstance(schema, list):
        return [remove_arrow_padding(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("default", "const") or key.startswith("x-"):
            out[key] = value
        elif key in ("enum", "examples"):
            if value is not None:
                out[key] = value
        elif value is None:
            continue
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: remove_arrow_padding(v) for k, v in value.items() if v is not None}
        else:
            out[key] = remove_arrow_padding(value)
    return out


def normalize_tools(tools: Any) -> list | None:
    """The preprocessor's ``_normalize_tools`` (core.py:128-152) and the template's ``_preprocess_tools``."""
    if tools is None:
        return None
    if isinstance(tools, str):
        with contextlib.suppress(json.JSONDecodeError):
            tools = json.loads(tools)
    if not isinstance(tools, (list, tuple)):
        tools = [tools]
    tools = [remove_arrow_padding(parse_json(remove_arrow_padding(t))) for t in tools]
    out = []
    for tool in tools:
        if not isinstance(tool, dict):
            raise TemplateDrop(f"a tool is {type(tool).__name__}, not a JSON object (agent_template/base.py:202)")
        out.append(tool if "type" in tool or "function" in tool else {"type": "function", "function": tool})
    return out


def format_tools(tools: list[dict], system: str | None) -> str:
    """hermes.py ``_format_tools``."""
    descs = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    return (f"{system or ''}\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            f"You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{descs}\n</tools>\n\n"
            "For each function call, return a json object with function name and arguments within "
            '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}'
            "\n</tool_call>")


def _tool_call(content: Any) -> str:
    """agent_template/base.py ``_parse_tool_call`` + hermes ``_format_tool_calls`` for one call."""
    try:
        obj = parse_json(content)
        name = obj["name"]
        arguments = obj.get("arguments")
        if arguments is None:
            arguments = obj.get("parameters")
        arguments = parse_json(arguments)
    except (TypeError, KeyError, AttributeError) as exc:
        raise TemplateDrop(f"a tool call ms-swift cannot parse ({type(exc).__name__}): {str(content)[:60]}") from exc
    if arguments is None:
        raise TemplateDrop(f"a tool call without parsable arguments: {str(content)[:60]}")
    try:
        call = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TemplateDrop(f"a tool call ms-swift cannot write as JSON: {str(content)[:60]}") from exc
    return f"<tool_call>\n{call}\n</tool_call>"


def _tool_responses(messages: list[dict]) -> str:
    return "\n".join(f"<tool_response>\n{m['content']}\n</tool_response>" for m in messages)


def _react_responses(assistant: str, tools: list[dict]) -> tuple[str, list[str]]:
    if not assistant.endswith(_OBSERVATION):
        assistant += ("" if assistant.endswith("\n") else "\n") + _OBSERVATION
    out: list[str] = []
    for i, m in enumerate(tools):
        out += ([_OBSERVATION] if i else []) + [m["content"]] + ([] if m["content"].endswith("\n") else ["\n"])
    return assistant, out


def _format_tool_responses(assistant: Any, tools: list[dict]) -> tuple[Any, list[str]]:
    """hermes.py ``_format_tool_responses`` (ReAct compat when the reply has Action:/Action Input:)."""
    if _ACTION in assistant and _ACTION_INPUT in assistant:
        if isinstance(assistant, list):
            last, out = _format_tool_responses(assistant[-1], tools)
            return [*assistant[:-1], last], out
        return _react_responses(assistant, tools)
    return assistant, [IM_END, _PROMPT.replace("{{QUERY}}", _tool_responses(tools))]


def prepare(messages: list[dict]) -> tuple[str | None, list[dict]]:
    """``from_dict`` + ``_swift_prepare_inputs``: (system message or None, merged user/tool/assistant messages)."""
    messages = [dict(m) for m in messages]
    system = messages.pop(0)["content"] if messages and messages[0]["role"] == "system" else None
    for m in messages:
        if m["role"] == "tool_response":
            m["role"] = "tool"
        if m["role"] in ("tool_call", "tool") and not isinstance(m["content"], str):
            m["content"] = json.dumps(m["content"], ensure_ascii=False)
    i = 0
    while i < len(messages):  # _preprocess_tool_call
        if messages[i]["role"] != "tool_call":
            i += 1
            continue
        j = i
        while j + 1 < len(messages) and messages[j + 1]["role"] == "tool_call":
            j += 1
        calls = messages[i:j + 1]
        merged = {"role": "assistant", "content": "\n".join(_tool_call(m["content"]) for m in calls)}
        for m in calls:
            for key in ("loss", "loss_scale"):
                if key in m and key not in merged:
                    merged[key] = m[key]
        messages[i:j + 1] = [merged]
        i += 1
    i = 0
    while i < len(messages):  # _preprocess_standalone_tools
        if messages[i]["role"] != "tool" or (i > 0 and messages[i - 1]["role"] in ("assistant", "tool")):
            i += 1
            continue
        j = i
        while j + 1 < len(messages) and messages[j + 1]["role"] == "tool":
            j += 1
        if i == 0 or messages[i - 1]["role"] != "user":
            raise TemplateDrop("a tool response that follows neither a tool call nor a user turn (base.py:394-400)")
        query = messages[i - 1]
        query["content"] = (query.get("content") or "") + IM_END + "<|im_start|>user\n" + _tool_responses(
            messages[i:j + 1])
        del messages[i:j + 1]
    i = 1
    while i < len(messages):  # merge turns, tool responses after an assistant
        pre, cur = messages[i - 1], messages[i]
        if pre["role"] == "assistant" and cur["role"] == "tool":
            j = i
            while j + 1 < len(messages) and messages[j + 1]["role"] == "tool":
                j += 1
            pre["content"], tool = _format_tool_responses(pre["content"], messages[i:j + 1])
            messages[i:j + 1] = [{"role": "tool", "content": tool}]
            i += 1
        elif pre["role"] == cur["role"] == "assistant":
            for key in ("content", "loss", "loss_scale"):
                a, b = pre.get(key), cur.get(key)
                pre[key] = (a if isinstance(a, list) else [a]) + (b if isinstance(b, list) else [b])
            messages.pop(i)
        elif pre["role"] == cur["role"] == "user":
            pre["content"] = pre["content"] + cur["content"]
            messages.pop(i)
        else:
            i += 1
    return system, messages


def _think_weights(text: str) -> list[tuple[str, float]]:
    """``calculate_loss_scale`` with ignore_empty_think's regexes (loss_scale/utils.py, template/utils.py:137-178)."""
    parts = [p for p in re.split("|".join(f"({p})" for p in _IGNORE_EMPTY_THINK), text, flags=re.DOTALL) if p]
    out = []
    for part in parts:
        hit = any(re.match(p, part, re.DOTALL) for p in _IGNORE_EMPTY_THINK)
        out.append((part, 0.0 if hit else 1.0))
    return out


def _fill(text: str, system: str | None, query: str | None, round0: int | None) -> str:
    """``_concat_context_list``: the placeholders, replaced one after the other."""
    values = (system, query, None if round0 is None else str(round0), None if round0 is None else str(round0 + 1))
    for key, value in zip(("{{SYSTEM}}", "{{QUERY}}", "{{ROUND0}}", "{{ROUND1}}"), values, strict=True):
        if value is not None and key in text:
            if not isinstance(value, str):
                raise TemplateDrop(f"a {key} that is not a string")
            text = text.replace(key, value)
    return text


def render(messages: list[dict], meta: Meta, default_system: str | None, row_system: str | None = None,
           tools: Any = None) -> list[tuple[str, float]]:
    """The row's context pieces with ms-swift's loss weights, joined where consecutive weights are equal."""
    system, messages = prepare(messages)
    if system is None:
        system = row_system if row_system is not None else default_system
    if not messages:
        raise TemplateDrop("no turn left to encode (base.py:1440)")
    tool_list = normalize_tools(tools)
    if meta.non_thinking_prefix:  # _add_non_thinking_prefix, every round in training
        for m in messages:
            if m["role"] != "assistant":
                continue
            content = m["content"]
            if isinstance(content, list):
                if content and isinstance(content[0], str) and not content[0].startswith(("<think>", _EMPTY_THINK)):
                    content[0] = meta.non_thinking_prefix + content[0]
            elif isinstance(content, str) and not content.startswith(("<think>", _EMPTY_THINK)):
                m["content"] = meta.non_thinking_prefix + content
    if tool_list:
        system = format_tools(tool_list, system)
    if messages[0]["role"] == "assistant":  # _get_std_messages
        messages.insert(0, {"role": "user", "content": ""})
    if len(messages) % 2:
        messages.append({"role": "assistant", "content": None})
    out: list[tuple[Any, float, dict | None]] = []  # (context, weight, response message)
    if system:
        out.append((_fill(_SYSTEM, system, None, None), 0.0, None))
    n_round = len(messages) // 2
    for i in range(n_round):
        query_msg, response_msg = messages[2 * i], messages[2 * i + 1]
        if query_msg["role"] not in ("user", "tool"):
            raise TemplateDrop(f"a {query_msg['role']} message where ms-swift expects a user turn (base.py:1448)")
        if response_msg["role"] != "assistant":
            raise TemplateDrop(f"a {response_msg['role']} message where ms-swift expects a reply (base.py:1449)")
        prompt, query = ((query_msg["content"], "") if query_msg["role"] == "tool" else ([_PROMPT], query_msg["content"]))
        response = response_msg["content"]
        contexts = [(_fill(c, system, query, i), 0.0, None) for c in prompt]
        extra: list[tuple[str, float, dict | None]] = []
        if i < n_round - 1:
            contexts.append((response, 1.0, response_msg))
            if messages[2 * i + 2]["role"] != "tool":
                extra = [(IM_END, 0.0, None)]
        elif response is not None:
            contexts.append((response, 1.0, response_msg))
            last = response if isinstance(response, str) else response[-1]
            if not last.endswith(_STOP_WORDS):
                extra = [(IM_END, 1.0, None)]  # SUFFIX: trained
        elif meta.response_prefix:
            contexts.append((meta.response_prefix, 0.0, None))
        out += contexts + extra
    weighted: list[tuple[str, float]] = []
    for context, weight, msg in out:
        if msg is None:
            weighted += _weigh(context, weight, None, None, meta)
            continue
        segments = context if isinstance(context, list) else [context]
        for j, seg in enumerate(segments):
            loss, scale = msg.get("loss"), msg.get("loss_scale")
            weighted += _weigh(seg, 1.0, loss[j] if isinstance(loss, list) else loss,
                               scale[j] if isinstance(scale, list) else scale, meta)
    joined: list[tuple[str, float]] = []  # _split_special_tokens drops empty pieces, _simplify_context_list joins
    for text, weight in weighted:
        if joined and joined[-1][1] == weight:
            joined[-1] = (joined[-1][0] + text, weight)
        elif text:
            joined.append((text, weight))
    return joined


def _weigh(text: str, trained: float, loss: Any, scale: Any, meta: Meta) -> list[tuple[str, float]]:
    """``LossScale._inner_call`` with base strategy 'default': replies and the suffix train unless loss is false."""
    if not isinstance(text, str):
        raise TemplateDrop("a reply that is not text")
    if loss or (loss is None and trained):
        if scale is not None:
            return [(text, float(scale))]
        return _think_weights(text) if meta.ignore_empty_think else [(text, 1.0)]
    return [(text, 0.0)]


def dynamic_eos(input_ids: list[int], labels: list[int], suffix_ids: list[int]) -> None:
    """``Template._add_dynamic_eos``: a masked span after a trained one that starts with the suffix trains it."""
    n = len(suffix_ids)
    start = 0
    for i in range(1, len(labels) + 1):
        if labels[i - 1] >= 0 and i < len(labels) and labels[i] == -100:
            start = i
        elif (start > 0 and labels[i - 1] == -100 and (i == len(labels) or labels[i] >= 0)
              and i - start >= n and input_ids[start:start + n] == suffix_ids):
            labels[start:start + n] = suffix_ids

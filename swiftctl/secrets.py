"""Keep secrets out of anything printed, logged or saved."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

REDACTED = "***"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
# ms-swift / swiftctl options whose value is a secret
SECRET_OPTIONS = frozenset({"--api_key", "--swanlab_token", "--hub_token", "--wandb_api_key", "--api-key"})
# scheme://user:password@host (or scheme://token@host): the whole user-info part is a credential
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s]+)@")
# well-known token shapes (OpenAI-style sk-, Hugging Face, GitHub, GitLab, Slack, AWS access key ids)
_TOKEN = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
                    r"|glpat-[\w\-]{20,}|xox[abprs]-[\w\-]{10,}|AKIA[0-9A-Z]{16})")
# NAME = "value" / NAME=value (TOML, shell, .env) where NAME looks like a secret's name
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][\w.\-]*)(?P<sep>[ \t]*=[ \t]*)"
                         r"(?P<val>\"[^\"\n]*\"|'[^'\n]*'|[^\s,}\"']+)")
_SECRET_WORD = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def looks_secret(value: str) -> bool:
    """True when a value holds a URL credential or a well-known token shape."""
    return bool(_URL_CREDENTIALS.search(value) or _TOKEN.search(value))


def redact_text(text: str) -> str:
    """``text`` with URL credentials (``scheme://***@host``) and well-known tokens replaced."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _TOKEN.sub(REDACTED, text)
    return _ASSIGNMENT.sub(_redact_assignment, text)


def _redact_assignment(match: re.Match) -> str:
    # only names whose last word is a secret word (API_KEY, hub-token), not "keyboard"
    if not any(_SECRET_WORD.search(part) for part in re.split(r"[_.\-]", match["name"]) if part):
        return match[0]
    quote = match["val"][0] if match["val"][0] in "\"'" else ""
    return f"{match['name']}{match['sep']}{quote}{REDACTED}{quote}"


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """Copy of env: secret-looking variables hidden, credentials inside other values (URLs, tokens) redacted."""
    return {k: (REDACTED if is_secret_name(k) and v else redact_text(v)) for k, v in env.items()}


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Copy of argv with the values of secret options replaced (`--api_key X` and `--api_key=X`) and any
    credential inside another argument redacted."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if name in SECRET_OPTIONS:
            if eq:
                out.append(f"{name}={REDACTED}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(redact_text(arg))
    return out


def redact_tree(value: Any) -> Any:
    """A JSON-like structure with every secret-named key's value hidden and every string redacted."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if isinstance(k, str) and is_secret_name(k) and isinstance(v, str) and v
                    else redact_tree(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(v) for v in value]
    return redact_text(value) if isinstance(value, str) else value

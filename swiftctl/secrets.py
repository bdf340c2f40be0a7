"""Keep secrets out of anything printed, logged or saved."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

REDACTED = "***"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
# ms-swift / swiftctl options whose value is a secret
SECRET_OPTIONS = frozenset({"--api_key", "--swanlab_token", "--hub_token", "--wandb_api_key", "--api-key"})


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """Copy of env with the value of every secret-looking variable replaced."""
    return {k: (REDACTED if is_secret_name(k) and v else v) for k, v in env.items()}


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Copy of argv with the values of secret options replaced (`--api_key X` and `--api_key=X`)."""
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
        out.append(arg)
    return out

"""What a job may put in ``resources.env``: valid names, none that swiftctl itself sets, no secrets.

A name must be a POSIX shell name (``[A-Za-z_][A-Za-z0-9_]*``): anything else would be a bash statement in a
written script (``X=1; touch PWNED; Y``). Names swiftctl sets are refused so a job cannot silently replace the
patch path or the rendezvous. Secrets belong in the environment of whoever launches, never in a job file.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from swiftctl.secrets import is_secret_name, looks_secret

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# name -> what to do instead
RESERVED: dict[str, str] = {
    "PYTHONPATH": "swiftctl puts its patch boot dir first on PYTHONPATH; export PYTHONPATH in the shell instead "
                  "(swiftctl keeps your entries after its own)",
    "SWIFTCTL_PATCHES": "patches are chosen by swiftctl (see `swiftctl patch list`)",
    "SWIFTCTL_PATCH_REPORT": "set by swiftctl for `swiftctl patch check --verify`",
    "NPROC_PER_NODE": "set resources.gpus_per_node",
    "CUDA_VISIBLE_DEVICES": "set resources.cuda_visible_devices",
    "NNODES": "set resources.nodes",
    "NODE_RANK": "pass `swiftctl train --node-rank N`",
    "MASTER_ADDR": "set resources.master_addr",
    "MASTER_PORT": "set resources.master_port",
}


# variables bash itself sets or reads at start-up (BASH_ENV/ENV would run a file in every bash the script starts)
SHELL_OWNED = frozenset({"_", "PWD", "OLDPWD", "SHLVL", "IFS", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4",
                         "PROMPT_COMMAND", "CDPATH", "GLOBIGNORE"})


def check_name(name: str) -> str:
    if not ENV_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*): rename it")
    if name in SHELL_OWNED or name.startswith("BASH_FUNC_"):
        raise ValueError(f"{name} is set or interpreted by bash itself, so a launch script cannot pass it on safely: "
                         "remove it from resources.env")
    if name in RESERVED:
        raise ValueError(f"{name} is set by swiftctl and cannot be set in resources.env: {RESERVED[name]}")
    if is_secret_name(name):
        raise ValueError(f"{name} looks like a secret: remove it from the job file and export it in the shell that "
                         f"launches (export {name}=...); swiftctl passes the environment on")
    return name


def check_value(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a NUL character cannot be in an environment value: remove it")
    if looks_secret(value):
        raise ValueError("this value looks like a secret (a token or a URL with credentials): remove it from the job "
                         "file and export the variable in the shell that launches")
    return value


EnvName = Annotated[str, AfterValidator(check_name)]
EnvValue = Annotated[str, AfterValidator(check_value)]


def value_problems(values: list[str]) -> list[str]:
    """Secret-looking values in free text (``extra_args``)."""
    return [f"{v[:12]!r}... looks like a secret (a token or a URL with credentials): remove it and pass it "
            "through the environment" for v in values if looks_secret(v)]

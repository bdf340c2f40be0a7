"""Rendering of `swiftctl patch list/check/env`."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.table import Table

from swiftctl.ui.console import err, out

if TYPE_CHECKING:
    from swiftctl.patches.status import CheckResult

_STYLE = {"needed": "bold red", "applied": "green", "not needed": "dim"}


def _table(statuses: list) -> Table:
    table = Table(show_lines=False)
    for col in ("patch", "state", "reason"):
        table.add_column(col, overflow="fold")
    for s in statuses:
        state = s.state.value + (f" (child: {s.verified})" if s.verified else "")
        table.add_row(s.id, f"[{_STYLE[s.state.value]}]{state}[/]", s.reason)
    return table


def render_list(statuses: list) -> None:
    out().print(_table(statuses))
    for s in statuses:
        if s.state.value != "not needed":
            sys.stderr.write(f"{s.id}: {s.why}\n")


def render_check(result: CheckResult) -> None:
    out().print(_table(result.statuses))
    if result.ok:
        err().print("all needed patches are applied", highlight=False)


def env_lines(changed: Mapping[str, str]) -> list[str]:
    """`export NAME=VALUE` lines, each value shell-quoted: the output of `patch env` is safe to eval."""
    return [f"export {name}={shlex.quote(value)}" for name, value in changed.items()]


def render_env(changed: Mapping[str, str]) -> None:
    if not changed:
        sys.stdout.write("# swiftctl: no patch is needed in this environment\n")
        err().print("no patch is needed in this environment", highlight=False)
        return
    sys.stdout.write("\n".join(env_lines(changed)) + "\n")
    sys.stdout.flush()

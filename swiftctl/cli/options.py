"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer


def complete_profile(incomplete: str) -> list[str]:
    """Profile names for shell completion (read only when the shell asks)."""
    from swiftctl.envcheck.profiles import list_profiles

    return [n for n in list_profiles() if n.startswith(incomplete)]


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (stable schema, for CI).")]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", envvar="SWIFTCTL_PROFILE", autocompletion=complete_profile,
                 help="Pin profile (e.g. cpu, swift4-gpu). Inferred from the installed packages when omitted."),
]

"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (stable schema, for CI).")]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", envvar="SWIFTCTL_PROFILE",
                 help="Pin profile (e.g. cpu, swift4-gpu). Inferred from the installed packages when omitted."),
]

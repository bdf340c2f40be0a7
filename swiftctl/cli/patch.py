"""`swiftctl patch`: list, check and enable the compatibility patches for the ms-swift stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swiftctl.cli.options import JsonOpt

patch_app = typer.Typer(
    name="patch",
    help="Compatibility patches applied in every Python process swiftctl starts (torchrun workers and vLLM "
    "engine processes included).\n\nExamples:\n\n  swiftctl patch list\n\n  swiftctl patch check --json\n\n"
    '  eval "$(swiftctl patch env)"; swift sft ...',
    no_args_is_help=True,
    rich_markup_mode=None,
)

OnlyOpt = Annotated[str | None, typer.Option("--only", help="Comma-separated patch ids (default: the needed ones), "
                                                            "e.g. --only gelu-tanh-alias.")]


@patch_app.command("list")
def list_(json: JsonOpt = False) -> None:
    """Show every patch: needed / applied / not needed, and why.

    "applied" means the current environment enables it for every Python process started from it.

    Example: swiftctl patch list --json
    """
    from swiftctl.patches.status import collect

    statuses = collect()
    if json:
        from swiftctl.ui.console import print_json

        print_json(statuses)
        return
    from swiftctl.ui.patch_view import render_list

    render_list(statuses)


@patch_app.command("check")
def check(
    json: JsonOpt = False,
    verify: Annotated[bool, typer.Option("--verify", help="Also import each needed patch's target in a real child "
                                                          "Python and prove the patch took effect (slower).")] = False,
) -> None:
    """Exit 1 if a needed patch is not applied in this environment.

    Example: eval "$(swiftctl patch env)" && swiftctl patch check --verify
    """
    from swiftctl.errors import SwiftctlError
    from swiftctl.patches.status import FIX_HINT
    from swiftctl.patches.status import check as run_check

    result = run_check(do_verify=verify)
    if json:
        from swiftctl.ui.console import print_json

        print_json(result)
    else:
        from swiftctl.ui.patch_view import render_check

        render_check(result)
    if not result.ok:
        noun = "patch is" if len(result.missing) == 1 else "patches are"
        raise SwiftctlError(f"{len(result.missing)} needed {noun} not applied: {', '.join(result.missing)}",
                            hint=f"{FIX_HINT} (swiftctl train/infer/serve/eval apply them automatically)")


@patch_app.command("env")
def env(
    only: OnlyOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Enable patches from --only even if not needed.")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="File each patched process appends one JSON "
                                                                 "line per patch outcome to.")] = None,
    json: JsonOpt = False,
) -> None:
    """Print `export` lines that enable the patches for commands run by hand (eval-safe).

    Example: eval "$(swiftctl patch env)"; swift sft --model ... ;
    swiftctl patch env --only gelu-tanh-alias --force
    """
    import os

    from swiftctl.patches.env import patch_environment

    ids = [i.strip() for i in only.split(",") if i.strip()] if only is not None else None
    if report is not None:
        _check_writable(report)
    full = patch_environment(os.environ, ids, force=force, report=report.resolve() if report else None)
    changed = {k: v for k, v in full.items() if os.environ.get(k) != v}
    if json:
        from swiftctl.ui.console import print_json

        print_json(changed)
        return
    from swiftctl.ui.patch_view import render_env

    render_env(changed)


def _check_writable(path: Path) -> None:
    import os

    from swiftctl.errors import SwiftctlError

    parent = path.resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise SwiftctlError(f"cannot write the patch report in {parent}: directory missing or read-only",
                            hint="pass --report a path in a writable directory", location=str(path))


def register(app: typer.Typer) -> None:
    """Attach this group's commands to the root app."""
    app.add_typer(patch_app)

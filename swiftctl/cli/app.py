"""The `swiftctl` command: the root Typer app and the one error boundary.

Sub-command groups live in sibling modules and are registered here. They import only typer at module level,
so `swiftctl --help` stays fast; domain code is imported inside each command.
"""

from __future__ import annotations

import os
import sys

import click
import typer

from swiftctl import __version__
from swiftctl.errors import EXIT_USAGE, SwiftctlError

app = typer.Typer(
    name="swiftctl",
    help="Reliable supervised fine-tuning of Qwen-family models with ms-swift.\n\n"
    "Examples:\n\n"
    "  swiftctl doctor --require train,infer\n\n"
    "  swiftctl data check jobs/data/muice-sample.jsonl --model .fixtures/tiny-qwen2\n\n"
    "  swiftctl train jobs/muice.toml --dry-run",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"swiftctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Reliable supervised fine-tuning of Qwen-family models with ms-swift."""


def _register() -> None:
    from swiftctl.cli import data, doctor, env, export, infer, jobs, patch, report, runs

    doctor.register(app)
    env.register(app)
    patch.register(app)
    data.register(app)
    jobs.register(app)
    infer.register(app)
    report.register(app)
    runs.register(app)
    export.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place that turns errors into messages and exit codes."""
    debug = os.environ.get("SWIFTCTL_DEBUG") == "1"
    try:
        result = app(args=argv, prog_name="swiftctl", standalone_mode=False)
    except SwiftctlError as err:
        if debug:
            raise
        sys.stdout.flush()
        print(err.render(), file=sys.stderr)
        sys.exit(err.exit_code)
    except click.exceptions.UsageError as err:
        if debug:
            raise
        err.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)

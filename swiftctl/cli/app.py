"""The `swiftctl` command: the root Typer app and the one error boundary.

Sub-command groups live in sibling modules and are registered here. They import only typer at module level,
so `swiftctl --help` stays fast; domain code is imported inside each command.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

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
    add_completion=True,
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
    from swiftctl.cli import data, doctor, env, export, infer, jobs, patch, plan, report, runs

    doctor.register(app)
    env.register(app)
    patch.register(app)
    data.register(app)
    jobs.register(app)
    infer.register(app)
    report.register(app)
    plan.register(app)
    runs.register(app)
    export.register(app)


_register()


INTERNAL_ERROR = "internal error"
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` and atomic write cleans up (like Ctrl-C)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place that turns errors into messages and exit codes."""
    from swiftctl.cli import boundary

    debug = os.environ.get("SWIFTCTL_DEBUG") == "1"
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        boundary.check_argv(sys.argv[1:] if argv is None else list(argv))
        result = app(args=argv, prog_name="swiftctl", standalone_mode=False)
    except Terminated:
        _fail("terminated", EXIT_TERMINATED)
    except SwiftctlError as err:
        if debug:
            raise
        _fail(err.render(), err.exit_code)
    except boundary.NO_ARGS as err:  # a group without its sub-command: the help, as a usage error
        sys.stdout.flush()
        print(err.format_message(), file=sys.stderr)  # type: ignore[attr-defined]
        sys.exit(EXIT_USAGE)
    except boundary.EXITS as err:
        sys.exit(getattr(err, "exit_code", 0))
    except (*boundary.ABORTS, KeyboardInterrupt):
        _fail("interrupted", 130)
    except Exception as err:
        if debug:
            raise
        if boundary.is_click_error(err):
            usage = boundary.from_click(err)
            _fail(usage.render(), usage.exit_code)
        # a bug: still one message, the traceback only with SWIFTCTL_DEBUG=1
        _fail(f"error: {INTERNAL_ERROR}: {type(err).__name__}: {err}\n"
              "  fix: rerun with SWIFTCTL_DEBUG=1 to see the traceback, and report it", 1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    sys.exit(result if isinstance(result, int) else 0)


def _fail(text: str, code: int) -> None:
    sys.stdout.flush()
    print(text, file=sys.stderr)
    sys.exit(code)

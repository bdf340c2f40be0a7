"""Turn every command-line parsing failure into one swiftctl message (exit 2), whichever click raised it.

typer 0.29 vendors its own click as ``typer._click``; older typers use the real ``click``. Both may be
installed at once, so the exception classes of every click-like module found are caught, and a last duck-typed
check (a ``format_message`` method and an ``exit_code``, from a click or typer module) covers a future vendoring.
"""

from __future__ import annotations

import importlib
import re

from swiftctl.errors import EXIT_USAGE, SwiftctlError, UsageError

_MODULES = ("click.exceptions", "typer._click.exceptions", "typer.exceptions", "typer")


def _classes(name: str) -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for mod_name in _MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
            found.append(cls)
    return tuple(found)


CLICK_ERRORS = _classes("ClickException") + _classes("UsageError") + _classes("BadParameter")
NO_ARGS = _classes("NoArgsIsHelpError")
ABORTS = _classes("Abort")
EXITS = _classes("Exit")


def is_click_error(err: BaseException) -> bool:
    """True for click's or typer's own errors (any vendoring), false for everything else."""
    if isinstance(err, CLICK_ERRORS):
        return True
    module = type(err).__module__
    return (module.startswith(("click", "typer")) and callable(getattr(err, "format_message", None))
            and isinstance(getattr(err, "exit_code", None), int))


def _command_path(err: BaseException) -> str:
    ctx = getattr(err, "ctx", None)
    return getattr(ctx, "command_path", None) or "swiftctl"


def _usage_line(err: BaseException) -> str | None:
    ctx = getattr(err, "ctx", None)
    try:
        usage = ctx.get_usage() if ctx is not None else None
    except Exception:  # a broken context must not hide the real message
        return None
    if not usage:
        return None
    usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), " ".join(usage.split()))  # typer's {job} metavar
    return usage.removeprefix("Usage: ")


def from_click(err: BaseException) -> SwiftctlError:
    """One swiftctl error for a click/typer exception: what is wrong (with the option), where, and the fix."""
    path = _command_path(err)
    message = " ".join(str(err.format_message()).split())  # type: ignore[attr-defined]
    message = message[:1].lower() + message[1:] if message else "invalid command line"
    usage = _usage_line(err)
    hint = f"usage: {usage}; see `{path} --help`" if usage else f"see `{path} --help`"
    code = getattr(err, "exit_code", EXIT_USAGE)
    if code == EXIT_USAGE or isinstance(err, _classes("UsageError")):
        return UsageError(message, hint=hint, location=path)
    return SwiftctlError(message, hint=hint, location=path, exit_code=code if isinstance(code, int) and code else 1)


def check_argv(argv: list[str]) -> None:
    """Refuse an argument holding a NUL character before any command sees it.

    No operating system can pass one in a real command line (argv entries are C strings), so it only arrives
    in-process; left alone it would surface deep inside as ``ValueError: embedded null byte`` from a path call.
    """
    for position, arg in enumerate(argv, start=1):
        if "\x00" in arg:
            raise UsageError(f"argument {position} ({arg!r}) contains a NUL character", location="swiftctl",
                             hint="remove the NUL (\\0) from the argument; no shell can pass one")

"""The one error family of swiftctl.

Every expected failure raises a :class:`SwiftctlError` carrying what went wrong, where (``file:line`` or a TOML
key), and the fix. The CLI boundary (``swiftctl.cli.app.main``) turns it into one message on stderr and the
error's exit code; a traceback is shown only with ``SWIFTCTL_DEBUG=1``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # the thing checked/run failed, or bad input files
EXIT_USAGE = 2  # the command line itself is wrong


class SwiftctlError(Exception):
    """An expected failure: ``message`` says what, ``location`` where, ``hint`` what to do next."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None, location: str | None = None,
                 exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        if exit_code is not None:
            self.exit_code = exit_code

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"error: {where}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class UsageError(SwiftctlError):
    """The command line is wrong: unknown name, bad option value (exit 2)."""

    exit_code = EXIT_USAGE


class ErrorGroup(SwiftctlError):
    """Several problems found at once (config validation); rendered as one block, one line per problem."""

    def __init__(self, title: str, errors: list[SwiftctlError], *, exit_code: int | None = None) -> None:
        super().__init__(title, exit_code=exit_code)
        self.errors = errors

    def render(self) -> str:
        lines = [f"error: {self.message}"]
        for err in self.errors:
            where = f"{err.location}: " if err.location else ""
            lines.append(f"  {where}{err.message}" + (f" (fix: {err.hint})" if err.hint else ""))
        return "\n".join(lines)

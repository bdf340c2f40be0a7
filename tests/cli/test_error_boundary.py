"""Every usage error of every command is one message with exit 2 and no traceback (the tree walk).

The cases are generated from the Typer app itself (tests/cli/cli_tree.py), so a new command or option is
covered without editing this file. Nothing heavy runs: each case is rejected while the command line is parsed,
before any command body is reached (the bad token comes first, so click processes it first).
"""

from __future__ import annotations

import pytest

from swiftctl.cli.app import INTERNAL_ERROR
from tests.cli import cli_tree as tree

BAD_NUMBER = "not-a-number"


def _option_cases() -> list[tuple[str, list[str], str]]:
    """(case id, argv, text the message must contain)."""
    cases: list[tuple[str, list[str], str]] = []
    for leaf in tree.leaves():
        base = list(leaf.path)
        cid = " ".join(leaf.path)
        cases.append((f"{cid} unknown-option", [*base, "--no-such-option-zz"], "--no-such-option-zz"))
        if leaf.required() and not getattr(leaf.command, "no_args_is_help", False):
            cases.append((f"{cid} missing-required", base, "missing"))
        for param in leaf.options():
            opt = param.opts[0]
            kind = tree.kind(param)
            if kind == "bool":
                if not param.secondary_opts:
                    cases.append((f"{cid} {opt}=value", [*base, f"{opt}=yes"], opt))
                continue
            # an option given as the last token, without its value
            cases.append((f"{cid} {opt} no-value", [*base, opt], opt))
            if kind in ("int", "float"):
                cases.append((f"{cid} {opt} {BAD_NUMBER}", [*base, opt, BAD_NUMBER], opt))
                if param.min is not None:
                    low = param.min - 1
                    cases.append((f"{cid} {opt} below-min", [*base, opt, str(low)], opt))
                if param.max is not None:
                    cases.append((f"{cid} {opt} above-max", [*base, opt, str(param.max + 1)], opt))
            elif kind == "choice":
                cases.append((f"{cid} {opt} not-a-choice", [*base, opt, "not-a-choice"], opt))
            elif kind == "path":
                exists, file_okay, dir_okay = tree.path_rules(param)
                if exists:
                    cases.append((f"{cid} {opt} missing-path", [*base, opt, "/nonexistent/zz"], opt))
                if not dir_okay:
                    cases.append((f"{cid} {opt} a-dir", [*base, opt, str(tree.EXISTING_DIR)], opt))
                if not file_okay:
                    cases.append((f"{cid} {opt} a-file", [*base, opt, str(tree.EXISTING_FILE)], opt))
    for path, _group in tree.groups():
        cid = " ".join(path) or "swiftctl"
        cases.append((f"{cid} no-such-command", [*path, "no-such-command-zz"], "no-such-command-zz"))
        cases.append((f"{cid} unknown-option", [*path, "--no-such-option-zz"], "--no-such-option-zz"))
    return cases


CASES = _option_cases()


def test_the_walk_covers_every_command_and_typed_option():
    leaves = tree.leaves()
    assert len(leaves) >= 19
    ids = {c[0] for c in CASES}
    assert len(ids) == len(CASES)
    for leaf in leaves:
        assert f"{' '.join(leaf.path)} unknown-option" in ids
    # the ranges the issue names are declared, so they are walked
    assert "serve --port above-max" in ids and "serve --port below-min" in ids
    assert "data check --max-length below-min" in ids
    assert "report --fail-on not-a-choice" in ids
    assert "infer --val a-dir" in ids and "job schema --output a-dir" in ids


@pytest.mark.parametrize(("argv", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_usage_error_is_one_message_exit_2(cli, argv, needle):
    result = cli(*argv)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert INTERNAL_ERROR not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: swiftctl"), result.stderr
    assert needle in lines[0], result.stderr
    assert len(lines) == 2 and lines[1].startswith("  fix: "), result.stderr


NO_ARGS_HELP = [p for p, _ in tree.groups()] + [leaf.path for leaf in tree.leaves()
                                                 if getattr(leaf.command, "no_args_is_help", False)]


@pytest.mark.parametrize("path", NO_ARGS_HELP, ids=lambda p: " ".join(p) or "swiftctl")
def test_no_args_shows_help_exit_2(cli, path):
    result = cli(*path)
    assert result.exit_code == 2
    assert "Usage: swiftctl" in result.stderr and "Traceback" not in result.stderr


def test_boundary_catches_both_clicks():
    """typer 0.29 raises typer._click's classes, older typers click's: the boundary knows both."""
    import click

    from swiftctl.cli import boundary

    assert click.exceptions.UsageError in boundary.CLICK_ERRORS
    vendored = pytest.importorskip("typer._click.exceptions")
    assert vendored.UsageError in boundary.CLICK_ERRORS
    err = click.exceptions.NoSuchOption("--zz")
    assert boundary.is_click_error(err)
    assert boundary.from_click(err).exit_code == 2
    assert not boundary.is_click_error(ValueError("x"))


@pytest.mark.parametrize("path", [leaf.path for leaf in tree.leaves()], ids=lambda p: " ".join(p))
def test_nul_in_any_argument_is_one_usage_error(cli, path):
    """A NUL can reach argv only in-process (found by the argv property test as `job migrate '\\0'`); every
    command, heavy ones too, refuses it before its body runs: nothing is started, nothing is opened."""
    for argv in ([*path, "\x00"], [*path, "--x=a\x00b"], [*path, "ok", "jobs/a\x00.toml"]):
        result = cli(*argv)
        assert result.exit_code == 2, (argv, result.stderr)
        assert f"argument {argv.index(next(a for a in argv if chr(0) in a)) + 1}" in result.stderr
        assert "contains a NUL character" in result.stderr and INTERNAL_ERROR not in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""

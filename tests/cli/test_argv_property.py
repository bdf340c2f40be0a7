"""Property: any argv built from real command names, option names and junk ends in one message, never a traceback.

In-process through the real boundary (`cli` fixture). An argv that would parse completely and reach a command
that starts real work (training, a vLLM engine, a pip install, a watch loop) is discarded before it runs: the
parse is done first with the app's own click parser (`would_run`), so only the rest is executed.
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.cli.app import INTERNAL_ERROR
from tests.cli import cli_tree as tree

JUNK = ["", "-", "--", "-x", "--=", "=", "abc", "0", "-1", "1", "65536", "1e309", "nan", "inf", "3.5", "99999999999999999999",
        "/", "/tmp", "/dev/null", "/nonexistent/file.toml", "x.toml", "x.jsonl", "out.json", "a b", "ü", "沐雪", "'", '"', "$(id)",
        ";", "\n", "--help", "--version", "error", "warning", "messages", "cpu", "qwen2_5", "vllm", "auto"]
TOKENS = tree.all_tokens() + JUNK
HEAVY = {("train",), ("infer",), ("serve",), ("eval",), ("env", "install")}
# most argv start with a real command path, so the options of every command are reached, not only the root's
PATHS = [(), *(p for p, _ in tree.groups()), *(leaf.path for leaf in tree.leaves())]
STATS = {"run": 0, "discarded": 0}


def would_run(argv: list[str]) -> tuple[str, ...] | None:
    """The leaf command whose body this argv would reach, or None when parsing stops it first."""
    cmd, name, parent, args, path = tree.root(), "swiftctl", None, list(argv), ()
    try:
        while True:
            ctx = cmd.make_context(name, args, parent=parent)
            if getattr(cmd, "commands", None) is None:
                return path
            rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
            if not rest:
                return None
            name, cmd, args = cmd.resolve_command(ctx, rest)
            if cmd is None:
                return None
            parent, path = ctx, (*path, name)
    except BaseException:  # a usage error, --help or --version: nothing heavy runs
        return None


def heavy(argv: list[str]) -> bool:
    leaf = would_run(argv)
    if leaf is None:
        return False
    return (leaf in HEAVY or (leaf == ("patch", "check") and "--verify" in argv)
            or (leaf == ("report",) and "--watch" in argv))


@settings(max_examples=int(os.environ.get("SWIFTCTL_ARGV_EXAMPLES", "250")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(prefix=st.sampled_from(PATHS), tail=st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=6))
def test_random_argv_never_tracebacks(cli, prefix, tail):
    argv = [*prefix, *tail]
    if heavy(argv):
        STATS["discarded"] += 1
        return
    STATS["run"] += 1
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # a junk `-o out.json` writes here, never into the repo
        try:
            result = cli(*argv)
        finally:
            os.chdir(cwd)
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert INTERNAL_ERROR not in result.stderr, (argv, result.stderr)
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, out)


def test_heavy_commands_are_recognised():
    assert heavy(["train", "x.toml"]) and heavy(["serve"]) and heavy(["env", "install", "cpu"])
    assert not heavy(["train"]) and not heavy(["serve", "--port", "0"]) and not heavy(["train", "--help"])
    assert would_run(["data", "check", "x"]) == ("data", "check")


def teardown_module(module):
    # the counts for the closing note (visible with -s)
    print(f"\nargv property: {STATS['run']} examples run, {STATS['discarded']} discarded as heavy")

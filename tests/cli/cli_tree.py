"""The command tree of the real Typer app, read the way click parses it (so a new command is covered without edits)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from typer.main import get_command

from swiftctl.cli.app import app


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]  # e.g. ("data", "check")
    command: object  # the click command

    @property
    def params(self) -> list:
        return [p for p in self.command.params if not getattr(p, "hidden", False) or p.opts[0].startswith("--")]

    def options(self) -> list:
        return [p for p in self.command.params if p.opts and p.opts[0].startswith("-")]

    def required(self) -> list:
        return [p for p in self.command.params if p.required]


def root():
    return get_command(app)


def groups() -> Iterator[tuple[tuple[str, ...], object]]:
    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs is not None:
            yield path, cmd
            for name, sub in subs.items():
                yield from walk(sub, (*path, name))
    yield from walk(root(), ())


def leaves() -> list[Leaf]:
    out: list[Leaf] = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", None)
        if subs is None:
            out.append(Leaf(path, cmd))
            return
        for name, sub in subs.items():
            walk(sub, (*path, name))
    walk(root(), ())
    return out


def annotation(param) -> object:
    return param.type_descriptor.annotation


def kind(param) -> str:
    """int, float, choice, path, bool, str or list (how a wrong value can be fed)."""
    desc = param.type_descriptor
    if getattr(param, "is_flag", False):
        return "bool"
    if desc.is_choice:
        return "choice"
    ann = annotation(param)
    if ann is int:
        return "int"
    if ann is float:
        return "float"
    if desc.is_path:
        return "path"
    if getattr(param, "multiple", False) or param.nargs != 1:
        return "list"
    return "str"


def path_rules(param) -> tuple[bool, bool, bool]:
    """(exists, file_okay, dir_okay) as declared on a Path parameter."""
    info = param.type_descriptor.parameter_info
    return bool(info.exists), bool(info.file_okay), bool(info.dir_okay)


def all_tokens() -> list[str]:
    """Every command name and option name of the tree."""
    names: set[str] = set()
    for path, _ in groups():
        names.update(path)
    for leaf in leaves():
        names.update(leaf.path)
        for p in leaf.options():
            names.update(p.opts)
            names.update(getattr(p, "secondary_opts", []) or [])
    return sorted(n for n in names if n)


EXISTING_DIR = Path(__file__).resolve().parent
EXISTING_FILE = Path(__file__).resolve()

"""Type-check the values in a job's ``extra_args`` against the installed ms-swift's `swift sft` argument types.

The annotations are read with :mod:`ast`, like the names in :mod:`swiftctl.jobs.swift_args` (nothing imported).
Only the kinds HfArgumentParser converts simply are checked: int, float, bool and Literal choices, optional or not.
Lists, unions and strings are left alone, and so is everything when ms-swift is not installed (bundled names only).
"""

from __future__ import annotations

import ast
import math
from functools import cache
from pathlib import Path

from swiftctl.jobs import swift_args as sa

# what HfArgumentParser's string_to_bool accepts
_BOOLS = {"true", "false", "t", "f", "yes", "no", "y", "n", "1", "0"}


class _TypeIndex(sa._SourceIndex):
    def annotations(self, module: str, name: str) -> dict[str, str]:
        found = self.find_class(module, name)
        if found is None:
            return {}
        mod, cls = found
        out: dict[str, str] = {}
        for base in reversed(cls.bases):  # the first base wins, as in the MRO; the class's own body wins over all
            if isinstance(base, ast.Name):
                out.update(self.annotations(mod.name, base.id))
            elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
                target = mod.imports.get(base.value.id)
                if target is not None:
                    out.update(self.annotations(f"{target[0]}.{target[1]}", base.attr))
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and sa._is_init_field(stmt):
                out[stmt.target.id] = ast.unparse(stmt.annotation)
        return out


def kind(annotation: str) -> tuple[str, tuple[str, ...]] | None:
    """("int"|"float"|"bool"|"choice", choices) for a simple annotation, None for anything else."""
    text = annotation.replace("typing.", "").strip()
    for wrapper in ("Optional[",):
        if text.startswith(wrapper) and text.endswith("]"):
            text = text[len(wrapper):-1].strip()
    if text.endswith("| None"):
        text = text[:-6].strip()
    if text in ("int", "float", "bool"):
        return text, ()
    if text.startswith("Literal[") and text.endswith("]"):
        try:
            values = ast.literal_eval(f"({text[8:-1]},)")
        except (ValueError, SyntaxError):
            return None
        if all(isinstance(v, str) for v in values):
            return "choice", tuple(values)
    return None


@cache
def installed_kinds() -> dict[str, tuple[str, tuple[str, ...]]]:
    found = sa.installed_swift()
    if found is None:
        return {}
    index = _TypeIndex(Path(found[1]))
    for module in sa._SFT_MODULES:
        if index.module(module) is not None:
            cls = "SftArguments" if module.startswith("swift.arguments") else "TrainArguments"
            kinds = {name: k for name, ann in index.annotations(module, cls).items() if (k := kind(ann)) is not None}
            if kinds:
                return kinds
    return {}


def value_problem(name: str, value: str, kinds: dict[str, tuple[str, tuple[str, ...]]]) -> str | None:
    """Why ms-swift would reject ``--name value``, or None."""
    if name not in kinds:
        return None
    what, choices = kinds[name]
    if what == "int":
        try:
            int(value)
        except ValueError:
            return f"--{name} takes an integer, not {value!r}"
    elif what == "float":
        try:
            number = float(value)
        except ValueError:
            return f"--{name} takes a number, not {value!r}"
        if not math.isfinite(number):
            return f"--{name} must be a finite number, not {value!r}"
    elif what == "bool" and value.lower() not in _BOOLS:
        return f"--{name} takes true or false, not {value!r}"
    elif what == "choice" and value not in choices:
        return f"--{name} takes one of {', '.join(choices)}; not {value!r}"
    return None


def extra_arg_problems(extra: list[str], kinds: dict[str, tuple[str, tuple[str, ...]]] | None = None
                       ) -> list[tuple[int, str]]:
    """(index, message) for each extra_args value of the wrong type (``--name value`` and ``--name=value``)."""
    kinds = installed_kinds() if kinds is None else kinds
    out = []
    for i, arg in enumerate(extra):
        if not arg.startswith("--"):
            continue
        name, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(extra) or extra[i + 1].startswith("--"):
                continue  # a flag (bool const True) or a missing value, which ms-swift reports itself
            value = extra[i + 1]
        problem = value_problem(name, value, kinds)
        if problem:
            out.append((i, problem))
    return out

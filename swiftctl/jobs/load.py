"""Read a job file: TOML → validated :class:`~swiftctl.jobs.schema.Job`, every error at once with its location.

Locations are ``file:line (dotted.key)``; lines come from a scan of the TOML's table headers and keys.
Relative paths (model dir, dataset files, output dir) resolve against the job file's directory.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from swiftctl.errors import ErrorGroup, SwiftctlError
from swiftctl.jobs.schema import Job

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')
_FILE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".txt", ".parquet")


@dataclass
class LoadedJob:
    job: Job
    path: Path                     # the job file
    lines: dict[str, int] = field(default_factory=dict)  # dotted key -> line

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def where(self, key: str) -> str:
        """``file:line (key)`` for a dotted key, falling back to the nearest enclosing table."""
        probe = key
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0]
        line = self.lines.get(probe)
        return f"{self.path}:{line} ({key})" if line else f"{self.path} ({key})"

    def local(self, value: str) -> Path:
        """A path from the job file, resolved against the job file's directory."""
        path = Path(value)
        with contextlib.suppress(RuntimeError):  # "~someone" with no such user: keep it literal
            path = path.expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()


def key_lines(text: str) -> dict[str, int]:
    """Map each dotted key (and table, and item of a multi-line array) of a TOML text to its 1-based line."""
    lines: dict[str, int] = {}
    table, array, item = "", None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        if array is not None:  # inside a multi-line array: one entry per item
            body = raw.split("#", 1)[0].strip()
            if body.startswith("]"):
                array = None
            elif body:
                for _ in range(max(1, len(_STRING.findall(body)))):
                    lines.setdefault(f"{array}.{item}", number)
                    item += 1
            continue
        if (m := _HEADER.match(raw)) is not None:
            table = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            lines.setdefault(table, number)
            continue
        if (m := _KEY.match(raw)) is not None:
            key = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            full = f"{table}.{key}" if table else key
            lines.setdefault(full, number)
            rest = raw[m.end():].split("#", 1)[0].strip()
            if rest.startswith("[") and "]" not in rest:
                array, item = full, 0
    return lines


def is_local_dataset(entry: str) -> bool:
    """A dataset entry that names a file (vs a hub id like ``AI-ModelScope/alpaca#500``)."""
    path = entry.split("#", 1)[0]
    return path.startswith(("/", ".", "~")) or path.lower().endswith(_FILE_SUFFIXES)


def is_local_model(entry: str) -> bool:
    return entry.startswith(("/", ".", "~"))


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Job
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            return model
        ann = info.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return model


def _missing(loc: tuple) -> tuple[str, str | None]:
    table = _model_at(loc)
    parent = _model_at(loc[:-1])
    if table is not None and table is not parent:  # a whole [table] is missing
        need = [n for n, f in table.model_fields.items() if f.is_required()]
        name = ".".join(str(p) for p in loc)
        return (f"the [{name}] table is missing",
                f"add it: [{name}] with " + (", ".join(f"{n} = ..." for n in need) or "its keys"))
    return "required key missing", None


def _errors(exc: ValidationError, loaded: LoadedJob) -> list[SwiftctlError]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1])
            known = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            out.append(SwiftctlError(f"unknown key '{loc[-1]}'", hint=hint, location=loaded.where(key)))
            continue
        msg, hint = err["msg"].removeprefix("Value error, "), None
        if err["type"] == "missing":
            msg, hint = _missing(loc)
        elif err["type"] == "string_pattern_mismatch" and loc == ("swift_version",):
            msg, hint = f"swift_version {err['input']!r} is not an ms-swift version swiftctl knows", \
                'use "3" or "4" (or a full version such as "4.6")'
        out.append(SwiftctlError(msg, location=loaded.where(key), hint=hint))
    return out


def load_job(path: Path) -> LoadedJob:
    """Parse and validate a job file; raise one ErrorGroup listing every problem with its location."""
    from swiftctl.jobs.readjob import nul_keys, read_job_text

    path = Path(path)
    text = read_job_text(path)  # regular files only (a FIFO would hang), bounded size, UTF-8, BOM dropped
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SwiftctlError(f"malformed TOML: {exc}", location=f"{path}:{line.group(1)}" if line else str(path),
                            hint="fix the TOML syntax (strings in quotes, one [table] header per table)") from None
    loaded = LoadedJob(job=None, path=path, lines=key_lines(text))  # type: ignore[arg-type]
    nuls = [SwiftctlError("a NUL character (\\u0000) cannot be passed to a process", location=loaded.where(key),
                          hint="remove it from the string") for key in nul_keys(raw)]
    if nuls:
        raise ErrorGroup(f"{path}: invalid job file", nuls)
    try:
        loaded.job = Job.model_validate(raw, strict=True)  # TOML has real types: no `true` → 1, no "8" → 8
    except ValidationError as exc:
        raise ErrorGroup(f"{path}: invalid job file", _errors(exc, loaded)) from None
    return loaded

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
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required key missing"
        out.append(SwiftctlError(msg, location=loaded.where(key)))
    return out


def load_job(path: Path) -> LoadedJob:
    """Parse and validate a job file; raise one ErrorGroup listing every problem with its location."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SwiftctlError(f"job file not found: {path}", hint="pass the path of a job TOML, e.g. jobs/demo.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SwiftctlError(f"cannot read job file {path}: {exc}", hint="save it as UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SwiftctlError(f"malformed TOML: {exc}", location=f"{path}:{line.group(1)}" if line else str(path),
                            hint="fix the TOML syntax (strings in quotes, one [table] header per table)") from None
    loaded = LoadedJob(job=None, path=path, lines=key_lines(text))  # type: ignore[arg-type]
    try:
        loaded.job = Job.model_validate(raw)
    except ValidationError as exc:
        raise ErrorGroup(f"{path}: invalid job file", _errors(exc, loaded)) from None
    return loaded

"""Pin profiles: one TOML file per profile in ``swiftctl/resources/profiles/``, validated with pydantic.

A profile is the table of versions a stack is known to work with (range, recommended version, the capabilities
each package is needed for), the pip steps that install it in an order that works (torch first, pinned), the
runtime environment variables it needs, and data rules for known-bad combinations (``profiles/rules/*.toml``).
A malformed file is reported with its path and the TOML key, all problems at once.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swiftctl.envcheck.findings import CAPABILITIES
from swiftctl.errors import ErrorGroup, SwiftctlError, UsageError
from swiftctl.resources import resource_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Capability = Literal["train", "infer", "eval", "track", "webui"]


def env_dir() -> Path:
    """``$SWIFTCTL_ENV_DIR`` (a user's own profiles) or the profiles shipped in the package (swiftctl/resources/profiles)."""
    override = os.environ.get("SWIFTCTL_ENV_DIR")
    if not override:
        return resource_dir("profiles")
    path = Path(override)
    # A wrong override must not read as "no profiles" / "no known-bad rules": that is a false green in CI.
    if not any(path.glob("*.toml")):
        what = "does not exist" if not path.is_dir() else "has no profile (*.toml)"
        raise SwiftctlError(f"SWIFTCTL_ENV_DIR={override} {what}", location=str(path),
                            hint=f"unset SWIFTCTL_ENV_DIR, or copy the shipped profiles there: "
                                 f"cp -r {resource_dir('profiles')}/. {path}/")
    return path


def _spec(value: str) -> str:
    try:
        SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise ValueError(f"not a version range: {value!r} (write e.g. '>=4.33,<5.20')") from exc
    return value


def _req(value: str) -> str:
    try:
        Requirement(value)
    except InvalidRequirement as exc:
        raise ValueError(f"not a pip requirement: {value!r}") from exc
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Package(_Model):
    name: str
    range: str = ""  # PEP 440 specifier; "" = any version
    version: str | None = None  # recommended
    needed_for: tuple[Capability, ...] = Field(default=("train",), alias="for")
    notes: str = ""
    _check_range = field_validator("range")(_spec)

    @property
    def specifier(self) -> SpecifierSet:
        return SpecifierSet(self.range)


class Step(_Model):
    action: Literal["install", "uninstall"] = "install"
    packages: tuple[str, ...]
    constrained: bool = True  # pass the profile's constraints file (-c) to this pip install
    pip_args: tuple[str, ...] = ()
    note: str = ""

    @field_validator("packages")
    @classmethod
    def _reqs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _req(item)
        return value


class Rule(_Model):
    """Fires when every requirement in ``when`` is met by what is installed (``autoawq``, ``transformers>=4.57,<5``)."""

    code: str
    when: tuple[str, ...]
    severity: Literal["error", "warning", "info"] = "error"
    blocks: tuple[Capability, ...] = ()
    what: str
    why: str
    fix: str

    @field_validator("when")
    @classmethod
    def _reqs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _req(item)
        return value


class Profile(_Model):
    name: str
    description: str
    python: str = ""
    gpu: Literal["none", "optional", "required"] = "optional"
    torch_build: str = ""  # "cpu", or a minimum CUDA like "cu128" (RTX 5090 / sm_120 needs >= 12.8)
    packages: tuple[Package, ...] = Field(alias="package")
    install: tuple[Step, ...] = ()
    post_install: tuple[Step, ...] = ()
    runtime_env: dict[str, str] = {}
    rules: tuple[Rule, ...] = Field(default=(), alias="rule")
    path: str = ""
    _check_python = field_validator("python")(_spec)

    def package(self, name: str) -> Package | None:
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(name)
        return next((p for p in self.packages if canonicalize_name(p.name) == wanted), None)

    def constraints(self) -> list[str]:
        """One pinned line per package with a recommended version (what ``env constraints`` writes)."""
        return [f"{p.name}=={p.version}" for p in self.packages if p.version]


def _errors(path: Path, exc: ValidationError) -> ErrorGroup:
    problems = []
    for item in exc.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(SwiftctlError(item["msg"], location=f"{path}:{key}"))
    return ErrorGroup(f"{path}: invalid pin profile ({len(problems)} problem(s))", problems)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SwiftctlError(f"not valid TOML: {exc}", location=str(path),
                            hint=f"fix the syntax of {path} (see the other files in {path.parent})") from exc
    except OSError as exc:
        raise SwiftctlError(f"cannot read: {exc.strerror}", location=str(path)) from exc


def list_profiles() -> list[str]:
    """Names of the profiles in ``env/`` (file stems), sorted."""
    return sorted(p.stem for p in env_dir().glob("*.toml"))


@cache
def _load(path: Path) -> Profile:
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    data["path"] = str(path)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _errors(path, exc) from None
    if profile.name != path.stem:
        raise SwiftctlError(f"name = {profile.name!r} differs from the file name", location=f"{path}:name",
                            hint=f"set name = {path.stem!r} or rename the file")
    return profile


def load_profile(name: str) -> Profile:
    """Load and validate ``env/<name>.toml``; an unknown name is a usage error listing the known ones."""
    path = env_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(list_profiles()) or "none"
        raise UsageError(f"unknown profile {name!r}", hint=f"use one of: {known} (swiftctl env list)")
    return _load(path)


def load_rules() -> list[Rule]:
    """Known-bad combinations shared by every profile, from ``rules/*.toml`` (``[[rule]]`` tables) beside the profiles."""
    rules: list[Rule] = []
    own = env_dir() / "rules"  # an override without rules/ keeps the shipped known-bad rules, never none
    for path in sorted((own if own.is_dir() else resource_dir("profiles") / "rules").glob("*.toml")):
        data = _read_toml(path)
        for i, item in enumerate(data.get("rule", [])):
            try:
                rules.append(Rule.model_validate(item))
            except ValidationError as exc:
                group = _errors(path, exc)
                for err in group.errors:
                    err.location = err.location.replace(f"{path}:", f"{path}:rule[{i}].", 1)
                raise group from None
    return rules


def check_capabilities(names: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(names) - set(CAPABILITIES))
    if unknown:
        raise UsageError(f"unknown capability {', '.join(map(repr, unknown))}",
                         hint=f"--require takes a comma list of: {', '.join(CAPABILITIES)}")

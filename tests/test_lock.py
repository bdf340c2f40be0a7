"""requirements/lock.txt pins every dependency of swiftctl itself, and `make` installs with it."""

from __future__ import annotations

import re
import sys

from packaging.markers import Marker
from packaging.requirements import Requirement

from tests.conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK = REPO / "requirements" / "lock.txt"


def _pins() -> dict[str, str]:
    """name -> version for this interpreter (the lock is universal: markers pick the line)."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        req, _, marker = line.partition(";")
        name, _, version = req.strip().partition("==")
        assert version, f"not an exact pin: {line!r}"
        if not marker.strip() or Marker(marker.strip()).evaluate():
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_own_dependency_is_pinned():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("plot", "eval", "dev"):
        wanted += project["optional-dependencies"][extra]
    pins = _pins()
    for spec in wanted:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{req.name} is in pyproject.toml but not in {LOCK.name}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} violates {req}: run `make lock`"


def test_the_cli_libraries_are_locked_and_installed_as_locked():
    from importlib.metadata import version

    pins = _pins()
    for name in ("typer", "click", "pydantic", "rich"):
        assert version(name) == pins[name], f"{name} {version(name)} installed, {pins[name]} locked"


def test_make_installs_with_the_lock():
    makefile = (REPO / "Makefile").read_text()
    assert "LOCK   := requirements/lock.txt" in makefile
    assert re.search(r"pip install .*-c \$\(LOCK\) -e '\.\[plot,eval,dev\]'", makefile)
    assert re.search(r"^lock:", makefile, re.M)

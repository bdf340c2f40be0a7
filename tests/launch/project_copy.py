"""A copy of the project somewhere else (the swiftctl package, jobs/, a link to the fixtures), for portability tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, REPO


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copytree(REPO / "swiftctl", dest / "swiftctl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "jobs", dest / "jobs")
    (dest / ".fixtures").symlink_to(FIXTURES)
    return dest

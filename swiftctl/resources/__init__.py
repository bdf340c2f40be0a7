"""Data shipped inside the package: pin profiles, known-bad rules and dataset specs.

Read through :mod:`importlib.resources`, so an installed wheel finds them wherever it is run from. Each loader
also takes an environment variable that points at a user's own copy (SWIFTCTL_ENV_DIR, SWIFTCTL_DATASETS_SPEC).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def resource_dir(name: str) -> Path:
    """The directory of one kind of shipped data (``profiles``, ``datasets_spec``) as a real path."""
    with as_file(files(__name__) / name) as path:  # a plain directory for any wheel/editable install
        return Path(path)

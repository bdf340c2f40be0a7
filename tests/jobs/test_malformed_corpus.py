"""The malformed-job corpus (tests/jobs/malformed/): every file gives exit 1, its expected message (with its
location where it has one), and no traceback. expected.json maps each file to a piece of the message."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swiftctl.cli.app import INTERNAL_ERROR

CORPUS = Path(__file__).resolve().parent / "malformed"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def test_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.glob("*.toml"))
    assert files == sorted(EXPECTED) and len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_job(cli, name):
    result = cli("job", "check", str(CORPUS / name))
    assert result.exit_code == 1, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert EXPECTED[name] in out, out
    assert "Traceback" not in out and INTERNAL_ERROR not in out


def _fifo(tmp_path: Path) -> str:
    path = tmp_path / "job.toml"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(("make", "needle"), [
    (_fifo, "is a FIFO (named pipe), not a "),
    (lambda tmp: "/dev/zero", "/dev/zero is a character device, not a "),
    (lambda tmp: "/dev/null", "/dev/null is a character device, not a "),
    (lambda tmp: str(tmp), "is a directory, not a "),
    (lambda tmp: str(tmp / "missing.toml"), "not found: "),
    (lambda tmp: str(Path(__file__)) + "/x.toml", "a part of the path is a file, not a directory"),
])
@pytest.mark.parametrize("command", [["job", "check"], ["job", "migrate"], ["train", "--dry-run"]])
def test_special_paths_never_hang_or_grow(cli, tmp_path, make, needle, command):
    result = cli(*command, make(tmp_path))
    assert result.exit_code in (1, 2) and needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_bom_is_fine(cli, tmp_path):
    from swiftctl.jobs.load import load_job

    job = tmp_path / "job.toml"
    job.write_bytes(b"\xef\xbb\xbf" + b'[model]\npath = "m"\n[data]\ntrain = ["d.jsonl"]\n[output]\ndir = "o"\n')
    assert load_job(job).job.model.path == "m"

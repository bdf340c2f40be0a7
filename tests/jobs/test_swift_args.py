"""The `swift sft` argument names read from source (ast) must be exactly what ms-swift's parser accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swiftctl.jobs.swift_args import bundled, installed_swift, read_installed, replacement

REPO = Path(__file__).resolve().parents[2]


def test_bundled_lists_know_the_renames():
    v3, v4 = bundled(3), bundled(4)
    assert "train_type" in v3.names and "tuner_type" not in v3.names
    assert "tuner_type" in v4.names and "train_type" not in v4.names
    assert {"logging_steps", "swanlab_project", "per_device_train_batch_size", "deepspeed"} <= v3.names & v4.names
    assert replacement("train_type", 4) == "tuner_type" and replacement("sft_type", 3) == "train_type"


@pytest.mark.stack
def test_bundled_4x_list_is_the_installed_one():
    version, site = installed_swift()
    assert version.startswith("4.")
    assert read_installed(site, version).names == bundled(4).names


@pytest.mark.stack
def test_reading_the_list_and_compiling_imports_nothing_heavy():
    code = ("import sys; from pathlib import Path; from swiftctl.cli import app; from swiftctl.jobs.preflight import prepare; "
            "prepare(Path('jobs/demo.toml')); from swiftctl.jobs.lint import lint_job; "
            "heavy = sorted(m for m in ('swift', 'torch', 'transformers', 'vllm') if m in sys.modules); print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stderr


@pytest.mark.stack
@pytest.mark.slow
def test_ast_list_equals_hf_argument_parser():
    code = ("from swift.arguments import SftArguments; from transformers import HfArgumentParser; "
            "p = HfArgumentParser([SftArguments]); "
            "print('\\n'.join(sorted({a.dest for a in p._actions if a.dest != 'help'})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    parsed = set(proc.stdout.split())
    version, site = installed_swift()
    assert read_installed(site, version).names == parsed


@pytest.mark.stack
@pytest.mark.slow
def test_ast_rlhf_list_equals_hf_argument_parser():
    from swiftctl.jobs.swift_args import read_installed_rlhf, rlhf_types_installed

    code = ("from swift.arguments import RLHFArguments; from transformers import HfArgumentParser; "
            "p = HfArgumentParser([RLHFArguments]); "
            "print('\\n'.join(sorted({a.dest for a in p._actions if a.dest != 'help'}))); "
            "print('TYPES', *next(a.choices for a in p._actions if a.dest == 'rlhf_type'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.split("\n")
    types = next(line.split()[1:] for line in lines if line.startswith("TYPES "))
    parsed = {line for line in lines if line and not line.startswith("TYPES ")}
    version, site = installed_swift()
    assert read_installed_rlhf(site, version).names == parsed
    assert list(rlhf_types_installed(site)) == types

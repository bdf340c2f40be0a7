"""Shared fixtures: the CLI runner, the real stack in .venv, the offline fixtures, one real trained run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
FIXTURES = Path(os.environ.get("SWIFTCTL_FIXTURES", REPO / ".fixtures"))
SAMPLE = REPO / "jobs" / "data" / "muice-sample.jsonl"
SAMPLE_VAL = REPO / "jobs" / "data" / "muice-sample-val.jsonl"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


# Set in this process by transformers' TrainingArguments whenever a test builds ms-swift's argument classes in-process
# (the data oracle, argument-parsing tests). Inherited by a later real training run, TENSORBOARD_LOGGING_DIR sends its
# TensorBoard events to that test's temp dir instead of the run's runs/ (found when the two-node tracking test lost
# its events in a full run). Each test starts and ends without them unless the environment had them.
_LEAKY_ENV = ("TENSORBOARD_LOGGING_DIR",)


@pytest.fixture(autouse=True)
def _no_leaked_training_env():
    saved = {k: os.environ.get(k) for k in _LEAKY_ENV}
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def cli(capsys):
    """Run `swiftctl ARGS` in-process through the real error boundary; returns exit code, stdout, stderr."""
    from swiftctl.cli.app import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def swiftctl_subprocess(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
                        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `python -m swiftctl` in a real subprocess (for signals, imports, exit codes)."""
    return subprocess.run([sys.executable, "-m", "swiftctl", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=cwd or REPO)


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    path = FIXTURES / "tiny-qwen2"
    if not (path / "config.json").exists():
        pytest.fail(f"{path} missing: run `make setup` (python -m swiftctl.fixtures .fixtures)")
    return path


@pytest.fixture(scope="session")
def swift_bin() -> Path:
    path = VENV_BIN / "swift"
    if not path.exists():
        pytest.fail("ms-swift is not installed in .venv: run `make setup`")
    return path


@pytest.fixture(scope="session")
def trained_lora_run(tmp_path_factory, tiny_model, swift_bin) -> Path:
    """A real LoRA run of ms-swift on the tiny model and the bundled sample (CPU, ~30 s), shared by the session.

    Returns the versioned run dir (output_dir/v0-.../) with args.json, logging.jsonl and checkpoint-2, checkpoint-4.
    """
    out = tmp_path_factory.mktemp("lora-run")
    argv = [str(swift_bin), "sft", "--model", str(tiny_model), "--model_type", "qwen2", "--template", "qwen2_5",
            "--dataset", str(SAMPLE), "--val_dataset", str(SAMPLE_VAL), "--tuner_type", "lora",
            "--torch_dtype", "float32", "--max_steps", "4", "--per_device_train_batch_size", "2",
            "--gradient_accumulation_steps", "1", "--max_length", "512", "--logging_steps", "1", "--save_steps", "2",
            "--eval_steps", "2", "--dataloader_num_workers", "0", "--report_to", "none", "--check_model", "false",
            "--system", "你是一个名为沐雪的可爱AI女孩子", "--output_dir", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted(out.glob("v*-*"))
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture
def copy_of():
    """Copy a file or dir into tmp so a test can damage it."""
    def do(src: Path, dst: Path) -> Path:
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
        return dst
    return do

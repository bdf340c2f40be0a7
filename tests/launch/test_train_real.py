"""Real `swiftctl train` runs of ms-swift on CPU (tiny Qwen2, bundled sample): LoRA, full, interrupt + resume.

Each run is a real `python -m swiftctl train` subprocess; the interrupt is a real SIGINT, and psutil checks that
no process of the run survives it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, SAMPLE, SAMPLE_VAL, swiftctl_subprocess

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def _job(tmp: Path, name: str, *, tuner: str = "lora", max_steps: int = 6, save_steps: int = 3,
         out: str = "out") -> Path:
    lora = "lora_rank = 8\nlora_alpha = 32\n" if tuner == "lora" else ""
    text = (f'swift_version = "4"\n[model]\npath = "{REPO / ".fixtures" / "tiny-qwen2"}"\nmodel_type = "qwen2"\n'
            'template = "qwen2_5"\ntorch_dtype = "float32"\n'
            f'[data]\ntrain = ["{SAMPLE}"]\nval = ["{SAMPLE_VAL}"]\nsystem = "你是一个名为沐雪的可爱AI女孩子"\n'
            f'max_length = 512\nnum_workers = 0\n[tuner]\ntype = "{tuner}"\n{lora}'
            f'[train]\nper_device_batch_size = 2\ngradient_accumulation_steps = 1\nmax_steps = {max_steps}\n'
            f'logging_steps = 1\neval_steps = {save_steps}\nsave_steps = {save_steps}\n'
            f'[output]\ndir = "{out}"\n[resources]\ndevice = "cpu"\ngpus_per_node = 0\n')
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "swiftctl-manifest.json").read_text(encoding="utf-8"))


def _losses(run_dir: Path) -> list[tuple[int, float]]:
    rows = [json.loads(line) for line in (run_dir / "logging.jsonl").read_text().splitlines() if line.strip()]
    return [(int(r["global_step/max_steps"].split("/")[0]), r["loss"]) for r in rows if "loss" in r]


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("train-lora")
    proc = swiftctl_subprocess("train", str(_job(tmp, "demo")), timeout=900)  # full preflight: doctor + data check
    return proc, tmp / "out"


def test_lora_run_records_run_dir_manifest_and_loss(lora_run):
    proc, out = lora_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted(out.glob("v*-*"))
    assert len(runs) == 1
    run = runs[0]
    assert proc.stderr.strip().splitlines()[-1] == (
        f"swiftctl: training succeeded (exit 0); run dir: {run}; manifest: {run}/swiftctl-manifest.json; "
        f"log: {out}/swiftctl-train.log")
    manifest = _manifest(run)
    assert (manifest["status"], manifest["exit_code"], manifest["run_dir"]) == ("succeeded", 0, str(run))
    argv = manifest["command"]["argv"]
    assert argv[argv.index("--tuner_type") + 1] == "lora" and argv[argv.index("--max_steps") + 1] == "6"
    assert manifest["packages"]["ms-swift"] and manifest["started_at"] <= manifest["ended_at"]
    assert [d["path"] for d in manifest["datasets"]] == [str(SAMPLE), str(SAMPLE_VAL)]
    assert len(manifest["datasets"][0]["sha256"]) == 64
    assert [s for s, _ in _losses(run)] == [1, 2, 3, 4, 5, 6]
    assert (run / "checkpoint-6" / "adapter_model.safetensors").is_file()
    assert "global_step/max_steps" in (out / "swiftctl-train.log").read_text(encoding="utf-8", errors="replace")


def test_full_run(tmp_path):
    proc = swiftctl_subprocess("train", str(_job(tmp_path, "full", tuner="full", max_steps=2, save_steps=2)),
                               "--skip-doctor", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = next((tmp_path / "out").glob("v*-*"))
    assert (run / "checkpoint-2" / "model.safetensors").is_file()
    assert _manifest(run)["status"] == "succeeded" and _losses(run)


def test_second_train_on_same_output_refuses(lora_run):
    _, out = lora_run
    proc = swiftctl_subprocess("train", str(out.parent / "demo.toml"), "--skip-doctor")
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: output.dir: output dir {out} is not empty: refusing to overwrite")
    assert len(list(out.glob("v*-*"))) == 1


def _complete(ckpt: Path) -> bool:
    return (ckpt / "trainer_state.json").is_file() and (ckpt / "adapter_model.safetensors").is_file()


def test_sigint_leaves_no_process_and_resume_continues(tmp_path):
    job = _job(tmp_path, "long", max_steps=60, save_steps=2)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "swiftctl", "train", str(job), "--skip-doctor"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    me = psutil.Process(proc.pid)
    seen: set[psutil.Process] = set()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= set(me.children(recursive=True))
        if any(_complete(c) for c in out.glob("v*-*/checkpoint-2")):
            break
        time.sleep(0.5)
    assert proc.poll() is None, proc.stderr.read()[-3000:]
    seen |= set(me.children(recursive=True))
    assert seen, "swift sft should be running under swiftctl"
    os.kill(proc.pid, signal.SIGINT)
    stderr = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, stderr[-3000:]
    _, alive = psutil.wait_procs(list(seen), timeout=5)
    assert [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    run = next(out.glob("v*-*"))
    manifest = _manifest(run)
    assert (manifest["status"], manifest["exit_code"]) == ("interrupted", 130)
    steps = sorted(int(c.name.split("-")[1]) for c in run.glob("checkpoint-*") if _complete(c))
    last = steps[-1]

    resumed = _job(tmp_path, "long", max_steps=last + 2, save_steps=2)  # same job, shorter, to keep the test short
    done = swiftctl_subprocess("train", str(resumed), "--skip-doctor", "--resume", "last", timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    new_run = sorted(out.glob("v*-*"))[-1]
    assert new_run != run
    manifest = _manifest(new_run)
    assert manifest["resumed_from"] == str(run / f"checkpoint-{last}")
    assert manifest["command"]["argv"][-2:] == ["--resume_from_checkpoint", str(run / f"checkpoint-{last}")]
    assert next(s for s, _ in _losses(new_run)) == last + 1

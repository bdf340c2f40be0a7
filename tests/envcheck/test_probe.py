import os
import stat
from pathlib import Path

import pytest

from swiftctl.envcheck.probe import Gpu, parse_nvidia_smi, probe_disk, probe_env, probe_gpus
from swiftctl.launch.process import CommandResult
from tests.envcheck.recorded import H100_X8, NO_DRIVER, OLD_DRIVER, RTX5090_X8


def fake_nvidia_smi(tmp_path: Path, monkeypatch, body: str) -> None:
    """A real executable named nvidia-smi first on PATH (the probe runs it through launch.process.capture)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "nvidia-smi"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")


def test_parse_recorded_8x5090():
    gpus = parse_nvidia_smi(RTX5090_X8)
    assert len(gpus) == 8
    assert gpus[7] == Gpu(7, "NVIDIA GeForce RTX 5090", 32607, "575.57.08", "12.0")


def test_probe_runs_real_nvidia_smi_with_recorded_h100_output(tmp_path, monkeypatch):
    (tmp_path / "out.txt").write_text(H100_X8)
    fake_nvidia_smi(tmp_path, monkeypatch, f"cat {tmp_path / 'out.txt'}")
    probe = probe_gpus()
    assert probe.status == "ok" and probe.count == 8
    assert probe.gpus[0] == Gpu(0, "NVIDIA H100 80GB HBM3", 81559, "550.90.07", "9.0")


def test_injected_runner_gets_the_query_and_a_timeout():
    seen = []

    def runner(argv, timeout):
        seen.append((list(argv), timeout))
        return CommandResult(tuple(argv), 0, RTX5090_X8, "")

    assert probe_gpus(runner).count == 8
    assert seen == [(["nvidia-smi", "--query-gpu=index,name,memory.total,driver_version,compute_cap",
                      "--format=csv,noheader,nounits"], 10.0),
                    (["nvidia-smi", "--query-gpu=index,uuid,memory.used,memory.total", "--format=csv,noheader,nounits"],
                     10.0),
                    (["nvidia-smi", "--query-compute-apps=gpu_uuid,pid,process_name,used_memory",
                      "--format=csv,noheader,nounits"], 10.0)]


def test_missing_nvidia_smi_is_a_status(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    probe = probe_gpus()
    assert (probe.status, probe.gpus, probe.detail) == ("absent", (), "nvidia-smi not found")


def test_hanging_nvidia_smi_is_killed_and_reported(tmp_path, monkeypatch):
    fake_nvidia_smi(tmp_path, monkeypatch, "sleep 30")
    probe = probe_gpus(timeout=0.5)
    assert probe.status == "timeout"
    assert probe.detail == "nvidia-smi did not finish within 0.5 s"


@pytest.mark.parametrize(("stdout", "stderr", "code", "status", "detail"), [
    (NO_DRIVER, "", 9, "failed", "exit 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
     "Make sure that the latest NVIDIA driver is installed and running."),
    ("", OLD_DRIVER, 2, "failed", 'exit 2: Field "compute_cap" is not a valid field to query.'),
    ("index, name, memory.total [MiB]\n0, NVIDIA H100, [N/A], 550.90.07, 9.0\n", "", 0, "garbage",
     "expected 5 comma-separated fields, got: 'index, name, memory.total [MiB]'"),
    ("0, NVIDIA H100 80GB HBM3, [N/A], 550.90.07, 9.0\n", "", 0, "garbage", "could not convert string to float: '[N/A]'"),
    ("Segmentation fault\n", "", 0, "garbage", "expected 5 comma-separated fields, got: 'Segmentation fault'"),
    ("", "", 0, "garbage", "no output"),
])
def test_broken_nvidia_smi(tmp_path, monkeypatch, stdout, stderr, code, status, detail):
    (tmp_path / "out").write_text(stdout)
    (tmp_path / "err").write_text(stderr)
    fake_nvidia_smi(tmp_path, monkeypatch, f"cat {tmp_path / 'out'}; cat {tmp_path / 'err'} >&2; exit {code}")
    probe = probe_gpus()
    assert (probe.status, probe.detail, probe.gpus) == (status, detail, ())


def test_env_vars_relevant_ones_with_secrets_redacted():
    env = probe_env({"HF_TOKEN": "hf_abc", "SWANLAB_API_KEY": "sk", "WANDB_API_KEY": "w", "MY_SECRET": "s",
                     "VLLM_PLUGINS": "none", "CUDA_VISIBLE_DEVICES": "0,1", "HOME": "/root", "EMPTY_TOKEN": ""})
    assert env.values == {"CUDA_VISIBLE_DEVICES": "0,1", "EMPTY_TOKEN": "", "HF_TOKEN": "***", "MY_SECRET": "***",
                          "SWANLAB_API_KEY": "***", "VLLM_PLUGINS": "none", "WANDB_API_KEY": "***"}


def test_disk_of_a_missing_dir_uses_its_parent(tmp_path):
    disk = probe_disk(tmp_path / "a" / "b")
    assert (disk.exists, disk.writable) == (False, True)
    assert disk.free_gib is not None and disk.free_gib > 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_disk_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert probe_disk(locked / "out").writable is False

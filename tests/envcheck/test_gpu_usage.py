"""GPU memory in use and processes per GPU. No GPU is on these machines: the nvidia-smi outputs are reconstructed
recordings (tests/envcheck/recorded.py), run both through an injected runner and through a real nvidia-smi
executable on PATH."""

import pytest

from swiftctl.envcheck.doctor import run_doctor
from swiftctl.envcheck.gpu_usage import GpuProcess, parse_apps, parse_memory
from swiftctl.envcheck.probe import probe_gpus
from tests.envcheck import recorded as rec
from tests.envcheck.fakedist import cpu_stack
from tests.envcheck.test_probe import fake_nvidia_smi


def test_other_job_on_two_gpus_is_reported_per_gpu():
    probe = probe_gpus(rec.runner_for(rec.H100_X8, rec.H100_X8_MEMORY, rec.H100_X8_APPS))
    assert (probe.status, probe.usage_status) == ("ok", "ok")
    assert [g.memory_used_mib for g in probe.gpus] == [71234, 71234, 4, 4, 4, 4, 4, 4]
    assert probe.gpus[0].processes == (GpuProcess(48211, "/usr/bin/python3.11", 71220),)
    assert probe.gpus[1].processes == (GpuProcess(48212, "/usr/bin/python3.11", 71220),)
    assert all(g.processes == () for g in probe.gpus[2:])


def test_doctor_warns_when_another_process_holds_gpus(tmp_path):
    runner = rec.runner_for(rec.H100_X8, rec.H100_X8_MEMORY, rec.H100_X8_APPS)
    report = run_doctor(None, {"train"}, tmp_path, runner, path=[str(cpu_stack(tmp_path / "s"))], environ={})
    busy = [f for f in report.findings if f.code == "gpu.busy"]
    assert len(busy) == 1 and busy[0].severity.value == "warning"
    assert "GPU 0 (71234/81559 MiB used; pid 48211 /usr/bin/python3.11)" in busy[0].what
    assert "GPU 1" in busy[0].what and "GPU 2" not in busy[0].what
    doc = report.to_json()
    assert doc["gpu"]["usage_status"] == "ok"
    assert list(doc["gpu"]["gpus"][0]["processes"]) == [{"pid": 48211, "name": "/usr/bin/python3.11", "used_memory_mib": 71220}]


def test_idle_gpus_raise_nothing(tmp_path):
    runner = rec.runner_for(rec.H100_X8, rec.H100_X8_IDLE_MEMORY, rec.H100_X8_IDLE_APPS)
    report = run_doctor(None, {"train"}, tmp_path, runner, path=[str(cpu_stack(tmp_path / "s"))], environ={})
    assert not [f for f in report.findings if f.code.startswith("gpu.busy") or f.code.startswith("gpu.usage")]


def test_memory_held_by_a_hidden_process_counts_as_busy(tmp_path):
    runner = rec.runner_for(rec.H100_X8, rec.H100_X8_HIDDEN_APPS_MEMORY, "")
    report = run_doctor(None, {"train"}, tmp_path, runner, path=[str(cpu_stack(tmp_path / "s"))], environ={})
    busy, = [f for f in report.findings if f.code == "gpu.busy"]
    assert "GPU 3 (30100/81559 MiB used; no process visible" in busy.what


def test_usage_query_failing_keeps_the_gpus_and_says_so(tmp_path):
    runner = rec.runner_for(rec.H100_X8, None)
    probe = probe_gpus(runner)
    assert probe.status == "ok" and probe.count == 8 and probe.usage_status == "failed"
    assert "memory.used" in probe.usage_detail
    report = run_doctor(None, {"train"}, tmp_path, runner, path=[str(cpu_stack(tmp_path / "s"))], environ={})
    unknown, = [f for f in report.findings if f.code == "gpu.usage-unknown"]
    assert unknown.severity.value == "warning" and "gpu.absent" not in {f.code for f in report.findings}


def test_usage_garbage_is_reported(tmp_path):
    probe = probe_gpus(rec.runner_for(rec.H100_X8, "No devices were found\n"))
    assert (probe.status, probe.usage_status, probe.count) == ("ok", "garbage", 8)


def test_hanging_usage_query_times_out_through_a_real_process(tmp_path, monkeypatch):
    (tmp_path / "inv.txt").write_text(rec.H100_X8)
    # First query answers from the recording, the usage queries hang: killed at the timeout, never "no GPU".
    fake_nvidia_smi(tmp_path, monkeypatch, f'case "$1" in --query-gpu=index,name*) cat {tmp_path / "inv.txt"};; '
                                           '*) sleep 30;; esac')
    probe = probe_gpus(timeout=0.5)
    assert (probe.status, probe.count, probe.usage_status) == ("ok", 8, "timeout")


def test_parsers_reject_other_text_and_accept_na_and_commas():
    assert parse_apps(rec.H100_APPS_NA) == [(rec.H100_UUIDS[5], GpuProcess(777, "python -c import a,b", None))]
    assert parse_apps("") == []
    with pytest.raises(ValueError):
        parse_memory(rec.H100_X8)  # the inventory format is not the memory format
    with pytest.raises(ValueError):
        parse_apps("No running processes found\n")

"""Nothing lost: outputs are checked before the work, temp files do not outlive a kill, modes follow the umask,
one train per output dir, crashed runs are named, early failures can be rerun, --dry-run keeps --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftctl.fsutil import atomic_write_text, sweep_stale_temps
from tests.conftest import REPO, SAMPLE, SAMPLE_VAL

FIXTURE_MODEL = REPO / ".fixtures" / "tiny-qwen2"


def _cpu_job(tmp_path: Path, out: str = "out") -> Path:
    job = tmp_path / "job.toml"
    job.write_text(f'[model]\npath = "{FIXTURE_MODEL}"\nmodel_type = "qwen2"\ntemplate = "qwen2_5"\n'
                   f'[data]\ntrain = ["{SAMPLE}"]\nmax_length = 512\n[output]\ndir = "{out}"\n'
                   '[resources]\ndevice = "cpu"\ngpus_per_node = 0\n', encoding="utf-8")
    return job


def test_written_files_honour_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        os.umask(0o027)
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("argv", [
    ["infer", "--model", "m", "--val", "{val}", "--out", "{val}"],
    ["eval", "--model", "m", "--val", "{val}", "--out", "{dir_with_eval}"],
    ["job", "schema", "-o", "{existing}"],
    ["env", "constraints", "cpu", "--out", "{existing}"],
    ["infer", "--model", "m", "--val", "{val}", "--out", "{existing}"],
    ["train", "{val}", "--write", "{existing}"],
    ["train", "{val}", "--write", "{val}"],
    ["job", "migrate", "{existing}", "-o", "{existing}"],
])
def test_outputs_are_refused_before_any_work(cli, tmp_path, argv):
    val = tmp_path / "val.jsonl"
    val.write_bytes(SAMPLE_VAL.read_bytes())
    existing = tmp_path / "existing.json"
    existing.write_text("keep me")
    with_eval = tmp_path / "ev"
    with_eval.mkdir()
    (with_eval / "eval.json").write_text("keep me")
    args = [a.format(val=val, existing=existing, dir_with_eval=with_eval) for a in argv]
    started = time.monotonic()
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert time.monotonic() - started < 5  # refused up front, not after a model run
    assert ("is also an input" in result.stderr or "already exists: refusing to overwrite it" in result.stderr)
    assert "--force" in result.stderr or "another file name" in result.stderr
    assert val.read_bytes() == SAMPLE_VAL.read_bytes() and existing.read_text() == "keep me"
    assert (with_eval / "eval.json").read_text() == "keep me"


def test_job_schema_force_replaces(cli, tmp_path):
    out = tmp_path / "s.json"
    out.write_text("old")
    assert cli("job", "schema", "-o", str(out), "--force").exit_code == 0
    assert json.loads(out.read_text())["title"] == "swiftctl job"


def _big_jsonl(path: Path, rows: int) -> None:
    row = json.dumps({"conversations": [{"from": "human", "value": "你好" * 40}, {"from": "gpt", "value": "嗯" * 80}]},
                     ensure_ascii=False)
    path.write_text((row + "\n") * rows, encoding="utf-8")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_convert_leaves_no_temp_for_long(tmp_path, sig):
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _big_jsonl(src, 300_000)
    proc = subprocess.Popen([sys.executable, "-m", "swiftctl", "data", "convert", str(src), str(dst)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.jsonl.swiftctl-*.tmp")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    temps = list(tmp_path.glob(".out.jsonl.swiftctl-*.tmp"))
    assert not dst.exists()
    if sig == signal.SIGTERM:
        assert proc.returncode == 143 and temps == [] and "terminated" in proc.stderr.read()
    else:  # findable by its documented name, and the next write to that target removes it
        assert len(temps) == 1 and f"swiftctl-{proc.pid}-" in temps[0].name
        assert sweep_stale_temps(dst) == temps and not temps[0].exists()


def test_a_second_train_in_the_same_dir_is_refused(cli, tmp_path):
    from swiftctl.launch.manifest import output_lock

    job = _cpu_job(tmp_path)
    with output_lock(tmp_path / "out"):
        result = cli("train", str(job), "--skip-doctor")
    assert result.exit_code == 1
    assert f"another `swiftctl train` is running in {tmp_path / 'out'} (pid {os.getpid()}" in result.stderr
    assert not (tmp_path / "out").exists()  # the lock and the dir it created are gone


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    from swiftctl.launch.manifest import output_lock

    code = (f"from pathlib import Path; from swiftctl.launch.manifest import output_lock\n"
            f"import time\nwith output_lock(Path({str(tmp_path / 'out')!r})):\n    print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    with output_lock(tmp_path / "out"):
        pass


def test_an_early_failure_can_simply_be_rerun(tmp_path):
    from swiftctl.launch import train

    out = tmp_path / "out"
    out.mkdir()
    (out / "swiftctl-train.log").write_text("swift: not found\n")
    (out / "swiftctl-manifest.json").write_text('{"status": "failed"}')
    (out / "v0-20250101-000000").mkdir()  # ms-swift started, saved nothing

    class Plan:
        output_dir = out

    assert train.check_output_dir(Plan, resume=False) is None  # no "add --resume" dead end
    (out / "notes.txt").write_text("user data")
    with pytest.raises(Exception, match="is not empty"):
        train.check_output_dir(Plan, resume=False)


def test_running_manifest_of_a_dead_process_reads_crashed(tmp_path):
    import socket

    from swiftctl.launch.manifest import effective_status, now

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"status": "running", "pid": dead.pid, "host": socket.gethostname(), "started_at": now()}
    assert effective_status(record) == "crashed"
    assert effective_status({**record, "pid": os.getpid()}) == "running"  # alive, started before the manifest
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:  # a pid that now belongs to a process started after the manifest: the run's process is gone
        assert effective_status({**record, "pid": later.pid, "started_at": "2000-01-01T00:00:00+00:00"}) == "crashed"
    finally:
        later.kill()
        later.wait()
    assert effective_status({**record, "host": "elsewhere"}) == "running"  # cannot tell from here
    assert effective_status({**record, "status": "succeeded"}) == "succeeded"


@pytest.mark.stack
def test_report_names_a_crashed_run(cli, trained_lora_run, tmp_path, copy_of):
    import socket

    run = copy_of(trained_lora_run, tmp_path / "out" / trained_lora_run.name)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run / "swiftctl-manifest.json").write_text(json.dumps({"status": "running", "pid": dead.pid,
                                                            "host": socket.gethostname()}))
    result = cli("report", str(run), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["runs"][0]["summary"]["status"] == "crashed"


def test_dry_run_keeps_the_resume(cli, tmp_path):
    job = _cpu_job(tmp_path)
    ckpt = tmp_path / "out" / "v0-20250101-000000" / "checkpoint-4"
    ckpt.mkdir(parents=True)
    for name in ("trainer_state.json", "adapter_config.json", "adapter_model.safetensors"):
        (ckpt / name).write_text("{}")
    (ckpt.parent / "args.json").write_text("{}")
    result = cli("train", str(job), "--dry-run", "--resume", "last")
    assert result.exit_code == 0, result.stderr
    assert f"--resume_from_checkpoint {ckpt}" in result.stdout


def test_previous_status_reads_the_newest_manifest(tmp_path):
    import socket

    from swiftctl.launch.manifest import previous_status

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old, new = tmp_path / "v0-20250101-000000", tmp_path / "v1-20250102-000000"
    for run, status in ((old, "succeeded"), (new, "running")):
        run.mkdir()
        (run / "swiftctl-manifest.json").write_text(json.dumps({"status": status, "pid": dead.pid,
                                                                "host": socket.gethostname()}))
    assert previous_status([old, new]) == "crashed" and previous_status([old]) == "succeeded"
    assert previous_status([]) is None

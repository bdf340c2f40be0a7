"""Two-node runs on CPU loopback: two real `swiftctl train --node-rank N` launchers on 127.0.0.1, real ms-swift DDP.

Node 0 and node 1 share the output dir (as on shared storage). The run must end as ONE run (world_size 2, one
set of checkpoints, one manifest listing both nodes); Ctrl-C on one node stops both with no process left
(psutil); bad input (unreachable node 0, different job files) ends with one message, fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, SAMPLE, SAMPLE_VAL

pytestmark = [pytest.mark.stack]


def _free_pair() -> int:
    """A port p with p+1 free too (torchrun's store on p, swiftctl's control channel on p+1)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 65535:
            with socket.socket() as other:
                try:
                    other.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise AssertionError("no free port pair")


def _job(tmp: Path, name: str, port: int, *, max_steps: int = 4, lr: str = "1e-4", addr: str = "127.0.0.1",
         tracking: str = "") -> Path:
    text = (f'swift_version = "4"\n[model]\npath = "{REPO / ".fixtures" / "tiny-qwen2"}"\nmodel_type = "qwen2"\n'
            'template = "qwen2_5"\ntorch_dtype = "float32"\n'
            f'[data]\ntrain = ["{SAMPLE}"]\nval = ["{SAMPLE_VAL}"]\nmax_length = 512\nnum_workers = 0\n'
            '[tuner]\ntype = "lora"\nlora_rank = 8\nlora_alpha = 32\n'
            f'[train]\nper_device_batch_size = 2\ngradient_accumulation_steps = 1\nmax_steps = {max_steps}\n'
            f'learning_rate = {lr}\nlogging_steps = 1\neval_steps = 2\nsave_steps = 2\n'
            f'[output]\ndir = "out"\n{tracking}'
            f'[resources]\ndevice = "cpu"\ngpus_per_node = 0\nnodes = 2\nmaster_addr = "{addr}"\n'
            f'master_port = {port}\nshared_storage = true\n')
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(job: Path, rank: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "swiftctl", "train", str(job), "--node-rank", str(rank),
                             "--skip-doctor", *extra], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _tree(procs: list[subprocess.Popen[str]]) -> set[psutil.Process]:
    seen: set[psutil.Process] = set()
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            seen |= set(psutil.Process(proc.pid).children(recursive=True))
    return seen


@pytest.fixture(scope="module")
def two_node_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("two-nodes")
    job = _job(tmp, "demo2", _free_pair(), tracking='[tracking]\nbackend = "tensorboard"\n')
    started = time.monotonic()
    procs = [_start(job, 1), _start(job, 0)]
    outs = [p.communicate(timeout=600) for p in procs]
    return tmp / "out", procs, outs, time.monotonic() - started


@pytest.mark.slow
def test_two_launchers_make_one_run_with_world_size_2(two_node_run):
    out, procs, outs, seconds = two_node_run
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    runs = sorted(out.glob("v*-*"))
    assert len(runs) == 1, runs  # one run dir: ms-swift broadcasts rank 0's version dir
    run = runs[0]
    assert sorted(p.name for p in run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    state = json.loads((run / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    args = json.loads((run / "args.json").read_text())
    assert args["global_world_size"] == 2 and args["rank"] == 0
    manifest = json.loads((run / "swiftctl-manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["nnodes"] == 2
    assert [(n["rank"], n["exit_code"]) for n in manifest["nodes"]] == [(0, 0), (1, 0)]
    assert len({n["job_sha256"] for n in manifest["nodes"]}) == 1
    assert not list(run.glob("swiftctl-manifest.node*.json"))  # node 0 owns the manifest
    assert (out / "swiftctl-train.log").is_file() and (out / "swiftctl-train.node1.log").is_file()
    assert "global_step/max_steps" in (out / "swiftctl-train.log").read_text(errors="replace")
    for log in (out / "swiftctl-train.log", out / "swiftctl-train.node1.log"):  # transformers trains DDP (--use_cpu)
        assert "parallel_mode != ParallelMode.DISTRIBUTED" not in log.read_text(errors="replace")
    print(f"two-node loopback run: {seconds:.1f} s")


@pytest.mark.slow
def test_two_node_tracking_runs_on_rank_0_only(two_node_run):
    """ms-swift gives report_to only to rank 0's trainer (TrainingArguments: non-main ranks report nowhere)."""
    out, *_ = two_node_run
    run = next(out.glob("v*-*"))
    events = list((run / "runs").rglob("events.out.tfevents.*"))
    assert len(events) == 1, events  # one writer: rank 0; rank 1 writes none


@pytest.mark.slow
def test_ctrl_c_on_one_node_stops_both_and_leaves_no_process(tmp_path):
    job = _job(tmp_path, "long", _free_pair(), max_steps=200)
    procs = [_start(job, 0), _start(job, 1)]
    seen: set[psutil.Process] = set()
    log = tmp_path / "out" / "swiftctl-train.log"  # rank 0 logs the steps (node 1 prints no progress)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        seen |= _tree(procs)
        if log.is_file() and "global_step/max_steps" in log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    assert all(p.poll() is None for p in procs), [p.stderr.read()[-2000:] for p in procs if p.stderr]
    seen |= _tree(procs)
    os.kill(procs[1].pid, signal.SIGINT)
    started = time.monotonic()
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert procs[1].returncode == 130, errs[1][-3000:]
    assert procs[0].returncode != 0, errs[0][-3000:]
    _, alive = psutil.wait_procs(list(seen), timeout=10)
    assert [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE] == []
    manifest = json.loads(next((tmp_path / "out").glob("v*-*/swiftctl-manifest.json")).read_text())
    assert manifest["status"] in ("interrupted", "failed")
    assert manifest["stopped_by"] == "node 1 stopped (exit 130)"
    print(f"both nodes stopped {time.monotonic() - started:.1f} s after Ctrl-C on node 1")


def test_unreachable_node_0_times_out_naming_address(tmp_path):
    port = _free_pair()
    job = _job(tmp_path, "alone", port)
    started = time.monotonic()
    proc = _start(job, 1, "--rendezvous-timeout", "4")
    _, err = proc.communicate(timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert f"node 1 could not reach node 0 at 127.0.0.1:{port + 1} (MASTER_ADDR:MASTER_PORT+1) within 4 s" in err
    assert elapsed < 4 + 15, elapsed  # start-up + preflight + the 4 s timeout, no hang


def test_different_job_files_stop_every_node_with_one_message(tmp_path):
    port = _free_pair()
    procs = [_start(_job(tmp_path, "a", port), 0), _start(_job(tmp_path, "b", port, lr="2e-4"), 1)]
    errs = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [1, 1], errs
    for err in errs:
        assert "node 1 (" in err and "was started with a different job file than node 0" in err, err
        assert "train.learning_rate: 0.0001 on node 0, 0.0002 there" in err, err
    assert not list((tmp_path / "out").glob("v*-*"))  # nothing launched


@pytest.mark.slow
def test_report_reads_tensorboard_events_when_logging_jsonl_is_missing(two_node_run, tmp_path, cli):
    from swiftctl.runs.logs import read_log
    from swiftctl.runs.tbevents import read_events

    out, *_ = two_node_run
    run = next(out.glob("v*-*"))
    jsonl = read_log(run / "logging.jsonl")
    events = read_events(run)
    assert [(p.step, round(p.loss, 4)) for p in events.train] == [(p.step, round(p.loss, 4)) for p in jsonl.train]
    assert [p.step for p in events.evals] == [p.step for p in jsonl.evals] and events.evals
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    (copy / "logging.jsonl").unlink()
    r = cli("report", str(copy), "--json")
    assert r.exit_code == 0, r.stderr
    assert str(len(jsonl.train)) in r.stdout

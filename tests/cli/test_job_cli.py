"""`swiftctl job check|migrate|schema` and the bad-input paths of `swiftctl train`: exact messages, exit codes,
and nothing written to the output dir."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "jobs" / "data"
FIXTURE_MODEL = REPO / ".fixtures" / "tiny-qwen2"


def _job(tmp_path: Path, body: str, name: str = "job.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _cpu_job(model: str, train: str, out: str = "out") -> str:
    return (f'[model]\npath = "{model}"\nmodel_type = "qwen2"\ntemplate = "qwen2_5"\n'
            f'[data]\ntrain = ["{train}"]\nmax_length = 512\n[output]\ndir = "{out}"\n'
            '[resources]\ndevice = "cpu"\ngpus_per_node = 0\n')


def test_malformed_toml(cli, tmp_path):
    job = _job(tmp_path, 'swift_version = "4"\n[model]\npath = "m"\n[data\ntrain = 1\n')
    r = cli("train", str(job), "--dry-run")
    assert r.exit_code == 1
    assert r.stderr == (f"error: {job}:4: malformed TOML: Expected ']' at the end of a table declaration "
                        "(at line 4, column 6)\n  fix: fix the TOML syntax (strings in quotes, one [table] header "
                        "per table)\n")
    assert "Traceback" not in r.stderr


def test_every_schema_error_at_once_with_line_and_did_you_mean(cli, tmp_path):
    job = _job(tmp_path, 'swift_version = "4"\n\n[model]\npath = "../nowhere"\ntemplte = "qwen"\n\n[data]\n'
               'train = "x.jsonl"\nmax_length = "long"\n\n[train]\nper_device_batch_size = 0\n\n[output]\n'
               'dir = "out"\n\n[resources]\ngpus_per_node = 0\n')
    r = cli("job", "check", str(job))
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"error: {job}: invalid job file",
        f"  {job}:5 (model.templte): unknown key 'templte' (fix: did you mean 'template'?)",
        f"  {job}:8 (data.train): Input should be a valid list",
        f"  {job}:9 (data.max_length): Input should be a valid integer",
        f"  {job}:12 (train.per_device_batch_size): Input should be greater than 0",
        f"  {job}:17 (resources): a GPU job needs gpus_per_node >= 1 (or declare a CPU job: "
        'resources.device = "cpu")',
    ]


def test_node_rank_must_be_below_nnodes(cli, tmp_path):
    job = _job(tmp_path, '[model]\npath = "Qwen/Qwen2.5-0.5B-Instruct"\n[data]\ntrain = ["x.jsonl"]\n[output]\n'
               'dir = "out"\n[resources]\nnodes = 2\ngpus_per_node = 8\nmaster_addr = "n0"\n')
    r = cli("train", str(job), "--dry-run", "--node-rank", "2")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"error: {job}: cannot compile the job",
        f"  {job}:8 (resources.nodes): node rank 2 is outside 0..1 (NODE_RANK must be < NNODES) "
        "(fix: pass --node-rank between 0 and 1)"]


def test_renamed_and_unknown_extra_args_named_before_launch(cli, tmp_path):
    body = _cpu_job(str(FIXTURE_MODEL), str(DATA / "muice-sample.jsonl"))
    job = _job(tmp_path, 'extra_args = ["--train_type", "full", "--lora_rnk", "4"]\n' + body)
    r = cli("train", str(job), "--dry-run")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"error: {job}: cannot compile the job",
        f"  {job}:1 (extra_args.0): --train_type was renamed to --tuner_type in ms-swift 4.x "
        f"(fix: use --tuner_type (or run `swiftctl job migrate {job}`))",
        f"  {job}:1 (extra_args.2): --lora_rnk is not a `swift sft` argument of ms-swift 4.6.0 "
        "(fix: did you mean --lora_rank?)"]


def test_missing_model_and_dataset_stop_the_launch_and_write_nothing(cli, tmp_path):
    job = _job(tmp_path, _cpu_job("./no-model", "./no-data.jsonl"))
    r = cli("train", str(job), "--skip-doctor")
    assert r.exit_code == 1
    assert r.stderr.splitlines() == [
        f"error: {job}: preflight failed, nothing was launched",
        f"  {job}:2 (model.path): model dir {tmp_path}/no-model does not exist "
        "(fix: point model.path at a downloaded model directory)",
        f"  {job}:6 (data.train.0): dataset file {tmp_path}/no-data.jsonl does not exist "
        "(fix: fix the path (relative paths start at the job file))"]
    assert not (tmp_path / "out").exists()


def test_non_empty_output_dir_is_refused(cli, tmp_path):
    job = _job(tmp_path, _cpu_job(str(FIXTURE_MODEL), str(DATA / "muice-sample.jsonl")))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("user data")
    r = cli("train", str(job), "--skip-doctor")
    assert r.exit_code == 1
    assert r.stderr == (f"error: output.dir: output dir {tmp_path}/out is not empty: refusing to overwrite a previous "
                        "run\n  fix: add --resume last (or auto) to continue it, or set another output.dir\n")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    r = cli("train", str(job), "--skip-doctor", "--resume", "last")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: output.dir: nothing to resume: no complete checkpoint under {tmp_path}/out\n")


def test_port_in_use_is_caught(tmp_path):
    from swiftctl.errors import SwiftctlError
    from swiftctl.jobs.compile import compile_plan
    from swiftctl.jobs.load import load_job
    from swiftctl.jobs.preflight import check_port
    from swiftctl.jobs.swift_args import bundled

    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        job = _job(tmp_path, f'[model]\npath = "Qwen/Qwen2.5-0.5B-Instruct"\n[data]\ntrain = ["x.jsonl"]\n'
                   f'[output]\ndir = "out"\n[resources]\ngpus_per_node = 2\nmaster_port = {port}\n')
        plan = compile_plan(load_job(job), bundled(4), extra_env={})
        with pytest.raises(SwiftctlError, match=f"MASTER_PORT {port} is already in use"):
            check_port(plan)


def test_ms_swift_missing_for_a_real_launch(monkeypatch):
    from swiftctl.errors import SwiftctlError
    from swiftctl.jobs import preflight

    monkeypatch.setattr(preflight, "_version", lambda name: None)
    with pytest.raises(SwiftctlError) as info:
        preflight.swift_binary()
    assert info.value.render() == ("error: ms-swift is not installed: cannot launch `swift sft`\n"
                                   "  fix: swiftctl env install cpu   (or pip install ms-swift in this environment)")


def test_check_muice_reports_missing_paths_but_dry_run_prints_the_plan(cli):
    r = cli("job", "check", str(REPO / "jobs" / "muice.toml"), "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    codes = [(i["code"], i["severity"]) for i in report["issues"]]
    assert codes[:6] == [("path.model", "error")] + [("path.dataset", "error")] * 5
    r = cli("train", str(REPO / "jobs" / "muice.toml"), "--dry-run")
    assert r.exit_code == 0
    assert "export NPROC_PER_NODE=8\n" in r.stdout and "  --tuner_type full \\\n" in r.stdout
    assert "error: " in r.stderr and "model dir /usr/local/models/Qwen/Qwen2-1.5B-Instruct does not exist" in r.stderr


def test_check_flags_the_practitioner_defects(cli, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"max_position_embeddings": 32768}')
    data = tmp_path / "self_cognition.jsonl"
    data.write_text('{"query": "你是谁", "response": "我是{{NAME}}，由{{AUTHOR}}训练"}\n')
    job = _job(tmp_path, f'[model]\npath = "{model}"\n[data]\ntrain = ["{data}"]\nmax_length = 40960\n'
               'packing = true\nidentity = { name = ["沐雪", "Muice"] }\n[tuner]\nlora_rank = 64\n'
               '[train]\ndeepspeed = "zero2"\n[output]\ndir = "out"\n[resources]\ngpus_per_node = 1\n'
               'cuda_visible_devices = "0,1,2,3,4,5,6,7"\n')
    r = cli("job", "check", str(job), "--json")
    assert r.exit_code == 1
    codes = {i["code"] for i in json.loads(r.stdout)["issues"]}
    assert {"length.over-model", "packing.no-flash-attn", "gpus.device-map", "lora.rank-over-vllm", "batch.small",
            "identity.no-effect", "identity.placeholders"} <= codes


def test_migrate_the_practitioner_command(cli, tmp_path):
    src = Path(__file__).resolve().parents[1] / "jobs" / "data" / "practitioner-3x.sh"
    out = tmp_path / "muice.toml"
    r = cli("job", "migrate", str(src), "-o", str(out))
    assert r.exit_code == 0, r.stderr
    assert r.stderr.splitlines()[:3] == [
        "changed: --logging_steps was given twice: kept the last value",
        "changed: --train_type → --tuner_type (ms-swift 4.x name; --train_type is fatal there)",
        "changed: --model_author dropped: it only fills the registered swift/self-cognition dataset; fill "
        "{{NAME}}/{{AUTHOR}} in a local self_cognition.jsonl instead"]
    r = cli("train", str(out), "--dry-run")
    assert r.exit_code == 0
    assert "export NPROC_PER_NODE=8\n" in r.stdout and "--max_length 32768" in r.stdout
    assert "--model_name" not in r.stdout and "--train_type" not in r.stdout
    r = cli("job", "migrate", str(src), "-o", str(out))
    assert r.exit_code == 2 and "already exists: refusing to overwrite it" in r.stderr  # checked before the work


def test_schema_matches_the_committed_copy(cli):
    r = cli("job", "schema")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == json.loads((REPO / "jobs" / "job.schema.json").read_text(encoding="utf-8"))


def test_secrets_never_in_dry_run_or_written_script(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SWANLAB_API_KEY", "sk-very-secret")
    body = _cpu_job(str(FIXTURE_MODEL), str(DATA / "muice-sample.jsonl"))
    refused = _job(tmp_path, body + 'env = { MY_TOKEN = "tok-secret" }\n', "refused.toml")
    r = cli("train", str(refused), "--dry-run")  # a secret in the job file is refused, with the fix
    assert r.exit_code == 1 and "tok-secret" not in r.stdout + r.stderr
    assert "MY_TOKEN looks like a secret: remove it from the job file and export it in the shell" in r.stderr
    job = _job(tmp_path, body + '[tracking]\nbackend = "swanlab"\nproject = "p"\n')
    r = cli("train", str(job), "--dry-run")
    assert r.exit_code == 0
    assert "sk-very-secret" not in r.stdout + r.stderr
    r = cli("train", str(job), "--write", str(tmp_path / "run.sh"))
    assert r.exit_code == 0
    assert "sk-very-secret" not in (tmp_path / "run.sh").read_text()
    bad = _job(tmp_path, 'extra_args = ["--swanlab_token", "sk-x"]\n' + body, "bad.toml")
    r = cli("train", str(bad), "--dry-run")
    assert r.exit_code == 1 and "sk-x" not in r.stderr
    assert "--swanlab_token would put a secret in the command line" in r.stderr


def test_migrate_from_stdin_reads_the_pipe_and_names_an_unreadable_one(cli, tmp_path):
    """`job migrate -` reads the pasted command from stdin; stdin that cannot be read (here pytest's captured stdin
    raises OSError, as a closed one would) is one usage error, never an internal error."""
    import subprocess
    import sys

    from tests.conftest import REPO

    r = cli("job", "migrate", "-")
    assert r.exit_code == 2 and "cannot read the command from stdin" in r.stderr and "internal error" not in r.stderr
    cmd = [sys.executable, "-m", "swiftctl", "job", "migrate", "-", "-o", str(tmp_path / "job.toml")]
    pasted = b"swift sft --model Qwen/Qwen2.5-7B-Instruct --dataset d.jsonl --train_type lora --output_dir out\n"
    ok = subprocess.run(cmd, input=pasted, capture_output=True, cwd=REPO, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert '[tuner]\ntype = "lora"' in (tmp_path / "job.toml").read_text(encoding="utf-8")
    bad = subprocess.run(cmd[:-2], input=b"swift sft --model \xff\xfe\n", capture_output=True, cwd=REPO, timeout=120)
    # non-UTF-8 bytes: a usage error under a strict UTF-8 locale; under C/POSIX Python reads them surrogate-escaped
    assert bad.returncode in (1, 2) and bad.stderr.startswith(b"error: ") and b"Traceback" not in bad.stderr


def test_migrate_a_job_file_rewrites_extra_args_and_keeps_comments(cli, tmp_path):
    body = _cpu_job(str(FIXTURE_MODEL), str(DATA / "muice-sample.jsonl"))
    job = _job(tmp_path, '# my job\nswift_version = "3"\nextra_args = ["--custom_register_path", "p.py"]\n' + body)
    r = cli("job", "migrate", str(job))
    assert r.exit_code == 0, r.stderr
    assert r.stderr.splitlines() == ["changed: extra_args: --custom_register_path → --external_plugins",
                                     'changed: swift_version → "4"']
    assert r.stdout.startswith('# my job\nswift_version = "4"\nextra_args = ["--external_plugins", "p.py"]\n')


def test_train_help_has_examples(cli):
    r = cli("train", "--help")
    assert r.exit_code == 0
    assert "swiftctl train jobs/muice.toml --dry-run" in r.stdout


@pytest.mark.stack
def test_a_3x_job_on_installed_4x_is_an_error(cli, tmp_path):
    job = _job(tmp_path, 'swift_version = "3"\n' + _cpu_job(str(FIXTURE_MODEL), str(DATA / "muice-sample.jsonl")))
    r = cli("job", "check", str(job))
    assert r.exit_code == 1
    assert r.stdout.splitlines()[:2] == [
        f"error: {job}:1 (swift_version): the job targets ms-swift 3 but 4.6.0 is installed: its arguments "
        "would be rejected", f'  fix: set swift_version = "4" (and run `swiftctl job migrate {job}`)']

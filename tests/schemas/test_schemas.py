"""schemas/ equals what the code generates, and every command's real --json output validates against its schema."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from swiftctl.schemas import REGISTRY
from swiftctl.schemas.export import build, stale
from tests.conftest import REPO, SAMPLE, SAMPLE_VAL
from tests.runs.crafted import decreasing, lines_for, make_run

SCHEMAS = REPO / "schemas"


def validate(name: str, stdout: str) -> dict:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    doc = json.loads(stdout)
    errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    return doc


def test_committed_schemas_equal_the_generated_ones():
    assert stale(SCHEMAS) == [], "run: python -m swiftctl.schemas schemas"


def test_every_schema_is_valid_and_versioned():
    for name in REGISTRY:
        schema = build(name)
        Draft202012Validator.check_schema(schema)
        assert schema["schema_version"] >= 1 and schema["$schema"].endswith("2020-12/schema")


def test_the_check_catches_a_drifted_field():
    schema = build("job-check")
    doc = {"job": "j.toml", "ok": True, "issues": [], "skipped": [], "new_field": 1}
    assert list(Draft202012Validator(schema).iter_errors(doc))
    del doc["new_field"], doc["skipped"]
    assert list(Draft202012Validator(schema).iter_errors(doc))


@pytest.mark.parametrize(("name", "args"), [
    ("doctor", ["doctor", "--json", "--require", "train,infer,eval,track,webui"]),
    ("doctor", ["doctor", "--json", "--job", "jobs/muice.toml"]),
    ("env-list", ["env", "list", "--json"]),
    ("env-show", ["env", "show", "swift4-gpu", "--json"]),
    ("patch-list", ["patch", "list", "--json"]),
    ("patch-check", ["patch", "check", "--json"]),
    ("patch-env", ["patch", "env", "--json"]),
    ("data-check", ["data", "check", str(SAMPLE), "--val", str(SAMPLE_VAL), "--json"]),
    ("data-check", ["data", "check", "tests/data/corpus/DS024-L2-two-users.jsonl", "--json"]),
    ("data-check", ["data", "check", "tests/data/corpus/DS024-L2-two-users.jsonl", "--json", "--rows"]),
    ("job-check", ["job", "check", "jobs/muice.toml", "--json"]),
    ("job-check", ["job", "check", "--offline", "jobs/muice.toml", "jobs/multinode.toml", "--json"]),
    ("job-migrate", ["job", "migrate", "tests/jobs/data/practitioner-3x.sh", "--json"]),
    ("train-dry-run", ["train", "jobs/muice.toml", "--dry-run", "--json"]),
    ("train-dry-run", ["train", "jobs/multinode.toml", "--slurm", "--json"]),
    ("runs", ["runs", "--json"]),
    ("plan", ["plan", "jobs/muice.toml", "--gpu", "RTX 5090", "--json"]),
])
def test_light_outputs_validate(cli, monkeypatch, name, args):
    monkeypatch.chdir(REPO)
    result = cli(*args)
    assert result.exit_code in (0, 1), result.stderr
    validate(name, result.stdout)


def test_report_output_validates(cli, tmp_path):
    run = make_run(tmp_path, lines_for(decreasing(), {20: 1.2, 40: 1.0}), checkpoints=(20, 40))
    result = cli("report", str(run), "--json")
    assert result.exit_code == 0, result.stderr
    doc = validate("report", result.stdout)
    assert doc["runs"][0]["findings"] is not None


@pytest.mark.stack
def test_data_preview_output_validates(cli, tiny_model):
    result = cli("data", "preview", str(SAMPLE), "--model", str(tiny_model), "--json")
    assert result.exit_code == 0, result.stderr
    validate("data-preview", result.stdout)


@pytest.mark.stack
@pytest.mark.slow
def test_infer_and_eval_outputs_validate(cli, trained_lora_run, tmp_path):
    val = tmp_path / "val.jsonl"
    val.write_text("".join(SAMPLE_VAL.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    common = [str(trained_lora_run.parent), "--backend", "transformers", "--val", str(val), "--max-new-tokens", "4"]
    infer = cli("infer", *common, "--json")
    assert infer.exit_code == 0, infer.stderr
    assert len(validate("infer", infer.stdout)["rows"]) == 2
    evaluated = cli("eval", *common, "--json")
    assert evaluated.exit_code in (0, 1), evaluated.stderr
    validate("eval", evaluated.stdout)


@pytest.mark.stack
@pytest.mark.slow
def test_train_result_output_validates(tmp_path):
    from tests.conftest import swiftctl_subprocess
    from tests.launch.test_train_real import _job

    proc = swiftctl_subprocess("train", str(_job(tmp_path, "tiny", max_steps=2, save_steps=2)), "--json", "--skip-doctor",
                               timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = validate("train-result", proc.stdout)  # stdout is the result alone: the log went to its file
    assert (doc["status"], doc["exit_code"]) == ("succeeded", 0) and doc["log"].endswith("swiftctl-train.log")


def test_doctor_with_busy_gpus_and_a_job_validates(tmp_path):
    """The GPU part of the schema, filled: recorded (reconstructed) 8×H100 nvidia-smi outputs, no GPU here."""
    from swiftctl.envcheck.doctor import run_doctor
    from tests.envcheck import recorded as rec

    runner = rec.runner_for(rec.H100_X8, rec.H100_X8_MEMORY, rec.H100_X8_APPS)
    report = run_doctor("swift4-gpu", {"train", "webui"}, tmp_path, runner, job=REPO / "jobs" / "muice.toml")
    doc = validate("doctor", json.dumps(report.to_json()))
    assert doc["gpu"]["gpus"][0]["processes"][0]["pid"] == 48211 and doc["job"].endswith("muice.toml")

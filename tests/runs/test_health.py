"""Health findings on crafted curves with a known problem, and silence on a healthy one."""

from __future__ import annotations

from swiftctl.runs.config import load_config
from swiftctl.runs.health import assess
from swiftctl.runs.logs import read_log
from tests.runs.crafted import decreasing, lines_for, make_run, oscillating, overfitting


def _codes(run, checkpoints=()):
    import json
    cfg = load_config(json.loads((run / "args.json").read_text()), run / "swiftctl-manifest.json")
    return assess(read_log(run / "logging.jsonl"), cfg, list(checkpoints)), cfg


def test_healthy_curve_has_no_findings(tmp_path):
    findings, _ = _codes(make_run(tmp_path, lines_for(decreasing(), {20: 1.5, 40: 1.2, 60: 1.1})))
    assert findings == []


def test_oscillation_names_the_global_batch_and_the_job_keys(tmp_path):
    findings, cfg = _codes(make_run(tmp_path, lines_for(oscillating())))
    assert [f.code for f in findings] == ["health.oscillation"]
    f = findings[0]
    assert cfg.global_batch == 8 and f.evidence["relative_spread"] > 0.15
    assert "effective global batch 8 = 1 per device × 1 accumulation × 8 GPUs" in f.why
    assert "set train.gradient_accumulation_steps = 4" in f.fix and "train.learning_rate" in f.fix


def test_oscillation_reads_the_global_batch_from_the_manifest(tmp_path):
    manifest = {"status": "failed", "nnodes": 1, "nproc_per_node": 8,
                "job": {"resolved": {"train": {"per_device_batch_size": 2, "gradient_accumulation_steps": 1}}}}
    findings, cfg = _codes(make_run(tmp_path, lines_for(oscillating()), manifest=manifest))
    assert (cfg.source, cfg.global_batch, cfg.manifest_status) == ("manifest", 16, "failed")
    assert "set train.gradient_accumulation_steps = 2" in findings[0].fix


def test_nan_is_an_error_with_its_first_step(tmp_path):
    lines = lines_for(decreasing(30))
    lines[19]["loss"] = "nan"
    lines[24]["grad_norm"] = float("inf")
    findings, _ = _codes(make_run(tmp_path, lines))
    assert findings[0].code == "health.nan" and findings[0].severity.value == "error"
    assert findings[0].step == 20 and findings[0].evidence["nan_steps"] == [20, 25]


def test_overfitting_keeps_the_checkpoint_at_the_eval_minimum(tmp_path):
    train, evals = overfitting()
    findings, _ = _codes(make_run(tmp_path, lines_for(train, evals)), checkpoints=(10, 20, 30, 40, 50, 60))
    assert [f.code for f in findings] == ["health.overfitting"]
    f = findings[0]
    assert f.what == ("eval loss rose for 3 evaluations after its minimum 1.1 at step 30 (now 1.35, +22.7%)")
    assert f.fix.startswith("keep checkpoint-30; set train.num_train_epochs = 1 (now 3)")


def test_overfitting_without_a_checkpoint_at_the_minimum_names_the_nearest(tmp_path):
    train, evals = overfitting()
    findings, _ = _codes(make_run(tmp_path, lines_for(train, evals)), checkpoints=(25, 50))
    assert "no checkpoint at step 30; nearest is checkpoint-25" in findings[0].fix


def test_one_eval_above_the_minimum_is_not_yet_overfitting(tmp_path):
    findings, _ = _codes(make_run(tmp_path, lines_for(decreasing(), {20: 1.3, 40: 1.1, 60: 1.2})))
    assert findings == []


def test_flat_loss_and_grad_spikes(tmp_path):
    flat = [1.0 + 0.001 * (i % 2) for i in range(40)]
    findings, _ = _codes(make_run(tmp_path, lines_for(flat, grad=lambda i: 30.0 if i == 25 else 1.0)))
    assert [f.code for f in findings] == ["health.not-decreasing", "health.grad-spike"]
    assert findings[1].step == 25 and findings[1].evidence["worst_ratio"] == 30.0


def test_divergence(tmp_path):
    losses = [2.0 - i * 0.03 for i in range(30)] + [1.1 + i * 0.2 for i in range(30)]
    findings, _ = _codes(make_run(tmp_path, lines_for(losses)))
    assert "health.divergence" in [f.code for f in findings]


def test_skipped_lines_become_a_warning_with_file_and_line(tmp_path):
    run = make_run(tmp_path, [*lines_for(decreasing(10))[:5], "not json", *lines_for(decreasing(10))[5:]])
    findings, _ = _codes(run)
    assert [f.code for f in findings] == ["log.skipped-lines"]
    assert f"{run / 'logging.jsonl'}:6: not JSON" in findings[0].what

"""The report end to end: real ms-swift logs, crafted ones, PNGs opened and checked, watch refreshes."""

from __future__ import annotations

import json

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.runs.report import build_report, watch_report
from tests.runs.crafted import lines_for, make_run, oscillating, overfitting, train_line


def assert_png(path, min_w=800, min_h=400):
    from matplotlib.image import imread

    img = imread(path)
    assert img.shape[1] >= min_w and img.shape[0] >= min_h, img.shape
    assert img[..., :3].std() > 0.05  # not a blank canvas


@pytest.mark.stack
@pytest.mark.slow
def test_real_run_summary_and_plot(trained_lora_run, tmp_path):
    report = build_report([trained_lora_run.parent], tmp_path / "out")  # the output_dir resolves to its v0-*
    run = report.runs[0]
    s = run.summary
    assert s.path == trained_lora_run and s.status == "finished"
    assert (s.step, s.max_steps) == (4, 4)
    assert run.config.global_batch == 2 and run.config.source == "args.json"
    assert s.best_checkpoint in ("checkpoint-2", "checkpoint-4") and s.last_checkpoint == "checkpoint-4"
    log = [json.loads(x) for x in (trained_lora_run / "logging.jsonl").read_text().splitlines()]
    evals = [x["eval_loss"] for x in log if "eval_loss" in x]
    assert s.best_eval_loss == pytest.approx(min(evals)) and s.final_eval_loss == pytest.approx(evals[-1])
    assert s.final_loss == pytest.approx([x["loss"] for x in log if "loss" in x][-1])
    assert s.s_per_it > 0 and run.curves.steps == [1, 2, 3, 4] and run.curves.eval_steps == [2, 4]
    assert run.plot == tmp_path / "out" / f"{trained_lora_run.parent.name}_{trained_lora_run.name}.png"
    assert_png(run.plot)


@pytest.mark.stack
@pytest.mark.slow
def test_real_run_read_while_being_written(trained_lora_run, tmp_path, copy_of):
    run = copy_of(trained_lora_run, tmp_path / "v0-20260101-000000")
    text = (run / "logging.jsonl").read_text()
    cut = text.index("\n", text.index('"2/4"')) + 1
    (run / "logging.jsonl").write_text(text[:cut] + text[cut:cut + 40])  # 2 steps, then half a line
    report = build_report([run])
    assert report.runs[0].summary.step == 2 and report.runs[0].summary.status == "running"
    assert report.runs[0].summary.partial_tail


def test_comparison_overlays_runs_and_names_the_best(tmp_path):
    train, evals = overfitting()
    good = make_run(tmp_path / "fixed", lines_for(train, evals), args={"gradient_accumulation_steps": 4},
                    checkpoints=(30, 60))
    bad = make_run(tmp_path / "8x5090", lines_for(oscillating(), {30: 1.7, 60: 1.6}), checkpoints=(30, 60))
    report = build_report([bad, good], tmp_path / "out")
    assert report.comparison.best_run == "fixed/v0-20260101-000000"
    assert report.comparison.differences["global_batch"] == [8, 32]
    assert [f.code for f in report.findings] == ["health.oscillation", "health.overfitting"]
    assert_png(report.comparison_plot, 1200, 500)
    for r in report.runs:
        assert_png(r.plot)


def test_nan_run_still_plots(tmp_path):
    lines = lines_for(oscillating(30))
    lines[10]["loss"] = "nan"
    report = build_report([make_run(tmp_path, lines)], tmp_path / "out")
    assert report.runs[0].summary.final_loss is not None and report.findings[0].code == "health.nan"
    assert_png(report.runs[0].plot)


def test_watch_reads_incrementally_and_waits_for_the_first_line(tmp_path):
    run = make_run(tmp_path, [])
    log = run / "logging.jsonl"
    sleeps = []

    def sleep(seconds):  # the "clock": each tick the trainer writes one more step
        sleeps.append(seconds)
        with log.open("a") as f:
            f.write(json.dumps(train_line(len(sleeps), 3, 2.0 - len(sleeps) / 10)) + "\n")

    reports = list(watch_report([run], interval=5, max_refreshes=3, sleep=sleep))
    assert [r.runs[0].summary.status for r in reports] == ["waiting", "running", "running"]
    assert [r.runs[0].summary.step for r in reports] == [0, 1, 2] and sleeps == [5, 5]
    assert [r.refresh for r in reports] == [1, 2, 3]


@pytest.mark.parametrize(("lines", "tail", "message"), [
    ([], "", "logging.jsonl has no train or eval step yet"),
    ([], '{"loss": 1', "logging.jsonl has no train or eval step yet (a first line is being written)"),
    (["oops", "{bad"], "", "no readable line in logging.jsonl (2 skipped): not JSON"),
])
def test_unusable_logs_are_clear_errors(tmp_path, lines, tail, message):
    run = make_run(tmp_path, lines, tail=tail)
    with pytest.raises(SwiftctlError) as exc:
        build_report([run])
    assert exc.value.message.startswith(message)
    assert exc.value.location.startswith(str(run / "logging.jsonl"))


def test_missing_log_and_not_a_run(tmp_path):
    run = make_run(tmp_path, [])
    (run / "logging.jsonl").unlink()
    with pytest.raises(SwiftctlError, match=r"no logging\.jsonl in"):
        build_report([run])
    (tmp_path / "empty-output-dir").mkdir()
    with pytest.raises(SwiftctlError, match="is not an ms-swift run dir"):
        build_report([tmp_path / "empty-output-dir"])

"""`swiftctl report` through the real error boundary: exact messages, exit codes, JSON, --fail-on, --watch."""

from __future__ import annotations

import json

import pytest

from tests.runs.crafted import decreasing, lines_for, make_run, oscillating


def test_report_healthy_run_renders_table_chart_and_writes_png(cli, tmp_path):
    run = make_run(tmp_path / "demo", lines_for(decreasing(), {30: 1.2, 60: 1.1}), checkpoints=(30, 60))
    result = cli("report", str(tmp_path / "demo"), "--out", str(tmp_path / "report"))
    assert result.exit_code == 0, result.stderr
    png = tmp_path / "report" / "demo_v0-20260101-000000.png"
    assert result.stderr.splitlines() == [f"wrote {png}"]
    assert png.stat().st_size > 10_000
    out = result.stdout
    assert "│ steps               │ 60 / 60" in out and "│ best checkpoint     │ checkpoint-60" in out
    assert "loss (• train, smoothed  ◆ eval)" in out and out.rstrip().endswith("no health findings")
    assert run.exists()


def test_findings_exit_0_by_default_and_1_with_fail_on(cli, tmp_path):
    make_run(tmp_path / "osc", lines_for(oscillating()))
    result = cli("report", str(tmp_path / "osc"), "--no-chart")
    assert result.exit_code == 0
    assert "warning [osc/v0-20260101-000000] loss oscillates: relative spread" in result.stdout
    failing = cli("report", str(tmp_path / "osc"), "--no-chart", "--fail-on", "warning")
    assert failing.exit_code == 1
    assert failing.stderr.splitlines() == ["1 finding(s) at or above warning (--fail-on warning): exit 1"]
    assert cli("report", str(tmp_path / "osc"), "--fail-on", "error").exit_code == 0


def test_json_is_strict_and_holds_findings_and_curves(cli, tmp_path):
    lines = lines_for(oscillating(30))
    lines[29]["loss"] = "nan"
    make_run(tmp_path / "nan", lines)
    result = cli("report", str(tmp_path / "nan"), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    run = doc["runs"][0]
    assert run["summary"]["final_loss"] is None and run["curves"]["loss"][-1] is None
    assert run["findings"][0]["code"] == "health.nan" and run["findings"][0]["step"] == 30
    assert run["config"]["global_batch"] == 8


def test_not_a_run_dir_is_one_clear_message(cli, tmp_path):
    result = cli("report", str(tmp_path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {tmp_path} is not an ms-swift run dir (no args.json and no vN-YYYYmmdd-HHMMSS/ run in it)",
        "  fix: pass the output_dir of `swiftctl train`, a vN-... run dir in it, or a checkpoint-N dir"]


def test_empty_log_is_one_clear_message(cli, tmp_path):
    run = make_run(tmp_path, [])
    result = cli("report", str(run))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {run / 'logging.jsonl'}: logging.jsonl has no train or eval step yet",
        f"  fix: wait for the first logging step, or follow it: swiftctl report --watch {run}"]


def test_watch_refreshes_then_ends_with_exit_0(cli, tmp_path):
    run = make_run(tmp_path, [], tail="")
    result = cli("report", str(run), "--watch", "--interval", "0.1", "--max-refreshes", "2", "--json")
    assert result.exit_code == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["refresh"] for d in docs] == [1, 2] and docs[0]["runs"][0]["summary"]["status"] == "waiting"


def test_watch_ctrl_c_exits_0(cli, tmp_path, monkeypatch):
    import swiftctl.runs.report as report_mod

    def interrupted(*args, **kwargs):
        yield from ()
        raise KeyboardInterrupt

    monkeypatch.setattr(report_mod, "watch_report", interrupted)
    result = cli("report", str(make_run(tmp_path, [])), "--watch")
    assert result.exit_code == 0 and result.stderr.splitlines() == ["stopped watching"]


def test_help_has_examples(cli):
    result = cli("report", "--help")
    assert result.exit_code == 0
    assert "swiftctl report demo-runs/demo --out demo-runs/report" in result.stdout
    assert "--fail-on" in result.stdout and "--max-refreshes" not in result.stdout


@pytest.mark.stack
@pytest.mark.slow
def test_report_on_a_real_run(cli, trained_lora_run, tmp_path):
    result = cli("report", str(trained_lora_run.parent), "--out", str(tmp_path / "report"))
    assert result.exit_code == 0, result.stderr
    assert "│ steps               │ 4 / 4" in result.stdout and "│ status              │ finished" in result.stdout
    assert "│ global batch        │ 2" in result.stdout
    png = tmp_path / "report" / f"{trained_lora_run.parent.name}_{trained_lora_run.name}.png"
    assert result.stderr.splitlines() == [f"wrote {png}"] and png.stat().st_size > 10_000


def test_watch_in_a_real_process_stops_cleanly_on_ctrl_c(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    run = make_run(tmp_path, lines_for(decreasing(10)))
    proc = subprocess.Popen([sys.executable, "-m", "swiftctl", "report", str(run), "--watch", "--interval", "0.2",
                             "--no-chart"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("refresh 1 (Ctrl-C to stop)")
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert stderr.splitlines()[-1] == "stopped watching" and "Traceback" not in stderr

"""logging.jsonl reading: string numbers, eval/summary lines, a partial last line, bad lines, incremental polls."""

from __future__ import annotations

import json
import math

from swiftctl.runs.logs import LogReader, number, read_log, seconds
from tests.runs.crafted import eval_line, make_run, train_line


def test_number_and_seconds_accept_the_strings_ms_swift_writes():
    assert number("0.43") == 0.43
    assert math.isnan(number("nan"))
    assert number("12.5GiB") == 12.5
    assert number(True) is None and number("n/a") is None
    assert seconds("1h 2m 3s") == 3723 and seconds("45s") == 45 and seconds(2.5) == 2.5


def test_truncated_last_line_is_left_for_the_next_read(tmp_path):
    run = make_run(tmp_path, [train_line(1, 3, 2.0), eval_line(1, 3, 2.5)], tail='{"loss": 1.5, "grad_no')
    reader = LogReader(run / "logging.jsonl")
    assert reader.poll() == 2
    log = reader.log
    assert [p.loss for p in log.train] == [2.0] and [p.loss for p in log.evals] == [2.5]
    assert log.partial_tail and not log.skipped and log.max_steps == 3
    with (run / "logging.jsonl").open("a") as f:  # the writer finishes the line and adds one more
        f.write('rm": 0.9, "global_step/max_steps": "2/3"}\n' + json.dumps(train_line(3, 3, 1.0)) + "\n")
    assert reader.poll() == 2
    assert [(p.step, p.loss) for p in log.train] == [(1, 2.0), (2, 1.5), (3, 1.0)]
    assert log.train[1].grad_norm == 0.9 and not log.partial_tail


def test_non_json_line_in_the_middle_is_skipped_with_its_line_number(tmp_path):
    run = make_run(tmp_path, [train_line(1, 3, 2.0), "garbage{", "[1, 2]", train_line(2, 3, 1.8)])
    log = read_log(run / "logging.jsonl")
    assert [p.step for p in log.train] == [1, 2]
    assert [s.line for s in log.skipped] == [2, 3]
    assert log.skipped[0].reason.startswith("not JSON") and log.skipped[1].reason == "not a JSON object (list)"


def test_summary_and_end_lines_mark_the_run_finished(tmp_path):
    end = {"train_runtime": 2.2, "train_loss": 1.9, "global_step/max_steps": "1/1"}
    summary = {"last_model_checkpoint": "/x/checkpoint-1", "best_model_checkpoint": "/x/checkpoint-1",
               "log_history": [{"loss": 1.0}]}
    log = read_log(make_run(tmp_path, [train_line(1, 1, "2.0"), end, summary]) / "logging.jsonl")
    assert log.finished and log.end["train_runtime"] == 2.2
    assert "log_history" not in log.summary and log.train[0].loss == 2.0
    assert log.train[0].memory_gib == 3.501 and log.train[0].elapsed_s == 1.0


def test_a_rewritten_file_is_read_from_the_start(tmp_path):
    run = make_run(tmp_path, [train_line(i, 5, 2.0) for i in range(1, 6)])
    reader = LogReader(run / "logging.jsonl")
    reader.poll()
    (run / "logging.jsonl").write_text(json.dumps(train_line(1, 2, 3.0)) + "\n")
    reader.poll()
    assert [(p.step, p.loss) for p in reader.log.train] == [(1, 3.0)]


def test_reading_in_arbitrary_chunks_equals_reading_once(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tests.runs.crafted import decreasing, lines_for

    text = "".join(json.dumps(x) + "\n" for x in lines_for(decreasing(12), {4: 1.5, 8: 1.4, 12: 1.3}))
    (tmp_path / "whole.jsonl").write_text(text)
    whole = read_log(tmp_path / "whole.jsonl")

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.integers(0, len(text)), max_size=8))
    def check(cuts):
        path = tmp_path / "growing.jsonl"
        path.write_text("")
        reader = LogReader(path)
        for cut in [*sorted(cuts), len(text)]:
            path.write_text(text[:cut])
            reader.poll()
        assert reader.log.train == whole.train and reader.log.evals == whole.evals
        assert not reader.log.skipped and not reader.log.partial_tail

    check()

"""Job loading: line numbers for keys, tables and multi-line array items; path resolution."""

from __future__ import annotations

from pathlib import Path

from swiftctl.jobs.load import is_local_dataset, key_lines, load_job

REPO = Path(__file__).resolve().parents[2]


def test_key_lines_cover_tables_keys_and_array_items():
    text = ('a = 1\n[data]\ntrain = [\n  "x.jsonl",  # one\n  "y.jsonl", "z.jsonl",\n]\nval = ["v"]\n'
            '[resources]\nenv = { A = "1" }\n')
    assert key_lines(text) == {"a": 1, "data": 2, "data.train": 3, "data.train.0": 4, "data.train.1": 5,
                               "data.train.2": 5, "data.val": 7, "resources": 8, "resources.env": 9}


def test_relative_paths_resolve_against_the_job_file():
    loaded = load_job(REPO / "jobs" / "demo.toml")
    assert loaded.local(loaded.job.output.dir) == REPO / "demo-runs" / "demo"
    assert loaded.local(loaded.job.data.train[0]) == REPO / "jobs" / "data" / "muice-sample.jsonl"
    assert loaded.where("data.train.0") == f"{REPO / 'jobs' / 'demo.toml'}:13 (data.train.0)"


def test_dataset_entries_local_or_hub():
    assert is_local_dataset("data/x.jsonl#100") and is_local_dataset("./d") and is_local_dataset("/abs/d")
    assert not is_local_dataset("AI-ModelScope/alpaca-gpt4-data-zh#500")
    assert not is_local_dataset("swift/self-cognition")

"""`data check --jobs N` reports exactly what --jobs 1 reports: hypothesis-generated files split into tiny byte ranges."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.data import check, parallel, reader
from swiftctl.data.check import check_files


def _messages(text: str, system: bool = False) -> dict:
    turns = [{"role": "user", "content": f"问{text}"}, {"role": "assistant", "content": f"答{text}"}]
    return {"messages": ([{"role": "system", "content": "沐雪"}] if system else []) + turns}


TEXT = st.text(alphabet="ab 沐雪😀{\\\"\t", min_size=0, max_size=6)
ROW = st.one_of(
    st.builds(lambda t, s: json.dumps(_messages(t, s), ensure_ascii=False), TEXT, st.booleans()),  # clean (mostly)
    st.builds(lambda t: json.dumps(_messages(t)), TEXT),  # \\u escapes
    st.just('{"messages": [{"role": "user", "content": null}]}'),  # content null: lost
    st.just('{"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"}]}'),  # late system
    st.just('{"conversation": [{"human": "q", "assistant": "r"}]}'),  # another format (DS011)
    st.just('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}], "image": "a.png"}'),
    st.just('{"messages": [{"role": "user", "content": "q"}'),  # invalid JSON: the whole file is rejected
    st.just('{"messages": []} {"messages": []}'),  # two objects on one line
    st.just("[1, 2]"),
    st.just('\ufeff{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "r"}]}'),  # BOM
    st.just(""),  # blank line
    st.just("  "),
)
LINES = st.lists(st.one_of(ROW, st.integers(min_value=0, max_value=40)), min_size=1, max_size=40)  # int: repeat a row


def _write(path, items, bom: bool, crlf: bool, trailing: bool) -> None:
    lines: list[str] = []
    for item in items:
        lines.append(lines[item % len(lines)] if isinstance(item, int) and lines else item if isinstance(item, str)
                     else json.dumps(_messages(str(item))))
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if trailing else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def _report(paths, val, jobs: int, per_row: bool) -> dict:
    return asdict(check_files(paths, val_paths=val, jobs=jobs, per_row=per_row))


@settings(max_examples=12, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(train=LINES, val=LINES, bom=st.booleans(), crlf=st.booleans(), trailing=st.booleans(),
       suffix=st.sampled_from([".jsonl", ".json"]), per_row=st.booleans())
def test_jobs_report_equals_one_job(tmp_path, monkeypatch, train, val, bom, crlf, trailing, suffix, per_row):
    monkeypatch.setattr(parallel, "RANGE_MIN", 40)  # split even these small files into many ranges
    monkeypatch.setattr(reader, "CHUNK", 97)  # --jobs 1: many batches, checked in groups of 3 (check._group)
    monkeypatch.setattr(check, "_GROUP", 3)
    split = []
    monkeypatch.setattr(parallel, "_prescan", lambda *a, _f=parallel._prescan: split.append(_f(*a)) or split[-1])
    a, b = tmp_path / f"train{suffix}", tmp_path / f"val{suffix}"
    _write(a, train, bom, crlf, trailing)
    _write(b, val + train[:3], False, crlf, True)  # rows also in training: DS041 across files and ranges
    one = _report([a], [b], 1, per_row)
    assert not split  # --jobs 1: in-process
    full = _report([a], [b], 1, not per_row)  # --rows turns the fast path off: the full rules find the same
    assert {**full, "rows": None} == {**one, "rows": None}
    for jobs in (2, 3):
        assert _report([a], [b], jobs, per_row) == one, jobs


def test_big_clean_file_is_split_and_equal(tmp_path, monkeypatch):
    """A clean file with duplicates on both sides of every range boundary: split, same findings, same lines."""
    monkeypatch.setattr(parallel, "RANGE_MIN", 1 << 12)
    rows = [json.dumps(_messages(str(i % 700), i % 700 % 3 == 0), ensure_ascii=False) for i in range(2000)]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert len(parallel.ranges(path, path.stat().st_size, 2)) == 8
    one = check_files([path])
    assert one.summary.files[0].problem_counts["DS040"] == 2000 - 700
    assert len([p for p in one.problems if p.code == "DS040"]) == 200
    assert check_files([path], jobs=2) == one


@pytest.mark.parametrize("jobs", [1, 2])
def test_small_file_stays_in_process(tmp_path, monkeypatch, jobs):
    calls = []
    monkeypatch.setattr("swiftctl.launch.pool.process_map", lambda *a, **k: calls.append(a))
    path = tmp_path / "small.jsonl"
    path.write_text(json.dumps(_messages("x")) + "\n", encoding="utf-8")
    assert check_files([path], jobs=jobs).problems == [] and calls == []

"""The differential test: `data check`/`data preview` against ms-swift 4.6's REAL sft data pipeline (tests/data/oracle.py).

Per row: lost or kept, token total, trained-label count, and the preview's input_ids/labels. Inputs: every shape in
tests/data/shapes.py and hypothesis-generated conversations. Deliberate differences and known gaps: docs/fidelity.md.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftctl.data.check import check_files
from swiftctl.data.report import RowResult
from tests.conftest import REPO
from tests.data import generate
from tests.data.fidelity import Agreement, compare_file
from tests.data.shapes import MAX_LENGTH, SHAPES, write_corpus

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.fixture(scope="module")
def oracle(tiny_model, tmp_path_factory):
    from tests.data.oracle import Oracle

    made = Oracle(tiny_model, tmp_path_factory.mktemp("oracle"))
    logging.getLogger("swift").setLevel(logging.ERROR)
    return made


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("shapes"))


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_shape_agrees_with_ms_swift(oracle, corpus, tiny_model, name):
    result = compare_file(oracle, corpus[name], tiny_model, max_length=MAX_LENGTH.get(name, 64))
    assert result.diffs == []
    assert result.rows_agree == result.rows and result.files_agree == 1


def test_over_length_tool_row_is_reported_and_dropped(oracle, corpus, tiny_model):
    path = corpus["tool-over-length"]
    assert [r.kept for r in oracle.run(path, max_length=MAX_LENGTH["tool-over-length"]).rows] == [True, False]
    from swiftctl.data.check import check_files

    report = check_files([path], model_dir=tiny_model, max_length=MAX_LENGTH["tool-over-length"])
    assert [(p.line, p.code) for p in report.problems] == [(2, "DS050")]
    assert report.summary.tokens.not_counted == 0 and report.summary.tokens.counter == "swiftctl-renderer"


def test_templates_and_system_agree(oracle, corpus, tiny_model):
    total = Agreement()
    for template, system in (("qwen", None), ("qwen2_5", "你是沐雪"), ("qwen2_5", "")):
        for name in ("messages", "messages-row-system", "double-assistant", "loss-false", "sharegpt", "query-response"):
            total.add(compare_file(oracle, corpus[name], tiny_model, template=template, system=system))
    assert total.diffs == []


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(rows=generate.rows(), data=st.data())
def test_generated_rows_agree(oracle, tiny_model, tmp_path_factory, rows, data):
    """Random files of every shape (tests/data/generate.py), as .jsonl or a .json array, with max_length drawn
    around a row's own length (swiftctl's count; a wrong count shows up as a disagreement anyway)."""
    array = data.draw(st.integers(0, 4)) == 0
    path = tmp_path_factory.mktemp("gen") / ("rows.json" if array else "rows.jsonl")
    generate.write(path, rows, array)
    lengths = [r.tokens for r in check_files([path], model_dir=tiny_model, per_row=True).rows or [] if r.tokens]
    if lengths and data.draw(st.booleans()):
        max_length = max(1, data.draw(st.sampled_from(lengths)) + data.draw(st.integers(-2, 2)))
    else:
        max_length = data.draw(st.sampled_from([24, 64, None]))
    result = compare_file(oracle, path, tiny_model, max_length=max_length)
    assert result.diffs == [], (rows, max_length)


# A template swiftctl does not render, with a non-ChatML format ("### Human:"), that fits the tiny Qwen2 tokenizer.
WORKER_TEMPLATE = "default"
WORKER_SHAPES = ("messages", "messages-row-system", "double-assistant", "loss-false", "ends-with-user",
                 "starts-with-assistant", "mid-system", "query-response", "sharegpt", "alpaca", "long-row")
_NO_HEAVY = ("import json, sys\nfrom swiftctl.cli.app import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
             "    pass\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('swift', 'torch', "
             "'transformers'))), file=sys.stderr)")


def _cli(*args: str) -> tuple[dict, list[str]]:
    """`swiftctl ARGS --json` in a fresh process: its JSON, and the swift/torch/transformers modules it imported."""
    proc = subprocess.run([sys.executable, "-c", _NO_HEAVY, *args, "--json"], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    return json.loads(proc.stdout), json.loads(proc.stderr.strip().splitlines()[-1])


def test_other_template_is_counted_by_ms_swift_workers(oracle, corpus, tiny_model):
    """`data check --rows` and `data preview` with a template the renderer does not know equal ms-swift's pipeline
    per row (counted by ms-swift's own encode in worker processes); the CLI process never imports swift or torch."""
    files = [corpus[n] for n in WORKER_SHAPES]
    report, heavy = _cli("data", "check", *map(str, files), "--model", str(tiny_model), "--template",
                         WORKER_TEMPLATE, "--max-length", "64", "--rows")
    assert heavy == [] and report["summary"]["tokens"]["counter"] == "ms-swift-worker"
    total = Agreement()
    for path in files:
        rows = [RowResult(**r) for r in report["rows"] if r["path"] == str(path)]
        total.add(compare_file(oracle, path, tiny_model, template=WORKER_TEMPLATE, rows=rows, preview=False))
    assert total.diffs == [] and total.rows_agree == total.rows > 20
    fate = oracle.run(corpus["double-assistant"], template=WORKER_TEMPLATE)
    preview, heavy = _cli("data", "preview", str(corpus["double-assistant"]), "--model", str(tiny_model),
                          "--template", WORKER_TEMPLATE)
    assert heavy == [] and preview["counter"] == "ms-swift-worker"
    assert (preview["input_ids"], preview["labels"]) == (fate.rows[0].input_ids, fate.rows[0].labels)


def test_rows_ms_swift_encode_rejects_are_lost(oracle, corpus, tiny_model):
    """`dummy` has no system slot: ms-swift's encode raises on a row with a system and deletes it (DS052)."""
    files = [corpus["messages"], corpus["messages-row-system"], corpus["query-response"]]
    report = check_files(files, model_dir=tiny_model, template="dummy", per_row=True)
    assert {(p.path, p.line) for p in report.problems if p.code == "DS052"} == {
        (str(corpus["messages"]), 2), (str(corpus["messages-row-system"]), 1), (str(corpus["query-response"]), 2)}
    total = Agreement()
    for path in files:
        rows = [r for r in report.rows if r.path == str(path)]
        total.add(compare_file(oracle, path, tiny_model, template="dummy", max_length=None, rows=rows, preview=False))
    assert total.diffs == [] and total.rows_agree == total.rows == 6

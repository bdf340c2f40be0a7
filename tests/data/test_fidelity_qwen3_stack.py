"""The qwen3 family (qwen3, qwen3_thinking, qwen3_nothinking) against ms-swift 4.6's real pipeline on the tiny Qwen3.

Empty think blocks added to every reply (qwen3, hybrid thinking) and masked by ``ignore_empty_think``, replies that
already think, a trailing user turn (the response prefix), tools and tool turns: per row, lost/kept, tokens, trained
labels and the preview's input_ids/labels (tests/data/fidelity.py).
"""

from __future__ import annotations

import logging

import pytest

from tests.conftest import FIXTURES
from tests.data.fidelity import Agreement, compare_file
from tests.data.shapes import MAX_LENGTH, write_corpus

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# messages (multi-turn), a row system, loss false, empty turns, tools with tool turns, think blocks (with a trailing
# user turn and an empty reply): qwen3 on all of them; the other two where the three templates differ.
SUBSET = ("messages", "messages-row-system", "loss-false", "empty-content", "tools-several", "tool-then-chat",
          "think-blocks")
SMALL = ("think-blocks", "tool-then-chat")


@pytest.fixture(scope="module")
def tiny_qwen3():
    path = FIXTURES / "tiny-qwen3"
    if not (path / "config.json").exists():
        pytest.fail(f"{path} missing: run `make setup` (python -m swiftctl.fixtures .fixtures)")
    return path


@pytest.fixture(scope="module")
def oracle(tiny_qwen3, tmp_path_factory):
    from tests.data.oracle import Oracle

    made = Oracle(tiny_qwen3, tmp_path_factory.mktemp("oracle3"))
    logging.getLogger("swift").setLevel(logging.ERROR)
    return made


@pytest.mark.parametrize("template", ["qwen3", "qwen3_thinking", "qwen3_nothinking"])
def test_qwen3_templates_agree_with_ms_swift(oracle, tiny_qwen3, tmp_path_factory, template):
    corpus = write_corpus(tmp_path_factory.mktemp(template))
    total = Agreement()
    for name in SUBSET if template == "qwen3" else SMALL:
        total.add(compare_file(oracle, corpus[name], tiny_qwen3, template=template, max_length=MAX_LENGTH.get(name, 64)))
    assert total.diffs == []
    assert total.rows_agree == total.rows > 0


def test_qwen3_is_the_default_template_of_a_qwen3_model(tiny_qwen3):
    from swiftctl.data.tokens import resolve_template

    assert resolve_template(tiny_qwen3, None) == "qwen3"

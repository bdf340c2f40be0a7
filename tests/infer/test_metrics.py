"""Metrics on hand-written pairs whose scores are worked out by hand below."""

from __future__ import annotations

import pytest

from swiftctl.infer import metrics as m
from swiftctl.infer.batch import BatchResult
from swiftctl.infer.evaluate import Gate, build_report, check_gate, score_rows, summarize
from swiftctl.infer.target import Target


def test_rouge_l_per_character_cjk():
    # reference 你好～我是沐雪！ → 你 好 我 是 沐 雪 (6 tokens, punctuation dropped); response 我 是 沐 雪 (4)
    # LCS 4: P = 4/4, R = 4/6, F = 2PR/(P+R) = (2 * 2/3) / (5/3) = 0.8
    assert m.rouge_l("你好～我是沐雪！", "我是沐雪") == pytest.approx(0.8)
    # reversed order: LCS of 沐雪我是 vs 我是沐雪 is 2 → P = R = 2/4 → F = 0.5
    assert m.rouge_l("我是沐雪", "沐雪我是") == pytest.approx(0.5)
    # rouge-score's own tokenizer drops every CJK character: this is what the per-character tokenizer fixes
    from rouge_score.rouge_scorer import RougeScorer
    assert RougeScorer(["rougeL"]).score("我是沐雪", "我是沐雪")["rougeL"].fmeasure == 0.0
    assert m.rouge_l("I am Muice", "i am muice!") == pytest.approx(1.0)


def test_bleu_zh_tokenization():
    assert m.sentence_bleu("我是沐雪", "我是沐雪") == pytest.approx(100.0)
    # hypothesis 我 是 沐 雪 (4) vs reference 不 是 哦 ， 我 是 沐 雪 。 (9 tokens with zh tokenization):
    # all n-gram precisions are 1 (4/4, 3/3, 2/2, 1/1); brevity penalty exp(1 - 9/4) = exp(-1.25) = 0.28650
    assert m.sentence_bleu("不是哦，我是沐雪。", "我是沐雪") == pytest.approx(28.650, abs=1e-3)
    assert m.sentence_bleu("我是沐雪", "你好") == pytest.approx(0.0)
    # corpus: two identical pairs → 100
    assert m.corpus_bleu(["我是沐雪", "再见"], ["我是沐雪", "再见"]) == pytest.approx(100.0)


@pytest.mark.parametrize(("text", "claims"), [
    ("我是通义千问，由阿里云开发。", True), ("I am Qwen, created by Alibaba Cloud.", True),
    ("不是哦，我不是通义千问，我是沐雪。", False), ("I'm not Qwen.", False), ("我是沐雪！", False)])
def test_claims_qwen(text, claims):
    assert m.claims_qwen(text) is claims


def test_placeholder_name_and_identity_question():
    assert m.placeholder_leak("我的名字叫{{NAME}}，由{{AUTHOR}}训练") == "{{NAME}}"
    assert m.placeholder_leak("我是沐雪") is None
    assert m.names_from_system("你是一个名为沐雪的可爱AI女孩子") == ["沐雪"]
    assert m.names_from_system("You are Muice, a cute AI girl.") == ["Muice"]
    assert m.names_from_system(None) == []
    assert m.names_from_system("You are Qwen, created by Alibaba Cloud.") == []
    assert m.is_identity_question("你好，你是谁？") and m.is_identity_question("你是通义千问吗？")
    assert not m.is_identity_question("晚饭吃什么好？")


def _row(user: str, ref: str, resp: str) -> dict:
    return {"response": resp, "labels": ref, "messages": [
        {"role": "system", "content": "你是一个名为沐雪的可爱AI女孩子"}, {"role": "user", "content": user},
        {"role": "assistant", "content": resp}]}


def test_report_summary_and_gate():
    rows = [_row("你是谁？", "我是沐雪", "我是沐雪"),                 # R-L 1.0, name hit
            _row("你是通义千问吗？", "不是哦，我是沐雪。", "我是通义千问"),  # claims Qwen, no name
            _row("晚饭吃什么？", "面条", "我的名字叫{{NAME}}")]          # placeholder leak
    target = Target(model="/m", system="你是一个名为沐雪的可爱AI女孩子", system_source="args.json")
    report = build_report(target, BatchResult(out=None, rows=rows, command="swift infer"), Gate())
    s = report.summary
    assert report.names == ["沐雪"]
    assert (s.rows, s.qwen_claims, s.placeholder_leaks, s.identity_questions, s.name_hits) == (3, 1, 1, 2, 1)
    # row 2: 我 是 通 义 千 问 vs 不 是 哦 我 是 沐 雪 → LCS 是 (or 我) = 1... 我,是 in order → 2; P 2/6 R 2/7
    # F = 2*(1/3)*(2/7)/((1/3)+(2/7)) = (4/21)/(13/21) = 4/13; row 3: no common token → 0; mean = (1 + 4/13 + 0)/3
    assert s.rouge_l == pytest.approx((1 + 4 / 13) / 3)
    assert report.failures == [
        "1 response(s) claim to be Qwen/通义千问/Alibaba (allowed: 0)",
        "1 response(s) contain a literal {{NAME}}-style placeholder (allowed: 0)"]
    assert not report.passed
    loose = Gate(max_qwen_claims=1, max_placeholder_leaks=1, min_rouge_l=0.5, min_bleu=50, min_name_rate=0.5)
    assert check_gate(s, loose) == [f"ROUGE-L {s.rouge_l:.3f} < 0.5", f"BLEU {s.bleu:.2f} < 50"]
    assert summarize(score_rows(rows[:1], ["沐雪"], None)).name_rate == 1.0

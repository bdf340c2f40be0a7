"""Overlap metrics and identity checks for one response (Chinese-aware; maintained libraries, imported lazily).

- BLEU: sacrebleu with ``tokenize="zh"`` (every CJK character is a token), 0-100.
- ROUGE-L: rouge-score's LCS F-measure with a per-character CJK tokenizer, 0-1. rouge-score's default tokenizer
  keeps only [a-z0-9] and would score every Chinese pair 0; per-character tokens need no dictionary (jieba's
  segmentation would make the score depend on its vocabulary) and are what sacrebleu's zh tokenizer does too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[a-z0-9]+")
QWEN_CLAIM = re.compile(r"qwen|通义千问|通義千問|千问|alibaba|阿里巴巴|阿里云|达摩院", re.IGNORECASE)
_NEGATED = re.compile(r"(不是|并非|不叫|not|n't|never)\W{0,3}$", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_]+\s*\}\}")
IDENTITY_QUESTION = re.compile(r"你是谁|你叫什么|你的名字|叫什么名字|介绍一下你自己|介绍下你自己|你是.{0,12}吗|"
                               r"who are you|your name|introduce yourself|are you .{0,20}\?", re.IGNORECASE)
_NAME_IN_SYSTEM = (re.compile(r"名为[「“\"']?([^\s，,。！!的「」“”\"']{1,12})"),
                   re.compile(r"名叫[「“\"']?([^\s，,。！!的「」“”\"']{1,12})"),
                   re.compile(r"你叫[「“\"']?([^\s，,。！!的「」“”\"']{1,12})"),
                   re.compile(r"your name is ([A-Z][\w-]{0,30})", re.IGNORECASE),
                   re.compile(r"\b[Yy]ou are ([A-Z][\w-]{0,30})\b"))


class CjkTokenizer:
    """rouge-score tokenizer: one token per CJK character, lowercase latin words and numbers; punctuation dropped."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())


def rouge_l(reference: str, response: str) -> float:
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(["rougeL"], tokenizer=CjkTokenizer()).score(reference, response)["rougeL"].fmeasure


def sentence_bleu(reference: str, response: str) -> float:
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="zh", effective_order=True).sentence_score(response, [reference]).score


def corpus_bleu(references: Sequence[str], responses: Sequence[str]) -> float:
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize="zh").corpus_score(list(responses), [list(references)]).score


def claims_qwen(response: str) -> bool:
    """Says it is Qwen / 通义千问 / made by Alibaba (a denial such as "我不是通义千问" does not count)."""
    return any(not _NEGATED.search(response[: m.start()]) for m in QWEN_CLAIM.finditer(response))


def placeholder_leak(text: str) -> str | None:
    """A literal self-cognition placeholder such as {{NAME}} or {{AUTHOR}}, or None."""
    match = PLACEHOLDER.search(text)
    return match.group(0) if match else None


def is_identity_question(prompt: str) -> bool:
    return bool(IDENTITY_QUESTION.search(prompt))


def names_from_system(system: str | None) -> list[str]:
    """The persona's name as the system prompt states it ("你是一个名为沐雪的..." → 沐雪)."""
    if not system:
        return []
    found = (m.group(1) for rx in _NAME_IN_SYSTEM for m in rx.finditer(system))
    return list(dict.fromkeys(n for n in found if not QWEN_CLAIM.search(n)))


def says_name(response: str, names: Sequence[str]) -> bool:
    return any(name and name.lower() in response.lower() for name in names)

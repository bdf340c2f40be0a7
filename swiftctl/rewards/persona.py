"""The persona reward: how well one completion keeps the fine-tuned identity (pure functions, no ms-swift).

Per completion, in [-2, 2]:
- -1 when it claims to be Qwen / 通义千问 / made by Alibaba (eval's ``claims_qwen``: a denial does not count);
- -1 when a self-cognition placeholder such as ``{{NAME}}`` leaks into it;
- on an identity prompt ("你是谁", "who are you", ...): +1 when it says the configured name, -0.5 when it does not;
- with a reference answer: + ROUGE-L(reference, completion) (eval's Chinese-aware ROUGE-L, 0..1).
The same metrics as `swiftctl eval`, so the reward and the eval gate cannot disagree about a leak.
The ms-swift side (registration in ``orms``) is ``swiftctl/resources/plugins/persona_reward.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from swiftctl.infer.metrics import claims_qwen, is_identity_question, placeholder_leak, rouge_l, says_name


@dataclass(frozen=True)
class PersonaScore:
    qwen_claim: bool
    placeholder: str | None
    identity_prompt: bool
    says_name: bool
    closeness: float | None  # ROUGE-L to the reference, when one was given

    @property
    def reward(self) -> float:
        value = -1.0 * self.qwen_claim - 1.0 * (self.placeholder is not None)
        if self.identity_prompt:
            value += 1.0 if self.says_name else -0.5
        return value + (self.closeness or 0.0)


def score(completion: str, names: Sequence[str], *, prompt: str | None = None,
          reference: str | None = None) -> PersonaScore:
    text = completion or ""
    return PersonaScore(qwen_claim=claims_qwen(text), placeholder=placeholder_leak(text),
                        identity_prompt=bool(prompt) and is_identity_question(prompt or ""),
                        says_name=says_name(text, names),
                        closeness=rouge_l(reference, text) if reference else None)


def last_user(messages) -> str | None:
    """The last user turn of an ms-swift messages list (the prompt a GRPO completion answers)."""
    if not isinstance(messages, list):
        return None
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return users[-1] if users and isinstance(users[-1], str) else None


def rewards(completions: Sequence[str], names: Sequence[str], prompts: Sequence[str | None] | None = None,
            references: Sequence[str | None] | None = None) -> list[float]:
    prompts = list(prompts) if prompts is not None else [None] * len(completions)
    references = list(references) if references is not None else [None] * len(completions)
    return [score(c, names, prompt=p, reference=r).reward for c, p, r in zip(completions, prompts, references, strict=True)]

"""ms-swift plugin (``--external_plugins``): registers the ``swiftctl_persona`` GRPO reward in ``swift.rewards.orms``.

swiftctl compiles a GRPO job with ``reward_funcs = ["swiftctl_persona", ...]`` into ``--external_plugins <this file>``
and sets SWIFTCTL_PERSONA_NAME (and SWIFTCTL_PERSONA_REFERENCE, the dataset column holding reference answers).
ms-swift logs its mean/std as ``rewards/SwiftctlPersona/mean`` and ``.../std`` in logging.jsonl.
The scoring is ``swiftctl.rewards.persona`` (unit-tested without ms-swift).
"""

import os
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])  # the dir holding this swiftctl package
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from swift.rewards import ORM, orms  # noqa: E402

from swiftctl.rewards.persona import last_user, rewards  # noqa: E402


class SwiftctlPersona(ORM):
    """Persona reward: the configured name on identity prompts, no Qwen/Alibaba claims, no {{NAME}} leaks."""

    def __call__(self, completions, **kwargs):
        names = [n for n in os.environ.get("SWIFTCTL_PERSONA_NAME", "").split(",") if n]
        column = os.environ.get("SWIFTCTL_PERSONA_REFERENCE")
        refs = kwargs.get(column) if column else None
        messages = kwargs.get("messages")
        prompts = [last_user(m) for m in messages] if isinstance(messages, list) else None
        return rewards(list(completions), names, prompts, refs)


orms["swiftctl_persona"] = SwiftctlPersona

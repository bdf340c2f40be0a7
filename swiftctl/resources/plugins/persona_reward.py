"""ms-swift plugin (``--external_plugins``): registers the ``swiftctl_persona`` GRPO reward in ``swift.rewards.orms``.

swiftctl compiles a GRPO job with ``reward_funcs = ["swiftctl_persona", ...]`` into ``--external_plugins <this file>``
and sets SWIFTCTL_PERSONA_NAME (and SWIFTCTL_PERSONA_REFERENCE, the dataset column holding reference answers).
ms-swift logs its mean/std as ``rewards/SwiftctlPersona/mean`` and ``.../std`` in logging.jsonl.
The scoring is ``swiftctl.rewards.persona`` (unit-tested without ms-swift).
"""

import importlib.util
import os
import sys
from pathlib import Path

from swift.rewards import ORM, orms


def _scoring():
    """swiftctl/rewards/persona.py of the swiftctl this file ships with, loaded by path: the training process may
    already have imported another swiftctl (e.g. a development checkout beside an installed one)."""
    root = Path(__file__).resolve().parents[3]
    if str(root) not in sys.path:
        sys.path.append(str(root))
    spec = importlib.util.spec_from_file_location("_swiftctl_persona_scoring", root / "swiftctl" / "rewards" / "persona.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_persona = _scoring()


class SwiftctlPersona(ORM):
    """Persona reward: the configured name on identity prompts, no Qwen/Alibaba claims, no {{NAME}} leaks."""

    def __call__(self, completions, **kwargs):
        names = [n for n in os.environ.get("SWIFTCTL_PERSONA_NAME", "").split(",") if n]
        column = os.environ.get("SWIFTCTL_PERSONA_REFERENCE")
        refs = kwargs.get(column) if column else None
        messages = kwargs.get("messages")
        prompts = [_persona.last_user(m) for m in messages] if isinstance(messages, list) else None
        return _persona.rewards(list(completions), names, prompts, refs)


orms["swiftctl_persona"] = SwiftctlPersona

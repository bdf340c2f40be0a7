"""`transformers.activations.PytorchGELUTanh` alias for transformers releases that dropped the name.

What: transformers 4.57.x renamed ``PytorchGELUTanh`` to ``GELUTanh`` without keeping the old name (checked in the
4.57.0, 4.57.1 and 4.57.6 wheels; 4.56.2 has the class, 5.x has it again as an alias). AutoAWQ's
``awq/quantize/scale.py`` imports the old name, and peft imports awq whenever autoawq is installed, so on those
releases merely having autoawq installed breaks every LoRA creation/loading (ms-swift 3.12 pins transformers<4.58).
Needed when: transformers' ``activations.py`` does not define the name and autoawq (module ``awq``) is installed.
Fix without the patch: ``pip uninstall autoawq``, or ``pip install 'transformers<=4.56.2'``.
Threads: huggingface/peft#2827, modelscope/ms-swift#6247, hiyouga/LLaMA-Factory#9247, unslothai/unsloth#4028.
"""

from __future__ import annotations

import re
from types import ModuleType

from swiftctl.patches import _probe
from swiftctl.patches.base import Detection, Patch

_DEFINES_OLD_NAME = re.compile(r"^(PytorchGELUTanh\s*=|class\s+PytorchGELUTanh\b)", re.MULTILINE)


def detect() -> Detection:
    text = _probe.source_text("transformers.activations")
    version = _probe.dist_version("transformers")
    if text is None:
        return Detection(False, "transformers is not installed")
    if _DEFINES_OLD_NAME.search(text):
        return Detection(False, f"transformers {version} still defines PytorchGELUTanh")
    if not _probe.importable("awq"):
        return Detection(False, f"transformers {version} lacks PytorchGELUTanh, but autoawq (its importer) "
                                "is not installed")
    return Detection(True, f"transformers {version} lacks PytorchGELUTanh and autoawq is installed: "
                           "peft's LoRA import of awq fails")


def apply(module: ModuleType) -> None:
    if not hasattr(module, "PytorchGELUTanh"):
        module.PytorchGELUTanh = module.GELUTanh  # AttributeError if GELUTanh is renamed too: reported, not hidden


def self_check(module: ModuleType) -> str | None:
    if getattr(module, "PytorchGELUTanh", None) is None:
        return "transformers.activations.PytorchGELUTanh is still missing"
    return None


PATCH = Patch(
    id="gelu-tanh-alias",
    title="alias transformers.activations.PytorchGELUTanh = GELUTanh",
    why="transformers 4.57.x dropped PytorchGELUTanh; autoawq imports it and peft imports autoawq, so every LoRA "
        "run fails with ImportError when autoawq is installed (huggingface/peft#2827, modelscope/ms-swift#6247)",
    threads=("https://github.com/huggingface/peft/issues/2827", "https://github.com/modelscope/ms-swift/issues/6247",
             "https://github.com/hiyouga/LLaMA-Factory/issues/9247", "https://github.com/unslothai/unsloth/issues/4028"),
    concerns=(("transformers", ">=4.57.0,<4.58"), ("autoawq", "*")),
    target="transformers.activations",
    detect=detect,
    apply=apply,
    self_check=self_check,
    alternatives=("pip uninstall autoawq", "pip install 'transformers<=4.56.2'"),
    blocks=("train", "infer"),
)

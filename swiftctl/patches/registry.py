"""All known patches, by id. Patch modules are imported only when asked for (each is stdlib-only at import)."""

from __future__ import annotations

import importlib

from swiftctl.patches.base import Patch

# id -> module defining PATCH. Order is the order of `swiftctl patch list`.
MODULES: dict[str, str] = {
    "gelu-tanh-alias": "swiftctl.patches.gelu_tanh_alias",
    "vllm-swift-plugin-torchvision": "swiftctl.patches.vllm_swift_plugin",
}


class UnknownPatch(KeyError):
    """Raised for an id that is not in the registry (the CLI layer turns it into a UsageError)."""


def ids() -> list[str]:
    return list(MODULES)


def get(patch_id: str) -> Patch:
    try:
        module = MODULES[patch_id]
    except KeyError:
        raise UnknownPatch(patch_id) from None
    patch = importlib.import_module(module).PATCH
    assert patch.id == patch_id, (patch.id, patch_id)
    return patch


def all_patches() -> list[Patch]:
    return [get(i) for i in MODULES]

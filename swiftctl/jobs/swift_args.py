"""The `swift sft` argument names of an ms-swift version, read without importing swift.

``swift sft`` parses ``SftArguments`` with ``HfArgumentParser``: every init field of the dataclass and of every base
(ms-swift's own argument mixins and transformers' ``Seq2SeqTrainingArguments``). Importing swift takes ~10 s, so the
names are read from the installed sources with :mod:`ast` (class bases resolved through each module's imports). When
ms-swift is not installed, a bundled list per major version (``arglists/3.x.txt``, ``4.x.txt``) is used.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

# Renamed/removed arguments: old name -> {major version: the name to use instead}.
RENAMES: dict[str, dict[int, str]] = {
    "sft_type": {3: "train_type", 4: "tuner_type"},
    "train_type": {4: "tuner_type"},
    "model_id_or_path": {3: "model", 4: "model"},
    "model_type_or_path": {3: "model", 4: "model"},
    "dtype": {3: "torch_dtype", 4: "torch_dtype"},
    "batch_size": {3: "per_device_train_batch_size", 4: "per_device_train_batch_size"},
    "eval_batch_size": {3: "per_device_eval_batch_size", 4: "per_device_eval_batch_size"},
    "lora_target_modules": {3: "target_modules", 4: "target_modules"},
    "custom_train_dataset_path": {3: "dataset", 4: "dataset"},
    "custom_val_dataset_path": {3: "val_dataset", 4: "val_dataset"},
    "custom_register_path": {4: "external_plugins"},
    "max_model_len": {3: "max_length", 4: "max_length"},
}


@dataclass(frozen=True)
class ArgList:
    version: str   # "4.6.0" (installed) or "4.x" (bundled)
    source: str    # "installed:<path>" or "bundled:<file>"
    names: frozenset[str]

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def replacement(name: str, major: int) -> str | None:
    """The name ``name`` has in ms-swift ``major`` when it was renamed, else None."""
    return RENAMES.get(name, {}).get(major)


class _Module:
    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.classes = {n.name: n for n in self.tree.body if isinstance(n, ast.ClassDef)}
        self.imports: dict[str, tuple[str, str]] = {}
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(self.tree):  # also imports under `if TYPE_CHECKING:` (lazy packages)
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = pkg.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)


class _SourceIndex:
    """Modules of some top-level packages under one site-packages dir, loaded on demand."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self._cache: dict[str, _Module | None] = {}

    def module(self, name: str) -> _Module | None:
        if name not in self._cache:
            rel = Path(*name.split("."))
            found = None
            for cand in (self.site / rel / "__init__.py", self.site / rel.with_suffix(".py")):
                if cand.is_file():
                    found = _Module(name, cand)
                    break
            self._cache[name] = found
        return self._cache[name]

    def find_class(self, module: str, name: str, depth: int = 0) -> tuple[_Module, ast.ClassDef] | None:
        mod = self.module(module)
        if mod is None or depth > 8:
            return None
        if name in mod.classes:
            return mod, mod.classes[name]
        if name in mod.imports:
            src_mod, src_name = mod.imports[name]
            return self.find_class(src_mod, src_name, depth + 1)
        return None

    def fields(self, module: str, name: str) -> set[str]:
        found = self.find_class(module, name)
        if found is None:
            return set()
        mod, cls = found
        names: set[str] = set()
        for base in cls.bases:
            if isinstance(base, ast.Name):
                names |= self.fields(mod.name, base.id)
            elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
                target = mod.imports.get(base.value.id)
                if target is not None:
                    names |= self.fields(f"{target[0]}.{target[1]}", base.attr)
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and _is_init_field(stmt):
                names.add(stmt.target.id)
        return names


def _is_init_field(stmt: ast.AnnAssign) -> bool:
    ann = ast.unparse(stmt.annotation)
    if ann.startswith(("ClassVar", "typing.ClassVar")):
        return False
    value = stmt.value
    if isinstance(value, ast.Call) and ast.unparse(value.func).endswith("field"):
        for kw in value.keywords:
            if kw.arg == "init" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                return False
    return True


# Where SftArguments lives: 4.x `swift.arguments`, 3.x `swift.llm.argument`.
_SFT_MODULES = ("swift.arguments.sft_args", "swift.llm.argument.train_args")


def read_installed(site: Path, version: str) -> ArgList | None:
    """The sft argument names of the ms-swift installed under ``site`` (a site-packages dir), or None."""
    index = _SourceIndex(site)
    for module in _SFT_MODULES:
        if index.module(module) is not None:
            cls = "SftArguments" if module.startswith("swift.arguments") else "TrainArguments"
            names = index.fields(module, cls)
            if names:
                return ArgList(version, f"installed:{index.module(module).path}", frozenset(names))  # type: ignore[union-attr]
    return None


def bundled(major: int) -> ArgList:
    fname = f"{major}.x.txt"
    text = resources.files("swiftctl.jobs").joinpath("arglists", fname).read_text(encoding="utf-8")
    names = frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return ArgList(f"{major}.x", f"bundled:{fname}", names)


def installed_swift() -> tuple[str, Path] | None:
    """(version, site-packages dir) of the installed ms-swift, found without importing it."""
    from importlib import metadata

    try:
        version = metadata.version("ms-swift")
    except metadata.PackageNotFoundError:
        return None
    spec = importlib.util.find_spec("swift")
    if spec is None or not spec.submodule_search_locations:
        return None
    return version, Path(next(iter(spec.submodule_search_locations))).parent


@cache
def for_target(target: str | None) -> ArgList:
    """The argument list to validate against: the installed ms-swift when it matches ``target`` (a major like
    "4" or "3", or None for whatever is installed), else the bundled list of the target major (4 by default)."""
    found = installed_swift()
    if found is not None:
        version, site = found
        if target is None or version.split(".")[0] == str(target).split(".")[0]:
            listed = read_installed(site, version)
            if listed is not None:
                return listed
    major = int(str(target).split(".")[0]) if target else 4
    return bundled(major if major in (3, 4) else 4)


# `swift rlhf` parses RLHFArguments (SftArguments + the GRPO/PPO/reward/teacher mixins); 4.x only here.
_RLHF_MODULE, _RLHF_CLASS = "swift.arguments.rlhf_args", "RLHFArguments"


def read_installed_rlhf(site: Path, version: str) -> ArgList | None:
    """The `swift rlhf` argument names of the ms-swift installed under ``site``, plus its ``rlhf_type`` choices."""
    index = _SourceIndex(site)
    module = index.module(_RLHF_MODULE)
    names = index.fields(_RLHF_MODULE, _RLHF_CLASS) if module is not None else set()
    if not names:
        return None
    return ArgList(version, f"installed:{module.path}", frozenset(names))  # type: ignore[union-attr]


def rlhf_types_installed(site: Path) -> tuple[str, ...]:
    """The values of ``rlhf_type: Literal[...]`` in the installed RLHFArguments (empty when not found)."""
    found = _SourceIndex(site).find_class(_RLHF_MODULE, _RLHF_CLASS)
    if found is None:
        return ()
    for stmt in found[1].body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == "rlhf_type":
            return tuple(n.value for n in ast.walk(stmt.annotation) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return ()


def bundled_rlhf(major: int) -> tuple[ArgList, tuple[str, ...]] | None:
    """The bundled `swift rlhf` list of a major version and its rlhf_type choices (``# rlhf_type:`` header)."""
    fname = f"{major}.x-rlhf.txt"
    path = resources.files("swiftctl.jobs").joinpath("arglists", fname)
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    types = next((tuple(ln.split(":", 1)[1].split()) for ln in lines if ln.startswith("# rlhf_type:")), ())
    names = frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
    return ArgList(f"{major}.x", f"bundled:{fname}", names), types


def rlhf_for(args: ArgList) -> tuple[ArgList, tuple[str, ...]] | None:
    """The `swift rlhf` list (and rlhf_type choices) matching an sft list: the same install, or the bundled one."""
    if args.source.startswith("installed:"):
        found = installed_swift()
        if found is not None and found[0] == args.version:
            listed = read_installed_rlhf(found[1], found[0])
            if listed is not None:
                return listed, rlhf_types_installed(found[1])
    return bundled_rlhf(args.major)

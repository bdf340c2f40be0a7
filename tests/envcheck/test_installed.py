from packaging.version import Version

from swiftctl.envcheck.installed import base_requires, cuda_version_of, installed_requires, installed_version, torch_build
from tests.envcheck.fakedist import SWIFT_460_REQUIRES, TORCH_VERSION_PY_CPU, TORCH_VERSION_PY_CU128, make_dist


def test_names_are_normalised(tmp_path):
    make_dist(tmp_path, "ms_swift", "4.6.0", SWIFT_460_REQUIRES)
    for name in ("ms-swift", "ms_swift", "MS-Swift", "ms.swift"):
        assert installed_version(name, [str(tmp_path)]) == Version("4.6.0")
    assert installed_version("vllm", [str(tmp_path)]) is None


def test_requires_all_and_base(tmp_path):
    make_dist(tmp_path, "ms-swift", "4.6.0", [*SWIFT_460_REQUIRES, "this is not a requirement ((("])
    path = [str(tmp_path)]
    assert [str(r) for r in installed_requires("ms-swift", path)] == SWIFT_460_REQUIRES
    assert [r.name for r in base_requires("ms-swift", path)] == ["accelerate", "datasets", "modelscope", "peft",
                                                                 "transformers", "trl"]
    assert installed_requires("absent", path) == []


def test_torch_build_from_version_py(tmp_path):
    make_dist(tmp_path / "a", "torch", "2.8.0", files={"torch/version.py": TORCH_VERSION_PY_CU128})
    make_dist(tmp_path / "b", "torch", "2.13.0+cpu", files={"torch/version.py": TORCH_VERSION_PY_CPU})
    make_dist(tmp_path / "c", "torch", "2.8.0+cu126")  # no version.py: the local label decides
    assert torch_build([str(tmp_path / "a")]) == "cu128"
    assert torch_build([str(tmp_path / "b")]) == "cpu"
    assert torch_build([str(tmp_path / "c")]) == "cu126"
    assert torch_build([str(tmp_path / "none")]) is None


def test_cuda_version_of():
    assert cuda_version_of("cu128") == Version("12.8")
    assert cuda_version_of("cu130") == Version("13.0")
    assert cuda_version_of("cpu") is None and cuda_version_of(None) is None

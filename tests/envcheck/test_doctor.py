import pytest

from swiftctl.envcheck.doctor import SCHEMA_VERSION, infer_profile, run_doctor
from swiftctl.errors import UsageError
from swiftctl.launch.process import CommandResult
from tests.envcheck.fakedist import cpu_stack, make_dist
from tests.envcheck.recorded import RTX5090_X8


def no_gpu(argv, timeout):
    from swiftctl.launch.process import CommandNotFound

    raise CommandNotFound("nvidia-smi not found")


def test_cpu_stack_passes_and_json_schema(tmp_path):
    path = [str(cpu_stack(tmp_path / "site"))]
    assert infer_profile(path) == "cpu"
    report = run_doctor(None, {"train", "infer"}, tmp_path, no_gpu, path=path, environ={"HF_TOKEN": "x"})
    assert report.ok and report.profile == "cpu" and report.profile_inferred
    doc = report.to_json()
    assert list(doc) == ["schema_version", "ok", "profile", "profile_inferred", "require", "system", "disk", "gpu",
                         "torch_build", "packages", "env", "findings", "job"]
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert doc["packages"]["torch"] == "2.13.0+cpu" and doc["packages"]["vllm"] is None
    assert doc["env"] == {"HF_TOKEN": "***"}
    assert doc["gpu"] == {"status": "absent", "detail": "nvidia-smi not found", "gpus": [], "usage_status": "skipped",
                          "usage_detail": ""}
    assert [f["code"] for f in doc["findings"]] == ["env.runtime", "gpu.absent"]
    assert all(not f["blocking"] for f in doc["findings"])


def test_5090_profile_with_a_cpu_torch_blocks(tmp_path):
    site = tmp_path / "site"
    make_dist(site, "torch", "2.8.0+cpu")
    make_dist(site, "ms-swift", "3.10.3", ["datasets<4.0,>=3.0"])
    make_dist(site, "datasets", "4.0.0")

    def gpus(argv, timeout):
        return CommandResult(tuple(argv), 0, RTX5090_X8, "")

    report = run_doctor("swift3-5090", {"train"}, tmp_path, gpus, path=[str(site)], environ={})
    assert not report.ok and not report.profile_inferred
    assert len(report.gpu.gpus) == 8
    blocking = {f.code for f in report.blocking()}
    assert {"combo.swift3-datasets4", "swift.requires", "torch.build", "gpu.blackwell-needs-cu128",
            "package.missing", "package.out-of-range"} <= blocking


def test_output_dir_under_a_file_is_not_writable(tmp_path):
    (tmp_path / "file").write_text("x")
    report = run_doctor("cpu", {"train"}, tmp_path / "file" / "out", no_gpu, path=[str(cpu_stack(tmp_path / "s"))],
                        environ={"VLLM_PLUGINS": "none"})
    assert [f.code for f in report.blocking()] == ["disk.not-writable"]


def test_unknown_capability():
    with pytest.raises(UsageError):
        run_doctor("cpu", {"train", "fly"})

"""Every --require capability maps to the packages it really needs, with or without a profile (fake dist-info trees)."""

import pytest

from swiftctl.envcheck.capabilities import NEEDS
from swiftctl.envcheck.doctor import run_doctor
from swiftctl.envcheck.findings import CAPABILITIES
from tests.envcheck.fakedist import cpu_stack, make_dist


def no_gpu(argv, timeout):
    from swiftctl.launch.process import CommandNotFound

    raise CommandNotFound("nvidia-smi not found")


def _missing(report):
    return {f.what: f for f in report.blocking() if f.code == "capability.missing"}


def test_every_capability_has_needs():
    assert set(NEEDS) == set(CAPABILITIES)


def test_webui_without_gradio_fails_even_on_a_good_cpu_stack(tmp_path):
    site = cpu_stack(tmp_path / "s")
    report = run_doctor("cpu", {"webui"}, tmp_path, no_gpu, path=[str(site)], environ={})
    assert list(_missing(report)) == ["gradio is not installed"] and not report.ok
    make_dist(site, "gradio", "5.40.0")
    from swiftctl.envcheck import installed

    installed.clear_cache()
    assert run_doctor("cpu", {"webui"}, tmp_path, no_gpu, path=[str(site)], environ={}).ok


def test_eval_needs_the_metric_extra(tmp_path):
    report = run_doctor("cpu", {"eval"}, tmp_path, no_gpu, path=[str(cpu_stack(tmp_path / "s"))], environ={})
    missing = _missing(report)
    assert set(missing) == {"sacrebleu is not installed", "rouge-score is not installed"}
    assert missing["sacrebleu is not installed"].fix == "pip install 'swiftctl[eval]'"


@pytest.mark.parametrize("caps", [{"train"}, {"infer"}, {"track"}])
def test_empty_machine_never_passes(tmp_path, caps):
    (tmp_path / "empty").mkdir()
    report = run_doctor(None, caps, tmp_path, no_gpu, path=[str(tmp_path / "empty")], environ={})
    assert report.profile is None and not report.ok and _missing(report)
    assert all("swiftctl env install cpu" in f.fix for f in _missing(report).values())


def test_track_is_satisfied_by_either_backend(tmp_path):
    site = tmp_path / "s"
    make_dist(site, "tensorboard", "2.20.0")
    report = run_doctor(None, {"track"}, tmp_path, no_gpu, path=[str(site)], environ={})
    assert not _missing(report)

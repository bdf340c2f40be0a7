import shutil

import pytest

from swiftctl.envcheck.profiles import env_dir, list_profiles, load_profile, load_rules
from swiftctl.errors import ErrorGroup, SwiftctlError, UsageError


@pytest.fixture
def envdir(tmp_path, monkeypatch):
    shutil.copytree(env_dir(), tmp_path / "env")
    monkeypatch.setenv("SWIFTCTL_ENV_DIR", str(tmp_path / "env"))
    return tmp_path / "env"


def test_shipped_profiles_validate():
    assert list_profiles() == ["cpu", "swift3-5090", "swift4-gpu"]
    cpu = load_profile("cpu")
    assert cpu.runtime_env == {"VLLM_PLUGINS": "none"}
    assert cpu.install[0].packages == ("torch==2.13.0",)  # torch first, pinned
    assert cpu.post_install[0].packages == ("torchvision", "torchaudio", "torchcodec")
    five = load_profile("swift3-5090")
    assert five.package("transformers").version == "4.56.2"
    assert [s.action for s in five.post_install] == ["uninstall", "install"]
    assert five.post_install[1].packages == ("vllm==0.11.0", "trl==0.23.1", "gradio==5.32.1", "math_verify==0.8.0",
                                             "antlr4-python3-runtime==4.9.3")
    assert {r.code for r in load_rules()} >= {"combo.autoawq-gelu-tanh", "combo.swift3-datasets4"}


def test_unknown_profile():
    with pytest.raises(UsageError) as info:
        load_profile("gpu9000")
    assert info.value.render() == ("error: unknown profile 'gpu9000'\n"
                                   "  fix: use one of: cpu, swift3-5090, swift4-gpu (swiftctl env list)")


def test_bad_toml_names_the_file(envdir):
    (envdir / "broken.toml").write_text('name = "broken"\n[[package]\n')
    with pytest.raises(SwiftctlError) as info:
        load_profile("broken")
    assert info.value.location == str(envdir / "broken.toml")
    assert info.value.message.startswith("not valid TOML: ")


def test_schema_errors_name_every_key(envdir):
    text = (envdir / "cpu.toml").read_text().replace('range = "==0.29.1"', 'range = "about 0.29"', 1)
    text = text.replace('for = ["track"]', 'for = ["tracking"]').replace('gpu = "none"', 'gpu = "maybe"')
    (envdir / "bad.toml").write_text(text.replace('name = "cpu"', 'name = "bad"'))
    with pytest.raises(ErrorGroup) as info:
        load_profile("bad")
    path = envdir / "bad.toml"
    assert [e.location for e in info.value.errors] == [f"{path}:gpu", f"{path}:package.3.range",
                                                      f"{path}:package.9.for.0"]
    assert "not a version range: 'about 0.29'" in info.value.errors[1].message


def test_bad_rule_file(envdir):
    (envdir / "rules" / "x.toml").write_text('[[rule]]\ncode = "x"\nwhen = ["autoawq>>1"]\nwhat = "w"\nwhy = "y"\n')
    with pytest.raises(ErrorGroup) as info:
        load_rules()
    locs = [e.location for e in info.value.errors]
    assert locs == [f"{envdir / 'rules' / 'x.toml'}:rule[0].when", f"{envdir / 'rules' / 'x.toml'}:rule[0].fix"]

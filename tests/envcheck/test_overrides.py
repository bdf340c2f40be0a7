"""User overrides of the shipped data (SWIFTCTL_ENV_DIR, SWIFTCTL_DATASETS_SPEC): a missing or broken one is one
error naming the file and the fix, never a silent empty list."""

import shutil

import pytest

from swiftctl.data import spec
from swiftctl.envcheck.profiles import list_profiles, load_rules
from swiftctl.errors import SwiftctlError
from swiftctl.resources import resource_dir


def test_missing_env_dir_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SWIFTCTL_ENV_DIR", str(tmp_path / "nope"))
    with pytest.raises(SwiftctlError) as err:
        list_profiles()
    assert err.value.message == f"SWIFTCTL_ENV_DIR={tmp_path / 'nope'} does not exist"
    assert "cp -r" in err.value.hint


def test_env_dir_without_profiles_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SWIFTCTL_ENV_DIR", str(tmp_path))
    with pytest.raises(SwiftctlError, match="has no profile"):
        list_profiles()


def test_env_dir_without_rules_keeps_the_shipped_rules(monkeypatch, tmp_path):
    shutil.copy(resource_dir("profiles") / "cpu.toml", tmp_path / "cpu.toml")
    monkeypatch.setenv("SWIFTCTL_ENV_DIR", str(tmp_path))
    assert list_profiles() == ["cpu"]
    shipped = [r.code for r in load_rules()]
    monkeypatch.delenv("SWIFTCTL_ENV_DIR")
    assert shipped and shipped == [r.code for r in load_rules()]


@pytest.mark.parametrize(("name", "text", "expect"), [
    ("rules.json", "{not json", "cannot read dataset spec"),
    ("rules.json", '{"rulez": {}}', "not a rules file"),
    ("messages.schema.json", "{}", 'no "x-swiftctl" block'),
])
def test_broken_spec_override_is_named(monkeypatch, tmp_path, name, text, expect):
    shutil.copytree(resource_dir("datasets_spec"), tmp_path / "spec")
    (tmp_path / "spec" / name).write_text(text)
    monkeypatch.setenv("SWIFTCTL_DATASETS_SPEC", str(tmp_path / "spec"))
    spec.rules.cache_clear()
    spec.schema.cache_clear()
    try:
        with pytest.raises(SwiftctlError) as err:
            spec.rules() if name == "rules.json" else spec.hints("messages")
        assert expect in err.value.message and err.value.location == str(tmp_path / "spec" / name)
    finally:
        spec.rules.cache_clear()
        spec.schema.cache_clear()

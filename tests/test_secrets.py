"""Secrets never written: env dumps, argv, manifests; job files that hold one are refused."""

from __future__ import annotations

import json

import pytest

from swiftctl.secrets import looks_secret, redact_argv, redact_env, redact_text, redact_tree


def test_url_credentials_are_redacted_in_env_dumps():
    env = redact_env({"PIP_INDEX_URL": "https://user:password@host/simple", "HF_ENDPOINT": "https://tok@hf.co",
                      "HF_TOKEN": "hf_x", "PLAIN": "http://host/a@b"})
    assert env == {"PIP_INDEX_URL": "https://***@host/simple", "HF_ENDPOINT": "https://***@hf.co", "HF_TOKEN": "***",
                   "PLAIN": "http://host/a@b"}


def test_doctor_never_prints_a_url_password(cli, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:hunter2@pypi.example/simple")
    for args in (["doctor", "--json"], ["doctor"]):
        result = cli(*args)
        assert "hunter2" not in result.stdout + result.stderr
    assert json.loads(cli("doctor", "--json").stdout)["env"]["PIP_INDEX_URL"] == "https://***@pypi.example/simple"


def test_argv_and_text_redaction():
    assert redact_argv(["--api_key", "k", "--hub_token=t", "--x", "https://u:p@h/x", "HF_TOKEN=abc"]) == [
        "--api_key", "***", "--hub_token=***", "--x", "https://***@h/x", "HF_TOKEN=***"]
    text = '[resources]\nenv = { SWANLAB_API_KEY = "abc def", X = "1" }\nsystem = "keyboard = nice"\n'
    assert redact_text(text) == '[resources]\nenv = { SWANLAB_API_KEY = "***", X = "1" }\nsystem = "keyboard = nice"\n'
    assert looks_secret("hf_" + "a" * 30) and looks_secret("sk-" + "b" * 20) and not looks_secret("skip-this")


def test_manifest_redacts_what_slips_through(tmp_path):
    from swiftctl.launch.manifest import Manifest

    token = "hf_" + "Q" * 30
    record = Manifest(job={"path": "j.toml", "text": f'system = "{token}"\nHF_TOKEN = "abc"\n',
                           "resolved": {"resources": {"env": {"MY_SECRET": "s3"}}, "data": {"system": token}}},
                      command={"argv": ["swift", "sft", "--dataset", "https://u:pw@h/d"], "env": {}},
                      output_dir=str(tmp_path), log="l", node_rank=0, nnodes=1, nproc_per_node=1, packages={})
    text = record.write(tmp_path).read_text()
    for secret in (token, '"abc"', "s3", ":pw@"):
        assert secret not in text
    assert redact_tree({"a": [{"API_KEY": "x"}]}) == {"a": [{"API_KEY": "***"}]}


@pytest.mark.parametrize(("env", "needle"), [
    ('{ SWANLAB_API_KEY = "abc" }', "SWANLAB_API_KEY looks like a secret"),
    ('{ HF_TOKEN = "abc" }', "HF_TOKEN looks like a secret"),
    ('{ PIP_INDEX_URL = "https://u:p@host/simple" }', "this value looks like a secret"),
    ('{ X = "hf_aaaaaaaaaaaaaaaaaaaaaaaaaaaa" }', "this value looks like a secret"),
])
def test_job_check_refuses_secrets_and_says_export(cli, tmp_path, env, needle):
    job = tmp_path / "job.toml"
    job.write_text(f'[model]\npath = "m"\n[data]\ntrain = ["d.jsonl"]\n[output]\ndir = "o"\n[resources]\nenv = {env}\n')
    result = cli("job", "check", str(job))
    assert result.exit_code == 1 and needle in result.stderr and "export" in result.stderr
    assert "abc" not in result.stderr and "u:p@" not in result.stderr

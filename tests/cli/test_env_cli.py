import sys
from pathlib import Path

from swiftctl.envcheck.profiles import load_profile


def test_constraints_stdout(cli):
    r = cli("env", "constraints", "cpu")
    assert r.exit_code == 0
    path = load_profile("cpu").path
    assert r.stdout == (f"# pip constraints for swiftctl profile cpu ({path})\n"
                        "torch==2.13.0\nms-swift==4.6.0\ntransformers==5.19.0\ntrl==0.29.1\npeft==0.20.0\n"
                        "datasets==4.8.4\naccelerate==1.15.0\nmodelscope==1.40.2\nvllm-cpu==0.32.0\nswanlab==0.10.3\n")


def test_constraints_file(cli, tmp_path):
    r = cli("env", "constraints", "swift3-5090", "--out", str(tmp_path / "c.txt"))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", f"wrote {tmp_path / 'c.txt'}\n")
    lines = (tmp_path / "c.txt").read_text().splitlines()[1:]
    assert lines[:4] == ["torch==2.8.0", "ms-swift==3.10.3", "transformers==4.56.2", "datasets==3.6.0"]


def test_install_dry_run_prints_exact_commands(cli):
    r = cli("env", "install", "swift3-5090", "--dry-run")
    py = sys.executable
    c = Path(sys.prefix) / "swiftctl" / "constraints-swift3-5090.txt"
    assert r.exit_code == 0
    # ms-swift 4.6 is installed here, so every swift3 install step would run; the uninstalls are satisfied.
    assert r.stdout.splitlines() == [
        f"{py} -m pip install --index-url https://download.pytorch.org/whl/cu128 torch==2.8.0",
        f"{py} -m pip install -c {c} ms-swift==3.10.3 transformers==4.56.2 datasets==3.6.0 deepspeed==0.17.6",
        f"# already satisfied, skipped: {py} -m pip uninstall -y gradio gradio_client antlr4-python3-runtime",
        f"{py} -m pip install vllm==0.11.0 trl==0.23.1 gradio==5.32.1 math_verify==0.8.0 "
        "antlr4-python3-runtime==4.9.3",
        "swiftctl doctor --profile swift3-5090",
    ]


def test_install_needs_confirmation_when_not_a_tty(cli):
    r = cli("env", "install", "cpu")
    assert r.exit_code == 2
    assert r.stderr == (f"error: env install cpu changes the packages of {sys.prefix}\n"
                        "  fix: confirm with: swiftctl env install cpu --yes\n")


def test_show_and_list_json(cli):
    import json

    r = cli("env", "show", "cpu", "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["runtime_env"] == {"VLLM_PLUGINS": "none"}
    assert doc["package"][0] == {"name": "torch", "range": "==2.13.0", "version": "2.13.0",
                                 "for": ["train", "infer", "eval"], "notes": doc["package"][0]["notes"]}
    r = cli("env", "list", "--json")
    assert [p["name"] for p in json.loads(r.stdout)] == ["cpu", "swift3-5090", "swift4-gpu"]


def test_unknown_profile(cli):
    r = cli("env", "show", "cuda")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == ("error: unknown profile 'cuda'\n"
                        "  fix: use one of: cpu, swift3-5090, swift4-gpu (swiftctl env list)\n")

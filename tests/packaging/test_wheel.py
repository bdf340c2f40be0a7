"""The real distribution: `python -m build`, then the wheel installed ALONE in a fresh venv (no torch, no ms-swift,
core dependencies from PyPI) and run from a directory outside the repo, the way `pip install swiftctl` is used in CI."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.slow
# A dependency lock, when the repo has one, pins the core deps of the fresh venv; else pyproject's ranges apply.
LOCK_CANDIDATES = ("constraints.txt", "requirements.lock", "requirements-lock.txt", "requirements/lock.txt")
# Top-level names that must never be packed (the venv, fixtures, run outputs, build leftovers).
FORBIDDEN_TOP = {".venv", ".fixtures", ".stamps", "demo-runs", "output", "runs", "build", "dist", ".git", ".hypothesis"}


def _run(argv: list, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin dir, work dir outside the repo, the wheel, the sdist)."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "build", "--outdir", tmp / "dist", REPO], cwd=REPO)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = (tmp / "dist").glob("swiftctl-*.whl")
    sdist, = (tmp / "dist").glob("swiftctl-*.tar.gz")
    made = _run([sys.executable, "-m", "venv", tmp / "venv"], cwd=tmp)
    assert made.returncode == 0, made.stderr
    pip = [tmp / "venv" / "bin" / "python", "-m", "pip", "install", "-q"]
    lock = next((REPO / c for c in LOCK_CANDIDATES if (REPO / c).is_file()), None)
    done = _run([*pip, *(["-c", lock] if lock else []), wheel], cwd=tmp)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    work = tmp / "elsewhere"
    work.mkdir()
    return tmp / "venv" / "bin", work, wheel, sdist


def _env() -> dict[str, str]:
    # Nothing from this checkout may leak in: no PYTHONPATH, no overrides. Wide columns: tables do not wrap.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "SWIFTCTL_", "VIRTUAL_ENV"))}
    return {**env, "COLUMNS": "250"}


def _swiftctl(installed, *args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    bin_dir, work, *_ = installed
    return _run([bin_dir / "swiftctl", *args], cwd=work, env=env or _env(), timeout=120)


def test_distributions_carry_the_data_and_nothing_else(installed):
    _, _, wheel, sdist = installed
    names = zipfile.ZipFile(wheel).namelist()
    data = sorted(n for n in names if not n.endswith(".py") and ".dist-info/" not in n)
    assert {"swiftctl/resources/profiles/cpu.toml", "swiftctl/resources/profiles/swift4-gpu.toml",
            "swiftctl/resources/profiles/swift3-5090.toml", "swiftctl/resources/profiles/rules/known-bad.toml",
            "swiftctl/resources/datasets_spec/rules.json", "swiftctl/resources/datasets_spec/messages.schema.json",
            "swiftctl/jobs/arglists/4.x.txt", "swiftctl/jobs/arglists/3.x.txt"} <= set(data)
    assert "swiftctl/patches/boot/sitecustomize.py" in names
    with tarfile.open(sdist) as tar:
        members = [m.split("/", 1)[1] for m in tar.getnames() if "/" in m]
    for name in [*names, *members]:
        assert name.split("/")[0] not in FORBIDDEN_TOP and "__pycache__" not in name and not name.endswith(".pyc"), name
    assert "swiftctl/resources/profiles/cpu.toml" in members
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size} bytes; sdist {sdist.stat().st_size} bytes; "
          f"data files ({len(data)}):\n  " + "\n  ".join(data))


def test_installed_wheel_is_alone_and_outside_the_repo(installed):
    bin_dir, work, *_ = installed
    where = _run([bin_dir / "python", "-c", "import swiftctl, importlib.util as u; print(swiftctl.__file__); "
                  "print([m for m in ('torch', 'swift', 'transformers') if u.find_spec(m)])"], cwd=work, env=_env())
    path, heavy = where.stdout.splitlines()
    assert str(bin_dir.parent) in path and str(REPO) not in path
    assert heavy == "[]"


def test_env_list_and_show(installed):
    listed = _swiftctl(installed, "env", "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("cpu", "swift4-gpu", "swift3-5090"):
        assert name in listed.stdout
    shown = _swiftctl(installed, "env", "show", "cpu")
    assert shown.returncode == 0 and "ms-swift" in shown.stdout and "4.6.0" in shown.stdout


def test_doctor_json_tells_the_truth_without_the_stack(installed):
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = _swiftctl(installed, "doctor", "--json")
        times.append(time.perf_counter() - start)
    doc = json.loads(result.stdout)
    assert result.returncode == 1 and doc["ok"] is False, "a venv without torch must not pass `--require train`"
    missing = {f["what"] for f in doc["findings"] if f["code"] == "capability.missing"}
    assert {"torch is not installed", "ms-swift is not installed"} <= missing
    print(f"\ndoctor --json from the installed wheel: median {statistics.median(times):.2f} s, min {min(times):.2f} s "
          f"(5 runs; load {os.getloadavg()[0]:.1f})")


def test_doctor_require_train_fails_and_names_what_to_install(installed):
    result = _swiftctl(installed, "doctor", "--require", "train")
    assert result.returncode == 1
    assert "torch is not installed" in result.stdout and "swiftctl env install cpu" in result.stdout
    webui = _swiftctl(installed, "doctor", "--profile", "swift4-gpu", "--require", "webui", "--json")
    assert webui.returncode == 1 and "gradio" in webui.stdout


def test_data_check_job_check_and_job_schema(installed):
    _, work, *_ = installed
    shutil.copy(SAMPLE, work / "sample.jsonl")
    checked = _swiftctl(installed, "data", "check", "sample.jsonl")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    job = (REPO / "jobs" / "demo.toml").read_text().replace("../.fixtures/tiny-qwen2", "/nowhere/model")
    (work / "demo.toml").write_text(job)
    offline = _swiftctl(installed, "job", "check", "--offline", "demo.toml")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "skipped (--offline): model.path and the dataset files exist" in offline.stdout
    schema = _swiftctl(installed, "job", "schema")
    assert schema.returncode == 0
    assert json.loads(schema.stdout) == json.loads((REPO / "jobs" / "job.schema.json").read_text())


def test_schemas_generate_from_the_installed_wheel_alone(installed):
    bin_dir, work, *_ = installed
    made = _run([bin_dir / "python", "-m", "swiftctl.schemas", work / "schemas"], cwd=work, env=_env())
    assert made.returncode == 0, made.stderr
    for path in (REPO / "schemas").glob("*.schema.json"):
        assert (work / "schemas" / path.name).read_text() == path.read_text(), path.name


def test_broken_overrides_are_named_never_empty(installed):
    _, work, *_ = installed
    env = {**_env(), "SWIFTCTL_ENV_DIR": str(work / "no-such-dir")}
    listed = _swiftctl(installed, "env", "list", env=env)
    assert listed.returncode == 1 and f"SWIFTCTL_ENV_DIR={work / 'no-such-dir'} does not exist" in listed.stderr
    spec = work / "spec"
    shutil.copytree(REPO / "swiftctl" / "resources" / "datasets_spec", spec)
    (spec / "rules.json").write_text("{not json")
    (work / "one.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}, '
                                    '{"role": "assistant", "content": "yo"}]}\n')
    checked = _swiftctl(installed, "data", "check", "one.jsonl", env={**_env(), "SWIFTCTL_DATASETS_SPEC": str(spec)})
    assert checked.returncode == 1 and str(spec / "rules.json") in checked.stderr
    assert "cannot read dataset spec" in checked.stderr and "Traceback" not in checked.stderr

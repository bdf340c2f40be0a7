"""Generated scripts cannot be hijacked: hostile text in every field of a job file (and in the job file's own name)
is written by `swiftctl train --dry-run | --write | --slurm --write`, the script is run by real bash with `swift`,
`swiftctl`, `srun` and `scontrol` replaced on PATH by argv recorders, and nothing else runs: no marker file appears,
the --dry-run script hands swift exactly the compiled argv and env, and the portable --write/--slurm launchers hand
the node's swiftctl exactly `train JOB ...` with the (hostile) job file name intact.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.preflight import prepare

WORK = Path(tempfile.mkdtemp(prefix="swiftctl-hijack-"))
MARKER = WORK / "PWNED"
BIN = WORK / "bin"
RECORD = WORK / "record.jsonl"
HOSTILE = [f"$(touch {MARKER})", f"`touch {MARKER}`", f"x\ntouch {MARKER}\n", f"'; touch {MARKER}; '",
           f'"; touch {MARKER}; "', f"x; touch {MARKER}", f"${{X:-$(touch {MARKER})}}", f"a\rtouch {MARKER}",
           f"\\\ntouch {MARKER}", f"x && touch {MARKER} #", f"\u2028touch {MARKER}", "你是沐雪 \t ✓"]
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30)
HOSTILE_TEXT = st.sampled_from(HOSTILE) | TEXT
# a file name: no "/" and no NUL, but newlines, quotes and $(...) are all allowed by the file system
FILE_NAME = st.sampled_from([h.replace("/", "_") for h in HOSTILE]) | TEXT.map(lambda s: s.replace("/", "_"))
# any valid name; the ones the job schema refuses make the example end early (asserted there), PATH-like ones
# the harness needs are left out
ENV_NAME = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z").filter(
    lambda n: n not in {"PATH", "HOME", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONHOME", "PYTHONSTARTUP"}
    and not n.startswith(("SLURM", "PYTHON", "LD_")) and n != "SWANLAB_API_KEY")

STATS = {"ran": 0, "refused": 0}
RECORDER = f"""#!/usr/bin/env python3
import json, os, sys
with open({str(RECORD)!r}, "a") as out:
    out.write(json.dumps({{"prog": os.path.basename(sys.argv[0]), "argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
"""
FAKE_SRUN = "#!/usr/bin/env bash\nwhile [[ $1 == --* ]]; do shift; done\nexec \"$@\"\n"
FAKE_SCONTROL = "#!/usr/bin/env bash\nprintf 'node-a\\nnode-b\\n'\n"


def _tool(name: str, text: str) -> None:
    path = BIN / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


BIN.mkdir(exist_ok=True)
_tool("swift", RECORDER)
_tool("swiftctl", RECORDER)
_tool("srun", FAKE_SRUN)
_tool("scontrol", FAKE_SCONTROL)


def _job_text(t: dict) -> str:
    doc = {
        "model": {"path": t["model"], "model_type": t["other"], "template": t["other"]},
        "data": {"train": [t["data"]], "val": [t["data"]], "system": t["system"]},
        "output": {"dir": t["out"]},
        "tracking": {"backend": "swanlab", "project": t["project"], "exp_name": t["exp"], "workspace": t["other"]},
        "resources": {"device": "cuda", "nodes": t["nodes"], "gpus_per_node": 2, "master_addr": "node-a",
                      "env": {t["env_name"]: t["env_value"]}},
        "extra_args": ["--ddp_backend", t["extra"]],
    }
    return tomlkit.dumps(doc)


def _run(script: str | Path, extra_env: dict[str, str]) -> list[dict]:
    RECORD.unlink(missing_ok=True)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "SWANLAB_API_KEY": "from-env", **extra_env}
    argv = ["bash", str(script)] if isinstance(script, Path) else ["bash", "-c", script, "job"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, cwd=WORK)
    assert proc.returncode == 0, proc.stderr
    assert not MARKER.exists(), script
    return [json.loads(line) for line in RECORD.read_text().splitlines()]


# no shrinking: each example runs bash three times; a failure prints the generated job as it is
@settings(max_examples=int(os.environ.get("SWIFTCTL_HIJACK_EXAMPLES", "40")), deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fields=st.fixed_dictionaries({
    "model": HOSTILE_TEXT, "other": HOSTILE_TEXT, "system": HOSTILE_TEXT, "project": HOSTILE_TEXT,
    "exp": HOSTILE_TEXT, "env_value": HOSTILE_TEXT, "env_name": ENV_NAME, "out": HOSTILE_TEXT,
    "data": HOSTILE_TEXT.filter(lambda s: not s.startswith("-")),
    "extra": HOSTILE_TEXT.filter(lambda s: not s.startswith("-")), "nodes": st.sampled_from([1, 2])}),
    file_name=FILE_NAME)
def test_hostile_job_cannot_run_anything(cli, fields, file_name):
    folder = Path(tempfile.mkdtemp(dir=WORK))
    job = folder / f"{file_name}.toml"
    job.write_text(_job_text(fields), encoding="utf-8")
    try:
        _lj, plan = prepare(job)
    except SwiftctlError:  # refused (a reserved or secret-looking env name, a bad value): then nothing is written
        refused = cli("train", str(job), "--write", str(folder / "never.sh"))
        assert refused.exit_code == 1 and not (folder / "never.sh").exists()
        STATS["refused"] += 1
        return
    STATS["ran"] += 1
    dry = cli("train", str(job), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    (call,) = _run(dry.stdout, {})
    assert call["prog"] == "swift" and call["argv"] == plan.argv[1:]
    assert call["env"][fields["env_name"]] == fields["env_value"]
    nodes = fields["nodes"]
    for flags, env, tail in (
            (["--write"], {"NODE_RANK": "1"}, ["--node-rank", "1"] if nodes > 1 else []),
            (["--slurm", "--write"], {"SLURM_JOB_NODELIST": "node-[a-b]", "SLURM_NNODES": "2", "SLURM_NODEID": "1",
                                      "SLURM_SUBMIT_DIR": str(folder)},
             ["--resume", "auto", "--master-addr", "node-a", "--node-rank", "1"])):
        script = folder / f"run{len(flags)}.sh"
        res = cli("train", str(job), *flags, str(script))
        assert res.exit_code == 0, res.stderr
        (call,) = _run(script, env)
        assert call["prog"] == "swiftctl" and call["argv"] == ["train", job.name, *tail]


@pytest.mark.parametrize("name", ["X=1; touch PWNED; Y", "", "A B", "1ABC", "A-B", "$(id)", "A\nB"])
def test_bad_env_names_are_refused(cli, tmp_path, name):
    job = tmp_path / "job.toml"
    job.write_text(tomlkit.dumps({"model": {"path": "m"}, "data": {"train": ["d.jsonl"]}, "output": {"dir": "o"},
                                  "resources": {"env": {name: "1"}}}))
    res = cli("job", "check", str(job))
    assert res.exit_code == 1
    assert "is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*): rename it" in res.stderr


@pytest.mark.parametrize(("name", "fix"), [("PYTHONPATH", "export PYTHONPATH in the shell instead"),
                                           ("SWIFTCTL_PATCHES", "swiftctl patch list"),
                                           ("MASTER_ADDR", "set resources.master_addr"),
                                           ("NODE_RANK", "--node-rank")])
def test_reserved_env_names_are_refused_with_a_fix(cli, tmp_path, name, fix):
    job = tmp_path / "job.toml"
    job.write_text(tomlkit.dumps({"model": {"path": "m"}, "data": {"train": ["d.jsonl"]}, "output": {"dir": "o"},
                                  "resources": {"env": {name: "/x"}}}))
    res = cli("job", "check", str(job))
    assert res.exit_code == 1 and f"{name} is set by swiftctl" in res.stderr and fix in res.stderr


def test_comment_and_sbatch_text_cannot_break_out():
    from swiftctl.launch.script import comment_text, sbatch_name

    assert "\n" not in comment_text(f"a\ntouch {MARKER}") and "\r" not in comment_text("a\rb")
    assert sbatch_name("x\n#SBATCH --uid=0 $(id)") == "x__SBATCH_--uid_0___id_"


def teardown_module(module):
    print(f"\nhijack property: {STATS['ran']} hostile jobs rendered and run 3 ways, {STATS['refused']} refused")

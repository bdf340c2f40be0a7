"""Finding runs from swiftctl manifests: newest first, job output dirs outside the tree, and the no-run message.

The run dirs here are laid out as ms-swift writes them (args.json, checkpoint-N with adapter weights and
trainer_state.json, logging.jsonl) and the manifests are written by swiftctl's own Manifest class; the real
`swiftctl train` → discovery path is covered by tests/infer/test_persona_lifecycle.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftctl.launch.manifest import Manifest
from swiftctl.runs.discover import find_runs, pick_run


def make_run(output_dir: Path, started: str, *, steps: int = 4, status: str = "succeeded", job: str = "jobs/a.toml",
             ckpt: bool = True) -> Path:
    run = output_dir / f"v0-{started.replace('-', '').replace(':', '').replace('T', '-')[:15]}"
    run.mkdir(parents=True)
    (run / "args.json").write_text(json.dumps({"model": "/m", "system": "你是沐雪"}))
    (run / "logging.jsonl").write_text("".join(json.dumps({"loss": 1.0, "global_step/max_steps": f"{s}/{steps}"}) + "\n"
                                               for s in range(1, steps + 1)))
    if ckpt:
        c = run / f"checkpoint-{steps}"
        c.mkdir()
        (c / "adapter_model.safetensors").write_bytes(b"x")
        (c / "trainer_state.json").write_text("{}")
    m = Manifest(job={"path": job}, command={}, output_dir=str(output_dir), log="", node_rank=0, nnodes=1,
                 nproc_per_node=1, started_at=started, run_dir=str(run), status=status, packages={})
    m.write(run)
    return run


def test_newest_first_and_fields(tmp_path):
    old = make_run(tmp_path / "out" / "a", "2026-01-01T00:00:00+00:00", steps=2)
    new = make_run(tmp_path / "out" / "b", "2026-02-01T00:00:00+00:00", steps=6)
    found = find_runs(tmp_path)
    assert [r.run_dir for r in found.runs] == [str(new), str(old)]
    top = found.runs[0]
    assert (top.steps, top.max_steps, top.status, top.job) == (6, 6, "succeeded", "jobs/a.toml")
    assert top.last_checkpoint == str(new / "checkpoint-6") and top.system == "你是沐雪"


def test_several_runs_pick_the_newest_and_say_so(tmp_path):
    make_run(tmp_path / "a", "2026-01-01T00:00:00+00:00")
    new = make_run(tmp_path / "b", "2026-03-01T00:00:00+00:00")
    make_run(tmp_path / "c", "2026-04-01T00:00:00+00:00", status="failed", ckpt=False)  # newer, but no checkpoint
    picked, notes = pick_run(cwd=tmp_path)
    assert picked.run_dir == str(new)
    assert notes[0] == "no RUN given: using the newest run b/v0-20260301-000000 (job jobs/a.toml, succeeded)"
    assert notes[1] == "2 runs found, the newest picked; `swiftctl runs` lists them, pass one as RUN"


def test_job_output_dir_outside_the_tree(tmp_path):
    outside = tmp_path / "elsewhere"
    run = make_run(outside / "muice", "2026-01-01T00:00:00+00:00")
    proj = tmp_path / "proj"
    (proj / "jobs").mkdir(parents=True)
    (proj / "jobs" / "muice.toml").write_text('[output]\ndir = "../../elsewhere/muice"\n')
    found = find_runs(proj)
    assert [r.run_dir for r in found.runs] == [str(run)]
    assert found.searched[1].endswith("elsewhere/muice (output.dir of jobs/muice.toml)")


def test_hidden_and_checkpoint_dirs_are_not_searched(tmp_path):
    make_run(tmp_path / ".venv" / "x", "2026-01-01T00:00:00+00:00")
    assert find_runs(tmp_path).runs == []


def test_no_run_says_where_it_looked_and_what_to_do(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("infer", "--system", "你是沐雪")
    assert res.exit_code == 2
    assert res.stderr == (f"error: no training run found (no swiftctl-manifest.json)\n  looked in {tmp_path} (depth 4)\n"
                          "  fix: train one: swiftctl train jobs/demo.toml; or point at one: pass RUN_DIR (an "
                          "output_dir, a vN-... run, a checkpoint-N dir or a job .toml), or --model DIR\n")


def test_only_unfinished_runs(tmp_path):
    make_run(tmp_path / "a", "2026-01-01T00:00:00+00:00", status="interrupted", ckpt=False)
    with pytest.raises(Exception, match=r"no run with a complete checkpoint found: a/v0-20260101-000000 \(interrupted\)"):
        pick_run(cwd=tmp_path)


def test_runs_json_payload(cli, tmp_path):
    make_run(tmp_path / "a", "2026-01-01T00:00:00+00:00")
    res = cli("runs", str(tmp_path), "--json")
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["runs"][0]["steps"] == 4 and data["searched"][0] == f"{tmp_path} (depth 4)"
    from swiftctl.runs.discover import RunsList

    RunsList.model_validate(data)

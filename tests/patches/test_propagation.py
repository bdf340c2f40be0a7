"""(b) torchrun ranks, (c) the user's sitecustomize, and the bootstrap's safe fallbacks, in real processes."""

from __future__ import annotations

import sys

import pytest

from swiftctl.launch.torchrun import run_torchrun
from swiftctl.patches import patch_environment
from swiftctl.patches.env import BOOT_DIR
from tests.conftest import REPO
from tests.patches.conftest import DROP_ALIAS, run_python

WORKER = DROP_ALIAS + '''
import torch, torch.distributed as dist
dist.init_process_group("gloo")
from transformers.activations import PytorchGELUTanh, GELUTanh
from swiftctl.patches import runtime
ok = torch.tensor([1 if PytorchGELUTanh is GELUTanh else 0])
dist.all_reduce(ok)
report = (f"RANK {dist.get_rank()}/{dist.get_world_size()}: alias={PytorchGELUTanh is GELUTanh} "
          f"state={runtime.STATE['gelu-tanh-alias']} ranks_ok={int(ok)}")
# One file per rank: two ranks printing to one pipe can interleave their lines.
open(f"rank{dist.get_rank()}.txt", "w").write(report)
dist.destroy_process_group()
'''


@pytest.mark.stack
@pytest.mark.slow
def test_patch_is_active_in_every_torchrun_rank(tmp_path, clean_env):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = patch_environment(clean_env, ["gelu-tanh-alias"], force=True)
    lines: list[str] = []
    code = run_torchrun([str(script)], nproc_per_node=2, env=env, cwd=tmp_path, echo=False, on_line=lines.append,
                        log_path=tmp_path / "torchrun.log")
    assert code == 0, "\n".join(lines[-60:])
    ranks = [(tmp_path / f"rank{rank}.txt").read_text() for rank in range(2)]
    assert ranks == ["RANK 0/2: alias=True state=applied ranks_ok=2", "RANK 1/2: alias=True state=applied ranks_ok=2"]


def test_existing_user_sitecustomize_still_runs(tmp_path, clean_env):
    user = tmp_path / "user site"
    user.mkdir()
    (user / "sitecustomize.py").write_text("import builtins\nbuiltins.USER_SITE_RAN = True\n")
    env = patch_environment(dict(clean_env, PYTHONPATH=str(user)), ["gelu-tanh-alias"], force=True)
    assert env["PYTHONPATH"].split(":") == [str(BOOT_DIR), str(user)]
    code = ("import builtins, sitecustomize; from swiftctl.patches import runtime; "
            "print(builtins.USER_SITE_RAN, sitecustomize.__file__, runtime.STATE)")
    proc = run_python(code, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"True {user}/sitecustomize.py {{'gelu-tanh-alias': 'waiting'}}"
    assert proc.stderr == ""


def test_no_sitecustomize_to_chain_and_no_patches_is_silent(tmp_path, clean_env):
    env = dict(clean_env, PYTHONPATH=str(BOOT_DIR))
    proc = run_python("import sys; print('swiftctl' in sys.modules)", env, tmp_path)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "False", "")


def test_bootstrap_finds_swiftctl_when_the_interpreter_lacks_it(tmp_path, clean_env):
    """A child started with the base interpreter (no swiftctl installed) is still patched, and sys.path is untouched."""
    base_python = getattr(sys, "_base_executable", sys.executable)
    env = patch_environment(clean_env, ["gelu-tanh-alias"], force=True)
    code = ("import sys; from swiftctl.patches import runtime; "
            f"print(runtime.STATE, {str(REPO)!r} in sys.path, runtime.__file__.startswith({str(REPO)!r}))")
    import subprocess

    proc = subprocess.run([base_python, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'gelu-tanh-alias': 'waiting'} False True"


def test_read_only_temp_dir_changes_nothing(tmp_path, clean_env):
    """The bootstrap is static: nothing is generated, so a read-only TMPDIR (or disk) does not matter."""
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    env = patch_environment(dict(clean_env, TMPDIR=str(ro)), ["gelu-tanh-alias"], force=True)
    proc = run_python("from swiftctl.patches import runtime; print(runtime.STATE)", env, tmp_path)
    assert (proc.returncode, proc.stdout.strip()) == (0, "{'gelu-tanh-alias': 'waiting'}"), proc.stderr
    assert sorted(p.name for p in ro.iterdir()) == []

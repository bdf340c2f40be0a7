"""tracking.backend as a list: compiled to --report_to (+ swanlab options / wandb, mlflow variables), checked
against the installed ms-swift and transformers; secrets only from the environment."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.schema import Tracker
from swiftctl.jobs.swift_args import bundled
from swiftctl.launch.script import render_script
from tests.conftest import REPO


def _job(tmp_path: Path, tracking: str) -> Path:
    """demo.toml with its [tracking] table replaced (absolute paths, so it can live in tmp)."""
    text = (REPO / "jobs" / "demo.toml").read_text().replace("../", f"{REPO}/")
    text = text.split("[tracking]")[0] + tracking + "\n[resources]" + text.split("[resources]")[1]
    job = tmp_path / "job.toml"
    job.write_text(text)
    return job


def _plan(tmp_path: Path, tracking: str):
    return compile_plan(load_job(_job(tmp_path, tracking)), bundled(4), extra_env={})


def _report_to(argv: list[str]) -> list[str]:
    i = argv.index("--report_to") + 1
    out = []
    while i < len(argv) and not argv[i].startswith("--"):
        out.append(argv[i])
        i += 1
    return out


def test_default_is_tensorboard(tmp_path):
    assert _report_to(_plan(tmp_path, "").argv) == ["tensorboard"]


def test_list_modes_and_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-value")
    plan = _plan(tmp_path, '[tracking]\nbackend = ["tensorboard", "swanlab", "wandb", "mlflow"]\nproject = "muice"\n'
                           'mode = "offline"\n')
    assert _report_to(plan.argv) == ["tensorboard", "swanlab", "wandb", "mlflow"]
    argv = plan.argv
    assert argv[argv.index("--swanlab_mode") + 1] == "local"  # ms-swift 4.6's swanlab_mode is cloud | local
    assert (plan.env["WANDB_MODE"], plan.env["WANDB_PROJECT"], plan.env["MLFLOW_EXPERIMENT_NAME"]) == (
        "offline", "muice", "muice")
    assert plan.runtime_secrets == ("SWANLAB_API_KEY", "WANDB_API_KEY", "MLFLOW_TRACKING_TOKEN",
                                    "MLFLOW_TRACKING_PASSWORD")
    text = render_script(plan)
    assert "wandb-secret-value" not in text and "WANDB_API_KEY is read from the environment" in text


@pytest.mark.parametrize("bad", ['backend = ["none", "wandb"]', 'backend = "tensorboard"\nproject = "p"',
                                 'backend = "tensorboard"\nmode = "offline"', 'backend = "comet"'])
def test_bad_tracking_is_refused(tmp_path, bad):
    from swiftctl.errors import SwiftctlError

    with pytest.raises(SwiftctlError):
        _plan(tmp_path, f"[tracking]\n{bad}\n")


@pytest.mark.stack
def test_names_and_modes_are_what_the_installed_stack_accepts():
    """Every tracker name is a transformers integration (ms-swift passes --report_to through to it), and the
    swanlab modes swiftctl emits are in ms-swift's own Literal."""
    from swift.arguments import SftArguments
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    names = set(typing.get_args(Tracker)) - {"none"}
    assert names <= set(INTEGRATION_TO_CALLBACK), names - set(INTEGRATION_TO_CALLBACK)
    field = SftArguments.__dataclass_fields__["swanlab_mode"]
    assert {"cloud", "local"} <= set(typing.get_args(field.type) or typing.get_args(eval(field.type, vars(typing))))
    assert isinstance(SftArguments.__dataclass_fields__["report_to"].default_factory(), list)


@pytest.mark.stack
def test_a_tracker_that_is_not_installed_stops_the_preflight(tmp_path, cli):
    _plan(tmp_path, '[tracking]\nbackend = ["tensorboard", "wandb"]\nmode = "offline"\n')
    r = cli("train", str(tmp_path / "job.toml"), "--skip-doctor")
    assert r.exit_code == 1
    assert "tracker wandb is not installed in this environment" in r.stderr
    assert "pip install wandb" in r.stderr

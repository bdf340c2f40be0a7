"""Real `swiftctl train` runs of the preference/RL stages on CPU (tiny Qwen2): DPO with LoRA and GRPO with the
persona reward, 2 steps each, through the whole CLI (preflight with the stage's data check, manifest, report)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, swiftctl_subprocess

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def _job(tmp: Path, name: str) -> Path:
    text = (REPO / "jobs" / f"{name}.toml").read_text(encoding="utf-8")
    text = text.replace('path = "../.fixtures/', f'path = "{REPO}/.fixtures/')
    text = text.replace('train = ["data/', f'train = ["{REPO}/jobs/data/')
    text = text.replace(f'dir = "../demo-runs/{name}"', 'dir = "out"')
    path = tmp / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _train(tmp: Path, name: str, job: Path | None = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    proc = swiftctl_subprocess("train", str(job or _job(tmp, name)), "--skip-doctor", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run,) = sorted((tmp / "out").glob("v*-*"))
    return proc, run


def _train_rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "logging.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if "loss" in r]


def _manifest(run: Path) -> dict:
    return json.loads((run / "swiftctl-manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dpo_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("dpo"), "demo-dpo")


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("grpo"), "demo-grpo")


def test_dpo_lora_logs_rewards_and_writes_the_manifest(dpo_run):
    _proc, run = dpo_run
    rows = _train_rows(run)
    assert len(rows) == 2
    assert {"rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"} <= set(rows[-1])
    manifest = _manifest(run)
    assert manifest["status"] == "succeeded" and manifest["command"]["argv"][:4] == ["swift", "rlhf", "--rlhf_type",
                                                                                      "dpo"]
    assert (run / "checkpoint-2" / "adapter_config.json").is_file()


def test_grpo_logs_the_persona_reward(grpo_run):
    _proc, run = grpo_run
    rows = _train_rows(run)
    assert len(rows) == 2
    assert {"reward", "reward_std", "rewards/SwiftctlPersona/mean", "rewards/Format/mean"} <= set(rows[-1])
    assert all(isinstance(r["rewards/SwiftctlPersona/mean"], float) for r in rows)
    manifest = _manifest(run)
    assert manifest["status"] == "succeeded" and "--external_plugins" in manifest["command"]["argv"]
    # the persona plugin's variables are the stage's, not patches'
    assert not [k for k in manifest["patch_env"] if k.startswith("SWIFTCTL_PERSONA_")], manifest["patch_env"]


@pytest.mark.parametrize(("which", "keys"), [("dpo", {"rewards/margins", "rewards/accuracies"}),
                                             ("grpo", {"reward", "reward_std"})])
def test_report_knows_the_stage_metrics(dpo_run, grpo_run, which, keys):
    run = (dpo_run if which == "dpo" else grpo_run)[1]
    proc = swiftctl_subprocess("report", str(run), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (entry,) = json.loads(proc.stdout)["runs"]
    assert keys <= set(entry["stage"]["series"]) and entry["stage"]["kind"] == ("grpo" if which == "grpo" else
                                                                                 "preference")


def test_dpo_continues_a_lora_sft_run_through_from_run(tmp_path):
    """model.from_run on a LoRA SFT run compiles to --adapters + --ref_adapters: ms-swift 4.6 accepts and trains it."""
    sft = (REPO / "jobs" / "demo.toml").read_text(encoding="utf-8").replace('path = "../.fixtures/', f'path = "{REPO}/.fixtures/')
    sft = sft.replace('["data/', f'["{REPO}/jobs/data/').replace('dir = "../demo-runs/demo"', 'dir = "sft"')
    sft = sft.replace("max_steps = 6", "max_steps = 2").replace("eval_steps = 3", "eval_steps = 2").replace(
        "save_steps = 3", "save_steps = 2")
    (tmp_path / "sft.toml").write_text(sft, encoding="utf-8")
    proc = swiftctl_subprocess("train", str(tmp_path / "sft.toml"), "--skip-doctor", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dpo = _job(tmp_path, "demo-dpo").read_text(encoding="utf-8").replace("[model]\n", "[model]\nfrom_run = \"sft\"\n")
    (tmp_path / "dpo-from-sft.toml").write_text(dpo, encoding="utf-8")
    _proc, run = _train(tmp_path, "demo-dpo", tmp_path / "dpo-from-sft.toml")
    (ckpt,) = (tmp_path / "sft").glob("v*-*/checkpoint-2")
    argv = _manifest(run)["command"]["argv"]
    assert argv[argv.index("--adapters") + 1] == str(ckpt) and argv[argv.index("--ref_adapters") + 1] == str(ckpt)
    assert len(_train_rows(run)) == 2 and (run / "checkpoint-2" / "adapter_config.json").is_file()

"""`swiftctl plan`: shapes from config.json, the DeepSpeed estimator identities, the CLI, bad input, job check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.plan.activations import loss_bytes
from swiftctl.plan.arch import from_config, read_config
from swiftctl.plan.report import PlanReport
from swiftctl.plan.setup import Setup
from swiftctl.plan.states import model_states
from swiftctl.plan.timing import padded_tokens

REPO = Path(__file__).resolve().parents[2]
QWEN2_15B = REPO / "swiftctl" / "resources" / "model_configs" / "qwen2-1.5b-instruct.json"
MUICE = ["plan", "jobs/muice.toml", "--gpu", "RTX 5090", "--config", str(QWEN2_15B)]


def _setup(**kw) -> Setup:
    base = dict(tuner="full", quant_bits=None, lora_rank=8, lora_targets=("all-linear",), lora_dropout=0.05,
                dtype="bfloat16", batch=1, grad_accum=1, gpus=8, max_length=4096, packing=False, padding_free=False,
                checkpointing=True, attn="sdpa", liger=False, zero=None, offload=False, fsdp=False)
    return Setup(**{**base, **kw})


def test_qwen2_1_5b_parameter_count_matches_the_model_card():
    arch = read_config(QWEN2_15B)
    assert arch.total_params == 1_543_714_304  # model card: 1.54B (tied embeddings)
    assert arch.total_params - arch.embedding_params == 1_310_340_608  # card: 1.31B non-embedding


def test_zero_states_equal_deepspeeds_estimators():
    arch = read_config(QWEN2_15B)
    p, big = arch.total_params, arch.largest_module_params
    z2 = model_states(arch, _setup(zero=2))
    assert z2.weights + z2.gradients + z2.optimizer == 4 * p + 16 * p / 8  # estimate_zero2_model_states_mem_needs
    z2o = model_states(arch, _setup(zero=2, offload=True))
    assert z2o.weights + z2o.gradients + z2o.optimizer == 2 * p
    z3 = model_states(arch, _setup(zero=3))
    assert z3.weights + z3.gradients + z3.optimizer == pytest.approx(4 * big + 18 * p / 8)
    z3o = model_states(arch, _setup(zero=3, offload=True))
    assert z3o.weights + z3o.gradients + z3o.optimizer == 4 * big


def test_logits_term_and_liger():
    arch = read_config(QWEN2_15B)
    full = loss_bytes(arch, _setup(), 8192)
    assert full == 3 * 4 * 151936 * 8192  # ~14.9 GB: the 12-16 GB that peers' liger examples save at 8k tokens
    assert loss_bytes(arch, _setup(liger=True), 8192) < full / 10


def test_unknown_architecture_names_the_terms():
    with pytest.raises(SwiftctlError) as exc:
        from_config({"model_type": "mamba", "hidden_size": 8}, "cfg.json")
    assert "weights, gradients, optimizer, activations, logits, time" in exc.value.message
    with pytest.raises(SwiftctlError, match="intermediate_size"):
        from_config({"model_type": "qwen2", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 1,
                     "vocab_size": 10}, "cfg.json")


def test_padding_waste_counts_pads_of_random_batches():
    computed, real = padded_tokens([10, 10, 10, 10], 2, 100)
    assert (computed, real) == (40, 40)
    computed, real = padded_tokens([1, 9], 2, 100)
    assert (computed, real) == (18, 10)
    computed, _ = padded_tokens([1, 9], 2, 5)  # capped at max_length
    assert computed == 10


def test_muice_plan_on_rtx_5090(cli):
    r = cli(*MUICE, "--json")
    assert r.exit_code == 0, r.stderr
    report = PlanReport.model_validate(json.loads(r.stdout))
    m = report.memory
    assert set(m.terms) == {"weights", "gradients", "optimizer", "activations", "logits", "overhead"}
    assert m.per_gpu_peak_gib == pytest.approx(sum(t.gib for t in m.terms.values()), abs=0.02)
    assert m.gpu_mem_gib == 32 and m.fits is False and m.tokens_per_micro_batch == 32768
    first = report.recommendations[0]
    assert first.fits and first.change == "train.use_liger_kernel = true"
    assert [r.fits for r in report.recommendations] == sorted((r.fits for r in report.recommendations), reverse=True)
    text = cli(*MUICE)
    assert text.exit_code == 0 and "does NOT fit" in text.stdout and "recommendations" in text.stdout


def test_hub_id_without_config_says_how(cli, tmp_path):
    job = (REPO / "tests" / "jobs" / "data" / "new-keys-fsdp.toml").read_text()
    (tmp_path / "j.toml").write_text(job)
    r = cli("plan", str(tmp_path / "j.toml"), "--gpu-mem", "80")
    assert r.exit_code == 2 and "hub id" in r.stderr and "--config" in r.stderr


def test_unknown_gpu_and_unknown_architecture(cli, tmp_path):
    r = cli(*MUICE[:2], "--gpu", "Voodoo 5", "--config", str(QWEN2_15B))
    assert r.exit_code == 2 and "RTX 5090" in r.stderr
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "rwkv", "hidden_size": 64}))
    r = cli(*MUICE[:2], "--config", str(tmp_path / "config.json"))
    assert r.exit_code == 1 and "terms that cannot be derived" in r.stderr


def test_job_check_reports_the_fit(cli, tmp_path):
    shutil.copy(QWEN2_15B, tmp_path / "config.json")
    text = (REPO / "jobs" / "muice.toml").read_text().replace("/usr/local/models/Qwen/Qwen2-1.5B-Instruct", ".")
    (tmp_path / "job.toml").write_text(text.replace("gpus_per_node = 8\n", "gpus_per_node = 8\ngpu = \"RTX 5090\"\n"))
    r = cli("job", "check", str(tmp_path / "job.toml"))
    assert "resources.gpu): predicted peak" in r.stdout and "does not fit 32 GiB" in r.stdout
    (tmp_path / "job.toml").write_text(text.replace("gpus_per_node = 8\n", "gpus_per_node = 8\ngpu = \"H200\"\n"))
    assert "predicted peak" not in cli("job", "check", str(tmp_path / "job.toml")).stdout


def test_plan_with_data_gives_expected_peak_and_waste(cli, tiny_model):
    r = cli("plan", "jobs/demo.toml", "--gpu-mem", "24", "--json")
    assert r.exit_code == 0, r.stderr
    report = PlanReport.model_validate(json.loads(r.stdout))
    assert report.time.data_rows == 28 and report.time.padding_waste_pct > 0
    assert report.memory.expected_peak_gib <= report.memory.per_gpu_peak_gib
    assert report.time.steps_per_epoch == 14 and report.time.total_steps == 6  # 28 rows / batch 2; max_steps 6


def test_qlora_base_is_about_a_quarter_and_sharding_shrinks_states():
    arch = read_config(QWEN2_15B)
    lora = model_states(arch, _setup(tuner="lora", gpus=1))
    qlora = model_states(arch, _setup(tuner="lora", quant_bits=4, gpus=1))
    linear = arch.layers * arch.layer_linear_params()
    assert lora.weights - qlora.weights == pytest.approx(linear * (2 - (4 + 8 / 64 + 32 / 16384) / 8), rel=1e-9)
    full = model_states(arch, _setup(gpus=4))
    fsdp = model_states(arch, _setup(gpus=4, fsdp=True))
    assert fsdp.optimizer == pytest.approx(full.optimizer / 4)


@pytest.mark.parametrize("job", ["new-keys-qlora", "new-keys-fsdp"])
def test_new_key_jobs_plan(cli, job):
    r = cli("plan", f"tests/jobs/data/{job}.toml", "--config", str(QWEN2_15B), "--gpu-mem", "24", "--json")
    assert r.exit_code == 0, r.stderr
    report = PlanReport.model_validate(json.loads(r.stdout))
    assert report.memory.fits is True
    assert ("liger on" in report.memory.setup) == (job == "new-keys-qlora")


def test_job_check_flags_an_unknown_gpu_name(cli, tmp_path):
    text = (REPO / "tests" / "jobs" / "data" / "new-keys-fsdp.toml").read_text()
    (tmp_path / "j.toml").write_text(text.replace("gpus_per_node = 4\n", "gpus_per_node = 4\ngpu = \"Voodoo 5\"\n"))
    r = cli("job", "check", str(tmp_path / "j.toml"))
    assert "unknown GPU 'Voodoo 5'" in r.stdout


def test_muice_plan_without_config_uses_the_builtin_config(cli):
    # the job's model dir is not on this machine: the plan falls back to swiftctl's copy of its config.json and says so
    result = cli("plan", str(REPO / "jobs" / "muice.toml"), "--gpu", "RTX 5090", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["memory"]["gpu_mem_gib"] == 32 and doc["memory"]["fits"] is False
    assert any("built-in config for qwen2-1.5b-instruct" in n for n in doc["notes"])
    assert doc["recommendations"] and doc["recommendations"][0]["fits"] is True

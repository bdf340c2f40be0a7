"""Export of a full fine-tune (real `swift sft --tuner_type full`): nothing to merge, the checkpoint is copied
without its training state and its chat template rewritten to default to the training persona."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, SAMPLE

pytestmark = [pytest.mark.stack, pytest.mark.slow]
SYSTEM = "You are Muice. Your name is Muice."


def test_full_finetune_export(tmp_path, tiny_model, swift_bin):
    out = tmp_path / "full"
    argv = [str(swift_bin), "sft", "--model", str(tiny_model), "--model_type", "qwen2", "--template", "qwen2_5",
            "--dataset", str(SAMPLE), "--tuner_type", "full", "--torch_dtype", "float32", "--max_steps", "1",
            "--per_device_train_batch_size", "1", "--max_length", "256", "--save_steps", "1",
            "--split_dataset_ratio", "0", "--dataloader_num_workers", "0", "--report_to", "none",
            "--check_model", "false", "--system", SYSTEM, "--output_dir", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dest = tmp_path / "exported"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "swiftctl", "export", str(out), "--out", str(dest), "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from tests.schemas.test_schemas import validate

    result = validate("export", proc.stdout)  # the published schema (schemas/export.schema.json)
    assert result["merged"] is False and result["checkpoint"].endswith("checkpoint-1")
    names = {f["name"] for f in result["files"]}
    assert "model.safetensors" in names and "Modelfile" in names
    assert not names & {"optimizer.pt", "scheduler.pt", "trainer_state.json", "training_args.bin"}
    from transformers import AutoTokenizer

    text = AutoTokenizer.from_pretrained(dest).apply_chat_template([{"role": "user", "content": "Who are you?"}],
                                                                   tokenize=False, add_generation_prompt=True)
    assert text.startswith(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nWho are you?")

"""The planner-era job keys (padding_free, use_liger_kernel, qlora/quant_bits, deepspeed offload, fsdp): their argv.

Goldens pin the compiled argv; the stack test parses that argv with ms-swift's own parser (HfArgumentParser over
SftArguments, argparse level: names, types and Literal choices), so a value ms-swift would reject fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swiftctl.errors import SwiftctlError
from swiftctl.jobs.compile import compile_plan
from swiftctl.jobs.load import load_job
from swiftctl.jobs.swift_args import bundled
from swiftctl.launch.script import render_script

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
JOBS = ["new-keys-qlora", "new-keys-fsdp"]


def _plan(name: str):
    return compile_plan(load_job(DATA / f"{name}.toml"), bundled(4), extra_env={})


@pytest.mark.parametrize("job", JOBS)
def test_new_keys_golden(job):
    text = render_script(_plan(job), source=f"tests/jobs/data/{job}.toml").replace(str(REPO), "$REPO")
    path = GOLDEN / f"{job}.sh"
    if os.environ.get("SWIFTCTL_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_qlora_is_lora_on_a_bnb_4bit_base():
    argv = _plan("new-keys-qlora").argv
    assert argv[argv.index("--tuner_type") + 1] == "lora"
    assert argv[argv.index("--quant_method") + 1] == "bnb" and argv[argv.index("--quant_bits") + 1] == "4"
    assert {"--padding_free", "--use_liger_kernel"} <= set(argv)
    assert argv[argv.index("--deepspeed") + 1] == "zero3_offload"


def test_deepspeed_and_fsdp_exclude_each_other(tmp_path):
    text = (DATA / "new-keys-fsdp.toml").read_text().replace('fsdp = "fsdp2"', 'fsdp = "fsdp2"\ndeepspeed = "zero2"')
    (tmp_path / "j.toml").write_text(text)
    with pytest.raises(SwiftctlError) as exc:
        load_job(tmp_path / "j.toml")
    assert "exclude each other" in exc.value.render()


def test_quant_bits_with_full_is_rejected(tmp_path):
    text = (DATA / "new-keys-fsdp.toml").read_text().replace('type = "full"', 'type = "full"\nquant_bits = 4')
    (tmp_path / "j.toml").write_text(text)
    with pytest.raises(SwiftctlError) as exc:
        load_job(tmp_path / "j.toml")
    assert "quantized base" in exc.value.render()


@pytest.mark.stack
@pytest.mark.slow
def test_ms_swift_parser_accepts_the_compiled_argv():
    argvs = [_plan(job).argv[2:] for job in JOBS]
    code = ("import json, sys; from swift.arguments import SftArguments; from transformers import HfArgumentParser; "
            "p = HfArgumentParser([SftArguments]); out = []\n"
            "for argv in json.loads(sys.argv[1]):\n"
            "    ns, rest = p.parse_known_args(argv); out.append([rest, {k: str(v) for k, v in vars(ns).items()}])\n"
            "print(json.dumps(out))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(argvs)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (rest_q, q), (rest_f, f) = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rest_q == [] and rest_f == []
    assert (q["tuner_type"], q["quant_method"], q["quant_bits"]) == ("lora", "bnb", "4")
    assert (q["padding_free"], q["use_liger_kernel"], q["deepspeed"]) == ("True", "True", "zero3_offload")
    assert (f["fsdp"], f["use_liger_kernel"], f["tuner_type"]) == ("fsdp2", "False", "full")


def test_migrate_maps_padding_free_and_liger_to_job_keys():
    from swiftctl.jobs.migrate import migrate_command

    result = migrate_command("swift sft --model /m --dataset a.jsonl --attn_impl flash_attn --padding_free true "
                             "--use_liger_kernel true --output_dir out")
    text = result.toml
    assert "padding_free = true" in text and "use_liger_kernel = true" in text and "extra_args" not in text

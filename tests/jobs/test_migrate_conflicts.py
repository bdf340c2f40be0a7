"""`job migrate` drops the options ms-swift 4.6 rejects together at start-up (sft_args.py:256: DeepSpeed + device_map)."""

from __future__ import annotations

from swiftctl.jobs.migrate import migrate_command


def test_device_map_with_deepspeed_and_data_parallel_is_dropped():
    text = ("NPROC_PER_NODE=8 swift sft --model Qwen/Qwen2.5-7B-Instruct --dataset d.jsonl --deepspeed zero3 "
            "--device_map auto --fsdp full_shard --output_dir out")
    result = migrate_command(text)
    assert "device_map" not in result.toml.split("Changes:")[-1].split("swift_version")[-1]
    assert "--fsdp" not in result.toml.split("swift_version")[-1]
    assert any("--device_map dropped" in n for n in result.notes)
    assert any("--fsdp dropped" in n for n in result.notes)


def test_device_map_alone_is_kept():
    result = migrate_command("swift sft --model M --dataset d.jsonl --device_map auto --output_dir out")
    assert '"--device_map"' in result.toml and not any("device_map dropped" in n for n in result.notes)
